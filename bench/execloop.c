/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exec loop: fork+exec a (static, tiny) binary N times, or for a fixed time,
 * waiting for each child, and print one line of JSON:
 *   {"bench":"exec","method":"fork","ops":N,"elapsed_ns":T,"ops_per_s":R,...}
 *
 * Every child must exit 0. A denied or failed exec is counted as a failure
 * and makes the run exit 1: a denied exec is cheaper than a real one, so a
 * benchmark that silently tolerated denials would report a flattering number.
 *
 * With -r, REPS sub-runs back to back; each one's rate and their median are
 * reported as well ("runs_ops_per_s", "median_ops_per_s").
 *
 * Usage: execloop [-n COUNT | -t SECONDS] [-r REPS] [-W] [-m fork|vfork|spawn] BINARY
 */
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

extern char **environ;

static void usage(void)
{
	fprintf(stderr,
		"usage: execloop [-n COUNT | -t SECONDS] [-r REPS] [-W] [-m fork|vfork|spawn] BINARY\n"
		"  -n COUNT    number of execs per sub-run (default 1000)\n"
		"  -t SECONDS  run each sub-run for this long instead (decimal allowed)\n"
		"  -r REPS     sub-runs back to back; their median is reported too (default 1)\n"
		"  -W          run one more sub-run first, as a warm-up, and drop it\n"
		"  -m METHOD   fork+execve (default), vfork+execve, or posix_spawn\n");
	exit(2);
}

/* Returns the child's wait status, or -1 when it could not be started. */
static int run_once(const char *method, const char *bin, char *const argv[])
{
	pid_t pid;
	int status;

	if (method[0] == 's') {
		int err = posix_spawn(&pid, bin, NULL, NULL, argv, environ);

		if (err) {
			errno = err;
			return -1;
		}
	} else {
		pid = method[0] == 'v' ? vfork() : fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			execve(bin, argv, environ);
			_exit(errno == EPERM || errno == EACCES ? 126 : 127);
		}
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

int main(int argc, char **argv)
{
	uint64_t count = 1000, duration_ns = 0, failures = 0;
	uint64_t ops[BENCH_MAX_REPS], ns[BENCH_MAX_REPS];
	unsigned reps = 1;
	int warm = 0;
	const char *method = "fork";
	int c;

	while ((c = getopt(argc, argv, "Wn:t:r:m:h")) != -1) {
		switch (c) {
		case 'n': count = bench_parse_u64("-n", optarg); duration_ns = 0; break;
		case 't': duration_ns = bench_parse_secs("-t", optarg); break;
		case 'r': reps = bench_parse_reps(optarg); break;
		case 'W': warm = 1; break;
		case 'm':
			if (strcmp(optarg, "fork") && strcmp(optarg, "vfork") &&
			    strcmp(optarg, "spawn"))
				usage();
			method = optarg;
			break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();

	const char *bin = argv[optind];
	char *child_argv[] = { (char *)bin, NULL };

	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "execloop: %s: %s\n", bin, strerror(errno));
		return 2;
	}

	/* With -W, sub-run 0 warms caches up and is not reported. */
	for (unsigned r = warm ? 0 : 1; r <= reps; r++) {
		uint64_t t0 = bench_now_ns(), t1 = t0, n = 0;

		for (;;) {
			if (duration_ns ? t1 - t0 >= duration_ns : n >= count)
				break;
			int st = run_once(method, bin, child_argv);

			if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				if (failures++ == 0) {
					if (st < 0)
						fprintf(stderr, "execloop: exec %s: %s\n", bin,
							strerror(errno));
					else
						fprintf(stderr, "execloop: child of %s: status 0x%x\n",
							bin, st);
				}
			}
			n++;
			t1 = bench_now_ns();
		}
		if (r == 0)
			continue;
		ops[r - 1] = n;
		ns[r - 1] = t1 - t0;
	}
	bench_report("exec", method, reps, ops, ns, failures);
	return failures ? 1 : 0;
}

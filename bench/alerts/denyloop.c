/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deny loop: posix_spawn() each BINARY in turn, for a fixed time, where every
 * one must be refused with EPERM by sysguardd, and print one line of JSON:
 *   {"bench":"deny","method":"spawn","ops":N,"elapsed_ns":T,"ops_per_s":R,...}
 *
 * One exec at a time, so the rate is the inverse of the refusal latency: a
 * fanotify permission event waits for the daemon's event loop, and whatever
 * the loop spends per deny (audit record, alert submit) is in it. An exec
 * that runs, or fails otherwise, is a failure and makes the run exit 1.
 *
 * Usage: denyloop -t SECONDS [-r REPS] [-W] BINARY...
 */
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "bench_common.h"

extern char **environ;

static void usage(void)
{
	fprintf(stderr,
		"usage: denyloop -t SECONDS [-r REPS] [-W] BINARY...\n"
		"  -t SECONDS  length of each sub-run (decimal allowed)\n"
		"  -r REPS     sub-runs back to back; their median is reported too (default 1)\n"
		"  -W          run one more sub-run first, as a warm-up, and drop it\n");
	exit(2);
}

/* One sub-run; returns the number of refused execs, counts the rest in *failures. */
static uint64_t run(char **bins, int nbins, uint64_t ns, uint64_t *elapsed, uint64_t *failures)
{
	uint64_t t0 = bench_now_ns(), ops = 0;
	int i = 0, status, err;
	pid_t pid;

	do {
		char *argv[] = { bins[i], NULL };

		err = posix_spawn(&pid, bins[i], NULL, NULL, argv, environ);
		if (err == EPERM) {
			ops++;
		} else {
			(*failures)++;
			if (!err)
				waitpid(pid, &status, 0);
		}
		i = (i + 1) % nbins;
	} while (bench_now_ns() - t0 < ns);
	*elapsed = bench_now_ns() - t0;
	return ops;
}

int main(int argc, char **argv)
{
	uint64_t ns = 0, ops[BENCH_MAX_REPS], el[BENCH_MAX_REPS], failures = 0, warm;
	unsigned reps = 1, r;
	bool warmup = false;
	int opt;

	while ((opt = getopt(argc, argv, "t:r:W")) != -1) {
		switch (opt) {
		case 't': ns = bench_parse_secs("-t", optarg); break;
		case 'r': reps = bench_parse_reps(optarg); break;
		case 'W': warmup = true; break;
		default: usage();
		}
	}
	if (!ns || optind >= argc)
		usage();
	if (warmup)
		run(argv + optind, argc - optind, ns, &warm, &failures);
	for (r = 0; r < reps; r++)
		ops[r] = run(argv + optind, argc - optind, ns, &el[r], &failures);
	bench_report("deny", "spawn", reps, ops, el, failures);
	return failures ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Open loop: open(O_RDONLY)+close a set of existing regular files, round
 * robin, N times or for a fixed time, and print one line of JSON:
 *   {"bench":"open","method":"open","ops":N,"elapsed_ns":T,"ops_per_s":R,...}
 *
 * Files are opened by absolute path (full path walk each time, like a real
 * program would). Any failed open is a failure and makes the run exit 1.
 *
 * Usage: openloop --setup DIR [-f FILES]            create DIR/f000.. once
 *        openloop [-n COUNT | -t SECONDS] [-r REPS] [-W] [-f FILES] DIR
 *
 * With -r, REPS sub-runs back to back, reported like execloop's.
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"

#define CHECK_EVERY 256	/* read the clock once per this many opens */

static void usage(void)
{
	fprintf(stderr,
		"usage: openloop --setup DIR [-f FILES]\n"
		"       openloop [-n COUNT | -t SECONDS] [-r REPS] [-W] [-f FILES] DIR\n"
		"  -f FILES    number of files in the set (default 64)\n"
		"  -n COUNT    number of opens per sub-run (default 100000)\n"
		"  -t SECONDS  run each sub-run for this long instead (decimal allowed)\n"
		"  -r REPS     sub-runs back to back; their median is reported too (default 1)\n"
		"  -W          run one more sub-run first, as a warm-up, and drop it\n");
	exit(2);
}

static int setup(const char *dir, unsigned nfiles)
{
	char path[PATH_MAX], buf[4096];

	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "openloop: mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	memset(buf, 'x', sizeof(buf));
	for (unsigned i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/f%03u", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
		    close(fd)) {
			fprintf(stderr, "openloop: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t count = 100000, duration_ns = 0, failures = 0;
	uint64_t ops[BENCH_MAX_REPS], ns[BENCH_MAX_REPS];
	unsigned reps = 1;
	int warm = 0;
	unsigned nfiles = 64;
	int do_setup = 0, c;
	static const struct option longopts[] = {
		{ "setup", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "Wn:t:r:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': do_setup = 1; break;
		case 'n': count = bench_parse_u64("-n", optarg); duration_ns = 0; break;
		case 't': duration_ns = bench_parse_secs("-t", optarg); break;
		case 'r': reps = bench_parse_reps(optarg); break;
		case 'W': warm = 1; break;
		case 'f':
			nfiles = (unsigned)bench_parse_u64("-f", optarg);
			if (nfiles > 1000)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	const char *dir = argv[optind];

	if (dir[0] != '/') {
		fprintf(stderr, "openloop: DIR must be absolute\n");
		return 2;
	}
	if (do_setup)
		return setup(dir, nfiles);

	char (*paths)[PATH_MAX] = calloc(nfiles, PATH_MAX);

	if (!paths)
		return 2;
	for (unsigned i = 0; i < nfiles; i++) {
		struct stat st;

		snprintf(paths[i], PATH_MAX, "%s/f%03u", dir, i);
		if (stat(paths[i], &st) || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "openloop: %s: not a regular file (run --setup)\n",
				paths[i]);
			return 2;
		}
	}

	unsigned next = 0;

	/* With -W, sub-run 0 warms caches up and is not reported. */
	for (unsigned r = warm ? 0 : 1; r <= reps; r++) {
		uint64_t t0 = bench_now_ns(), t1 = t0, n = 0;

		for (;;) {
			if (duration_ns) {
				if (n % CHECK_EVERY == 0) {
					t1 = bench_now_ns();
					if (t1 - t0 >= duration_ns)
						break;
				}
			} else if (n >= count) {
				break;
			}
			int fd = open(paths[next], O_RDONLY | O_CLOEXEC);

			if (fd < 0) {
				if (failures++ == 0)
					fprintf(stderr, "openloop: open %s: %s\n", paths[next],
						strerror(errno));
			} else {
				close(fd);
			}
			if (++next == nfiles)
				next = 0;
			n++;
		}
		t1 = bench_now_ns();
		if (r == 0)
			continue;
		ops[r - 1] = n;
		ns[r - 1] = t1 - t0;
	}
	bench_report("open", "open", reps, ops, ns, failures);
	free(paths);
	return failures ? 1 : 0;
}

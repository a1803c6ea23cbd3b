// SPDX-License-Identifier: Apache-2.0
/*
 * Many audit records fast, for the fleet e2e tests: creates COUNT new files
 * DIR/<PREFIX><i>, each a new inode, so file-open audit (a file_audit rule
 * selecting this program) writes one file_open record per file; at most
 * RATE files a second when RATE > 0. An exec of a program costs ~2.5 ms, an
 * open a few microseconds.
 *
 * Usage: fleet_burst DIR PREFIX COUNT [RATE]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long count, rate, i;
	char path[4096];
	double t0;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: fleet_burst DIR PREFIX COUNT [RATE]\n");
		return 2;
	}
	count = atol(argv[3]);
	rate = argc > 4 ? atol(argv[4]) : 0;
	t0 = now();
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s%ld", argv[1], argv[2], i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		close(fd);
		if (rate > 0 && i % 100 == 99) {
			double due = t0 + (double)(i + 1) / rate, t = now();

			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
		}
	}
	printf("%ld %.3f\n", count, now() - t0);
	return 0;
}

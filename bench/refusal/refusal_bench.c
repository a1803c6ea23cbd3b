// SPDX-License-Identifier: Apache-2.0
/*
 * Cost of bpf/file_refusal.bpf.c on system calls that do not fail with
 * EPERM (every call on the host pays it while protected files exist).
 * Loads the object itself (no daemon), then alternates slots with the
 * program detached and attached, PAIRS times; per loop, the result is the
 * median over pairs of (ns per call attached) / (ns per call detached).
 * Loops: getppid (the cheapest call: the worst relative case), openat+close
 * of an existing file (the open loop), unlinkat of a missing name, fchmod.
 *
 *   refusal_bench [PAIRS] [CALLS_PER_SLOT]      (root)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "sysguard.h"

#include "bench_common.h"
#include "file_refusal.skel.h"

enum { L_GETPPID, L_OPEN, L_UNLINK, L_FCHMOD, L_MAX };
static const char *const names[L_MAX] = { "getppid", "openat+close", "unlinkat (ENOENT)",
					  "fchmod" };
static char file[] = "/tmp/sg-refusal-bench.XXXXXX";

static double loop(int which, long calls, int fd)
{
	uint64_t t0 = bench_now_ns();
	long i;

	for (i = 0; i < calls; i++) {
		switch (which) {
		case L_GETPPID:
			syscall(SYS_getppid);
			break;
		case L_OPEN:
			close(open(file, O_RDONLY));
			break;
		case L_UNLINK:
			unlinkat(AT_FDCWD, "/tmp/sg-refusal-bench-missing", 0);
			break;
		case L_FCHMOD:
			fchmod(fd, 0600);
			break;
		}
	}
	return (double)(bench_now_ns() - t0) / (double)calls;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 15, calls = argc > 2 ? atol(argv[2]) : 200000;
	struct file_refusal_bpf *skel;
	double *ratio[L_MAX], base[L_MAX] = { 0 }, on[L_MAX] = { 0 };
	int fd, w;
	long p;

	fd = mkstemp(file);
	if (fd < 0 || pairs < 1 || calls < 1)
		return 2;
	skel = file_refusal_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "load file_refusal: %s\n", strerror(errno));
		return 3;
	}
	for (w = 0; w < L_MAX; w++)
		ratio[w] = calloc(pairs, sizeof(double));
	for (p = 0; p < pairs; p++) {
		for (w = 0; w < L_MAX; w++) {
			struct bpf_link *l;
			double b, a;

			/* Alternate the order so drift favours neither side. */
			if (p & 1) {
				l = bpf_program__attach(skel->progs.sg_refusal);
				a = loop(w, calls, fd);
				bpf_link__destroy(l);
				b = loop(w, calls, fd);
			} else {
				b = loop(w, calls, fd);
				l = bpf_program__attach(skel->progs.sg_refusal);
				a = loop(w, calls, fd);
				bpf_link__destroy(l);
			}
			if (!l) {
				fprintf(stderr, "attach: %s\n", strerror(errno));
				return 3;
			}
			ratio[w][p] = b / a;	/* throughput attached / detached */
			base[w] += b / pairs;
			on[w] += a / pairs;
		}
	}
	printf("| loop | ns/call detached | ns/call attached | throughput ratio (median of %ld pairs) |\n",
	       pairs);
	printf("|---|---|---|---|\n");
	for (w = 0; w < L_MAX; w++) {
		qsort(ratio[w], pairs, sizeof(double), cmp);
		printf("| %s | %.0f | %.0f | %.3f |\n", names[w], base[w], on[w], ratio[w][pairs / 2]);
	}
	file_refusal_bpf__destroy(skel);
	close(fd);
	unlink(file);
	return 0;
}

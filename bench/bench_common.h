/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for the exec and open loops: clock, run bounds, JSON line. */
#ifndef SG_BENCH_COMMON_H
#define SG_BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Parse a positive integer option; exits with a message on garbage. */
static inline uint64_t bench_parse_u64(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0) {
		fprintf(stderr, "invalid value for %s: '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

/* Parse a duration in seconds (decimal allowed, e.g. 0.5) into ns. */
static inline uint64_t bench_parse_secs(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 3600) {
		fprintf(stderr, "invalid value for %s: '%s'\n", opt, s);
		exit(2);
	}
	return (uint64_t)(v * 1e9);
}

#define BENCH_MAX_REPS 100

/* Parse -r: number of back-to-back sub-runs whose median is reported. */
static inline unsigned bench_parse_reps(const char *s)
{
	uint64_t v = bench_parse_u64("-r", s);

	if (v > BENCH_MAX_REPS) {
		fprintf(stderr, "-r: at most %d sub-runs\n", BENCH_MAX_REPS);
		exit(2);
	}
	return (unsigned)v;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * One line of JSON on stdout, the only thing the harness reads: totals over
 * all sub-runs, each sub-run's rate, and their median (robust to a burst of
 * foreign load that hits fewer than half of them).
 */
static inline void bench_report(const char *bench, const char *method, unsigned reps,
				const uint64_t *ops, const uint64_t *ns, uint64_t failures)
{
	double rate[BENCH_MAX_REPS], sorted[BENCH_MAX_REPS], median;
	uint64_t tops = 0, tns = 0;

	for (unsigned i = 0; i < reps; i++) {
		tops += ops[i];
		tns += ns[i];
		rate[i] = ns[i] ? (double)ops[i] * 1e9 / (double)ns[i] : 0.0;
		sorted[i] = rate[i];
	}
	qsort(sorted, reps, sizeof(sorted[0]), bench_cmp_double);
	median = reps % 2 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;

	printf("{\"bench\":\"%s\",\"method\":\"%s\",\"ops\":%" PRIu64
	       ",\"elapsed_ns\":%" PRIu64 ",\"ops_per_s\":%.3f,\"ns_per_op\":%.1f"
	       ",\"median_ops_per_s\":%.3f,\"runs_ops_per_s\":[",
	       bench, method, tops, tns, tns ? (double)tops * 1e9 / (double)tns : 0.0,
	       tops ? (double)tns / (double)tops : 0.0, median);
	for (unsigned i = 0; i < reps; i++)
		printf("%s%.3f", i ? "," : "", rate[i]);
	printf("],\"failures\":%" PRIu64 "}\n", failures);
	fflush(stdout);
}

#endif

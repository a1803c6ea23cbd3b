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

/* One line of JSON on stdout: the only thing the harness reads. */
static inline void bench_report(const char *bench, const char *method,
				uint64_t ops, uint64_t elapsed_ns, uint64_t failures)
{
	double secs = (double)elapsed_ns / 1e9;

	printf("{\"bench\":\"%s\",\"method\":\"%s\",\"ops\":%" PRIu64
	       ",\"elapsed_ns\":%" PRIu64 ",\"ops_per_s\":%.3f,\"ns_per_op\":%.1f"
	       ",\"failures\":%" PRIu64 "}\n",
	       bench, method, ops, elapsed_ns, secs > 0 ? (double)ops / secs : 0.0,
	       ops ? (double)elapsed_ns / (double)ops : 0.0, failures);
	fflush(stdout);
}

#endif

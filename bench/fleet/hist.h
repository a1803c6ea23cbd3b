/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A latency histogram for bench/fleet: microseconds in log buckets with 32
 * steps per power of two (under 3% error), so that a thousand threads can
 * add to one shared histogram with relaxed atomics and no per-sample memory.
 */
#ifndef SG_BENCH_FLEET_HIST_H
#define SG_BENCH_FLEET_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_LINEAR	64
#define HIST_STEPS	32
#define HIST_BUCKETS	(HIST_LINEAR + 40 * HIST_STEPS)

struct hist {
	_Atomic uint64_t b[HIST_BUCKETS];
	_Atomic uint64_t n, max_us;
};

static inline unsigned hist_bucket(uint64_t us)
{
	unsigned e;

	if (us < HIST_LINEAR)
		return (unsigned)us;
	e = 63 - (unsigned)__builtin_clzll(us);	/* >= 6 */
	return HIST_LINEAR + (e - 6) * HIST_STEPS + (unsigned)((us >> (e - 5)) & (HIST_STEPS - 1));
}

/* The middle of bucket i, in microseconds. */
static inline double hist_value(unsigned i)
{
	unsigned e, sub;

	if (i < HIST_LINEAR)
		return i;
	e = (i - HIST_LINEAR) / HIST_STEPS + 6;
	sub = (i - HIST_LINEAR) % HIST_STEPS;
	return (double)((uint64_t)(HIST_STEPS + sub) << (e - 5)) + (double)(1ull << (e - 5)) / 2;
}

static inline void hist_add(struct hist *h, uint64_t us)
{
	unsigned i = hist_bucket(us);
	uint64_t m = atomic_load_explicit(&h->max_us, memory_order_relaxed);

	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
	while (us > m && !atomic_compare_exchange_weak_explicit(&h->max_us, &m, us,
								memory_order_relaxed,
								memory_order_relaxed))
		;
}

/* The p-quantile (0 < p <= 1) in milliseconds, never above the maximum; 0 when empty. */
static inline double hist_ms(struct hist *h, double p)
{
	uint64_t n = atomic_load(&h->n), want, seen = 0;
	double max = (double)atomic_load(&h->max_us);
	unsigned i;

	if (!n)
		return 0;
	want = (uint64_t)(p * (double)n + 0.999999);
	if (want < 1)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += atomic_load(&h->b[i]);
		if (seen >= want)
			return (hist_value(i) < max ? hist_value(i) : max) / 1000.0;
	}
	return max / 1000.0;
}

#endif

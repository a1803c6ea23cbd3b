/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Denies and kills per interval from a node's samples of its cumulative
 * counters (`fleet view`, docs/fleet.md). Pure: unit-tested in
 * tests/unit/test_fleet_history.c.
 */
#ifndef SG_FLEET_HISTORY_H
#define SG_FLEET_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_FLEET_INTERVALS_MAX	48

/* One sample: when it was written, the run it is of, the run's counts so far. */
struct sg_fleet_point {
	uint64_t t, started, denies, kills;
};

struct sg_fleet_interval {
	bool known;		/* the node's samples reach into the interval */
	uint64_t denies, kills;
};

/*
 * n intervals of step seconds ending at end: out[i] covers
 * [end - (n - i) * step, end - (n - i - 1) * step). p sorted by t. Each
 * sample adds what its run counted since the sample before it (to the
 * interval it was written in); a sample of another run, or with a lower
 * count (a restart), adds its whole count, as does the first sample when
 * its run started inside the first interval or later. A sample at or after
 * end (written while the caller was reading) counts in the newest interval.
 * 0, or -EINVAL for
 * n of 0 or more than SG_FLEET_INTERVALS_MAX, or a step of 0.
 */
int sg_fleet_intervals(const struct sg_fleet_point *p, size_t np, uint64_t end, uint64_t step,
		       unsigned n, struct sg_fleet_interval *out);

/* "10m", "30s", "2h", "1d" or plain seconds; 0 or -EINVAL (0 and over a week refused). */
int sg_fleet_parse_step(const char *s, uint64_t *seconds);

#endif

// SPDX-License-Identifier: Apache-2.0
/* Denies and kills per interval from counter samples (fleet_history.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/fleet_history.h"

/* What p added since prev (NULL: no sample before it in the node's history). */
static void added(const struct sg_fleet_point *prev, const struct sg_fleet_point *p,
		  uint64_t window_start, uint64_t *denies, uint64_t *kills)
{
	if (!prev) {
		/* Counts of a run that began before the window are not the window's. */
		if (p->started && p->started >= window_start) {
			*denies = p->denies;
			*kills = p->kills;
		} else {
			*denies = *kills = 0;
		}
		return;
	}
	if (p->started != prev->started || p->denies < prev->denies || p->kills < prev->kills) {
		/* A restart: the new run counted from 0 (what the old one did after prev is lost). */
		*denies = p->denies;
		*kills = p->kills;
		return;
	}
	*denies = p->denies - prev->denies;
	*kills = p->kills - prev->kills;
}

int sg_fleet_intervals(const struct sg_fleet_point *p, size_t np, uint64_t end, uint64_t step,
		       unsigned n, struct sg_fleet_interval *out)
{
	uint64_t start, d, k, first, last;
	size_t j;
	unsigned i;

	if (!n || n > SG_FLEET_INTERVALS_MAX || !step)
		return -EINVAL;
	memset(out, 0, n * sizeof(*out));
	start = end > n * step ? end - n * step : 0;
	if (!np)
		return 0;
	/* A sample at or after end is now: the newest interval's (below). */
	first = p[0].t < end ? p[0].t : end - 1;
	last = p[np - 1].t < end ? p[np - 1].t : end - 1;
	for (i = 0; i < n; i++) {
		uint64_t lo = start + i * step, hi = lo + step;

		/* Known from the interval the first sample falls in up to the last one's. */
		out[i].known = first < hi && last >= lo;
	}
	for (j = 0; j < np; j++) {
		if (p[j].t < start)
			continue;
		added(j ? &p[j - 1] : NULL, &p[j], start, &d, &k);
		/* Written while the caller read (after its end): now, so the newest interval's. */
		i = p[j].t >= end ? n - 1 : (unsigned)((p[j].t - start) / step);
		out[i].denies += d;
		out[i].kills += k;
	}
	return 0;
}

int sg_fleet_parse_step(const char *s, uint64_t *seconds)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'm')
		mult = 60;
	else if (*end == 'h')
		mult = 3600;
	else if (*end == 'd')
		mult = 86400;
	else if (*end != 's' && *end)
		return -EINVAL;
	if (*end && end[1])
		return -EINVAL;
	if (!v || v > 7 * 86400 / mult)
		return -EINVAL;
	*seconds = v * mult;
	return 0;
}

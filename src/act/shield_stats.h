/* SPDX-License-Identifier: Apache-2.0 */
/* The Shield's counters as JSON: `sysguardctl shield stats --json` and the daemon's stats.json. */
#ifndef SG_SHIELD_STATS_H
#define SG_SHIELD_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "act/shield.h"
#include "report/counters.h"
#include "report/json.h"

/*
 * One object: active_set, dry_run, gateway, attached, rules, max_rules,
 * map_bytes, counters, and cidrs ({cidr, hits}; only those with hits unless
 * `all`). `r` may be NULL (n 0) to leave the per-CIDR list empty.
 */
void sg_shield_stats_json(struct sg_shield *s, const struct sg_shield_status *st,
			  const struct sg_shield_rule_stat *r, size_t n, bool all, struct sg_json *j);

/* The gateway address as text, without a prefix length. */
void sg_shield_gw_text(const struct sg_shield_gw *g, char *buf, size_t len);

const char *sg_shield_counter_name(int k);

/*
 * The pinned Shield's counters for stats.json and /metrics (state
 * SG_SHIELD_ABSENT when none is pinned in pin_dir). Per-CIDR hits, of the
 * CIDRs that have some, only for lists of at most `max_cidrs` rules, so a
 * stats tick stays cheap; c->cidrs is freed by sg_counters_free.
 */
void sg_shield_counters_pinned(const char *pin_dir, size_t max_cidrs, struct sg_counters_shield *c);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What changes between two policies' verdicts on the same execs: counts and
 * the distinct programs each way, sorted, so a report is deterministic.
 */
#ifndef SG_POLICY_DIFF_H
#define SG_POLICY_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_diff;

struct sg_diff *sg_diff_new(void);
void sg_diff_free(struct sg_diff *d);

/* One replayed exec: `program` names it (its path); each side denied it or let it run. */
int sg_diff_add(struct sg_diff *d, const char *program, bool old_denied, bool new_denied);

/* Execs replayed, and of them those NEW lets run that OLD denied (and the other way). */
void sg_diff_counts(const struct sg_diff *d, uint64_t *total, uint64_t *now_allowed,
		    uint64_t *now_denied);

/* The report text (malloc'd), or NULL on ENOMEM. */
char *sg_diff_render(struct sg_diff *d);

#endif

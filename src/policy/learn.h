/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An allow-list policy from the programs seen running: one allow rule per
 * distinct program, by content hash where the log has one, else by path.
 * The output depends only on the set of programs added, not on their order,
 * so the same log always gives the same bytes.
 */
#ifndef SG_POLICY_LEARN_H
#define SG_POLICY_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"

struct sg_learn;

struct sg_learn *sg_learn_new(void);
void sg_learn_free(struct sg_learn *l);

/* One exec: its path (NULL when unknown), hash (NULL when not recorded), whether it was denied. */
int sg_learn_add(struct sg_learn *l, const char *exe, const uint8_t *sha256, bool denied);

/*
 * The policy text (malloc'd, NUL-terminated), or NULL on ENOMEM. Denied
 * programs become allow rules only with `include_denied`; otherwise a
 * comment lists them. `origin` is named in the header comment.
 */
char *sg_learn_render(struct sg_learn *l, bool include_denied, const char *origin);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SG_CLI_LEARN_INTERP_H
#define SG_CLI_LEARN_INTERP_H

#include "policy/learn.h"

struct sg_learn_interp;

struct sg_learn_interp *sg_learn_interp_new(void);
void sg_learn_interp_free(struct sg_learn_interp *li);
/* Add exe's ELF interpreter (resolved, by sha256) to l, once; 0 or -ENOMEM. */
int sg_learn_interp_add(struct sg_learn_interp *li, struct sg_learn *l, const char *exe);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Compile the rules the kernel can enforce alone (identity, exact path) into the deny set. */
#ifndef SG_KERNEL_RULES_H
#define SG_KERNEL_RULES_H

#include "policy/policy.h"
#include "report/audit.h"
#include "sense/exec_bpf.h"

/* Resolve, install, audit. Returns the number of kernel deny entries, or -errno. */
int sg_kernel_rules_apply(struct sg_exec_bpf *x, const struct sg_policy *p, struct sg_audit *a);

/* The same for the libraries: rules (lib_deny), and the instruction-fault check on or off. */
int sg_kernel_library_rules_apply(struct sg_exec_bpf *x, const struct sg_policy *p,
				  struct sg_audit *a);

/* sg_resolve_fn for sg_policy_resolve: stat(2), following symlinks. */
int sg_resolve_stat(const char *path, struct sg_file_id *id, void *ctx);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `sysguardctl policy check|test|learn|trust|diff` (commands.h) share:
 * a policy read as the daemon reads it, and the daemon's decision code,
 * for writing and trying a policy without a daemon.
 */
#ifndef SG_POLICY_TOOLS_H
#define SG_POLICY_TOOLS_H

#include <stdio.h>

#include "decide/engine.h"
#include "policy/policy.h"

/*
 * Read, parse and resolve a policy as the daemon does. On failure prints
 * "FILE:LINE:COL: error: ..." to `errs` and returns a negative errno.
 */
int sg_cli_load_policy(const char *path, struct sg_policy **out, FILE *errs);
/* ...merged with the policy fragments of `dir` (policy.d), as the daemon's --policy-dir. */
int sg_cli_load_policy_dir(const char *path, const char *dir, struct sg_policy **out, FILE *errs);

/*
 * The daemon's decision code (sg_engine_decide) without a daemon: no audit
 * log, no kernel, a hash cache of its own. The policy stays the caller's.
 */
int sg_cli_engine_init(struct sg_engine *e, struct sg_policy *p);
void sg_cli_engine_free(struct sg_engine *e);

/*
 * Facts for one exec of `exe` (an absolute real path, or NULL when
 * unknown), with optional identity, content hash and parent, as the daemon
 * has them, then its verdict. Without a recorded hash the file is hashed
 * when the policy needs it, only if it is still the same file (dev+inode).
 */
void sg_cli_decide(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v);

#endif

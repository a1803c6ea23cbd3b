/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy lint: what in a policy that parsed can never take effect. Rules
 * that never decide (an allow under a default allow, an allow or audit that a
 * deny always outranks), rules shadowed by an earlier one that always wins,
 * targets no program can have, and names this host does not have. The host
 * is asked only through the caller's callback, so the checks are testable.
 */
#ifndef SG_POLICY_LINT_H
#define SG_POLICY_LINT_H

#include <stdbool.h>

#include "policy/policy.h"

struct sg_lint_msg {
	unsigned line, column;		/* from 1; 0 when not tied to a place */
	const char *source;		/* the file of the rule (main policy or fragment) */
	bool error;			/* parse errors only; lint itself only warns */
	char text[512];
};

typedef void (*sg_lint_fn)(const struct sg_lint_msg *m, void *ctx);

/* What the host says of a path, for the lint. */
enum sg_lint_path {
	SG_LINT_PATH_ABSENT = 0,	/* nothing there */
	SG_LINT_PATH_FILE = 1,		/* a regular file, and the path is its real name */
	SG_LINT_PATH_DIR = 2,		/* a directory: no program has this name */
	SG_LINT_PATH_ALIAS = 3,		/* reached through a symlink: the real name is in `real` */
	SG_LINT_PATH_OTHER = 4,		/* a device, socket or fifo */
};
typedef enum sg_lint_path (*sg_lint_probe_fn)(const char *path, char *real, size_t cap,
					      void *ctx);

/*
 * Warn, in rule order, about every rule of `p` that cannot take effect.
 * `probe` may be NULL (no host checks). Returns the number of warnings.
 */
unsigned sg_policy_lint(const struct sg_policy *p, sg_lint_probe_fn probe, void *pctx,
			sg_lint_fn emit, void *ectx);


#endif

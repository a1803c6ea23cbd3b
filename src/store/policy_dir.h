/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a policy fragment directory (policy.d): every "*.yaml" and
 * "*.yml" in it, in byte order of their names, for sg_policy_parse_set().
 * Names starting with "." are skipped: hidden files, editors' leftovers and
 * what a Kubernetes ConfigMap volume keeps beside its keys ("..data" and the
 * "..2026_..." directory it points to). The keys themselves are symlinks
 * through "..data", so top-level symlinks are followed; what they reach
 * must be a regular file.
 */
#ifndef SG_POLICY_DIR_H
#define SG_POLICY_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

#define SG_POLICY_DIR_DEFAULT "/etc/sysguard/policy.d"
#define SG_POLICY_DIR_MAX_FILES 1024

struct sg_policy_dir {
	struct sg_policy_file *files;	/* source: "DIR/NAME", buf: its bytes (NUL-terminated) */
	size_t n;
};

/*
 * Read `dir`. An absent directory (ENOENT) is an empty set (returns 0).
 * `root_only`: refuse a directory or file not owned by root or writable by
 * group or others (whoever can write a fragment can change the policy).
 * 0, or -errno with `err` naming the directory or file.
 */
int sg_policy_dir_read(const char *dir, bool root_only, struct sg_policy_dir *out, char *err,
		       size_t errlen);
void sg_policy_dir_free(struct sg_policy_dir *d);

/* True when `name` (a directory entry) is read as a fragment. */
bool sg_policy_dir_wants(const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file-open audit's selection (FILE-4): the policy's file_audit: rules
 * once resolved (an executable to its device + inode, a cgroup directory to
 * its cgroup id and depth), as the kernel is told about them. Pure: the
 * caller resolves, this table dedupes, bounds and compares.
 */
#ifndef SG_OPEN_SELECT_H
#define SG_OPEN_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "policy/policy.h"
#include "sysguard.h"

struct sg_open_selector {
	uint32_t rule_id;		/* the policy's file_audit rule, 1-based */
	char name[SG_RULE_NAME_MAX];
	char fragment[SG_FRAGMENT_NAME_MAX];	/* its policy fragment's name, "" in the main policy */
	unsigned line;
	bool is_cgroup;
	char *target;			/* exe path or cgroup directory as written (owned) */
	struct sg_inode_key exe;	/* !is_cgroup: the executable, kernel dev form */
	uint64_t cgroup_id;		/* is_cgroup: the directory's inode */
	int level;			/* is_cgroup: depth below the root; -1 unknown (matches itself only) */
};

struct sg_open_selection {
	struct sg_open_selector *v;	/* in policy order; v[i] is kernel rule i + 1 */
	size_t n, cap;
	size_t nexes, ncgroups;
	uint64_t cg_levels;		/* bit L set: a selected cgroup at depth L */
	/* The kernel's prefilters (struct sg_open_config): a bit for each target. */
	uint64_t exe_bloom[SG_OPEN_BLOOM_WORDS];
	uint64_t cg_bloom[SG_OPEN_BLOOM_WORDS];
};

void sg_open_selection_init(struct sg_open_selection *s);
void sg_open_selection_free(struct sg_open_selection *s);	/* leaves it empty, reusable */

/*
 * Append a copy of `sel` (target duplicated). -EEXIST when an earlier
 * selector already selects the same executable or cgroup (*dup names it;
 * the first one keeps it, so records name the first rule); -E2BIG when
 * SG_TRACE_SELECT_MAX selectors of its kind are in; -ERANGE for a cgroup
 * deeper than SG_OPEN_CGROUP_LEVELS - 1; -ENOMEM. The table is unchanged
 * on error.
 */
int sg_open_selection_add(struct sg_open_selection *s, const struct sg_open_selector *sel,
			  const struct sg_open_selector **dup);

/* The selector the kernel knows as rule `idx` (1-based), or NULL. */
const struct sg_open_selector *sg_open_selection_get(const struct sg_open_selection *s,
						     uint32_t idx);

/*
 * True when both select exactly the same executables and cgroups, whatever
 * the order, rule names or lines: the processes audited are the same.
 */
bool sg_open_selection_same_targets(const struct sg_open_selection *a,
				    const struct sg_open_selection *b);

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * The kernel's view of containers for scoped egress rules: each container
 * cgroup the runtimes' state names, with the scope bits of the egress rules
 * whose `container:` selector matches it. Synced on this (the deciding)
 * thread when the set of containers or the policy changed, so a new
 * container's entry is in place before its first exec is allowed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/daemon.h"

struct sync {
	struct daemon *d;
	uint64_t *ids;
	size_t n, cap;
	int err;
};

static void one(const struct sg_workload *wl, void *ctx)
{
	struct sync *s = ctx;
	char *keys[SG_WL_LABELS_MAX], *values[SG_WL_LABELS_MAX];
	struct sg_workload_attrs a;
	struct stat st;
	uint64_t mask;
	int err;

	/* The kernel hooks see cgroup v2 ids only. */
	if (!wl->cgroup_v2 || stat(wl->cgroup, &st))
		return;
	sg_workload_attrs(&wl->info, &a, keys, values);
	mask = sg_policy_net_scope_mask(s->d->engine.policy, &a);
	if (!mask)
		return;
	err = sg_egress_set_scope(&s->d->egress, (uint64_t)st.st_ino, mask);
	if (err) {
		s->err = err;
		return;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		uint64_t *v = realloc(s->ids, cap * sizeof(*v));

		if (!v) {
			s->err = -ENOMEM;
			return;
		}
		s->ids = v;
		s->cap = cap;
	}
	s->ids[s->n++] = (uint64_t)st.st_ino;
}

void daemon_sync_scopes(void *ctx)
{
	struct daemon *d = ctx;
	struct sync s = { .d = d };
	size_t i, k;

	if (!d->egress_up)
		return;
	sg_workloads_foreach(d->engine.workloads, one, &s);
	/* Entries of containers gone, or no longer matched, go. */
	for (i = 0; i < d->nscope_ids; i++) {
		for (k = 0; k < s.n && s.ids[k] != d->scope_ids[i]; k++)
			;
		if (k == s.n)
			sg_egress_set_scope(&d->egress, d->scope_ids[i], 0);
	}
	free(d->scope_ids);
	d->scope_ids = s.ids;
	d->nscope_ids = s.n;
	if (s.err)
		daemon_record_scope_error(d, s.err);
}

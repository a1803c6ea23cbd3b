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

void daemon_sync_egress_scopes(struct daemon *d)
{
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

void daemon_sync_scopes(void *ctx)
{
	struct daemon *d = ctx;

	daemon_sync_egress_scopes(d);
	/* A file_audit rule for containers selects a new container's cgroup too. */
	if (d->fa_loaded && daemon_has_scoped_file_audit(d))
		daemon_sync_file_audit(d);
}

struct fa_list {
	const struct sg_policy *p;
	struct sg_open_container *v;
	size_t n, cap;
};

static void fa_one(const struct sg_workload *wl, void *ctx)
{
	struct fa_list *l = ctx;
	char *keys[SG_WL_LABELS_MAX], *values[SG_WL_LABELS_MAX];
	struct sg_workload_attrs a;
	size_t i, n = sg_policy_file_rule_count(l->p, SG_FILES_TRACE);

	if (!wl->cgroup_v2)
		return;
	sg_workload_attrs(&wl->info, &a, keys, values);
	for (i = 0; i < n; i++) {
		const struct sg_file_rule_spec *r = sg_policy_file_rule(l->p, SG_FILES_TRACE, i);
		char *cg;

		if (!sg_policy_file_rule_selects(l->p, r, &a))
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 8;
			void *v = realloc(l->v, cap * sizeof(*l->v));

			if (!v)
				return;
			l->v = v;
			l->cap = cap;
		}
		/* A copy: the table may drop the container once its lock is released. */
		cg = strdup(wl->cgroup);
		if (!cg)
			return;
		l->v[l->n++] = (struct sg_open_container){ .rule = r, .cgroup = cg };
	}
}

size_t daemon_file_audit_containers(struct daemon *d, struct sg_open_container **out)
{
	struct fa_list l = { .p = d->engine.policy };

	sg_workloads_foreach(d->engine.workloads, fa_one, &l);
	*out = l.v;
	return l.n;
}

void daemon_file_audit_containers_free(struct sg_open_container *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((char *)v[i].cgroup);
	free(v);
}

bool daemon_has_scoped_file_audit(const struct daemon *d)
{
	size_t i, n = sg_policy_file_rule_count(d->engine.policy, SG_FILES_TRACE);

	for (i = 0; i < n; i++)
		if (sg_policy_file_rule(d->engine.policy, SG_FILES_TRACE, i)->scope)
			return true;
	return false;
}

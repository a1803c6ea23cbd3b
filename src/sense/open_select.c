// SPDX-License-Identifier: Apache-2.0
#include "sense/open_select.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sg_open_selection_init(struct sg_open_selection *s)
{
	memset(s, 0, sizeof(*s));
}

void sg_open_selection_free(struct sg_open_selection *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].target);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void bloom_set(uint64_t *bloom, uint64_t v)
{
	uint32_t bit = sg_open_bloom_bit(v);

	bloom[(bit >> 6) % SG_OPEN_BLOOM_WORDS] |= 1ull << (bit & 63);
}

static bool same_target(const struct sg_open_selector *a, const struct sg_open_selector *b)
{
	if (a->is_cgroup != b->is_cgroup)
		return false;
	if (a->is_cgroup)
		return a->cgroup_id == b->cgroup_id;
	return a->exe.ino == b->exe.ino && a->exe.dev == b->exe.dev;
}

static const struct sg_open_selector *find(const struct sg_open_selection *s,
					   const struct sg_open_selector *sel)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (same_target(&s->v[i], sel))
			return &s->v[i];
	return NULL;
}

int sg_open_selection_add(struct sg_open_selection *s, const struct sg_open_selector *sel,
			  const struct sg_open_selector **dup)
{
	const struct sg_open_selector *d = find(s, sel);
	struct sg_open_selector *n;

	if (dup)
		*dup = d;
	if (d)
		return -EEXIST;
	if ((sel->is_cgroup ? s->ncgroups : s->nexes) >= SG_TRACE_SELECT_MAX)
		return -E2BIG;
	if (sel->is_cgroup && sel->level >= SG_OPEN_CGROUP_LEVELS)
		return -ERANGE;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;

		n = realloc(s->v, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->v = n;
		s->cap = cap;
	}
	n = &s->v[s->n];
	*n = *sel;
	n->target = sel->target ? strdup(sel->target) : NULL;
	if (sel->target && !n->target)
		return -ENOMEM;
	s->n++;
	if (sel->is_cgroup) {
		s->ncgroups++;
		if (sel->level >= 0)
			s->cg_levels |= 1ull << sel->level;
		bloom_set(s->cg_bloom, sel->cgroup_id);
	} else {
		s->nexes++;
		bloom_set(s->exe_bloom, sg_open_exe_word(&sel->exe));
	}
	return 0;
}

const struct sg_open_selector *sg_open_selection_get(const struct sg_open_selection *s,
						     uint32_t idx)
{
	return idx >= 1 && idx <= s->n ? &s->v[idx - 1] : NULL;
}

bool sg_open_selection_same_targets(const struct sg_open_selection *a,
				    const struct sg_open_selection *b)
{
	size_t i;

	/* Targets are unique within a selection: equal counts and a's all in b is equality. */
	if (a->nexes != b->nexes || a->ncgroups != b->ncgroups)
		return false;
	for (i = 0; i < a->n; i++)
		if (!find(b, &a->v[i]))
			return false;
	return true;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Evaluation: one deterministic verdict per exec subject.
 *
 * Kinds are visited in precedence order (identity, sha256, path, glob) and,
 * within a kind, in file order; the first matching deny and the first
 * matching allow (and audit) are kept. A resolved path rule also matches, in the
 * identity step, the file it named at load, so a hard link or a rename of
 * that file cannot get around it. Any deny beats every allow; with neither, the
 * default action decides. Identity, sha256 and path lookups are hash table
 * probes; globs are looked up by their literal directory (see eval_globs()).
 */
#include <string.h>

#include "internal.h"

struct eval_state {
	const struct sg_rule *deny;	/* first matching deny in precedence order */
	const struct sg_rule *allow;	/* first matching allow in precedence order */
	const struct sg_rule *audit;	/* first matching audit rule in precedence order */
	bool target_hit;		/* a parent-constrained rule's target matched */
};

static bool parent_matches(const struct sg_policy *p, uint32_t i, const char *parent)
{
	const struct sg_rule *r = &p->rules[i];

	if (!parent)
		return false;
	if (r->parent_is_glob)
		return sg_glob_match(p->ext[i].parent_glob, parent);
	return strcmp(r->parent_pattern, parent) == 0;
}

/* Rule i's target matched the file: apply its parent constraint and record it. */
static void consider(const struct sg_policy *p, uint32_t i,
		     const struct sg_exec_subject *s, struct eval_state *st)
{
	const struct sg_rule *r = &p->rules[i];

	if (r->parent_pattern) {
		st->target_hit = true;
		if (!parent_matches(p, i, s->parent_path))
			return;
	}
	if (r->action == SG_ACTION_DENY) {
		if (!st->deny)
			st->deny = r;
	} else if (r->action == SG_ACTION_AUDIT) {
		if (!st->audit)
			st->audit = r;
	} else if (!st->allow) {
		st->allow = r;
	}
}

static void walk_chain(const struct sg_policy *p, uint32_t i,
		       const struct sg_exec_subject *s, struct eval_state *st)
{
	for (; i != SG_NIL; i = p->ext[i].next)
		consider(p, i, s, st);
}

/* Identity chains link identity rules and path rules (by the file they named). */
static void walk_id_chain(const struct sg_policy *p, uint32_t i,
			  const struct sg_exec_subject *s, struct eval_state *st)
{
	for (; i != SG_NIL; i = p->ext[i].id_next)
		consider(p, i, s, st);
}

/* Nothing further can change the verdict or file_only. */
static bool settled(const struct sg_policy *p, const struct eval_state *st)
{
	size_t parents = p->n_parent[0] + p->n_parent[1] + p->n_parent[2] + p->n_parent[3];

	return st->deny && (st->target_hit || parents == 0);
}

/* Glob rule i, in its turn in file order. */
static void try_glob(const struct sg_policy *p, uint32_t i,
		     const struct sg_exec_subject *s, struct eval_state *st)
{
	const struct sg_rule *r = &p->rules[i];
	/* Skip the match when its outcome could not change anything. */
	bool useful = (r->parent_pattern && !st->target_hit) ||
		      (!st->deny && (r->action == SG_ACTION_DENY ||
				     (r->action == SG_ACTION_AUDIT && !st->audit) ||
				     (r->action == SG_ACTION_ALLOW && !st->allow)));

	if (useful && sg_glob_match(p->ext[i].glob, s->path))
		consider(p, i, s, st);
}

static void eval_globs_linear(const struct sg_policy *p, const struct sg_exec_subject *s,
			      struct eval_state *st)
{
	size_t k;

	for (k = 0; k < p->nglobs && !settled(p, st); k++)
		try_glob(p, p->globs[k], s, st);
}

/*
 * A path meets a few glob directories; one that meets more falls back to the
 * scan, so this bounds the stack used, never the verdict.
 */
#define GLOB_CHAINS_MAX 64

/*
 * A glob can only match a path that starts with its literal directory, and
 * that directory ends in '/', so the only globs worth matching are those
 * filed under one of the path's own prefixes ending in '/'. Each of those
 * chains is in file order and no rule is on two of them, so merging them
 * visits the candidates in file order, exactly as the scan of every glob
 * would, minus rules that could not have matched.
 */
static void eval_globs(const struct sg_policy *p, const struct sg_exec_subject *s,
		       struct eval_state *st)
{
	uint32_t head[GLOB_CHAINS_MAX];
	size_t n = 0, k, min;
	const char *dir = s->path, *c = s->path;
	uint64_t h = SG_HASH_INIT;

	if (p->nglobs == 0 || settled(p, st))
		return;
	while ((c = strchr(c, '/'))) {
		uint32_t i;

		c++;
		h = sg_hash_update(h, dir, (size_t)(c - dir));
		dir = c;
		i = sg_policy_find_glob_dir(p, sg_hash_final(h), s->path, (size_t)(c - s->path));
		if (i == SG_NIL)
			continue;
		if (n == GLOB_CHAINS_MAX) {
			eval_globs_linear(p, s, st);
			return;
		}
		head[n++] = i;
	}
	while (n > 0 && !settled(p, st)) {
		for (min = 0, k = 1; k < n; k++)
			if (head[k] < head[min])
				min = k;
		try_glob(p, head[min], s, st);
		head[min] = p->ext[head[min]].glob_next;
		if (head[min] == SG_NIL)
			head[min] = head[--n];
	}
}

/*
 * Rules scoped to containers, for an exec in one: few, so checked in file
 * order. Their paths are the container's own; an identity is the file at
 * that path in this container, which only the caller can look up. Returns
 * whether a hash rule could decide but the hash is not known.
 */
static bool eval_scoped(const struct sg_policy *p, const struct sg_exec_subject *s,
			struct eval_state *st)
{
	bool need_hash = false;
	size_t k;

	for (k = 0; k < p->nscoped; k++) {
		uint32_t i = p->scoped[k];
		const struct sg_rule *r = &p->rules[i];
		bool hit = false;

		if (!sg_selector_matches(&p->selectors[r->scope - 1], s->workload))
			continue;
		switch (r->kind) {
		case SG_MATCH_SHA256:
			if (!s->sha256)
				need_hash = true;
			else
				hit = !memcmp(r->sha256, s->sha256, SG_SHA256_LEN);
			break;
		case SG_MATCH_PATH:
			hit = s->container_path && !strcmp(r->pattern, s->container_path);
			break;
		case SG_MATCH_GLOB:
			hit = s->container_path && sg_glob_match(p->ext[i].glob, s->container_path);
			break;
		case SG_MATCH_IDENTITY:
			hit = s->is_container_file && s->is_container_file(r->pattern, s->ctx);
			break;
		case SG_MATCH_DRIFT:
			break;
		}
		if (hit)
			consider(p, i, s, st);
	}
	return need_hash;
}

enum sg_eval_status sg_policy_eval(const struct sg_policy *p,
				   const struct sg_exec_subject *s,
				   struct sg_verdict *v)
{
	struct eval_state st = { 0 };
	bool id_deny, id_allow, hash_unknown, scoped_hash = false;

	if (s->id)
		walk_id_chain(p, sg_policy_find_id(p, s->id), s, &st);
	id_deny = st.deny != NULL;
	id_allow = st.allow != NULL;

	hash_unknown = p->n_kind[SG_MATCH_SHA256] > 0 && !s->sha256;
	if (s->sha256 && !settled(p, &st))
		walk_chain(p, sg_policy_find_sha(p, s->sha256), s, &st);
	if (s->path && !settled(p, &st))
		walk_chain(p, sg_policy_find_path(p, s->path), s, &st);
	if (s->path)
		eval_globs(p, s, &st);
	if (s->workload && p->nscoped)
		scoped_hash = eval_scoped(p, s, &st);

	if (st.deny) {
		v->action = SG_ACTION_DENY;
		v->rule = st.deny;
	} else if (st.allow) {
		v->action = SG_ACTION_ALLOW;
		v->rule = st.allow;
	} else {
		v->action = p->default_action;
		v->rule = NULL;
	}
	/* An unknown hash may hide a parent-constrained target: assume it does. */
	v->file_only = !st.target_hit && !(hash_unknown && p->n_parent[SG_MATCH_SHA256]);
	/*
	 * An audit rule is a deny that does not block: it shows on what would
	 * otherwise run, and never opens a hole in a deny. Every such exec is
	 * to be recorded, so none is cached per file.
	 */
	v->audit = NULL;
	if (v->action == SG_ACTION_ALLOW && st.audit) {
		v->audit = st.audit;
		v->file_only = false;
	}

	/*
	 * Only an identity deny outranks every hash rule. Otherwise a hash deny
	 * would win, and a hash allow would win when nothing denies and no
	 * identity allow came first.
	 */
	if (hash_unknown && !id_deny &&
	    (p->n_sha_deny > 0 || (!st.deny && !id_allow)))
		return SG_EVAL_NEED_HASH;
	if (scoped_hash && !st.deny)
		return SG_EVAL_NEED_HASH;
	/*
	 * With rules for containers the same file may be judged apart in each
	 * (a host binary mounted into one): no verdict is the file's alone.
	 */
	if (p->nscoped || p->ndrift)
		v->file_only = false;
	return SG_EVAL_DONE;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Exec rules (the "rules:" list): name, action and one matcher (path, glob,
 * identity or sha256), optionally narrowed by the parent that runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/* Room for one more rule; returns it zeroed, or NULL. */
static struct sg_rule *append_rule(struct sg_policy *p)
{
	if (p->nrules == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct sg_rule *r = realloc(p->rules, cap * sizeof(*r));
		struct sg_rule_ext *x;

		if (!r)
			return NULL;
		p->rules = r;
		x = realloc(p->ext, cap * sizeof(*x));
		if (!x)
			return NULL;
		p->ext = x;
		p->cap = cap;
	}
	memset(&p->rules[p->nrules], 0, sizeof(p->rules[0]));
	memset(&p->ext[p->nrules], 0, sizeof(p->ext[0]));
	p->ext[p->nrules].next = SG_NIL;
	return &p->rules[p->nrules++];
}

/* identity: {dev: N, ino: N}; the current event is its MAPPING_START. */
static int parse_identity_map(struct parser *ps, struct sg_rule *r)
{
	static const char *const keys[] = { "dev", "ino" };
	yaml_mark_t start = ps->ev.start_mark;
	char where[48], what[64];
	unsigned seen = 0;
	size_t k;
	int rc;

	snprintf(where, sizeof(where), "rule %u: identity", r->id);
	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = sg_pp_take_key(ps, where, keys, 2, &seen, &k);
		if (!rc)
			rc = sg_pp_next(ps);
		if (rc)
			return rc;
		snprintf(what, sizeof(what), "rule %u: identity \"%s\"", r->id, keys[k]);
		rc = sg_pp_want_scalar(ps, what);
		if (rc)
			return rc;
		if (k == 0)
			rc = sg_pp_take_u64(ps, what, "st_dev, as printed by stat -c %d", &r->id_target.dev);
		else
			rc = sg_pp_take_u64(ps, what, "st_ino, as printed by stat -c %i", &r->id_target.ino);
		if (rc)
			return rc;
	}
	if (seen != 3)
		return fail(ps, start,
			    "rule %u: identity needs both \"dev\" and \"ino\", e.g. {dev: 2049, ino: 1234} from stat -c '%%d %%i' FILE",
			    r->id);
	if (r->id_target.ino == 0)
		return fail(ps, start, "rule %u: identity \"ino\" must not be 0", r->id);
	r->id_resolved = true;
	return 0;
}

/* parent: {path: X} or {glob: X}; the current event is its MAPPING_START. */
static int parse_parent(struct parser *ps, struct sg_rule *r, struct sg_rule_ext *x)
{
	static const char *const keys[] = { "path", "glob" };
	yaml_mark_t start = ps->ev.start_mark;
	char where[48], what[64];
	unsigned seen = 0;
	size_t k;
	int rc;

	snprintf(where, sizeof(where), "rule %u: parent", r->id);
	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = sg_pp_take_key(ps, where, keys, 2, &seen, &k);
		if (rc)
			return rc;
		if (seen == 3)
			return fail(ps, ps->ev.start_mark,
				    "rule %u: parent has both \"path\" and \"glob\"; give one", r->id);
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		snprintf(what, sizeof(what), "rule %u: parent \"%s\"", r->id, keys[k]);
		rc = sg_pp_want_scalar(ps, what);
		if (!rc && k == 0)
			rc = sg_pp_check_path(ps, what, true);
		if (!rc && k == 1)
			rc = sg_pp_take_glob(ps, what, &x->parent_glob);
		if (!rc)
			rc = sg_pp_dup_value(ps, &r->parent_pattern);
		if (rc)
			return rc;
		r->parent_is_glob = k == 1;
	}
	if (!seen)
		return fail(ps, start,
			    "rule %u: parent needs \"path\" or \"glob\", e.g. parent: {path: /usr/sbin/nginx}",
			    r->id);
	return 0;
}

enum rule_key { K_NAME, K_ACTION, K_PATH, K_GLOB, K_IDENTITY, K_SHA256, K_PARENT, K_CONTAINER };

static const char *const rule_keys[] = {
	"name", "action", "path", "glob", "identity", "sha256", "parent", "container",
};

/* The value of rule key k; the current event is that value. */
static int take_rule_value(struct parser *ps, size_t k, struct sg_rule *r,
			   struct sg_rule_ext *x)
{
	static const char *const actions[] = { "allow", "deny" };
	char what[64];
	int rc, v;

	snprintf(what, sizeof(what), "rule %u: \"%s\"", r->id, rule_keys[k]);
	if (k == K_CONTAINER)
		return sg_pp_take_selector(ps, &r->scope);
	if (k == K_PARENT) {
		if (ps->ev.type != YAML_MAPPING_START_EVENT)
			return fail(ps, ps->ev.start_mark,
				    "%s must be a mapping such as {path: /usr/sbin/nginx} or {glob: \"/usr/**/nginx\"}",
				    what);
		return parse_parent(ps, r, x);
	}
	if (k == K_IDENTITY && ps->ev.type == YAML_MAPPING_START_EVENT) {
		r->kind = SG_MATCH_IDENTITY;
		return parse_identity_map(ps, r);
	}
	rc = sg_pp_want_scalar(ps, what);
	if (rc)
		return rc;
	switch (k) {
	case K_NAME:
		return sg_pp_take_name(ps, what, r, x);
	case K_ACTION:
		if (!strcmp(sval(ps), "audit")) {
			r->action = SG_ACTION_AUDIT;
			return 0;
		}
		if (strcmp(sval(ps), "allow") && strcmp(sval(ps), "deny"))
			return fail(ps, ps->ev.start_mark, "%s must be \"allow\", \"deny\" or \"audit\"",
				    what);
		rc = sg_pp_take_enum(ps, what, actions, &v);
		r->action = v ? SG_ACTION_DENY : SG_ACTION_ALLOW;
		return rc;
	case K_PATH:
		r->kind = SG_MATCH_PATH;
		rc = sg_pp_check_path(ps, what, true);
		return rc ? rc : sg_pp_dup_value(ps, &r->pattern);
	case K_GLOB:
		r->kind = SG_MATCH_GLOB;
		rc = sg_pp_take_glob(ps, what, &x->glob);
		return rc ? rc : sg_pp_dup_value(ps, &r->pattern);
	case K_IDENTITY:
		/* A path, resolved to dev+inode later by sg_policy_resolve(). */
		r->kind = SG_MATCH_IDENTITY;
		rc = sg_pp_check_path(ps, what, false);
		return rc ? rc : sg_pp_dup_value(ps, &r->pattern);
	case K_SHA256:
		r->kind = SG_MATCH_SHA256;
		return sg_pp_take_sha256(ps, what, r->sha256);
	}
	return 0;
}

/*
 * A rule scoped to containers stays out of the lookup tables and the
 * kernel's deny sets (both apply everywhere): the engine checks it for
 * execs in a matching container only. Its identity is a path in the
 * container, so it must name one.
 */
static int note_scoped(struct parser *ps, struct sg_rule *r)
{
	struct sg_policy *p = ps->p;

	if (r->kind == SG_MATCH_IDENTITY && !r->pattern)
		return sg_pp_fail_at(ps, r->line, r->column, -EINVAL,
				     "rule %u: a rule scoped with \"container\" takes an identity as a path in the container, not {dev, ino}",
				     r->id);
	if (p->nscoped == p->scoped_cap) {
		size_t cap = p->scoped_cap ? p->scoped_cap * 2 : 8;
		void *v = realloc(p->scoped, cap * sizeof(*p->scoped));

		if (!v)
			return fail_nomem(ps);
		p->scoped = v;
		p->scoped_cap = cap;
	}
	p->scoped[p->nscoped++] = r->id - 1;
	if (r->kind == SG_MATCH_PATH || r->kind == SG_MATCH_GLOB)
		p->n_scoped_name++;
	return 0;
}

/* One rule; the current event is its MAPPING_START. */
static int parse_rule(struct parser *ps)
{
	yaml_mark_t start = ps->ev.start_mark;
	const char *matcher = NULL;
	struct sg_policy *p = ps->p;
	struct sg_rule_ext *x;
	struct sg_rule *r;
	char where[32];
	unsigned seen = 0;
	size_t k;
	int rc;

	r = append_rule(p);
	if (!r)
		return fail_nomem(ps);
	x = &p->ext[p->nrules - 1];
	r->id = (uint32_t)p->nrules;
	r->line = (unsigned)start.line + 1;
	r->column = (unsigned)start.column + 1;
	r->source = sg_pp_source(ps);
	snprintf(where, sizeof(where), "rule %u", r->id);

	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = sg_pp_take_key(ps, where, rule_keys, sizeof(rule_keys) / sizeof(rule_keys[0]),
				    &seen, &k);
		if (rc)
			return rc;
		if (k >= K_PATH && k <= K_SHA256) {
			if (matcher)
				return fail(ps, ps->ev.start_mark,
					    "rule %u: has both \"%s\" and \"%s\"; a rule takes exactly one of path, glob, identity or sha256, so write two rules",
					    r->id, matcher, rule_keys[k]);
			matcher = rule_keys[k];
		}
		rc = sg_pp_next(ps);
		if (!rc && k >= K_PATH && k <= K_SHA256) {
			x->target_line = (unsigned)ps->ev.start_mark.line + 1;
			x->target_col = (unsigned)ps->ev.start_mark.column + 1;
		}
		if (!rc)
			rc = take_rule_value(ps, k, r, x);
		if (rc)
			return rc;
	}
	if (!(seen & (1u << K_ACTION)))
		return fail(ps, start, "rule %u: missing \"action\"; add action: deny or action: allow",
			    r->id);
	if (!matcher)
		return fail(ps, start,
			    "rule %u: nothing to match; add one of path, glob, identity or sha256",
			    r->id);
	/* In a fragment, an unnamed rule is named after the fragment once its name: is known. */
	if (!(seen & (1u << K_NAME))) {
		if (!ps->fragment)
			snprintf(r->name, sizeof(r->name), "rule-%u", r->id);
		x->name_line = r->line;
		x->name_col = (unsigned)start.column + 1;
	}
	if (r->scope)
		return note_scoped(ps, r);
	p->n_kind[r->kind]++;
	if (r->parent_pattern)
		p->n_parent[r->kind]++;
	if (r->kind == SG_MATCH_SHA256 && r->action != SG_ACTION_ALLOW)
		p->n_sha_deny++;
	return 0;
}

static size_t count_rules(const struct sg_policy *p)
{
	return p->nrules;
}

const struct list_kind sg_pp_exec_rules = {
	"rules", "rule", "action: and path:", parse_rule, count_rules,
};

/* The same rules, about the files mapped as code (shared objects). */
const struct list_kind sg_pp_library_rules = {
	"libraries", "library rule", "action: and path:", parse_rule, count_rules,
};

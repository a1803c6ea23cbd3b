// SPDX-License-Identifier: Apache-2.0
/*
 * Policy lint. Each warning states a fact of the evaluation in eval.c, so
 * none is a guess: within a kind the first matching rule in file order is
 * the one reported, any deny beats every allow and audit, an allow under a
 * default allow changes nothing, and exec paths (the parent's too) are
 * real names with every symlink resolved.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "lint.h"

struct lint {
	const struct sg_policy *p;
	sg_lint_probe_fn probe;
	void *pctx;
	sg_lint_fn emit;
	void *ectx;
	unsigned count;
};

static void warn(struct lint *l, size_t i, bool at_target, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warn(struct lint *l, size_t i, bool at_target, const char *fmt, ...)
{
	const struct sg_rule *r = &l->p->rules[i];
	const struct sg_rule_ext *x = &l->p->ext[i];
	struct sg_lint_msg m = { .line = r->line, .column = r->column, .source = r->source };
	va_list ap;
	int n;

	if (at_target && x->target_line) {
		m.line = x->target_line;
		m.column = x->target_col;
	}
	n = snprintf(m.text, sizeof(m.text), "rule %u \"%s\": ", r->id, r->name);
	if (n < 0 || (size_t)n >= sizeof(m.text))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(m.text + n, sizeof(m.text) - n, fmt, ap);
	va_end(ap);
	l->count++;
	l->emit(&m, l->ectx);
}

/* Where rule `o` is, seen from rule `r`: "line N" in the same file, else "FILE:N" (policy fragments). */
static const char *where(const struct sg_rule *r, const struct sg_rule *o, char *buf, size_t cap)
{
	if (r->source == o->source)
		snprintf(buf, cap, "line %u", o->line);
	else
		snprintf(buf, cap, "%s:%u", o->source, o->line);
	return buf;
}

/* "/a/b/" "**": a literal directory and everything below it. */
static size_t subtree_prefix(const char *glob)
{
	size_t n = strlen(glob);

	if (n < 4 || strcmp(glob + n - 3, "/**"))
		return 0;
	return sg_glob_literal_dir(glob) == n - 2 ? n - 2 : 0;
}

/* Every exec that the target of rule b matches, rule a's target matches too. */
static bool same_target(const struct sg_policy *p, size_t a, size_t b)
{
	const struct sg_rule *ra = &p->rules[a], *rb = &p->rules[b];
	size_t pre;

	/* A scoped rule's path is a container's, and only there: never the same target. */
	if (ra->kind != rb->kind || ra->scope != rb->scope)
		return false;
	switch (ra->kind) {
	case SG_MATCH_PATH:
		return strcmp(ra->pattern, rb->pattern) == 0;
	case SG_MATCH_IDENTITY:
		if (ra->pattern || rb->pattern)
			return ra->pattern && rb->pattern && strcmp(ra->pattern, rb->pattern) == 0;
		return ra->id_target.dev == rb->id_target.dev && ra->id_target.ino == rb->id_target.ino;
	case SG_MATCH_SHA256:
		return memcmp(ra->sha256, rb->sha256, SG_SHA256_LEN) == 0;
	case SG_MATCH_GLOB:
		if (strcmp(ra->pattern, rb->pattern) == 0)
			return true;
		pre = subtree_prefix(ra->pattern);
		return pre && strlen(rb->pattern) > pre && strncmp(ra->pattern, rb->pattern, pre) == 0;
	case SG_MATCH_DRIFT:
		return false;
	}
	return false;
}

/* Rule a's parent condition holds whenever rule b's does. */
static bool parent_covers(const struct sg_rule *a, const struct sg_rule *b)
{
	if (!a->parent_pattern)
		return true;
	return b->parent_pattern && a->parent_is_glob == b->parent_is_glob &&
	       strcmp(a->parent_pattern, b->parent_pattern) == 0;
}

/* A deny that matches every exec rule i matches under its name: i never decides. */
static bool deny_covers(const struct sg_policy *p, size_t d, size_t i)
{
	const struct sg_rule *rd = &p->rules[d], *ri = &p->rules[i];

	if (rd->action != SG_ACTION_DENY || !parent_covers(rd, ri))
		return false;
	if (same_target(p, d, i))
		return true;
	return rd->kind == SG_MATCH_GLOB && ri->kind == SG_MATCH_PATH &&
	       sg_glob_match(p->ext[d].glob, ri->pattern);
}

static bool empty_file_hash(const uint8_t *h)
{
	static const uint8_t empty[SG_SHA256_LEN] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
		0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};

	return memcmp(h, empty, SG_SHA256_LEN) == 0;
}

/* What the host says of the rule's target and parent names. */
static void check_host(struct lint *l, size_t i)
{
	const struct sg_rule *r = &l->p->rules[i];
	char real[4096], dir[4096];
	enum sg_lint_path k;
	size_t n;

	if (r->kind == SG_MATCH_IDENTITY && r->pattern) {
		k = l->probe(r->pattern, real, sizeof(real), l->pctx);
		if (k == SG_LINT_PATH_ABSENT)
			warn(l, i, true, "identity %s does not exist on this host; the rule stays inactive until it does and the policy is reloaded",
			     r->pattern);
		else if (k == SG_LINT_PATH_DIR)
			warn(l, i, true, "identity %s is a directory; no program is", r->pattern);
	}
	if (r->kind == SG_MATCH_PATH) {
		k = l->probe(r->pattern, real, sizeof(real), l->pctx);
		if (k == SG_LINT_PATH_DIR)
			warn(l, i, true, "path %s is a directory; no program runs under this name",
			     r->pattern);
	}
	if (r->kind == SG_MATCH_GLOB) {
		n = sg_glob_literal_dir(r->pattern);
		/* "/" itself is never an alias; a longer directory may be one. */
		if (n > 1 && n < sizeof(dir)) {
			memcpy(dir, r->pattern, n - 1);
			dir[n - 1] = '\0';
			if (l->probe(dir, real, sizeof(real), l->pctx) == SG_LINT_PATH_ALIAS)
				warn(l, i, true, "glob %s is under %s, a symlink to %s on this host; exec paths are real names, so it matches nothing here (write %s%s)",
				     r->pattern, dir, real, real, r->pattern + n - 1);
		}
	}
	if (r->parent_pattern && !r->parent_is_glob) {
		k = l->probe(r->parent_pattern, real, sizeof(real), l->pctx);
		if (k == SG_LINT_PATH_ALIAS)
			warn(l, i, false, "parent path %s is a symlink to %s on this host; a parent's executable is its real name, so this rule never matches (write parent: {path: %s})",
			     r->parent_pattern, real, real);
		else if (k == SG_LINT_PATH_DIR)
			warn(l, i, false, "parent path %s is a directory; no parent runs under this name, so this rule never matches",
			     r->parent_pattern);
	}
}

static void check_rule(struct lint *l, size_t i)
{
	const struct sg_policy *p = l->p;
	const struct sg_rule *r = &p->rules[i];
	char at[600];
	size_t j;

	if (r->kind == SG_MATCH_SHA256 && empty_file_hash(r->sha256))
		warn(l, i, true, "this is the SHA-256 of an empty file; no program has it, so the rule never matches");
	/* A scoped rule names a container's files, which this host's need not have. */
	if (l->probe && !r->scope)
		check_host(l, i);

	/* A name-less exec under a default allow is denied unless an identity or hash allow holds. */
	if (r->action == SG_ACTION_ALLOW && p->default_action == SG_ACTION_ALLOW &&
	    (r->kind == SG_MATCH_PATH || r->kind == SG_MATCH_GLOB || !sg_policy_has_name_rules(p))) {
		warn(l, i, false, "allow never changes a decision: the default is already allow, and an allow does not override a deny");
		return;
	}
	if (r->action != SG_ACTION_DENY) {
		for (j = 0; j < p->nrules; j++) {
			if (j != i && deny_covers(p, j, i)) {
				warn(l, i, false, "never decides: every program it matches is also denied by rule %u \"%s\" (%s), and a deny always wins",
				     p->rules[j].id, p->rules[j].name, where(r, &p->rules[j], at, sizeof(at)));
				return;
			}
		}
	}
	for (j = 0; j < i; j++) {
		const struct sg_rule *e = &p->rules[j];

		if (e->action == r->action && same_target(p, j, i) && parent_covers(e, r)) {
			warn(l, i, false, "shadowed by rule %u \"%s\" (%s), which matches everything this rule matches and comes first, so this rule is never the one that decides",
			     e->id, e->name, where(r, e, at, sizeof(at)));
			return;
		}
	}
}

unsigned sg_policy_lint(const struct sg_policy *p, sg_lint_probe_fn probe, void *pctx,
			sg_lint_fn emit, void *ectx)
{
	struct lint l = { .p = p, .probe = probe, .pctx = pctx, .emit = emit, .ectx = ectx };
	size_t i;

	for (i = 0; i < p->nrules; i++)
		check_rule(&l, i);
	return l.count;
}

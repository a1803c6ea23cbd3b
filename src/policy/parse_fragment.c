// SPDX-License-Identifier: Apache-2.0
/*
 * Policy fragments (policy.d): the files a policy is merged from, each
 * fragment's name:, the names its unnamed rules get, the checks that span
 * files (a rule name or a fragment name given twice) and the version that
 * covers every file. Messages name both places, as inside one file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "parse_internal.h"

int sg_pp_add_source(struct parser *ps, const char *source)
{
	struct sg_policy *p = ps->p;
	struct sg_policy_src *n = realloc(p->srcs, (p->nsrcs + 1) * sizeof(*n));

	if (!n)
		return fail_nomem(ps);
	p->srcs = n;
	memset(&n[p->nsrcs], 0, sizeof(n[0]));
	n[p->nsrcs].source = strdup(source);
	if (!n[p->nsrcs].source)
		return fail_nomem(ps);
	ps->src = p->nsrcs++;
	ps->source = n[ps->src].source;
	return 0;
}

void sg_pp_fragment_begin(struct parser *ps, struct sg_fragment_base *b)
{
	size_t l;

	b->rules = ps->p->nrules;
	b->net = ps->p->nnet;
	for (l = 0; l < SG_FILES_NLISTS; l++)
		b->files[l] = ps->p->nfiles[l];
}

/*
 * name: a short word (letters, digits, "-", "_", "."), as a Kubernetes
 * namespace or team would be called; unique among the fragments.
 */
int sg_pp_take_fragment_name(struct parser *ps)
{
	struct sg_policy_src *me = &ps->p->srcs[ps->src];
	char q[64];
	size_t i;
	int rc = sg_pp_want_scalar(ps, "fragment \"name\"");

	if (rc)
		return rc;
	for (i = 0; i < slen(ps); i++) {
		unsigned char c = sval(ps)[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '-' || c == '_' || c == '.'))))
			break;
	}
	if (slen(ps) == 0 || slen(ps) >= SG_FRAGMENT_NAME_MAX || i < slen(ps))
		return fail(ps, ps->ev.start_mark,
			    "fragment \"name\" must be 1 to %d letters, digits, \"-\", \"_\" or \".\", starting with a letter or digit, e.g. name: team-a",
			    SG_FRAGMENT_NAME_MAX - 1);
	for (i = 1; i < ps->src; i++) {
		const struct sg_policy_src *o = &ps->p->srcs[i];

		if (o->fragment && !strcmp(o->fragment, sval(ps)))
			return fail(ps, ps->ev.start_mark,
				    "fragment name \"%s\" is already used by %s:%u; give each fragment its own name",
				    sg_pp_show(q, sizeof(q), sval(ps), slen(ps)), o->source,
				    o->name_line);
	}
	me->fragment = strndup(sval(ps), slen(ps));
	if (!me->fragment)
		return fail_nomem(ps);
	me->name_line = (unsigned)ps->ev.start_mark.line + 1;
	me->name_col = (unsigned)ps->ev.start_mark.column + 1;
	return 0;
}

/* The default name of the i-th (from 1) unnamed rule of a list, as <fragment>/<list>-<i>. */
static void default_name(char *name, size_t cap, const char *frag, const char *list, size_t i)
{
	if (!name[0])
		snprintf(name, cap, "%s/%s-%zu", frag, list, i);
}

/* The fragment is read: its rules get its name, and the unnamed ones a name of their own. */
int sg_pp_fragment_end(struct parser *ps, const struct sg_fragment_base *b)
{
	static const char *const lists[SG_FILES_NLISTS] = { "files", "integrity", "file_audit" };
	struct sg_policy *p = ps->p;
	const char *frag = p->srcs[ps->src].fragment;
	size_t i, l;

	for (i = b->rules; i < p->nrules; i++) {
		p->rules[i].fragment = frag;
		default_name(p->rules[i].name, sizeof(p->rules[i].name), frag, "rule", i - b->rules + 1);
	}
	for (i = b->net; i < p->nnet; i++) {
		p->net[i].fragment = frag;
		default_name(p->net[i].name, sizeof(p->net[i].name), frag, "egress", i - b->net + 1);
	}
	for (l = 0; l < SG_FILES_NLISTS; l++) {
		for (i = b->files[l]; i < p->nfiles[l]; i++) {
			p->files[l][i].fragment = frag;
			default_name(p->files[l][i].name, sizeof(p->files[l][i].name), frag, lists[l],
				     i - b->files[l] + 1);
		}
	}
	return 0;
}

static bool eq_name(const void *ctx, uint32_t idx, const void *key)
{
	const struct sg_policy *p = ctx;

	return strcmp(p->rules[idx].name, key) == 0;
}

/* Rule names appear in audit records, so each must point at one rule, across every file. */
int sg_pp_check_names(struct parser *ps)
{
	const struct sg_policy *p = ps->p;
	struct sg_table t;
	size_t i;
	int rc = 0;

	if (sg_table_init(&t, p->nrules))
		return fail_nomem(ps);
	for (i = 0; i < p->nrules; i++) {
		const struct sg_rule *r = &p->rules[i];
		const struct sg_rule_ext *x = &p->ext[i];
		const struct sg_rule *o;
		char q[48];
		uint32_t prev;

		prev = sg_table_push(&t, sg_hash_bytes(r->name, strlen(r->name)), eq_name, p,
				     r->name, (uint32_t)i);
		if (prev == SG_NIL)
			continue;
		o = &p->rules[prev];
		sg_pp_show(q, sizeof(q), r->name, strlen(r->name));
		ps->source = r->source;
		if (o->source == r->source)
			rc = sg_pp_fail_at(ps, x->name_line, x->name_col, -EINVAL,
					   "rule %u: name \"%s\" is already used by rule %u (line %u); give each rule its own name",
					   r->id, q, o->id, o->line);
		else
			rc = sg_pp_fail_at(ps, x->name_line, x->name_col, -EINVAL,
					   "rule name \"%s\" is already used in %s:%u; give each rule its own name (rule names are unique across the policy and its fragments)",
					   q, o->source, p->ext[prev].name_line);
		break;
	}
	sg_table_free(&t);
	return rc;
}

/*
 * The version reported for the merged policy: the main policy's, then
 * "+d<fragments>.<12 hex of BLAKE2b over each fragment's name and bytes>",
 * so any change in any fragment shows, and the same files give the same one.
 */
void sg_pp_fragment_version(struct sg_policy *p, const struct sg_policy_file *f, size_t n)
{
	crypto_generichash_state st;
	uint8_t h[16];
	char hex[2 * 6 + 1];
	size_t i, used = strlen(p->version);

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	for (i = 0; i < n; i++) {
		const char *name = p->srcs[i + 1].fragment;
		uint64_t len = f[i].buf ? f[i].len : 0;
		uint8_t le[8];
		size_t b;

		for (b = 0; b < 8; b++)
			le[b] = (uint8_t)(len >> (8 * b));
		crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
		crypto_generichash_update(&st, le, sizeof(le));
		if (len)
			crypto_generichash_update(&st, (const unsigned char *)f[i].buf, len);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, 6);
	snprintf(p->version + used, sizeof(p->version) - used, "+d%zu.%s", n, hex);
}

size_t sg_policy_fragment_count(const struct sg_policy *p)
{
	return p->nsrcs ? p->nsrcs - 1 : 0;
}

const char *sg_policy_fragment_name(const struct sg_policy *p, size_t i)
{
	return i + 1 < p->nsrcs ? p->srcs[i + 1].fragment : NULL;
}

const char *sg_policy_fragment_source(const struct sg_policy *p, size_t i)
{
	return i + 1 < p->nsrcs ? p->srcs[i + 1].source : NULL;
}

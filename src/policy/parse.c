// SPDX-License-Identifier: Apache-2.0
/*
 * Policy parser: YAML (libyaml event API) -> rules. The event API lets us
 * refuse aliases before anything expands them and stop at the first event
 * that does not fit the format, so hostile input never nests deeply or
 * builds a large tree. Every error names the source, line and column and
 * says what to write instead.
 *
 * This file reads the document and its top-level mapping (with the guard)
 * and checks rule names; parse_core.c holds the helpers every part shares,
 * parse_exec.c, parse_net.c and parse_files.c the rule lists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "parse_internal.h"

/* Larger documents are refused before parsing. */
#define SG_POLICY_MAX_BYTES (16u << 20)

static const char *const guard_keys[] = { "max_denies", "per_seconds", "for_seconds" };

static int take_guard_value(struct parser *ps, size_t k, void *item)
{
	static const char *const what[] = { "guard max_denies", "guard per_seconds",
					    "guard for_seconds" };
	static const char *const hint[] = { "denies, e.g. 20", "seconds, e.g. 60",
					    "seconds, e.g. 600" };
	static const uint64_t max[] = { 100000, 3600, 86400 * 30 };
	struct sg_guard *g = item;
	uint64_t v;
	int rc = sg_pp_want_scalar(ps, what[k]);

	if (!rc)
		rc = sg_pp_take_u64(ps, what[k], hint[k], &v);
	if (rc)
		return rc;
	if (v == 0 || v > max[k])
		return fail(ps, ps->ev.start_mark, "%s must be 1 to %llu (%s)", what[k],
			    (unsigned long long)max[k], hint[k]);
	if (k == 0)
		g->max_denies = (uint32_t)v;
	else if (k == 1)
		g->per_s = (uint32_t)v;
	else
		g->for_s = (uint32_t)v;
	return 0;
}

/* guard: {max_denies: N, per_seconds: S, for_seconds: T}; the current event is its start. */
static int parse_guard(struct parser *ps)
{
	struct sg_guard *g = &ps->p->guard;
	yaml_mark_t start = ps->ev.start_mark;
	unsigned seen = 0;
	int rc;

	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, start, "\"guard\" must be a mapping: {max_denies: 20, per_seconds: 60, "
			    "for_seconds: 600}");
	g->per_s = 60;
	g->for_s = 600;
	g->line = start.line + 1;
	rc = sg_pp_parse_mapping(ps, "guard", guard_keys, sizeof(guard_keys) / sizeof(guard_keys[0]),
				 &seen, take_guard_value, g);
	if (!rc && !(seen & 1u))
		return fail(ps, start, "guard needs max_denies: how many denied execs in per_seconds "
			    "send the policy back to monitor mode");
	return rc;
}

enum root_key { R_VERSION, R_MODE, R_DEFAULT, R_FILELESS, R_RULES, R_EGRESS, R_FILES,
		R_INTEGRITY, R_FILE_AUDIT, R_GUARD, R_DRIFT };

/* The top-level mapping; the current event is its MAPPING_START. */
static int parse_root(struct parser *ps)
{
	static const char *const keys[] = { "version", "mode", "default", "fileless_exec", "rules",
					    "egress", "files", "integrity", "file_audit", "guard",
					    "drift" };
	static const char *const modes[] = { "monitor", "enforce" };
	static const char *const actions[] = { "allow", "deny" };
	static const char *const fileless[] = { "inspect", "deny" };
	yaml_mark_t start = ps->ev.start_mark;
	struct sg_policy *p = ps->p;
	unsigned seen = 0;
	char what[32];
	size_t k, i;
	int rc, v;

	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = sg_pp_take_key(ps, "top level", keys, sizeof(keys) / sizeof(keys[0]), &seen, &k);
		if (!rc)
			rc = sg_pp_next(ps);
		if (rc)
			return rc;
		snprintf(what, sizeof(what), "\"%s\"", keys[k]);
		switch (k) {
		case R_VERSION:
			rc = sg_pp_want_scalar(ps, what);
			if (rc)
				return rc;
			for (i = 0; i < slen(ps); i++) {
				unsigned char c = sval(ps)[i];

				if (c < 0x20 || c > 0x7e)
					break;
			}
			if (slen(ps) == 0 || slen(ps) >= SG_POLICY_VERSION_MAX || i < slen(ps) ||
			    sg_pp_is_null(ps))
				return fail(ps, ps->ev.start_mark,
					    "\"version\" must be 1 to %d printable ASCII characters, e.g. \"2026-11-23.1\"",
					    SG_POLICY_VERSION_MAX - 1);
			memcpy(p->version, sval(ps), slen(ps) + 1);
			break;
		case R_MODE:
			rc = sg_pp_take_enum(ps, what, modes, &v);
			p->mode = v ? SG_MODE_ENFORCE : SG_MODE_MONITOR;
			break;
		case R_DEFAULT:
			rc = sg_pp_take_enum(ps, what, actions, &v);
			p->default_action = v ? SG_ACTION_DENY : SG_ACTION_ALLOW;
			break;
		case R_FILELESS:
			rc = sg_pp_take_enum(ps, what, fileless, &v);
			p->fileless = v ? SG_FILELESS_DENY : SG_FILELESS_INSPECT;
			break;
		case R_RULES:
			rc = sg_pp_parse_list(ps, &sg_pp_exec_rules);
			break;
		case R_EGRESS:
			rc = sg_pp_parse_list(ps, &sg_pp_net_rules);
			break;
		case R_FILES:
		case R_INTEGRITY:
		case R_FILE_AUDIT:
			rc = sg_pp_parse_list(ps, &sg_pp_file_list_kinds[SG_FILES_PROTECT + (k - R_FILES)]);
			break;
		case R_GUARD:
			rc = parse_guard(ps);
			break;
		case R_DRIFT:
			rc = sg_pp_parse_list(ps, &sg_pp_drift_rules);
			break;
		}
		if (rc)
			return rc;
	}
	if (!(seen & (1u << R_VERSION)))
		return fail(ps, start,
			    "missing \"version\"; add a tag such as version: \"2026-11-23.1\"");
	return 0;
}

static int parse_stream(struct parser *ps)
{
	int rc;

	rc = sg_pp_next(ps);			/* STREAM_START */
	if (!rc)
		rc = sg_pp_next(ps);
	if (rc)
		return rc;
	if (ps->ev.type == YAML_STREAM_END_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "the policy is empty; it needs at least version: \"...\"");
	rc = sg_pp_next(ps);			/* after DOCUMENT_START */
	if (rc)
		return rc;
	if (sg_pp_is_null(ps))
		return fail(ps, ps->ev.start_mark,
			    "the policy is empty; it needs at least version: \"...\"");
	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "the policy must be a mapping with version:, mode:, default: and rules:");
	rc = parse_root(ps);
	if (!rc)
		rc = sg_pp_next(ps);		/* DOCUMENT_END */
	if (!rc)
		rc = sg_pp_next(ps);
	if (rc)
		return rc;
	if (ps->ev.type != YAML_STREAM_END_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "only one YAML document is allowed; remove the second \"---\"");
	return 0;
}

static bool eq_name(const void *ctx, uint32_t idx, const void *key)
{
	const struct sg_policy *p = ctx;

	return strcmp(p->rules[idx].name, key) == 0;
}

/* Rule names appear in audit records, so each must point at one rule. */
static int check_names(struct parser *ps)
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
		char q[48];
		uint32_t prev;

		prev = sg_table_push(&t, sg_hash_bytes(r->name, strlen(r->name)), eq_name, p,
				     r->name, (uint32_t)i);
		if (prev == SG_NIL)
			continue;
		rc = sg_pp_fail_at(ps, x->name_line, x->name_col, -EINVAL,
				   "rule %u: name \"%s\" is already used by rule %u (line %u); give each rule its own name",
				   r->id, sg_pp_show(q, sizeof(q), r->name, strlen(r->name)),
				   p->rules[prev].id, p->rules[prev].line);
		break;
	}
	sg_table_free(&t);
	return rc;
}

int sg_policy_parse(const char *buf, size_t len, const char *source,
		    struct sg_policy **out, struct sg_policy_error *err)
{
	struct sg_policy_error scratch;
	struct parser ps = {
		.buf = buf ? buf : "",
		.len = buf ? len : 0,
		.source = source ? source : "<policy>",
		.err = err ? err : &scratch,
	};
	int rc;

	memset(ps.err, 0, sizeof(*ps.err));
	if (len > SG_POLICY_MAX_BYTES)
		return sg_pp_fail_at(&ps, 0, 0, -EFBIG,
				     "policy is %zu bytes, over the 16 MiB limit; split it or hash-list binaries in fewer rules",
				     len);
	ps.p = calloc(1, sizeof(*ps.p));
	if (!ps.p)
		return fail_nomem(&ps);
	if (!yaml_parser_initialize(&ps.yp)) {
		free(ps.p);
		return fail_nomem(&ps);
	}
	yaml_parser_set_input_string(&ps.yp, (const unsigned char *)ps.buf, ps.len);
	rc = parse_stream(&ps);
	if (ps.have_ev)
		yaml_event_delete(&ps.ev);
	yaml_parser_delete(&ps.yp);
	if (!rc)
		rc = check_names(&ps);
	if (!rc && sg_policy_compile(ps.p))
		rc = fail_nomem(&ps);
	if (rc) {
		sg_policy_free(ps.p);
		return rc;
	}
	*out = ps.p;
	return 0;
}

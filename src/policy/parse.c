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
		R_INTEGRITY, R_FILE_AUDIT, R_GUARD, R_DRIFT, R_SCRIPTS, R_LIBRARIES, R_NAME };

static const char *const root_keys[] = { "version", "mode", "default", "fileless_exec", "rules",
					 "egress", "files", "integrity", "file_audit", "guard",
					 "drift", "scripts", "libraries" };
/* A fragment's keys, and the root_key each stands for. */
static const char *const fragment_keys[] = { "name", "rules", "egress", "files", "integrity",
					     "file_audit", "drift" };
static const enum root_key fragment_key_of[] = { R_NAME, R_RULES, R_EGRESS, R_FILES,
						 R_INTEGRITY, R_FILE_AUDIT, R_DRIFT };

/*
 * A fragment adds rules; what the whole policy does (its version, mode,
 * default, fileless_exec, guard) only the main policy says, so that one
 * team's file cannot switch every other team's rules off.
 */
static int take_fragment_key(struct parser *ps, unsigned *seen, size_t *k)
{
	size_t i;
	int rc;

	for (i = 0; ps->ev.type == YAML_SCALAR_EVENT && i < sizeof(root_keys) / sizeof(root_keys[0]);
	     i++) {
		if ((i >= R_RULES && i <= R_FILE_AUDIT) || i == R_DRIFT)
			continue;
		if (!strcmp(sval(ps), root_keys[i]))
			return fail(ps, ps->ev.start_mark,
				    "a policy fragment cannot set \"%s\": version, mode, default, fileless_exec, guard, scripts and libraries belong to the main policy (%s); a fragment has name: and rule lists only",
				    root_keys[i], ps->p->srcs[0].source);
	}
	rc = sg_pp_take_key(ps, "fragment", fragment_keys,
			    sizeof(fragment_keys) / sizeof(fragment_keys[0]), seen, &i);
	if (!rc)
		*k = fragment_key_of[i];
	return rc;
}

/* libraries: the rule list, read into the policy's own library rule set. */
static int parse_libraries(struct parser *ps)
{
	struct sg_policy *main_policy = ps->p;
	int rc;

	if (!main_policy->libs) {
		main_policy->libs = calloc(1, sizeof(*main_policy->libs));
		if (!main_policy->libs)
			return fail_nomem(ps);
	}
	/* Rules name their source file: the main policy's list, seen through the set's. */
	main_policy->libs->srcs = main_policy->srcs;
	main_policy->libs->nsrcs = main_policy->nsrcs;
	ps->p = main_policy->libs;
	rc = sg_pp_parse_list(ps, &sg_pp_library_rules);
	ps->p = main_policy;
	return rc;
}

/* The top-level mapping; the current event is its MAPPING_START. */
static int parse_root(struct parser *ps)
{
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
		if (ps->fragment)
			rc = take_fragment_key(ps, &seen, &k);
		else
			rc = sg_pp_take_key(ps, "top level", root_keys,
					    sizeof(root_keys) / sizeof(root_keys[0]), &seen, &k);
		if (!rc)
			rc = sg_pp_next(ps);
		if (rc)
			return rc;
		snprintf(what, sizeof(what), "\"%s\"", k == R_NAME ? "name" : root_keys[k]);
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
			if (slen(ps) == 0 || slen(ps) >= SG_POLICY_TAG_MAX || i < slen(ps) ||
			    sg_pp_is_null(ps))
				return fail(ps, ps->ev.start_mark,
					    "\"version\" must be 1 to %d printable ASCII characters, e.g. \"2026-11-23.1\"",
					    SG_POLICY_TAG_MAX - 1);
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
		case R_SCRIPTS:
			rc = sg_pp_parse_scripts(ps);
			break;
		case R_LIBRARIES:
			rc = parse_libraries(ps);
			break;
		case R_NAME:
			rc = sg_pp_take_fragment_name(ps);
			break;
		}
		if (rc)
			return rc;
	}
	if (ps->fragment) {
		if (!ps->p->srcs[ps->src].fragment)
			return fail(ps, start,
				    "a policy fragment needs \"name\", e.g. name: team-a (its rules are recorded with it)");
		return 0;
	}
	if (!(seen & (1u << R_VERSION)))
		return fail(ps, start,
			    "missing \"version\"; add a tag such as version: \"2026-11-23.1\"");
	return 0;
}

static const char policy_empty[] = "the policy is empty; it needs at least version: \"...\"";
static const char fragment_empty[] =
	"the policy fragment is empty; it needs at least name: and a rule list such as rules:";

static int parse_stream(struct parser *ps)
{
	int rc;

	rc = sg_pp_next(ps);			/* STREAM_START */
	if (!rc)
		rc = sg_pp_next(ps);
	if (rc)
		return rc;
	if (ps->ev.type == YAML_STREAM_END_EVENT)
		return fail(ps, ps->ev.start_mark, ps->fragment ? fragment_empty : policy_empty);
	rc = sg_pp_next(ps);			/* after DOCUMENT_START */
	if (rc)
		return rc;
	if (sg_pp_is_null(ps))
		return fail(ps, ps->ev.start_mark, ps->fragment ? fragment_empty : policy_empty);
	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, ps->ev.start_mark, ps->fragment
			    ? "a policy fragment must be a mapping with name: and rule lists such as rules:"
			    : "the policy must be a mapping with version:, mode:, default: and rules:");
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

/* Read one file into ps->p: the main policy, or (ps->fragment) a fragment. */
static int parse_file(struct parser *ps, const struct sg_policy_file *f)
{
	int rc;

	ps->buf = f->buf ? f->buf : "";
	ps->len = f->buf ? f->len : 0;
	ps->source = sg_pp_source(ps);
	if (ps->len > SG_POLICY_MAX_BYTES)
		return sg_pp_fail_at(ps, 0, 0, -EFBIG,
				     "policy is %zu bytes, over the 16 MiB limit; split it or hash-list binaries in fewer rules",
				     ps->len);
	if (!yaml_parser_initialize(&ps->yp))
		return fail_nomem(ps);
	yaml_parser_set_input_string(&ps->yp, (const unsigned char *)ps->buf, ps->len);
	rc = parse_stream(ps);
	if (ps->have_ev)
		yaml_event_delete(&ps->ev);
	ps->have_ev = false;
	yaml_parser_delete(&ps->yp);
	return rc;
}

int sg_policy_parse_set(const struct sg_policy_file *main_policy,
			const struct sg_policy_file *fragments, size_t nfragments,
			struct sg_policy **out, struct sg_policy_error *err)
{
	static const struct sg_policy_file none = { NULL, "", 0 };
	struct sg_policy_error scratch;
	const struct sg_policy_file *m = main_policy ? main_policy : &none;
	struct parser ps = {
		.source = m->source ? m->source : "<policy>",
		.err = err ? err : &scratch,
	};
	struct sg_fragment_base base;
	size_t i;
	int rc;

	memset(ps.err, 0, sizeof(*ps.err));
	ps.p = calloc(1, sizeof(*ps.p));
	if (!ps.p)
		return fail_nomem(&ps);
	rc = sg_pp_add_source(&ps, ps.source);
	if (!rc)
		rc = parse_file(&ps, m);
	for (i = 0; !rc && i < nfragments; i++) {
		sg_pp_fragment_begin(&ps, &base);
		rc = sg_pp_add_source(&ps, fragments[i].source ? fragments[i].source : "<fragment>");
		ps.fragment = true;
		if (!rc)
			rc = parse_file(&ps, &fragments[i]);
		if (!rc)
			rc = sg_pp_fragment_end(&ps, &base);
	}
	if (!rc)
		rc = sg_pp_check_names(&ps);
	if (!rc && nfragments)
		sg_pp_fragment_version(ps.p, fragments, nfragments);
	if (!rc && sg_policy_compile(ps.p))
		rc = fail_nomem(&ps);
	if (rc) {
		sg_policy_free(ps.p);
		return rc;
	}
	*out = ps.p;
	return 0;
}

int sg_policy_parse(const char *buf, size_t len, const char *source,
		    struct sg_policy **out, struct sg_policy_error *err)
{
	struct sg_policy_file f = { source, buf, buf ? len : 0 };

	return sg_policy_parse_set(&f, NULL, 0, out, err);
}

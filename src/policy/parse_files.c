// SPDX-License-Identifier: Apache-2.0
/*
 * File rules: the "files:", "integrity:" and "file_audit:" lists, parsed by
 * one parser that knows which keys each list takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/*
 * File rules. files: {name, path, deny: [write, delete, read]},
 * integrity: {name, path}, file_audit: {name, exe | cgroup}.
 */
enum file_key { F_NAME, F_PATH, F_DENY, F_EXE, F_CGROUP, F_CONTAINER };

static const char *const file_keys[] = { "name", "path", "deny", "exe", "cgroup", "container" };

static const struct {
	const char *list;	/* "files" */
	const char *item;	/* "protected file" */
	unsigned keys;		/* allowed enum file_key bits */
	const char *example;
} file_lists[SG_FILES_NLISTS] = {
	[SG_FILES_PROTECT] = { "files", "files rule",
			       1u << F_NAME | 1u << F_PATH | 1u << F_DENY,
			       "path: /etc/shadow" },
	[SG_FILES_WATCH] = { "integrity", "integrity rule", 1u << F_NAME | 1u << F_PATH,
			     "path: /etc" },
	[SG_FILES_TRACE] = { "file_audit", "file_audit rule",
			     1u << F_NAME | 1u << F_EXE | 1u << F_CGROUP | 1u << F_CONTAINER,
			     "exe: /usr/bin/curl or cgroup: /sys/fs/cgroup/app" },
};

static int take_deny_word(struct parser *ps, const char *what, uint32_t *deny)
{
	static const char *const words[] = { "write", "delete", "read", "create" };
	size_t i;
	int rc = sg_pp_want_scalar(ps, what);

	if (rc)
		return rc;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (!strcmp(sval(ps), words[i])) {
			*deny |= 1u << i;
			return 0;
		}
	}
	return fail(ps, ps->ev.start_mark,
		    "%s: unknown operation; use write, delete, read and create, e.g. deny: [write, delete]",
		    what);
}

/* deny: write | [write, delete, read] | [create] (a directory, or an absent path) */
static int take_deny(struct parser *ps, const char *what, uint32_t *deny)
{
	int rc;

	*deny = 0;
	if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
		return take_deny_word(ps, what, deny);
	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		rc = take_deny_word(ps, what, deny);
		if (rc)
			return rc;
	}
	if (!*deny)
		return fail(ps, ps->ev.start_mark,
			    "%s must name at least one of write, delete, read and create", what);
	return 0;
}

static int take_file_value(struct parser *ps, enum sg_file_list l, size_t k,
			   struct sg_file_rule_spec *r)
{
	struct sg_rule tmp_rule = { 0 };
	struct sg_rule_ext tmp_ext = { 0 };
	char what[64];
	int rc;

	snprintf(what, sizeof(what), "%s %u: \"%s\"", file_lists[l].item, r->id, file_keys[k]);
	if (!(file_lists[l].keys & (1u << k)))
		return fail(ps, ps->ev.start_mark, "%s is not a key of %s rules", what,
			    file_lists[l].list);
	if (k == F_DENY)
		return take_deny(ps, what, &r->deny);
	if (k == F_CONTAINER)
		return sg_pp_take_selector(ps, &r->scope);
	rc = sg_pp_want_scalar(ps, what);
	if (rc)
		return rc;
	switch (k) {
	case F_NAME:
		rc = sg_pp_take_name(ps, what, &tmp_rule, &tmp_ext);
		if (!rc)
			memcpy(r->name, tmp_rule.name, sizeof(r->name));
		return rc;
	case F_PATH:
	case F_EXE:
		rc = sg_pp_check_path(ps, what, true);
		return rc ? rc : sg_pp_dup_value(ps, &r->path);
	case F_CGROUP:
		rc = sg_pp_check_path(ps, what, true);
		return rc ? rc : sg_pp_dup_value(ps, &r->cgroup);
	}
	return 0;
}

struct file_item {
	enum sg_file_list l;
	struct sg_file_rule_spec *r;
};

static int take_file_item(struct parser *ps, size_t k, void *item)
{
	struct file_item *f = item;

	return take_file_value(ps, f->l, k, f->r);
}

static int parse_file_rule(struct parser *ps, enum sg_file_list l)
{
	yaml_mark_t start = ps->ev.start_mark;
	struct sg_policy *p = ps->p;
	struct sg_file_rule_spec *r;
	char where[48];
	unsigned seen = 0;
	int rc;

	if (p->nfiles[l] == p->files_cap[l]) {
		size_t cap = p->files_cap[l] ? p->files_cap[l] * 2 : 16;
		struct sg_file_rule_spec *n = realloc(p->files[l], cap * sizeof(*n));

		if (!n)
			return fail_nomem(ps);
		p->files[l] = n;
		p->files_cap[l] = cap;
	}
	r = &p->files[l][p->nfiles[l]++];
	memset(r, 0, sizeof(*r));
	r->id = (uint32_t)p->nfiles[l];
	r->line = (unsigned)start.line + 1;
	r->source = sg_pp_source(ps);
	r->deny = l == SG_FILES_PROTECT ? SG_FDENY_DEFAULT : 0;
	snprintf(where, sizeof(where), "%s %u", file_lists[l].item, r->id);
	rc = sg_pp_parse_mapping(ps, where, file_keys, sizeof(file_keys) / sizeof(file_keys[0]), &seen,
				 take_file_item, &(struct file_item){ l, r });
	if (rc)
		return rc;
	if (l == SG_FILES_TRACE) {
		if (!!(seen & (1u << F_EXE)) + !!(seen & (1u << F_CGROUP)) +
		    !!(seen & (1u << F_CONTAINER)) != 1)
			return fail(ps, start, "%s: give exactly one of exe, cgroup and container, e.g. %s",
				    where, file_lists[l].example);
	} else if (!(seen & (1u << F_PATH))) {
		return fail(ps, start, "%s: missing \"path\"; add e.g. %s", where,
			    file_lists[l].example);
	}
	if (!(seen & (1u << F_NAME)) && !ps->fragment)
		snprintf(r->name, sizeof(r->name), "%s-%u", file_lists[l].list, r->id);
	return 0;
}

static int parse_protect_rule(struct parser *ps)
{
	return parse_file_rule(ps, SG_FILES_PROTECT);
}

static int parse_watch_rule(struct parser *ps)
{
	return parse_file_rule(ps, SG_FILES_WATCH);
}

static int parse_trace_rule(struct parser *ps)
{
	return parse_file_rule(ps, SG_FILES_TRACE);
}

static size_t count_protect(const struct sg_policy *p)
{
	return p->nfiles[SG_FILES_PROTECT];
}

static size_t count_watch(const struct sg_policy *p)
{
	return p->nfiles[SG_FILES_WATCH];
}

static size_t count_trace(const struct sg_policy *p)
{
	return p->nfiles[SG_FILES_TRACE];
}

const struct list_kind sg_pp_file_list_kinds[SG_FILES_NLISTS] = {
	[SG_FILES_PROTECT] = { "files", "files rule", "path: and deny:", parse_protect_rule,
			       count_protect },
	[SG_FILES_WATCH] = { "integrity", "integrity rule", "path:", parse_watch_rule,
			     count_watch },
	[SG_FILES_TRACE] = { "file_audit", "file_audit rule", "exe: or cgroup:",
			     parse_trace_rule, count_trace },
};

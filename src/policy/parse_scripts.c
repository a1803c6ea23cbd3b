// SPDX-License-Identifier: Apache-2.0
/* scripts: which interpreters' scripts the exec rules judge, and what inline code may do. */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/* Debian's names; a missing one is skipped when the daemon resolves them. */
static const char *const default_interpreters[] = {
	"/usr/bin/bash", "/usr/bin/dash", "/usr/bin/sh", "/usr/bin/zsh", "/usr/bin/ksh93",
	"/usr/bin/mksh", "/usr/bin/python3", "/usr/bin/python2",
	"/usr/bin/perl", "/usr/bin/ruby", "/usr/bin/node", "/usr/bin/nodejs", "/usr/bin/php",
};

static const char *const script_keys[] = { "interpreters", "inline" };

static int add_interpreter(struct parser *ps, const char *path, size_t len)
{
	struct sg_scripts *s = &ps->p->scripts;
	char **p = realloc(s->interpreters, (s->ninterpreters + 1) * sizeof(*p));

	if (!p)
		return fail_nomem(ps);
	s->interpreters = p;
	p[s->ninterpreters] = strndup(path, len);
	if (!p[s->ninterpreters])
		return fail_nomem(ps);
	s->ninterpreters++;
	return 0;
}

static int take_interpreters(struct parser *ps)
{
	int rc;

	if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "\"scripts\" \"interpreters\" must be a list of paths, e.g. [/usr/bin/bash, /usr/bin/python3]");
	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		rc = sg_pp_want_scalar(ps, "an interpreter");
		if (!rc)
			rc = sg_pp_check_path(ps, "an interpreter", false);
		if (!rc)
			rc = add_interpreter(ps, sval(ps), slen(ps));
		if (rc)
			return rc;
	}
}

static int take_script_value(struct parser *ps, size_t k, void *item)
{
	static const char *const inline_names[] = { "allow", "audit", "deny" };
	struct sg_scripts *s = item;
	size_t i;
	int rc;

	if (k == 0)
		return take_interpreters(ps);
	rc = sg_pp_want_scalar(ps, "\"scripts\" \"inline\"");
	if (rc)
		return rc;
	for (i = 0; i < 3; i++)
		if (!strcmp(sval(ps), inline_names[i])) {
			s->inline_code = (enum sg_inline_code)i;
			return 0;
		}
	return fail(ps, ps->ev.start_mark,
		    "\"scripts\" \"inline\" must be allow, audit or deny (code given to an interpreter in its arguments or on its standard input: bash -c, python3 -c, curl | sh)");
}

int sg_pp_parse_scripts(struct parser *ps)
{
	struct sg_scripts *s = &ps->p->scripts;
	unsigned seen = 0;
	size_t i;
	int rc;

	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "\"scripts\" must be a mapping, e.g. {inline: audit} or {} for the defaults");
	s->on = true;
	s->line = ps->ev.start_mark.line + 1;
	rc = sg_pp_parse_mapping(ps, "scripts", script_keys,
				 sizeof(script_keys) / sizeof(script_keys[0]), &seen, take_script_value, s);
	if (rc || (seen & 1u))
		return rc;
	for (i = 0; i < sizeof(default_interpreters) / sizeof(default_interpreters[0]); i++) {
		rc = add_interpreter(ps, default_interpreters[i], strlen(default_interpreters[i]));
		if (rc)
			return rc;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The policy parser's shared helpers: reading the next libyaml event,
 * checking scalars (paths, globs, numbers, hashes, names), walking a
 * mapping or a list, and the error text every part of the format reports.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <yaml.h>

#include "parse_internal.h"

#define SG_PATH_MAX_LEN 4095

static void set_error(struct parser *ps, unsigned line, unsigned col, const char *fmt,
		      va_list ap) __attribute__((format(printf, 4, 0)));

static void set_error(struct parser *ps, unsigned line, unsigned col, const char *fmt,
		      va_list ap)
{
	struct sg_policy_error *e = ps->err;
	char text[sizeof(e->message)];
	int n;

	vsnprintf(text, sizeof(text), fmt, ap);
	e->line = line;
	e->column = col;
	snprintf(e->source, sizeof(e->source), "%s", ps->source);
	if (line)
		n = snprintf(e->message, sizeof(e->message), "%s:%u:%u: ", ps->source, line, col);
	else
		n = snprintf(e->message, sizeof(e->message), "%s: ", ps->source);
	if (n < 0 || (size_t)n >= sizeof(e->message))
		n = 0;
	snprintf(e->message + n, sizeof(e->message) - n, "%s", text);
}

int sg_pp_fail_at(struct parser *ps, unsigned line, unsigned col, int rc,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(ps, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

/* Quote user text for a message: printable ASCII kept, the rest escaped, long text cut. */
const char *sg_pp_show(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < cap; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			out[o++] = c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* Reader errors carry only a byte offset: turn it into a line and column. */
static void offset_to_mark(const struct parser *ps, size_t off, yaml_mark_t *m)
{
	size_t i;

	m->line = 0;
	m->column = 0;
	for (i = 0; i < off && i < ps->len; i++) {
		if (ps->buf[i] == '\n') {
			m->line++;
			m->column = 0;
		} else {
			m->column++;
		}
	}
}

int sg_pp_next(struct parser *ps)
{
	yaml_parser_t *yp = &ps->yp;

	if (ps->have_ev) {
		yaml_event_delete(&ps->ev);
		ps->have_ev = false;
	}
	if (!yaml_parser_parse(yp, &ps->ev)) {
		yaml_mark_t m = yp->problem_mark;

		if (yp->error == YAML_MEMORY_ERROR)
			return fail_nomem(ps);
		if (yp->error == YAML_READER_ERROR)
			offset_to_mark(ps, yp->problem_offset, &m);
		if (yp->context && yp->context_mark.line != m.line)
			return fail(ps, m, "YAML syntax error: %s %s started at line %u, column %u",
				    yp->problem ? yp->problem : "unknown", yp->context,
				    (unsigned)yp->context_mark.line + 1,
				    (unsigned)yp->context_mark.column + 1);
		return fail(ps, m, "YAML syntax error: %s%s%s", yp->problem ? yp->problem : "unknown",
			    yp->context ? " " : "", yp->context ? yp->context : "");
	}
	ps->have_ev = true;
	if (ps->ev.type == YAML_ALIAS_EVENT) {
		char q[48];
		const char *a = (const char *)ps->ev.data.alias.anchor;

		return fail(ps, ps->ev.start_mark,
			    "alias *%s is not allowed; write the value out in full",
			    sg_pp_show(q, sizeof(q), a, strlen(a)));
	}
	return 0;
}

/* YAML's spellings of "nothing", as a plain (unquoted) scalar. */
bool sg_pp_is_null(const struct parser *ps)
{
	const char *v = sval(ps);

	if (ps->ev.type != YAML_SCALAR_EVENT || ps->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return slen(ps) == 0 || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* The current event must be a scalar without NUL bytes; `what` names it. */
int sg_pp_want_scalar(struct parser *ps, const char *what)
{
	switch (ps->ev.type) {
	case YAML_SCALAR_EVENT:
		if (memchr(sval(ps), '\0', slen(ps)))
			return fail(ps, ps->ev.start_mark, "%s contains a NUL byte", what);
		return 0;
	case YAML_MAPPING_START_EVENT:
		return fail(ps, ps->ev.start_mark, "%s must be a single value, not a mapping", what);
	case YAML_SEQUENCE_START_EVENT:
		return fail(ps, ps->ev.start_mark, "%s must be a single value, not a list", what);
	default:
		return fail(ps, ps->ev.start_mark, "%s must be a single value", what);
	}
}

/*
 * The current event is a mapping key: find it in `names`, refusing unknown
 * and repeated keys. `where` prefixes messages ("rule 3", "top level").
 */
int sg_pp_take_key(struct parser *ps, const char *where, const char *const *names,
		   size_t n, unsigned *seen, size_t *idx)
{
	char expected[160] = "", q[48];
	size_t i, o = 0;

	if (ps->ev.type != YAML_SCALAR_EVENT)
		return fail(ps, ps->ev.start_mark, "%s: keys must be plain words such as \"%s\"",
			    where, names[0]);
	for (i = 0; i < n; i++) {
		if (strlen(names[i]) == slen(ps) && !strcmp(names[i], sval(ps))) {
			if (*seen & (1u << i))
				return fail(ps, ps->ev.start_mark,
					    "%s: duplicate key \"%s\"; give each key once",
					    where, names[i]);
			*seen |= 1u << i;
			*idx = i;
			return 0;
		}
	}
	for (i = 0; i < n && o < sizeof(expected); i++)
		o += snprintf(expected + o, sizeof(expected) - o, "%s%s",
			      i == 0 ? "" : i + 1 == n ? " or " : ", ", names[i]);
	return fail(ps, ps->ev.start_mark, "%s: unknown key \"%s\"; expected %s", where,
		    sg_pp_show(q, sizeof(q), sval(ps), slen(ps)), expected);
}

/* Parse a scalar naming one of `names` (exact, lowercase) into *out. */
int sg_pp_take_enum(struct parser *ps, const char *what, const char *const names[2], int *out)
{
	int rc = sg_pp_want_scalar(ps, what);

	if (rc)
		return rc;
	if (!strcmp(sval(ps), names[0]))
		*out = 0;
	else if (!strcmp(sval(ps), names[1]))
		*out = 1;
	else
		return fail(ps, ps->ev.start_mark, "%s must be \"%s\" or \"%s\"", what,
			    names[0], names[1]);
	return 0;
}

/* True when the absolute path has no ".", ".." or empty component and no trailing '/'. */
static bool canonical(const char *s, size_t len)
{
	size_t i = 0;

	if (len == 1)
		return true;
	if (s[len - 1] == '/')
		return false;
	while (i < len) {
		size_t j = i + 1, clen;

		while (j < len && s[j] != '/')
			j++;
		clen = j - i - 1;
		if (clen == 0 || (clen == 1 && s[i + 1] == '.') ||
		    (clen == 2 && s[i + 1] == '.' && s[i + 2] == '.'))
			return false;
		i = j;
	}
	return true;
}

/* Check a path value; `exact` paths are compared verbatim, so they must be canonical. */
int sg_pp_check_path(struct parser *ps, const char *what, bool exact)
{
	const char *s = sval(ps);
	size_t len = slen(ps);

	if (len == 0)
		return fail(ps, ps->ev.start_mark, "%s must not be empty", what);
	if (s[0] != '/')
		return fail(ps, ps->ev.start_mark,
			    "%s must be an absolute path starting with \"/\"", what);
	if (len > SG_PATH_MAX_LEN)
		return fail(ps, ps->ev.start_mark, "%s is longer than %u bytes", what,
			    SG_PATH_MAX_LEN);
	if (exact && !canonical(s, len))
		return fail(ps, ps->ev.start_mark,
			    "%s must be a canonical path (no \".\", \"..\" or empty components, no trailing \"/\"): it is compared with the resolved path of the executable",
			    what);
	return 0;
}

int sg_pp_take_glob(struct parser *ps, const char *what, struct sg_glob **out)
{
	const char *why;
	int rc;

	rc = sg_pp_check_path(ps, what, false);
	if (rc)
		return rc;
	rc = sg_glob_compile(sval(ps), out, &why);
	if (rc == -ENOMEM)
		return fail_nomem(ps);
	if (rc)
		return fail(ps, ps->ev.start_mark, "%s: %s", what, why);
	return 0;
}

int sg_pp_dup_value(struct parser *ps, char **out)
{
	*out = strndup(sval(ps), slen(ps));
	return *out ? 0 : fail_nomem(ps);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sg_pp_take_sha256(struct parser *ps, const char *what, uint8_t *out)
{
	const char *s = sval(ps), *end;
	size_t n;

	if (slen(ps) == 2 * SG_SHA256_LEN &&
	    sodium_hex2bin(out, SG_SHA256_LEN, s, slen(ps), NULL, &n, &end) == 0 &&
	    end == s + slen(ps) && n == SG_SHA256_LEN)
		return 0;
	return fail(ps, ps->ev.start_mark,
		    "%s must be 64 hexadecimal digits, as printed by sha256sum", what);
}

/* Decimal, or hexadecimal with 0x, fitting in 64 bits. */
int sg_pp_take_u64(struct parser *ps, const char *what, const char *hint, uint64_t *out)
{
	const char *s = sval(ps);
	size_t len = slen(ps), i = 0;
	unsigned base = 10;
	uint64_t v = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		goto bad;
	for (; i < len; i++) {
		int d = hexval(s[i]);

		if (d < 0 || (unsigned)d >= base || v > (UINT64_MAX - d) / base)
			goto bad;
		v = v * base + d;
	}
	*out = v;
	return 0;
bad:
	return fail(ps, ps->ev.start_mark, "%s must be a number (%s)", what, hint);
}

int sg_pp_take_name(struct parser *ps, const char *what, struct sg_rule *r,
		    struct sg_rule_ext *x)
{
	size_t i;

	if (slen(ps) == 0 || slen(ps) >= SG_RULE_NAME_MAX)
		return fail(ps, ps->ev.start_mark, "%s must be 1 to %d characters", what,
			    SG_RULE_NAME_MAX - 1);
	for (i = 0; i < slen(ps); i++) {
		unsigned char c = sval(ps)[i];

		if (c < 0x20 || c == 0x7f)
			return fail(ps, ps->ev.start_mark,
				    "%s must not contain control characters", what);
	}
	memcpy(r->name, sval(ps), slen(ps) + 1);
	x->name_line = (unsigned)ps->ev.start_mark.line + 1;
	x->name_col = (unsigned)ps->ev.start_mark.column + 1;
	return 0;
}

int sg_pp_parse_mapping(struct parser *ps, const char *where, const char *const *keys,
			size_t nkeys, unsigned *seen, take_value_fn take, void *item)
{
	size_t k;
	int rc;

	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		rc = sg_pp_take_key(ps, where, keys, nkeys, seen, &k);
		if (!rc)
			rc = sg_pp_next(ps);
		if (!rc)
			rc = take(ps, k, item);
		if (rc)
			return rc;
	}
}

int sg_pp_parse_list(struct parser *ps, const struct list_kind *k)
{
	int rc;

	if (sg_pp_is_null(ps))
		return 0;	/* "rules:" with every rule commented out */
	if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(ps, ps->ev.start_mark, "\"%s\" must be a list, one %s per \"- \" item",
			    k->key, k->item);
	for (;;) {
		rc = sg_pp_next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (ps->ev.type != YAML_MAPPING_START_EVENT)
			return fail(ps, ps->ev.start_mark, "%s %zu must be a mapping of keys such as %s",
				    k->item, k->count(ps->p) + 1, k->example);
		rc = k->parse_item(ps);
		if (rc)
			return rc;
	}
}

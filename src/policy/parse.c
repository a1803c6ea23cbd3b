// SPDX-License-Identifier: Apache-2.0
/*
 * Policy parser: YAML (libyaml event API) -> rules. The event API lets us
 * refuse aliases before anything expands them and stop at the first event
 * that does not fit the format, so hostile input never nests deeply or
 * builds a large tree. Every error names the source, line and column and
 * says what to write instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "internal.h"
#include "net/cidr.h"

/* Larger documents are refused before parsing. */
#define SG_POLICY_MAX_BYTES (16u << 20)
#define SG_PATH_MAX_LEN 4095

struct parser {
	yaml_parser_t yp;
	yaml_event_t ev;
	bool have_ev;
	const char *buf;
	size_t len;
	const char *source;
	struct sg_policy_error *err;
	struct sg_policy *p;
};

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
	if (line)
		n = snprintf(e->message, sizeof(e->message), "%s:%u:%u: ", ps->source, line, col);
	else
		n = snprintf(e->message, sizeof(e->message), "%s: ", ps->source);
	if (n < 0 || (size_t)n >= sizeof(e->message))
		n = 0;
	snprintf(e->message + n, sizeof(e->message) - n, "%s", text);
}

static int fail_at(struct parser *ps, unsigned line, unsigned col, int rc,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail_at(struct parser *ps, unsigned line, unsigned col, int rc,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(ps, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

/* libyaml marks are 0-based; users count from 1. */
#define fail(ps, mark, ...) \
	fail_at(ps, (unsigned)(mark).line + 1, (unsigned)(mark).column + 1, -EINVAL, __VA_ARGS__)
#define fail_nomem(ps) fail_at(ps, 0, 0, -ENOMEM, "out of memory")

/* Quote user text for a message: printable ASCII kept, the rest escaped, long text cut. */
static const char *show(char *out, size_t cap, const char *s, size_t len)
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

static int next(struct parser *ps)
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
			    show(q, sizeof(q), a, strlen(a)));
	}
	return 0;
}

static const char *sval(const struct parser *ps)
{
	return (const char *)ps->ev.data.scalar.value;
}

static size_t slen(const struct parser *ps)
{
	return ps->ev.data.scalar.length;
}

/* YAML's spellings of "nothing", as a plain (unquoted) scalar. */
static bool is_null(const struct parser *ps)
{
	const char *v = sval(ps);

	if (ps->ev.type != YAML_SCALAR_EVENT || ps->ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return slen(ps) == 0 || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* The current event must be a scalar without NUL bytes; `what` names it. */
static int want_scalar(struct parser *ps, const char *what)
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
static int take_key(struct parser *ps, const char *where, const char *const *names,
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
		    show(q, sizeof(q), sval(ps), slen(ps)), expected);
}

/* Parse a scalar naming one of `names` (exact, lowercase) into *out. */
static int take_enum(struct parser *ps, const char *what, const char *const names[2], int *out)
{
	int rc = want_scalar(ps, what);

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
static int check_path(struct parser *ps, const char *what, bool exact)
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

static int take_glob(struct parser *ps, const char *what, struct sg_glob **out)
{
	const char *why;
	int rc;

	rc = check_path(ps, what, false);
	if (rc)
		return rc;
	rc = sg_glob_compile(sval(ps), out, &why);
	if (rc == -ENOMEM)
		return fail_nomem(ps);
	if (rc)
		return fail(ps, ps->ev.start_mark, "%s: %s", what, why);
	return 0;
}

static int dup_value(struct parser *ps, char **out)
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

static int take_sha256(struct parser *ps, const char *what, uint8_t *out)
{
	const char *s = sval(ps);
	size_t i;

	if (slen(ps) != 2 * SG_SHA256_LEN)
		goto bad;
	for (i = 0; i < SG_SHA256_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
bad:
	return fail(ps, ps->ev.start_mark,
		    "%s must be 64 hexadecimal digits, as printed by sha256sum", what);
}

/* Decimal, or hexadecimal with 0x, fitting in 64 bits. */
static int take_u64(struct parser *ps, const char *what, const char *hint, uint64_t *out)
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
		rc = next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = take_key(ps, where, keys, 2, &seen, &k);
		if (!rc)
			rc = next(ps);
		if (rc)
			return rc;
		snprintf(what, sizeof(what), "rule %u: identity \"%s\"", r->id, keys[k]);
		rc = want_scalar(ps, what);
		if (rc)
			return rc;
		if (k == 0)
			rc = take_u64(ps, what, "st_dev, as printed by stat -c %d", &r->id_target.dev);
		else
			rc = take_u64(ps, what, "st_ino, as printed by stat -c %i", &r->id_target.ino);
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
		rc = next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = take_key(ps, where, keys, 2, &seen, &k);
		if (rc)
			return rc;
		if (seen == 3)
			return fail(ps, ps->ev.start_mark,
				    "rule %u: parent has both \"path\" and \"glob\"; give one", r->id);
		rc = next(ps);
		if (rc)
			return rc;
		snprintf(what, sizeof(what), "rule %u: parent \"%s\"", r->id, keys[k]);
		rc = want_scalar(ps, what);
		if (!rc && k == 0)
			rc = check_path(ps, what, true);
		if (!rc && k == 1)
			rc = take_glob(ps, what, &x->parent_glob);
		if (!rc)
			rc = dup_value(ps, &r->parent_pattern);
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

enum rule_key { K_NAME, K_ACTION, K_PATH, K_GLOB, K_IDENTITY, K_SHA256, K_PARENT };

static const char *const rule_keys[] = {
	"name", "action", "path", "glob", "identity", "sha256", "parent",
};

static int take_name(struct parser *ps, const char *what, struct sg_rule *r,
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

/* The value of rule key k; the current event is that value. */
static int take_rule_value(struct parser *ps, size_t k, struct sg_rule *r,
			   struct sg_rule_ext *x)
{
	static const char *const actions[] = { "allow", "deny" };
	char what[64];
	int rc, v;

	snprintf(what, sizeof(what), "rule %u: \"%s\"", r->id, rule_keys[k]);
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
	rc = want_scalar(ps, what);
	if (rc)
		return rc;
	switch (k) {
	case K_NAME:
		return take_name(ps, what, r, x);
	case K_ACTION:
		if (!strcmp(sval(ps), "audit")) {
			r->action = SG_ACTION_AUDIT;
			return 0;
		}
		if (strcmp(sval(ps), "allow") && strcmp(sval(ps), "deny"))
			return fail(ps, ps->ev.start_mark, "%s must be \"allow\", \"deny\" or \"audit\"",
				    what);
		rc = take_enum(ps, what, actions, &v);
		r->action = v ? SG_ACTION_DENY : SG_ACTION_ALLOW;
		return rc;
	case K_PATH:
		r->kind = SG_MATCH_PATH;
		rc = check_path(ps, what, true);
		return rc ? rc : dup_value(ps, &r->pattern);
	case K_GLOB:
		r->kind = SG_MATCH_GLOB;
		rc = take_glob(ps, what, &x->glob);
		return rc ? rc : dup_value(ps, &r->pattern);
	case K_IDENTITY:
		/* A path, resolved to dev+inode later by sg_policy_resolve(). */
		r->kind = SG_MATCH_IDENTITY;
		rc = check_path(ps, what, false);
		return rc ? rc : dup_value(ps, &r->pattern);
	case K_SHA256:
		r->kind = SG_MATCH_SHA256;
		return take_sha256(ps, what, r->sha256);
	}
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
	snprintf(where, sizeof(where), "rule %u", r->id);

	for (;;) {
		rc = next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = take_key(ps, where, rule_keys, sizeof(rule_keys) / sizeof(rule_keys[0]),
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
		rc = next(ps);
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
	if (!(seen & (1u << K_NAME))) {
		snprintf(r->name, sizeof(r->name), "rule-%u", r->id);
		x->name_line = r->line;
		x->name_col = (unsigned)start.column + 1;
	}
	p->n_kind[r->kind]++;
	if (r->parent_pattern)
		p->n_parent[r->kind]++;
	if (r->kind == SG_MATCH_SHA256 && r->action != SG_ACTION_ALLOW)
		p->n_sha_deny++;
	return 0;
}

/* A list of mappings, one per item; `key` names it, `count` says how many items came before. */
struct list_kind {
	const char *key;	/* "rules" */
	const char *item;	/* "rule" */
	const char *example;	/* "action: and path:" */
	int (*parse_item)(struct parser *ps);
	size_t (*count)(const struct sg_policy *p);
};

static int parse_list(struct parser *ps, const struct list_kind *k)
{
	int rc;

	if (is_null(ps))
		return 0;	/* "rules:" with every rule commented out */
	if (ps->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(ps, ps->ev.start_mark, "\"%s\" must be a list, one %s per \"- \" item",
			    k->key, k->item);
	for (;;) {
		rc = next(ps);
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

static size_t count_rules(const struct sg_policy *p)
{
	return p->nrules;
}

static const struct list_kind exec_rules = {
	"rules", "rule", "action: and path:", parse_rule, count_rules,
};

enum net_key { N_NAME, N_ACTION, N_CIDR, N_PORT, N_PROTOCOL, N_EXE };

static const char *const net_keys[] = { "name", "action", "cidr", "port", "protocol", "exe" };

/* "443" or "8000-8100". */
static int take_ports(struct parser *ps, const char *what, struct sg_net_rule *r)
{
	unsigned long lo, hi;
	char *end;
	const char *s = sval(ps);

	errno = 0;
	lo = strtoul(s, &end, 10);
	hi = lo;
	if (end != s && *end == '-') {
		const char *h = end + 1;

		hi = strtoul(h, &end, 10);
		if (end == h)
			goto bad;
	}
	if (end == s || *end || errno || lo > 65535 || hi > 65535 || lo > hi || s[0] == '-' ||
	    s[0] == '+' || s[0] == ' ')
		goto bad;
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
bad:
	return fail(ps, ps->ev.start_mark,
		    "%s must be a port (443) or a range (8000-8100) within 0-65535", what);
}

/* deny, audit or allow. */
static int take_net_action(struct parser *ps, const char *what, struct sg_net_rule *r)
{
	const char *s = sval(ps);

	if (!strcmp(s, "deny"))
		r->action = SG_NET_DENY;
	else if (!strcmp(s, "audit"))
		r->action = SG_NET_AUDIT;
	else if (!strcmp(s, "allow"))
		r->action = SG_NET_ALLOW;
	else
		return fail(ps, ps->ev.start_mark, "%s must be \"deny\", \"audit\" or \"allow\"",
			    what);
	return 0;
}

static int take_net_value(struct parser *ps, size_t k, struct sg_net_rule *r)
{
	static const char *const protos[] = { "tcp", "udp" };
	struct sg_rule tmp_rule = { 0 };
	struct sg_rule_ext tmp_ext = { 0 };
	struct sg_cidr c;
	char what[64], why[128];
	int rc, v;

	snprintf(what, sizeof(what), "egress rule %u: \"%s\"", r->id, net_keys[k]);
	rc = want_scalar(ps, what);
	if (rc)
		return rc;
	switch (k) {
	case N_NAME:
		rc = take_name(ps, what, &tmp_rule, &tmp_ext);
		if (!rc)
			memcpy(r->name, tmp_rule.name, sizeof(r->name));
		return rc;
	case N_ACTION:
		return take_net_action(ps, what, r);
	case N_CIDR:
		if (sg_cidr_parse(sval(ps), &c, why, sizeof(why)))
			return fail(ps, ps->ev.start_mark, "%s: %s", what, why);
		/* The kernel sends ::ffff:a.b.c.d as IPv4, so the IPv4 rules decide it. */
		sg_cidr_unmap_v4(&c);
		r->family = c.family;
		r->prefix_len = c.len;
		memcpy(r->addr, c.addr, c.family == 4 ? 4 : 16);
		return 0;
	case N_PORT:
		return take_ports(ps, what, r);
	case N_PROTOCOL:
		rc = take_enum(ps, what, protos, &v);
		r->proto = v ? 17 : 6;
		return rc;
	case N_EXE:
		rc = check_path(ps, what, true);
		return rc ? rc : dup_value(ps, &r->exe);
	}
	return 0;
}

/*
 * The keys of one mapping, each checked against `keys` (unknown and repeated
 * keys refused), and their values handed to `take`, until the mapping ends.
 */
typedef int (*take_value_fn)(struct parser *ps, size_t k, void *item);

static int parse_mapping(struct parser *ps, const char *where, const char *const *keys,
			 size_t nkeys, unsigned *seen, take_value_fn take, void *item)
{
	size_t k;
	int rc;

	for (;;) {
		rc = next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		rc = take_key(ps, where, keys, nkeys, seen, &k);
		if (!rc)
			rc = next(ps);
		if (!rc)
			rc = take(ps, k, item);
		if (rc)
			return rc;
	}
}

static int take_net_item(struct parser *ps, size_t k, void *item)
{
	return take_net_value(ps, k, item);
}

/* One egress rule; the current event is its MAPPING_START. */
static int parse_net_rule(struct parser *ps)
{
	yaml_mark_t start = ps->ev.start_mark;
	struct sg_policy *p = ps->p;
	struct sg_net_rule *r;
	char where[40];
	unsigned seen = 0;
	int rc;

	if (p->nnet == p->net_cap) {
		size_t cap = p->net_cap ? p->net_cap * 2 : 16;
		struct sg_net_rule *n = realloc(p->net, cap * sizeof(*n));

		if (!n)
			return fail_nomem(ps);
		p->net = n;
		p->net_cap = cap;
	}
	r = &p->net[p->nnet++];
	memset(r, 0, sizeof(*r));
	r->id = (uint32_t)p->nnet;
	r->line = (unsigned)start.line + 1;
	r->port_hi = 65535;
	snprintf(where, sizeof(where), "egress rule %u", r->id);
	rc = parse_mapping(ps, where, net_keys, sizeof(net_keys) / sizeof(net_keys[0]), &seen,
			   take_net_item, r);
	if (rc)
		return rc;
	if (!(seen & (1u << N_ACTION)))
		return fail(ps, start,
			    "egress rule %u: missing \"action\"; add action: deny, audit or allow",
			    r->id);
	if (!(seen & (1u << N_CIDR)))
		return fail(ps, start,
			    "egress rule %u: missing \"cidr\"; add e.g. cidr: 169.254.169.254/32 (0.0.0.0/0 or ::/0 for any address)",
			    r->id);
	if (!(seen & (1u << N_NAME)))
		snprintf(r->name, sizeof(r->name), "egress-%u", r->id);
	return 0;
}

static size_t count_net_rules(const struct sg_policy *p)
{
	return p->nnet;
}

static const struct list_kind net_rules = {
	"egress", "egress rule", "action: and cidr:", parse_net_rule, count_net_rules,
};

/*
 * File rules. files: {name, path, deny: [write, delete, read]},
 * integrity: {name, path}, file_audit: {name, exe | cgroup}.
 */
enum file_key { F_NAME, F_PATH, F_DENY, F_EXE, F_CGROUP };

static const char *const file_keys[] = { "name", "path", "deny", "exe", "cgroup" };

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
			     1u << F_NAME | 1u << F_EXE | 1u << F_CGROUP,
			     "exe: /usr/bin/curl or cgroup: /sys/fs/cgroup/app" },
};

static int take_deny_word(struct parser *ps, const char *what, uint32_t *deny)
{
	static const char *const words[] = { "write", "delete", "read", "create" };
	size_t i;
	int rc = want_scalar(ps, what);

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
		rc = next(ps);
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
	rc = want_scalar(ps, what);
	if (rc)
		return rc;
	switch (k) {
	case F_NAME:
		rc = take_name(ps, what, &tmp_rule, &tmp_ext);
		if (!rc)
			memcpy(r->name, tmp_rule.name, sizeof(r->name));
		return rc;
	case F_PATH:
	case F_EXE:
		rc = check_path(ps, what, true);
		return rc ? rc : dup_value(ps, &r->path);
	case F_CGROUP:
		rc = check_path(ps, what, true);
		return rc ? rc : dup_value(ps, &r->cgroup);
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
	r->deny = l == SG_FILES_PROTECT ? SG_FDENY_DEFAULT : 0;
	snprintf(where, sizeof(where), "%s %u", file_lists[l].item, r->id);
	rc = parse_mapping(ps, where, file_keys, sizeof(file_keys) / sizeof(file_keys[0]), &seen,
			   take_file_item, &(struct file_item){ l, r });
	if (rc)
		return rc;
	if (l == SG_FILES_TRACE) {
		if (!!(seen & (1u << F_EXE)) == !!(seen & (1u << F_CGROUP)))
			return fail(ps, start, "%s: give exactly one of exe and cgroup, e.g. %s",
				    where, file_lists[l].example);
	} else if (!(seen & (1u << F_PATH))) {
		return fail(ps, start, "%s: missing \"path\"; add e.g. %s", where,
			    file_lists[l].example);
	}
	if (!(seen & (1u << F_NAME)))
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

static const struct list_kind file_list_kinds[SG_FILES_NLISTS] = {
	[SG_FILES_PROTECT] = { "files", "files rule", "path: and deny:", parse_protect_rule,
			       count_protect },
	[SG_FILES_WATCH] = { "integrity", "integrity rule", "path:", parse_watch_rule,
			     count_watch },
	[SG_FILES_TRACE] = { "file_audit", "file_audit rule", "exe: or cgroup:",
			     parse_trace_rule, count_trace },
};

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
	int rc = want_scalar(ps, what[k]);

	if (!rc)
		rc = take_u64(ps, what[k], hint[k], &v);
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
	rc = parse_mapping(ps, "guard", guard_keys, sizeof(guard_keys) / sizeof(guard_keys[0]),
			   &seen, take_guard_value, g);
	if (!rc && !(seen & 1u))
		return fail(ps, start, "guard needs max_denies: how many denied execs in per_seconds "
			    "send the policy back to monitor mode");
	return rc;
}

enum root_key { R_VERSION, R_MODE, R_DEFAULT, R_FILELESS, R_RULES, R_EGRESS, R_FILES,
		R_INTEGRITY, R_FILE_AUDIT, R_GUARD };

/* The top-level mapping; the current event is its MAPPING_START. */
static int parse_root(struct parser *ps)
{
	static const char *const keys[] = { "version", "mode", "default", "fileless_exec", "rules",
					    "egress", "files", "integrity", "file_audit", "guard" };
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
		rc = next(ps);
		if (rc)
			return rc;
		if (ps->ev.type == YAML_MAPPING_END_EVENT)
			break;
		rc = take_key(ps, "top level", keys, sizeof(keys) / sizeof(keys[0]), &seen, &k);
		if (!rc)
			rc = next(ps);
		if (rc)
			return rc;
		snprintf(what, sizeof(what), "\"%s\"", keys[k]);
		switch (k) {
		case R_VERSION:
			rc = want_scalar(ps, what);
			if (rc)
				return rc;
			for (i = 0; i < slen(ps); i++) {
				unsigned char c = sval(ps)[i];

				if (c < 0x20 || c > 0x7e)
					break;
			}
			if (slen(ps) == 0 || slen(ps) >= SG_POLICY_VERSION_MAX || i < slen(ps) ||
			    is_null(ps))
				return fail(ps, ps->ev.start_mark,
					    "\"version\" must be 1 to %d printable ASCII characters, e.g. \"2026-11-23.1\"",
					    SG_POLICY_VERSION_MAX - 1);
			memcpy(p->version, sval(ps), slen(ps) + 1);
			break;
		case R_MODE:
			rc = take_enum(ps, what, modes, &v);
			p->mode = v ? SG_MODE_ENFORCE : SG_MODE_MONITOR;
			break;
		case R_DEFAULT:
			rc = take_enum(ps, what, actions, &v);
			p->default_action = v ? SG_ACTION_DENY : SG_ACTION_ALLOW;
			break;
		case R_FILELESS:
			rc = take_enum(ps, what, fileless, &v);
			p->fileless = v ? SG_FILELESS_DENY : SG_FILELESS_INSPECT;
			break;
		case R_RULES:
			rc = parse_list(ps, &exec_rules);
			break;
		case R_EGRESS:
			rc = parse_list(ps, &net_rules);
			break;
		case R_FILES:
		case R_INTEGRITY:
		case R_FILE_AUDIT:
			rc = parse_list(ps, &file_list_kinds[SG_FILES_PROTECT + (k - R_FILES)]);
			break;
		case R_GUARD:
			rc = parse_guard(ps);
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

	rc = next(ps);			/* STREAM_START */
	if (!rc)
		rc = next(ps);
	if (rc)
		return rc;
	if (ps->ev.type == YAML_STREAM_END_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "the policy is empty; it needs at least version: \"...\"");
	rc = next(ps);			/* after DOCUMENT_START */
	if (rc)
		return rc;
	if (is_null(ps))
		return fail(ps, ps->ev.start_mark,
			    "the policy is empty; it needs at least version: \"...\"");
	if (ps->ev.type != YAML_MAPPING_START_EVENT)
		return fail(ps, ps->ev.start_mark,
			    "the policy must be a mapping with version:, mode:, default: and rules:");
	rc = parse_root(ps);
	if (!rc)
		rc = next(ps);		/* DOCUMENT_END */
	if (!rc)
		rc = next(ps);
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
		rc = fail_at(ps, x->name_line, x->name_col, -EINVAL,
			     "rule %u: name \"%s\" is already used by rule %u (line %u); give each rule its own name",
			     r->id, show(q, sizeof(q), r->name, strlen(r->name)),
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
		return fail_at(&ps, 0, 0, -EFBIG,
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

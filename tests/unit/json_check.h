/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict RFC 8259 checker for the unit tests, written independently of
 * src/report/json.c so the writer is judged by a second implementation.
 * It rejects raw control characters and invalid UTF-8 in strings, lone
 * surrogate escapes, bad numbers, trailing garbage, and nesting deeper than
 * JC_MAX_DEPTH (the descent is bounded). The members of the top-level object
 * are kept, with string values decoded to bytes, so tests can compare what a
 * reader would see with what was written.
 */
#ifndef SG_TEST_JSON_CHECK_H
#define SG_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define JC_MAX_DEPTH 64
#define JC_MAX_MEMBERS 64

enum jc_kind { JC_STRING, JC_NUMBER, JC_OBJECT, JC_ARRAY, JC_TRUE, JC_FALSE, JC_NULL };

struct jc_member {
	char *key;		/* decoded, NUL-terminated (may hold NULs) */
	size_t key_len;
	enum jc_kind kind;
	char *str;		/* decoded string, or the number's text */
	size_t str_len;
};

struct jc_doc {
	struct jc_member m[JC_MAX_MEMBERS];
	size_t n;
	bool dup_keys;		/* a key appeared twice at top level */
};

struct jc_parser {
	const unsigned char *p, *end;
	struct jc_doc *doc;
};

/* Growable byte buffer for decoded strings. */
struct jc_buf {
	char *b;
	size_t len, cap;
};

static inline void jc_buf_put(struct jc_buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->b = realloc(b->b, b->cap);
		if (!b->b)
			abort();
	}
	memcpy(b->b + b->len, s, n);
	b->len += n;
	b->b[b->len] = '\0';
}

static inline void jc_ws(struct jc_parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static inline bool jc_lit(struct jc_parser *ps, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
		return false;
	ps->p += n;
	return true;
}

static inline int jc_hex4(struct jc_parser *ps)
{
	int v = 0, i, d;

	if (ps->end - ps->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		unsigned char c = *ps->p++;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static inline void jc_put_cp(struct jc_buf *out, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	jc_buf_put(out, u, n);
}

/* One raw UTF-8 scalar, decoded by arithmetic rather than by table. */
static inline bool jc_utf8(struct jc_parser *ps, struct jc_buf *out)
{
	const unsigned char *s = ps->p;
	unsigned long cp, min;
	size_t n, i;

	if (s[0] < 0x80)
		return false;
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return false;
	if ((size_t)(ps->end - s) < n)
		return false;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return false;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	jc_buf_put(out, s, n);
	ps->p += n;
	return true;
}

static inline bool jc_string(struct jc_parser *ps, struct jc_buf *out)
{
	int hi, lo;

	if (ps->p >= ps->end || *ps->p != '"')
		return false;
	ps->p++;
	while (ps->p < ps->end) {
		unsigned char c = *ps->p;

		if (c == '"') {
			ps->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if (!jc_utf8(ps, out))
				return false;
			continue;
		}
		ps->p++;
		if (c != '\\') {
			jc_buf_put(out, &c, 1);
			continue;
		}
		if (ps->p >= ps->end)
			return false;
		c = *ps->p++;
		switch (c) {
		case '"': case '\\': case '/':
			jc_buf_put(out, &c, 1);
			break;
		case 'b':
			jc_buf_put(out, "\b", 1);
			break;
		case 'f':
			jc_buf_put(out, "\f", 1);
			break;
		case 'n':
			jc_buf_put(out, "\n", 1);
			break;
		case 'r':
			jc_buf_put(out, "\r", 1);
			break;
		case 't':
			jc_buf_put(out, "\t", 1);
			break;
		case 'u':
			hi = jc_hex4(ps);
			if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff))
				return false;
			if (hi >= 0xd800 && hi <= 0xdbff) {
				if (!jc_lit(ps, "\\u"))
					return false;
				lo = jc_hex4(ps);
				if (lo < 0xdc00 || lo > 0xdfff)
					return false;
				jc_put_cp(out, 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
						       ((unsigned long)lo - 0xdc00));
			} else {
				jc_put_cp(out, (unsigned long)hi);
			}
			break;
		default:
			return false;
		}
	}
	return false;
}

static inline bool jc_digits(struct jc_parser *ps)
{
	const unsigned char *s = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > s;
}

static inline bool jc_number(struct jc_parser *ps)
{
	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0')
		ps->p++;
	else if (ps->p >= ps->end || *ps->p < '1' || *ps->p > '9' || !jc_digits(ps))
		return false;
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!jc_digits(ps))
			return false;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!jc_digits(ps))
			return false;
	}
	return true;
}

static bool jc_value(struct jc_parser *ps, unsigned depth, enum jc_kind *kind,
		     struct jc_buf *str);

static inline bool jc_record(struct jc_parser *ps, struct jc_buf *key,
			     enum jc_kind kind, struct jc_buf *val)
{
	struct jc_doc *d = ps->doc;
	struct jc_member *m;
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->m[i].key_len == key->len && !memcmp(d->m[i].key, key->b, key->len))
			d->dup_keys = true;
	if (d->n == JC_MAX_MEMBERS)
		return false;
	m = &d->m[d->n++];
	m->key = key->b;
	m->key_len = key->len;
	m->kind = kind;
	m->str = val->b;
	m->str_len = val->len;
	/* The member owns the buffers now. */
	memset(key, 0, sizeof(*key));
	memset(val, 0, sizeof(*val));
	return true;
}

static inline bool jc_container(struct jc_parser *ps, unsigned depth, bool object)
{
	struct jc_buf key = { 0 }, val = { 0 };
	enum jc_kind kind;
	bool ok = false, top = object && depth == 1 && ps->doc;

	if (depth > JC_MAX_DEPTH)
		return false;
	ps->p++;
	jc_ws(ps);
	if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
		ps->p++;
		return true;
	}
	for (;;) {
		jc_ws(ps);
		if (object) {
			key.len = 0;
			jc_buf_put(&key, "", 0);
			if (!jc_string(ps, &key))
				goto out;
			jc_ws(ps);
			if (ps->p >= ps->end || *ps->p++ != ':')
				goto out;
		}
		val.len = 0;
		jc_buf_put(&val, "", 0);
		if (!jc_value(ps, depth, &kind, &val))
			goto out;
		if (top && !jc_record(ps, &key, kind, &val))
			goto out;
		jc_ws(ps);
		if (ps->p >= ps->end)
			goto out;
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p++ != (object ? '}' : ']'))
			goto out;
		ok = true;
		goto out;
	}
out:
	free(key.b);
	free(val.b);
	return ok;
}

static bool jc_value(struct jc_parser *ps, unsigned depth, enum jc_kind *kind,
		     struct jc_buf *str)
{
	const unsigned char *start;

	jc_ws(ps);
	if (ps->p >= ps->end)
		return false;
	start = ps->p;
	switch (*ps->p) {
	case '{':
		*kind = JC_OBJECT;
		return jc_container(ps, depth + 1, true);
	case '[':
		*kind = JC_ARRAY;
		return jc_container(ps, depth + 1, false);
	case '"':
		*kind = JC_STRING;
		return jc_string(ps, str);
	case 't':
		*kind = JC_TRUE;
		return jc_lit(ps, "true");
	case 'f':
		*kind = JC_FALSE;
		return jc_lit(ps, "false");
	case 'n':
		*kind = JC_NULL;
		return jc_lit(ps, "null");
	}
	*kind = JC_NUMBER;
	if (!jc_number(ps))
		return false;
	jc_buf_put(str, start, (size_t)(ps->p - start));
	return true;
}

static inline void jc_doc_free(struct jc_doc *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->m[i].key);
		free(d->m[i].str);
	}
	memset(d, 0, sizeof(*d));
}

/*
 * True when s[0..n) is exactly one JSON text. If doc is not NULL, the text
 * must be an object and its members are stored in doc (free with
 * jc_doc_free, also on failure).
 */
static inline bool jc_parse(const char *s, size_t n, struct jc_doc *doc)
{
	struct jc_parser ps = { (const unsigned char *)s, (const unsigned char *)s + n, doc };
	struct jc_buf str = { 0 };
	enum jc_kind kind;
	bool ok;

	if (doc)
		memset(doc, 0, sizeof(*doc));
	ok = jc_value(&ps, 0, &kind, &str);
	free(str.b);
	jc_ws(&ps);
	return ok && ps.p == ps.end && (!doc || kind == JC_OBJECT);
}

/* A top-level member by key, or NULL. */
static inline const struct jc_member *jc_get(const struct jc_doc *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->m[i].key_len == strlen(key) && !memcmp(d->m[i].key, key, d->m[i].key_len))
			return &d->m[i];
	return NULL;
}

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * JSON line builder. The output is a single line of valid JSON (RFC 8259)
 * whatever bytes the caller hands in: every byte a string holds is either
 * copied as part of a well-formed UTF-8 sequence, escaped, or replaced by
 * U+FFFD, so a file name can never end a string, a record or a line early.
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* An exec record is about 650 bytes: most records fit without a realloc. */
#define SG_JSON_MIN_CAP 1024

static const char hexdig[] = "0123456789abcdef";

void sg_json_init(struct sg_json *j)
{
	memset(j, 0, sizeof(*j));
}

void sg_json_free(struct sg_json *j)
{
	free(j->buf);
	sg_json_init(j);
}

void sg_json_reset(struct sg_json *j)
{
	j->len = 0;
	j->depth = 0;
	j->need_comma = false;
	j->oom = false;
	if (j->buf)
		j->buf[0] = '\0';
}

/*
 * Make room for `extra` more bytes plus the terminating NUL. Capacity doubles
 * so appending n bytes costs O(n) overall. Once an allocation has failed the
 * record is unusable and every later append is dropped.
 */
static bool reserve(struct sg_json *j, size_t extra)
{
	size_t need, cap;
	char *nb;

	if (j->oom)
		return false;
	if (extra > SIZE_MAX - 1 - j->len)
		goto fail;
	need = j->len + extra + 1;
	if (need <= j->cap)
		return true;
	cap = j->cap ? j->cap : SG_JSON_MIN_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	nb = realloc(j->buf, cap);
	if (!nb)
		goto fail;
	j->buf = nb;
	j->cap = cap;
	return true;
fail:
	j->oom = true;
	return false;
}

static void put(struct sg_json *j, const char *s, size_t n)
{
	if (!n || !reserve(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void putc_(struct sg_json *j, char c)
{
	if (!reserve(j, 1))
		return;
	j->buf[j->len++] = c;
	j->buf[j->len] = '\0';
}

/* A value or key about to be written: separate it from its predecessor. */
static void sep(struct sg_json *j)
{
	if (j->need_comma)
		putc_(j, ',');
	j->need_comma = true;
}

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (Unicode table 3-7),
 * or 0 when it is not one. On 0, *bad is set to the length of its maximal
 * subpart (at least 1): the bytes one U+FFFD replaces (Unicode 3.9, "U+FFFD
 * substitution of maximal subparts").
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong below U+0800 */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates D800-DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong below U+10000 */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return 0;	/* 80-C1 (continuation, overlong lead), F5-FF */
	}
	for (i = 1; i < len; i++) {
		if (i >= n || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

bool sg_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, bad;

	while (i < n) {
		k = utf8_seq(p + i, n - i, &bad);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static void put_u00(struct sg_json *j, unsigned char c)
{
	char e[6] = { '\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 0xf] };

	put(j, e, sizeof(e));
}

/* The two-character escape of an ASCII byte, or 0 when it has none. */
static char short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return '"';
	case '\\':
		return '\\';
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	}
	return 0;
}

static bool is_line_separator(const unsigned char *p, size_t k)
{
	/* U+2028 and U+2029 end a line in JavaScript. */
	return k == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	       (p[2] == 0xa8 || p[2] == 0xa9);
}

/*
 * The body of a JSON string (no quotes) from arbitrary bytes. True when
 * some bytes were not valid UTF-8 (replaced by U+FFFD), which is what
 * sg_json_kv_bytes needs to know without a second pass.
 */
static bool put_escaped(struct sg_json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start = 0, k, bad;
	bool lossy = false;
	unsigned char c;
	char e;

	while (i < n) {
		c = p[i];
		/* Bytes that need no escaping are copied in runs. */
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			i++;
			continue;
		}
		put(j, s + start, i - start);
		if (c < 0x80) {
			e = short_escape(c);
			if (e) {
				char esc[2] = { '\\', e };

				put(j, esc, 2);
			} else {
				put_u00(j, c);	/* other C0 controls, NUL, DEL */
			}
			i++;
		} else {
			k = utf8_seq(p + i, n - i, &bad);
			if (!k) {
				put(j, "\xef\xbf\xbd", 3);	/* U+FFFD */
				i += bad;
				lossy = true;
			} else if (is_line_separator(p + i, k)) {
				put(j, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
				i += k;
			} else {
				put(j, s + i, k);
				i += k;
			}
		}
		start = i;
	}
	put(j, s + start, i - start);
	return lossy;
}

static bool put_string(struct sg_json *j, const char *s, size_t n)
{
	bool lossy;

	putc_(j, '"');
	lossy = put_escaped(j, s, n);
	putc_(j, '"');
	return lossy;
}

/* Length of s when no byte of it needs escaping, else SIZE_MAX. */
static size_t plain_len(const char *s)
{
	unsigned char c;
	size_t n = 0;

	if (!s)
		return 0;
	while ((c = (unsigned char)s[n])) {
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return SIZE_MAX;
		n++;
	}
	return n;
}

/*
 * Keys are the program's own words, plain ASCII: written in one reserve,
 * since every record has a few dozen of them. Anything else goes through
 * the escaper.
 */
static void put_key(struct sg_json *j, const char *key, const char *suffix)
{
	size_t kn = plain_len(key), sn = plain_len(suffix);
	char *p;

	if (kn != SIZE_MAX && sn != SIZE_MAX) {
		if (!reserve(j, kn + sn + 4))
			return;
		p = j->buf + j->len;
		if (j->need_comma)
			*p++ = ',';
		*p++ = '"';
		if (kn)
			memcpy(p, key, kn);
		p += kn;
		if (sn)
			memcpy(p, suffix, sn);
		p += sn;
		*p++ = '"';
		*p++ = ':';
		*p = '\0';
		j->len = (size_t)(p - j->buf);
		j->need_comma = false;
		return;
	}
	sep(j);
	putc_(j, '"');
	if (key)
		put_escaped(j, key, strlen(key));
	if (suffix)
		put_escaped(j, suffix, strlen(suffix));
	put(j, "\":", 2);
	/* The value that follows belongs to this key: no comma before it. */
	j->need_comma = false;
}

void sg_json_begin_object(struct sg_json *j)
{
	sep(j);
	putc_(j, '{');
	j->depth++;
	j->need_comma = false;
}

void sg_json_end_object(struct sg_json *j)
{
	if (!j->depth)
		return;
	putc_(j, '}');
	j->depth--;
	j->need_comma = true;
}

void sg_json_begin_array(struct sg_json *j)
{
	sep(j);
	putc_(j, '[');
	j->depth++;
	j->need_comma = false;
}

void sg_json_end_array(struct sg_json *j)
{
	if (!j->depth)
		return;
	putc_(j, ']');
	j->depth--;
	j->need_comma = true;
}

void sg_json_end_line(struct sg_json *j)
{
	if (!j->depth && j->len)
		putc_(j, '\n');
}

void sg_json_key(struct sg_json *j, const char *key)
{
	put_key(j, key, NULL);
}

/* A string value, or null for NULL; true when bytes were not valid UTF-8. */
static bool put_string_value(struct sg_json *j, const char *s, size_t n)
{
	if (!s) {
		sg_json_null(j);
		return false;
	}
	sep(j);
	return put_string(j, s, n);
}

void sg_json_strn(struct sg_json *j, const char *s, size_t n)
{
	put_string_value(j, s, n);
}

void sg_json_str(struct sg_json *j, const char *s)
{
	sg_json_strn(j, s, s ? strlen(s) : 0);
}

static void put_u64(struct sg_json *j, uint64_t v, bool neg)
{
	char tmp[21];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		tmp[--i] = '-';
	put(j, tmp + i, sizeof(tmp) - i);
}

void sg_json_u64(struct sg_json *j, uint64_t v)
{
	sep(j);
	put_u64(j, v, false);
}

void sg_json_i64(struct sg_json *j, int64_t v)
{
	sep(j);
	/* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
	if (v < 0)
		put_u64(j, -(uint64_t)v, true);
	else
		put_u64(j, (uint64_t)v, false);
}

void sg_json_bool(struct sg_json *j, bool v)
{
	sep(j);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void sg_json_null(struct sg_json *j)
{
	sep(j);
	put(j, "null", 4);
}

void sg_json_kv_str(struct sg_json *j, const char *key, const char *s)
{
	sg_json_key(j, key);
	sg_json_str(j, s);
}

void sg_json_kv_strn(struct sg_json *j, const char *key, const char *s, size_t n)
{
	sg_json_key(j, key);
	sg_json_strn(j, s, n);
}

void sg_json_kv_u64(struct sg_json *j, const char *key, uint64_t v)
{
	sg_json_key(j, key);
	sg_json_u64(j, v);
}

void sg_json_kv_i64(struct sg_json *j, const char *key, int64_t v)
{
	sg_json_key(j, key);
	sg_json_i64(j, v);
}

void sg_json_kv_bool(struct sg_json *j, const char *key, bool v)
{
	sg_json_key(j, key);
	sg_json_bool(j, v);
}

static void put_hex_value(struct sg_json *j, const uint8_t *b, size_t n)
{
	size_t i;

	sep(j);
	if (n > (SIZE_MAX - 3) / 2) {
		j->oom = true;
		return;
	}
	if (!reserve(j, 2 * n + 2))
		return;
	j->buf[j->len++] = '"';
	for (i = 0; i < n; i++) {
		j->buf[j->len++] = hexdig[b[i] >> 4];
		j->buf[j->len++] = hexdig[b[i] & 0xf];
	}
	j->buf[j->len++] = '"';
	j->buf[j->len] = '\0';
}

void sg_json_kv_hex(struct sg_json *j, const char *key, const uint8_t *b, size_t n)
{
	sg_json_key(j, key);
	put_hex_value(j, b, n);
}

void sg_json_kv_bytes(struct sg_json *j, const char *key, const char *s, size_t n)
{
	sg_json_key(j, key);
	if (put_string_value(j, s, n)) {
		put_key(j, key, "_hex");
		put_hex_value(j, (const uint8_t *)s, n);
	}
}

// SPDX-License-Identifier: Apache-2.0
#include "report/json_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 64

struct rd {
	const char *s, *end;
	int err;
};

static void ws(struct rd *r)
{
	while (r->s < r->end && (*r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r'))
		r->s++;
}

static int bad(struct rd *r)
{
	if (!r->err)
		r->err = -EINVAL;
	return r->err;
}

static int hex4(struct rd *r, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (r->end - r->s < 4)
		return bad(r);
	for (i = 0; i < 4; i++) {
		char c = *r->s++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return bad(r);
	}
	*out = v;
	return 0;
}

static size_t utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The current byte is the opening quote. Decoded text is never longer than the source. */
static int string(struct rd *r, char **out, size_t *olen)
{
	const char *start = ++r->s;
	char *buf, *o;
	unsigned cp, lo;

	while (r->s < r->end && *r->s != '"')
		r->s += *r->s == '\\' ? 2 : 1;
	if (r->s >= r->end)
		return bad(r);
	buf = malloc((size_t)(r->s - start) + 1);
	if (!buf)
		return r->err = -ENOMEM;
	r->s = start;
	o = buf;
	while (*r->s != '"') {
		unsigned char c = (unsigned char)*r->s++;

		if (c < 0x20)
			goto fail;
		if (c != '\\') {
			*o++ = (char)c;
			continue;
		}
		switch (*r->s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(r, &cp))
				goto fail;
			if (cp >= 0xd800 && cp < 0xdc00 && r->end - r->s >= 6 && r->s[0] == '\\' &&
			    r->s[1] == 'u') {
				r->s += 2;
				if (hex4(r, &lo) || lo < 0xdc00 || lo > 0xdfff)
					goto fail;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;	/* a lone surrogate */
			}
			o += utf8(o, cp);
			break;
		default:
			goto fail;
		}
	}
	r->s++;
	*o = '\0';
	*out = buf;
	*olen = (size_t)(o - buf);
	return 0;
fail:
	free(buf);
	return bad(r);
}

static int value(struct rd *r, struct sg_jv *v, unsigned depth);

static int push(struct rd *r, struct sg_jv *v, size_t *cap, char *key)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct sg_jv *it = realloc(v->items, nc * sizeof(*it));

		if (!it)
			goto oom;
		v->items = it;
		if (v->type == SG_JV_OBJ) {
			char **k = realloc(v->keys, nc * sizeof(*k));

			if (!k)
				goto oom;
			v->keys = k;
		}
		*cap = nc;
	}
	memset(&v->items[v->n], 0, sizeof(v->items[0]));
	if (v->type == SG_JV_OBJ)
		v->keys[v->n] = key;
	v->n++;
	return 0;
oom:
	free(key);
	return r->err = -ENOMEM;
}

static int container(struct rd *r, struct sg_jv *v, unsigned depth, char close)
{
	size_t cap = 0, klen;
	char *key = NULL;

	r->s++;
	ws(r);
	if (r->s < r->end && *r->s == close) {
		r->s++;
		return 0;
	}
	for (;;) {
		ws(r);
		if (close == '}') {
			if (r->s >= r->end || *r->s != '"' || string(r, &key, &klen))
				return bad(r);
			ws(r);
			if (r->s >= r->end || *r->s != ':') {
				free(key);
				return bad(r);
			}
			r->s++;
		}
		if (push(r, v, &cap, key))
			return r->err;
		key = NULL;
		if (value(r, &v->items[v->n - 1], depth + 1))
			return r->err;
		ws(r);
		if (r->s < r->end && *r->s == ',') {
			r->s++;
			continue;
		}
		if (r->s < r->end && *r->s == close) {
			r->s++;
			return 0;
		}
		return bad(r);
	}
}

static int number(struct rd *r, struct sg_jv *v)
{
	const char *p = r->s;
	char tmp[64], *end;
	size_t n;

	if (p < r->end && *p == '-')
		p++;
	if (p >= r->end || *p < '0' || *p > '9')
		return bad(r);
	while (p < r->end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' ||
			      *p == '+' || *p == '-'))
		p++;
	n = (size_t)(p - r->s);
	if (n >= sizeof(tmp))
		return bad(r);
	memcpy(tmp, r->s, n);
	tmp[n] = '\0';
	v->type = SG_JV_NUM;
	errno = 0;
	v->num = strtod(tmp, &end);
	if (*end)
		return bad(r);
	if (tmp[0] != '-' && strspn(tmp, "0123456789") == n) {
		v->u = strtoull(tmp, NULL, 10);
		v->is_uint = errno == 0;
	}
	/* As written, too: a table prints a 64-bit counter exactly. */
	v->s = strdup(tmp);
	if (!v->s)
		return r->err = -ENOMEM;
	v->slen = n;
	r->s = p;
	return 0;
}

static int word(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->s) < n || memcmp(r->s, w, n))
		return bad(r);
	r->s += n;
	return 0;
}

static int value(struct rd *r, struct sg_jv *v, unsigned depth)
{
	ws(r);
	if (r->s >= r->end || depth > DEPTH_MAX)
		return bad(r);
	switch (*r->s) {
	case '{':
		v->type = SG_JV_OBJ;
		return container(r, v, depth, '}');
	case '[':
		v->type = SG_JV_ARR;
		return container(r, v, depth, ']');
	case '"':
		v->type = SG_JV_STR;
		return string(r, &v->s, &v->slen);
	case 't':
		v->type = SG_JV_BOOL;
		v->b = true;
		return word(r, "true");
	case 'f':
		v->type = SG_JV_BOOL;
		return word(r, "false");
	case 'n':
		return word(r, "null");
	default:
		return number(r, v);
	}
}

int sg_jv_parse(const char *buf, size_t len, struct sg_jv *out)
{
	struct rd r = { .s = buf, .end = buf + len };

	memset(out, 0, sizeof(*out));
	if (!value(&r, out, 0)) {
		ws(&r);
		if (r.s != r.end)
			bad(&r);
	}
	if (r.err)
		sg_jv_free(out);
	return r.err;
}

void sg_jv_free(struct sg_jv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		sg_jv_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

const struct sg_jv *sg_jv_get(const struct sg_jv *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != SG_JV_OBJ)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return &obj->items[i];
	return NULL;
}

const char *sg_jv_str(const struct sg_jv *v)
{
	return v && v->type == SG_JV_STR ? v->s : NULL;
}

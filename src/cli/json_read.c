// SPDX-License-Identifier: Apache-2.0
/* Recursive descent over RFC 8259, with a depth limit (see json_read.h). */
#include "cli/json_read.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 32

struct rd {
	const char *s;
	size_t i, len;
	int err;
};

static void ws(struct rd *r)
{
	while (r->i < r->len && strchr(" \t\r\n", r->s[r->i]) && r->s[r->i])
		r->i++;
}

static int hex4(struct rd *r, uint32_t *cp)
{
	size_t k;

	*cp = 0;
	if (r->len - r->i < 4)
		return -EINVAL;
	for (k = 0; k < 4; k++) {
		char c = r->s[r->i++];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -EINVAL;
		*cp = *cp << 4 | (uint32_t)d;
	}
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* At the opening quote; a decoded copy is never longer than its escaped form. */
static int string(struct rd *r, char **out, size_t *out_len)
{
	size_t start = ++r->i, n = 0;
	char *o;

	while (r->i < r->len && r->s[r->i] != '"')
		r->i += r->s[r->i] == '\\' ? 2 : 1;
	if (r->i >= r->len)
		return -EINVAL;
	o = malloc(r->i - start + 1);
	if (!o)
		return -ENOMEM;
	for (r->i = start; r->s[r->i] != '"';) {
		char c = r->s[r->i++];
		uint32_t cp, lo;

		if ((unsigned char)c < 0x20)
			goto bad;
		if (c != '\\') {
			o[n++] = c;
			continue;
		}
		c = r->s[r->i++];
		switch (c) {
		case '"': case '\\': case '/': o[n++] = c; break;
		case 'b': o[n++] = '\b'; break;
		case 'f': o[n++] = '\f'; break;
		case 'n': o[n++] = '\n'; break;
		case 'r': o[n++] = '\r'; break;
		case 't': o[n++] = '\t'; break;
		case 'u':
			if (hex4(r, &cp))
				goto bad;
			/* A pair is 12 bytes in, 4 out; a lone surrogate becomes U+FFFD. */
			if (cp >= 0xd800 && cp < 0xdc00 && r->len - r->i >= 6 && r->s[r->i] == '\\' &&
			    r->s[r->i + 1] == 'u') {
				size_t back = r->i;

				r->i += 2;
				if (!hex4(r, &lo) && lo >= 0xdc00 && lo < 0xe000)
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				else
					r->i = back;
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			n += put_utf8(o + n, cp);
			break;
		default:
			goto bad;
		}
	}
	r->i++;
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return 0;
bad:
	free(o);
	return -EINVAL;
}

static struct sg_jv *value(struct rd *r, int depth);

static struct sg_jv *container(struct rd *r, struct sg_jv *v, int depth)
{
	bool obj = v->type == SG_JV_OBJ;
	char close = obj ? '}' : ']';
	struct sg_jv **tail = &v->child;

	r->i++;
	ws(r);
	if (r->i < r->len && r->s[r->i] == close) {
		r->i++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		struct sg_jv *e;

		ws(r);
		if (obj) {
			if (r->i >= r->len || r->s[r->i] != '"' || (r->err = string(r, &key, &klen)))
				break;
			ws(r);
			if (r->i >= r->len || r->s[r->i++] != ':') {
				free(key);
				break;
			}
		}
		e = value(r, depth + 1);
		if (!e) {
			free(key);
			break;
		}
		e->key = key;
		*tail = e;
		tail = &e->next;
		ws(r);
		if (r->i < r->len && r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->i < r->len && r->s[r->i] == close) {
			r->i++;
			return v;
		}
		break;
	}
	if (!r->err)
		r->err = -EINVAL;
	sg_jv_free(v);
	return NULL;
}

static bool word(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if (r->len - r->i < n || memcmp(r->s + r->i, w, n))
		return false;
	r->i += n;
	return true;
}

static struct sg_jv *value(struct rd *r, int depth)
{
	struct sg_jv *v;
	size_t start;
	char c;

	ws(r);
	if (r->i >= r->len || depth > MAX_DEPTH) {
		r->err = -EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		r->err = -ENOMEM;
		return NULL;
	}
	c = r->s[r->i];
	start = r->i;
	if (c == '{' || c == '[') {
		v->type = c == '{' ? SG_JV_OBJ : SG_JV_ARR;
		return container(r, v, depth);
	}
	if (c == '"') {
		v->type = SG_JV_STR;
		r->err = string(r, &v->text, &v->len);
	} else if (word(r, "true") || word(r, "false")) {
		v->type = SG_JV_BOOL;
	} else if (word(r, "null")) {
		v->type = SG_JV_NULL;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		v->type = SG_JV_NUM;
		while (r->i < r->len && r->s[r->i] && strchr("0123456789+-.eE", r->s[r->i]))
			r->i++;
	} else {
		r->err = -EINVAL;
	}
	if (!r->err && v->type != SG_JV_STR && v->type != SG_JV_NULL) {
		v->len = r->i - start;
		v->text = strndup(r->s + start, v->len);
		if (!v->text)
			r->err = -ENOMEM;
	}
	if (r->err) {
		sg_jv_free(v);
		return NULL;
	}
	return v;
}

int sg_jv_parse(const char *s, size_t len, struct sg_jv **out)
{
	struct rd r = { .s = s, .len = len };
	struct sg_jv *v = value(&r, 0);

	if (!v)
		return r.err ? r.err : -EINVAL;
	ws(&r);
	if (r.i != r.len) {
		sg_jv_free(v);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

void sg_jv_free(struct sg_jv *v)
{
	while (v) {
		struct sg_jv *next = v->next;

		sg_jv_free(v->child);
		free(v->key);
		free(v->text);
		free(v);
		v = next;
	}
}

const struct sg_jv *sg_jv_get(const struct sg_jv *obj, const char *key)
{
	const struct sg_jv *e;

	if (!obj || obj->type != SG_JV_OBJ)
		return NULL;
	for (e = obj->child; e; e = e->next)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
}

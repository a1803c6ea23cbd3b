// SPDX-License-Identifier: Apache-2.0
#include "report/metrics.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8
#define MAX_PATH 256
/* plen[] of an object whose own name did not fit: nothing under it is exported. */
#define NO_FIT SIZE_MAX

struct out {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *b = realloc(o->buf, cap);

		if (!b) {
			o->oom = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* One "name value\n" line, written whole whatever the value's length. */
static void put_metric(struct out *o, const char *name, size_t name_len, const char *val, size_t val_len)
{
	put(o, name, name_len);
	put(o, " ", 1);
	put(o, val, val_len);
	put(o, "\n", 1);
}

/* Skip one JSON value we do not export (string, array, null); returns the index after it. */
static size_t skip_value(const char *s, size_t i, size_t len)
{
	int depth = 0;
	bool in_str = false;

	for (; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			if (!in_str && depth == 0)
				return i + 1;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}') {
			if (depth == 0)
				return i;	/* the end of our container: the caller handles it */
			if (--depth == 0)
				return i + 1;
		} else if (c == ',' && depth == 0)
			return i;
	}
	return len;
}

int sg_metrics_from_stats(const char *s, size_t len, char **out, size_t *out_len)
{
	size_t plen[MAX_DEPTH + 1] = { 0 }, i = 0;
	char path[MAX_PATH] = "sysguard";
	struct out o = { 0 };
	int depth = 0;

	plen[0] = strlen(path);
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len || s[i] != '{')
		return -EINVAL;
	i++;
	while (i < len) {
		char c = s[i];

		if (isspace((unsigned char)c) || c == ',') {
			i++;
			continue;
		}
		if (c == '}') {
			i++;
			if (depth-- == 0)
				break;
			continue;
		}
		if (c != '"')
			goto bad;
		/*
		 * A key: append "_key" (sanitised) to the path of this depth. A
		 * name that does not fit is left out with all under it, rather
		 * than cut short: cut names would collide with their neighbours.
		 */
		{
			size_t k = plen[depth];
			bool fits = k != NO_FIT && k + 1 < sizeof(path);

			if (fits)
				path[k++] = '_';
			for (i++; i < len && s[i] != '"'; i++) {
				char ch = s[i];

				if (fits && k == sizeof(path) - 1)
					fits = false;
				if (fits)
					path[k++] = isalnum((unsigned char)ch) ? (char)tolower((unsigned char)ch) : '_';
			}
			if (fits)
				path[k] = '\0';
			if (i++ >= len)
				goto bad;
			while (i < len && (isspace((unsigned char)s[i]) || s[i] == ':'))
				i++;
			if (i >= len)
				goto bad;
			if (s[i] == '{') {
				if (depth == MAX_DEPTH)
					goto bad;
				plen[++depth] = fits ? k : NO_FIT;
				i++;
			} else if (s[i] == '-' || isdigit((unsigned char)s[i])) {
				size_t j = i;

				while (j < len && (isdigit((unsigned char)s[j]) || strchr("-+.eE", s[j])))
					j++;
				if (fits)
					put_metric(&o, path, k, s + i, j - i);
				i = j;
			} else if (!strncmp(s + i, "true", 4) || !strncmp(s + i, "false", 5)) {
				if (fits)
					put_metric(&o, path, k, s[i] == 't' ? "1" : "0", 1);
				i += s[i] == 't' ? 4 : 5;
			} else {
				i = skip_value(s, i, len);
			}
		}
	}
	if (o.oom) {
		free(o.buf);
		return -ENOMEM;
	}
	if (!o.buf)
		put(&o, "", 0);
	*out = o.buf;
	*out_len = o.len;
	return o.oom ? -ENOMEM : 0;
bad:
	free(o.buf);
	return -EINVAL;
}

// SPDX-License-Identifier: Apache-2.0
#include "report/prom_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct sg_prom *p, const char *s, size_t n)
{
	if (p->oom)
		return;
	if (p->len + n + 1 > p->cap) {
		size_t cap = (p->len + n + 1) * 2;
		char *b = realloc(p->buf, cap < 4096 ? 4096 : cap);

		if (!b) {
			p->oom = true;
			return;
		}
		p->buf = b;
		p->cap = cap < 4096 ? 4096 : cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct sg_prom *p, const char *s)
{
	put(p, s, strlen(s));
}

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not one (overlongs and surrogates too). */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

void sg_prom_escape(const char *v, char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t o = 0;

	if (!len)
		return;
	while (*s) {
		char tmp[4];
		const char *out = tmp;
		size_t n = utf8_len(s), w;

		if (*s == '\\' || *s == '"')
			tmp[0] = '\\', tmp[1] = (char)*s, w = 2;
		else if (*s == '\n')
			out = "\\n", w = 2;
		else if (n == 0)
			out = "\xef\xbf\xbd", w = 3, n = 1;
		else
			out = (const char *)s, w = n;
		if (o + w >= len)
			break;
		memcpy(buf + o, out, w);
		o += w;
		s += n ? n : 1;
	}
	buf[o] = '\0';
}

void sg_prom_family(struct sg_prom *p, const char *name, const char *type, const char *help)
{
	puts_(p, "# HELP ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, help);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, type);
	put(p, "\n", 1);
}

static void label(struct sg_prom *p, const char *k, const char *v)
{
	/* Our label values are names, versions, CIDRs: 256 bytes is plenty, longer ones are cut. */
	char esc[3 * 256 + 1];

	sg_prom_escape(v ? v : "", esc, sizeof(esc));
	puts_(p, k);
	put(p, "=\"", 2);
	puts_(p, esc);
	put(p, "\"", 1);
}

void sg_prom_sample(struct sg_prom *p, const char *name, const char *k1, const char *v1,
		    const char *k2, const char *v2, uint64_t value)
{
	char num[24];

	puts_(p, name);
	if (k1) {
		put(p, "{", 1);
		label(p, k1, v1);
		if (k2) {
			put(p, ",", 1);
			label(p, k2, v2);
		}
		put(p, "}", 1);
	}
	snprintf(num, sizeof(num), " %llu\n", (unsigned long long)value);
	puts_(p, num);
}

void sg_prom_one(struct sg_prom *p, const char *name, const char *type, const char *help,
		 uint64_t value)
{
	sg_prom_family(p, name, type, help);
	sg_prom_sample(p, name, NULL, NULL, NULL, NULL, value);
}

void sg_prom_one_seconds(struct sg_prom *p, const char *name, const char *type, const char *help,
			 uint64_t ns)
{
	char v[48];

	sg_prom_family(p, name, type, help);
	snprintf(v, sizeof(v), " %llu.%09llu\n", (unsigned long long)(ns / 1000000000ull),
		 (unsigned long long)(ns % 1000000000ull));
	puts_(p, name);
	puts_(p, v);
}

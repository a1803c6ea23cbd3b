// SPDX-License-Identifier: Apache-2.0
/* Tables of the daemon's JSON (see show.h). */
#include "cli/show.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_read.h"

struct row {
	char *name;
	char *value;
	size_t value_len;
};

struct rows {
	struct row *v;
	size_t n, cap;
	bool oom;
};

/* Characters that change what the terminal shows beyond their own cell. */
static bool invisible_cp(uint32_t cp)
{
	return cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0x80 && cp < 0xa0);
}

/* The code point at s (valid UTF-8 assumed from our reader; a stray byte counts as one). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 1;
	size_t k;

	if (n > len)
		n = 1;
	*cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80) {
			*cp = s[0];
			return 1;
		}
		*cp = *cp << 6 | (s[k] & 0x3f);
	}
	return n;
}

void sg_show_cell(FILE *out, const char *s, size_t len, int width)
{
	const unsigned char *p = (const unsigned char *)s;
	int shown = 0;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_next(p + i, len - i, &cp);

		if (cp == '\n' || cp == '\t' || cp == '\r') {
			shown += fprintf(out, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
		} else if (cp < 0x20 || cp == 0x7f || (n == 1 && cp >= 0x80)) {
			shown += fprintf(out, "\\x%02x", p[i]);
		} else if (invisible_cp(cp)) {
			shown += fprintf(out, "\\u%04x", (unsigned)cp);
		} else {
			fwrite(p + i, 1, n, out);
			shown++;
		}
		i += n;
	}
	for (; shown < width; shown++)
		fputc(' ', out);
}

static void add_row(struct rows *r, const char *name, const char *value, size_t value_len)
{
	struct row *x;

	if (r->oom)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;

		x = realloc(r->v, cap * sizeof(*x));
		if (!x) {
			r->oom = true;
			return;
		}
		r->v = x;
		r->cap = cap;
	}
	x = &r->v[r->n];
	x->name = strdup(name);
	x->value = malloc(value_len + 1);
	if (!x->name || !x->value) {
		free(x->name);
		free(x->value);
		r->oom = true;
		return;
	}
	memcpy(x->value, value, value_len);
	x->value[value_len] = '\0';
	x->value_len = value_len;
	r->n++;
}

static void print_rows(FILE *out, struct rows *r, const char *head_name, const char *head_value)
{
	size_t i, w = head_name ? strlen(head_name) : 0;

	for (i = 0; i < r->n; i++)
		if (strlen(r->v[i].name) > w)
			w = strlen(r->v[i].name);
	if (head_name)
		fprintf(out, "%-*s  %s\n", (int)w, head_name, head_value);
	for (i = 0; i < r->n; i++) {
		sg_show_cell(out, r->v[i].name, strlen(r->v[i].name), (int)w + 2);
		sg_show_cell(out, r->v[i].value, r->v[i].value_len, 0);
		fputc('\n', out);
		free(r->v[i].name);
		free(r->v[i].value);
	}
	free(r->v);
}

static const char *scalar(const struct sg_jv *v, size_t *len)
{
	if (v->type == SG_JV_BOOL) {
		*len = v->b ? 3 : 2;
		return v->b ? "yes" : "no";
	}
	if (v->type == SG_JV_NULL) {
		*len = 1;
		return "-";
	}
	*len = v->slen;
	return v->s;
}

static void duration(long long s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%lldd %02lldh %02lldm %02llds", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh %02lldm %02llds", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm %02llds", s / 60, s % 60);
	else
		snprintf(buf, len, "%llds", s);
}

/* A list of scalars on one line ("fanotify, bpf_kill"); NULL when it holds anything else. */
static char *joined(const struct sg_jv *arr, size_t *len)
{
	size_t n = 0, i, k;
	char *s, *p;

	for (i = 0; i < arr->n; i++) {
		if (arr->items[i].type == SG_JV_ARR || arr->items[i].type == SG_JV_OBJ)
			return NULL;
		scalar(&arr->items[i], &k);
		n += k + 2;
	}
	s = p = malloc(n + 5);
	if (!s)
		return NULL;
	if (!arr->n)
		p += sprintf(p, "none");
	for (i = 0; i < arr->n; i++) {
		const char *t = scalar(&arr->items[i], &k);

		memcpy(p, t, k);
		p += k;
		if (i + 1 < arr->n)
			p += sprintf(p, ", ");
	}
	*len = p - s;
	return s;
}

/*
 * Every scalar under v as a row named by its path: words joined with
 * `sep`, and '_' read as a space when `words` (status is read, stats grepped).
 */
static void flatten(struct rows *r, const struct sg_jv *v, char *name, size_t nlen, size_t cap,
		    char sep, bool words)
{
	size_t len, i;
	char *list;

	if (v->type == SG_JV_ARR && words && (list = joined(v, &len))) {
		add_row(r, name, list, len);
		free(list);
		return;
	}
	if (v->type != SG_JV_ARR && v->type != SG_JV_OBJ) {
		const char *t = scalar(v, &len);

		add_row(r, name, t, len);
		return;
	}
	for (i = 0; i < v->n; i++) {
		const struct sg_jv *e = &v->items[i];
		int k = v->type == SG_JV_OBJ ?
			snprintf(name + nlen, cap - nlen, "%s%s", nlen ? (char[2]){ sep, 0 } : "", v->keys[i]) :
			snprintf(name + nlen, cap - nlen, "[%zu]", i);
		size_t j;

		if (k < 0 || (size_t)k >= cap - nlen)
			continue;
		if (words)
			for (j = nlen; j < nlen + k; j++)
				if (name[j] == '_')
					name[j] = ' ';
		flatten(r, e, name, nlen + k, cap, sep, words);
		name[nlen] = '\0';
	}
}

int sg_show_status(FILE *out, const char *json, size_t len, long long uptime_s)
{
	struct rows r = { 0 };
	struct sg_jv doc;
	char name[256], buf[64];
	size_t i;

	if (sg_jv_parse(json, len, &doc))
		return -EINVAL;
	if (doc.type != SG_JV_OBJ) {
		sg_jv_free(&doc);
		return -EINVAL;
	}
	if (uptime_s >= 0) {
		duration(uptime_s, buf, sizeof(buf));
		add_row(&r, "uptime", buf, strlen(buf));
	}
	for (i = 0; i < doc.n; i++) {
		const struct sg_jv *e = &doc.items[i];

		if (!strcmp(doc.keys[i], "uptime_s") && e->type == SG_JV_NUM) {
			duration(strtoll(e->s, NULL, 10), buf, sizeof(buf));
			add_row(&r, "uptime", buf, strlen(buf));
			continue;
		}
		snprintf(name, sizeof(name), "%s", doc.keys[i]);
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = ' ';
		flatten(&r, e, name, strlen(name), sizeof(name), ' ', true);
	}
	sg_jv_free(&doc);
	print_rows(out, &r, NULL, NULL);
	return r.oom ? -ENOMEM : 0;
}

int sg_show_stats(FILE *out, const char *json, size_t len)
{
	struct rows r = { 0 };
	struct sg_jv doc;
	char name[512] = "";

	if (sg_jv_parse(json, len, &doc))
		return -EINVAL;
	if (doc.type != SG_JV_OBJ) {
		sg_jv_free(&doc);
		return -EINVAL;
	}
	flatten(&r, &doc, name, 0, sizeof(name), '.', false);
	sg_jv_free(&doc);
	print_rows(out, &r, "COUNTER", "VALUE");
	return r.oom ? -ENOMEM : 0;
}

struct ev {
	const char *f[5];
	size_t len[5];
};

enum { EV_TIME, EV_TYPE, EV_DECISION, EV_PID, EV_EXE };

/* ts to the second, UTC ("2026-11-23T16:40:01"): nanoseconds are noise in a table. */
static void event_fields(const struct sg_jv *rec, struct ev *ev)
{
	const struct sg_jv *proc = sg_jv_get(rec, "process");
	const struct sg_jv *v[5] = {
		sg_jv_get(rec, "ts"), sg_jv_get(rec, "type"), sg_jv_get(rec, "decision"),
		sg_jv_get(proc, "pid"), sg_jv_get(proc, "exe"),
	};
	int k;

	for (k = 0; k < 5; k++) {
		if (v[k] && (v[k]->type == SG_JV_STR || v[k]->type == SG_JV_NUM)) {
			ev->f[k] = v[k]->s;
			ev->len[k] = v[k]->slen;
		} else {
			ev->f[k] = "-";
			ev->len[k] = 1;
		}
	}
	if (ev->len[EV_TIME] > 20 && ev->f[EV_TIME][19] == '.')
		ev->len[EV_TIME] = 19;
}

static void event_row(FILE *out, const struct ev *ev, const int *w)
{
	int k;

	for (k = 0; k < 5; k++)
		sg_show_cell(out, ev->f[k], ev->len[k], k < 4 ? w[k] + 2 : 0);
	fputc('\n', out);
}

static const char *const ev_head[5] = { "TIME", "TYPE", "DECISION", "PID", "EXE" };
static const int ev_fixed[5] = { 19, 22, 8, 7, 0 };

int sg_show_events(FILE *out, const char *json, size_t len)
{
	int w[5] = { 0 }, k;
	struct sg_jv doc;
	struct ev ev;
	size_t i;

	if (sg_jv_parse(json, len, &doc))
		return -EINVAL;
	if (doc.type != SG_JV_ARR) {
		sg_jv_free(&doc);
		return -EINVAL;
	}
	for (k = 0; k < 5; k++)
		w[k] = (int)strlen(ev_head[k]);
	for (i = 0; i < doc.n; i++) {
		event_fields(&doc.items[i], &ev);
		for (k = 0; k < 4; k++)
			if ((int)ev.len[k] > w[k])
				w[k] = (int)ev.len[k];
	}
	for (k = 0; k < 5; k++)
		fprintf(out, "%-*s", k < 4 ? w[k] + 2 : 0, ev_head[k]);
	fputc('\n', out);
	for (i = 0; i < doc.n; i++) {
		event_fields(&doc.items[i], &ev);
		event_row(out, &ev, w);
	}
	sg_jv_free(&doc);
	return 0;
}

void sg_show_event_header(FILE *out)
{
	int k;

	for (k = 0; k < 5; k++)
		fprintf(out, "%-*s", k < 4 ? ev_fixed[k] + 2 : 0, ev_head[k]);
	fputc('\n', out);
}

int sg_show_event_row(FILE *out, const char *json, size_t len)
{
	struct sg_jv doc;
	struct ev ev;

	if (sg_jv_parse(json, len, &doc))
		return -EINVAL;
	if (doc.type != SG_JV_OBJ) {
		sg_jv_free(&doc);
		return -EINVAL;
	}
	event_fields(&doc, &ev);
	event_row(out, &ev, ev_fixed);
	sg_jv_free(&doc);
	return 0;
}

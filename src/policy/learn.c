// SPDX-License-Identifier: Apache-2.0
#include "policy/learn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Compact (sort and merge) every this many adds, so a long log stays small in memory. */
#define COMPACT_EVERY 65536

struct seen {
	char *exe;		/* NULL when unknown */
	uint8_t sha[SG_SHA256_LEN];
	bool has_sha;
	bool ran;		/* allowed at least once */
	bool denied;		/* denied at least once */
	uint64_t count;
};

struct sg_learn {
	struct seen *v;
	size_t n, cap, merged;	/* v[0, merged) is sorted and distinct */
};

struct sg_learn *sg_learn_new(void)
{
	return calloc(1, sizeof(struct sg_learn));
}

void sg_learn_free(struct sg_learn *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i].exe);
	free(l->v);
	free(l);
}

static int strcmp_null(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;
	return strcmp(a, b);
}

/* Hashed programs first, by hash then path; then the rest by path. */
static int cmp_seen(const void *pa, const void *pb)
{
	const struct seen *a = pa, *b = pb;
	int c;

	if (a->has_sha != b->has_sha)
		return a->has_sha ? -1 : 1;
	if (a->has_sha) {
		c = memcmp(a->sha, b->sha, SG_SHA256_LEN);
		if (c)
			return c;
	}
	return strcmp_null(a->exe, b->exe);
}

static void compact(struct sg_learn *l)
{
	size_t i, o = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(l->v[0]), cmp_seen);
	for (i = 1; i < l->n; i++) {
		struct seen *d = &l->v[o], *s = &l->v[i];

		if (!cmp_seen(d, s)) {
			d->ran |= s->ran;
			d->denied |= s->denied;
			d->count += s->count;
			free(s->exe);
			continue;
		}
		l->v[++o] = *s;
	}
	l->n = l->merged = o + 1;
}

int sg_learn_add(struct sg_learn *l, const char *exe, const uint8_t *sha256, bool denied)
{
	struct seen *s;

	if (!exe && !sha256)
		return 0;	/* nothing to write a rule on */
	if (l->n - l->merged >= COMPACT_EVERY)
		compact(l);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct seen *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	s = &l->v[l->n];
	memset(s, 0, sizeof(*s));
	if (exe && !(s->exe = strdup(exe)))
		return -ENOMEM;
	if (sha256) {
		memcpy(s->sha, sha256, SG_SHA256_LEN);
		s->has_sha = true;
	}
	s->ran = !denied;
	s->denied = denied;
	s->count = 1;
	l->n++;
	return 0;
}

/* Text for a comment: one line, control bytes shown as '?'. */
static void comment_text(FILE *o, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, o);
}

/* A YAML double-quoted scalar that reads back as exactly these bytes. */
static void quoted(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(o, "\\x%02x", c);
		else
			fputc(c, o);
	}
	fputc('"', o);
}

static void hex(FILE *o, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(o, "%02x", b[i]);
}

/* A rule name from the program's file name: [A-Za-z0-9._-], at most 40 bytes. */
static void name_from(FILE *o, const char *exe)
{
	const char *b = exe ? strrchr(exe, '/') : NULL;
	size_t k = 0;

	b = b ? b + 1 : exe ? exe : "";
	for (; *b && k < 40; b++) {
		char c = *b;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-') {
			fputc(c, o);
			k++;
		}
	}
	if (!k)
		fputs("program", o);
}

/* Entries [i, j) share one hash: one rule, every path they ran under in the comment. */
static size_t hash_group(const struct sg_learn *l, size_t i)
{
	size_t j = i + 1;

	while (j < l->n && l->v[j].has_sha && !memcmp(l->v[j].sha, l->v[i].sha, SG_SHA256_LEN))
		j++;
	return j;
}

static bool wanted(const struct sg_learn *l, size_t i, size_t j, bool include_denied)
{
	for (; i < j; i++)
		if (l->v[i].ran || include_denied)
			return true;
	return false;
}

static void write_rules(FILE *o, struct sg_learn *l, bool include_denied, unsigned *nrules)
{
	size_t i, j, k, npath = 0;

	for (i = 0; i < l->n; i = j) {
		const struct seen *s = &l->v[i];
		uint64_t count = 0;

		j = s->has_sha ? hash_group(l, i) : i + 1;
		if (!wanted(l, i, j, include_denied))
			continue;
		for (k = i; k < j; k++)
			count += l->v[k].count;
		for (k = i; k < j; k++) {
			fputs(k == i ? "  # " : "  #   also ", o);
			comment_text(o, l->v[k].exe ? l->v[k].exe : "(path unknown)");
			if (k == i)
				fprintf(o, " (%llu exec%s%s)", (unsigned long long)count,
					count == 1 ? "" : "s", s->ran ? "" : ", denied while learning");
			fputc('\n', o);
		}
		fputs("  - name: ", o);
		name_from(o, s->exe);
		if (s->has_sha) {
			fputc('-', o);
			hex(o, s->sha, 6);
			fputs("\n    action: allow\n    sha256: \"", o);
			hex(o, s->sha, SG_SHA256_LEN);
			fputs("\"\n", o);
		} else {
			fprintf(o, "-path-%zu\n    action: allow\n    path: ", ++npath);
			quoted(o, s->exe);
			fputc('\n', o);
		}
		(*nrules)++;
	}
}

static void write_denied(FILE *o, struct sg_learn *l)
{
	bool header = false;
	size_t i, j;

	for (i = 0; i < l->n; i = j) {
		const struct seen *s = &l->v[i];

		j = s->has_sha ? hash_group(l, i) : i + 1;
		if (wanted(l, i, j, false))
			continue;
		if (!header) {
			fputs("\n# Denied while learning, not allowed here (rerun with --include-denied to allow them):\n", o);
			header = true;
		}
		fputs("#   ", o);
		comment_text(o, s->exe ? s->exe : "(path unknown)");
		if (s->has_sha) {
			fputs(" sha256 ", o);
			hex(o, s->sha, SG_SHA256_LEN);
		}
		fputc('\n', o);
	}
}

/* FNV-1a of the rules: a version tag that changes when the learned set does. */
static uint32_t fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

char *sg_learn_render(struct sg_learn *l, bool include_denied, const char *origin)
{
	char *rules = NULL, *out = NULL;
	size_t rlen = 0, olen = 0;
	unsigned nrules = 0;
	FILE *o;

	compact(l);
	o = open_memstream(&rules, &rlen);
	if (!o)
		return NULL;
	write_rules(o, l, include_denied, &nrules);
	if (!include_denied)
		write_denied(o, l);
	if (fclose(o))
		return NULL;
	o = open_memstream(&out, &olen);
	if (!o) {
		free(rules);
		return NULL;
	}
	fputs("# Learned by sysguardctl policy learn", o);
	if (origin) {
		fputs(" from ", o);
		comment_text(o, origin);
	}
	fprintf(o, ": %u program%s.\n", nrules, nrules == 1 ? "" : "s");
	fputs("# An allow-list: run it in monitor mode, read the audit log, then set mode: enforce.\n", o);
	fprintf(o, "version: \"learned-%08x\"\nmode: monitor\ndefault: deny\nrules:\n", fnv(rules, rlen));
	fwrite(rules, 1, rlen, o);
	free(rules);
	if (fclose(o))
		return NULL;
	return out;
}

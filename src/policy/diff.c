// SPDX-License-Identifier: Apache-2.0
#include "policy/diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct change {
	char *program;
	bool now_denied;	/* else now allowed */
	uint64_t count;
};

struct sg_diff {
	struct change *v;
	size_t n, cap;
	uint64_t total, allowed, denied;
};

struct sg_diff *sg_diff_new(void)
{
	return calloc(1, sizeof(struct sg_diff));
}

void sg_diff_free(struct sg_diff *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++)
		free(d->v[i].program);
	free(d->v);
	free(d);
}

int sg_diff_add(struct sg_diff *d, const char *program, bool old_denied, bool new_denied)
{
	struct change *c;

	d->total++;
	if (old_denied == new_denied)
		return 0;
	if (new_denied)
		d->denied++;
	else
		d->allowed++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct change *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	c = &d->v[d->n];
	c->program = strdup(program);
	if (!c->program)
		return -ENOMEM;
	c->now_denied = new_denied;
	c->count = 1;
	d->n++;
	return 0;
}

void sg_diff_counts(const struct sg_diff *d, uint64_t *total, uint64_t *now_allowed,
		    uint64_t *now_denied)
{
	*total = d->total;
	*now_allowed = d->allowed;
	*now_denied = d->denied;
}

static int cmp_change(const void *pa, const void *pb)
{
	const struct change *a = pa, *b = pb;

	if (a->now_denied != b->now_denied)
		return a->now_denied ? 1 : -1;
	return strcmp(a->program, b->program);
}

static void section(FILE *o, const struct sg_diff *d, bool denied, const char *title,
		    uint64_t execs)
{
	size_t i, programs = 0;

	for (i = 0; i < d->n; i++)
		programs += d->v[i].now_denied == denied;
	fprintf(o, "%s: %llu exec%s, %zu program%s\n", title, (unsigned long long)execs,
		execs == 1 ? "" : "s", programs, programs == 1 ? "" : "s");
	for (i = 0; i < d->n; i++) {
		const char *s;

		if (d->v[i].now_denied != denied)
			continue;
		fputs("  ", o);
		for (s = d->v[i].program; *s; s++)
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, o);
		fprintf(o, " (%llu)\n", (unsigned long long)d->v[i].count);
	}
}

char *sg_diff_render(struct sg_diff *d)
{
	char *out = NULL;
	size_t len = 0, i, o = 0;
	FILE *f;

	if (d->n) {
		qsort(d->v, d->n, sizeof(d->v[0]), cmp_change);
		for (i = 1; i < d->n; i++) {
			if (!cmp_change(&d->v[o], &d->v[i])) {
				d->v[o].count += d->v[i].count;
				free(d->v[i].program);
			} else {
				d->v[++o] = d->v[i];
			}
		}
		d->n = o + 1;
	}
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	fprintf(f, "replayed %llu exec%s\n", (unsigned long long)d->total, d->total == 1 ? "" : "s");
	section(f, d, false, "NEW allows what OLD denied", d->allowed);
	section(f, d, true, "NEW denies what OLD allowed", d->denied);
	if (fclose(f))
		return NULL;
	return out;
}

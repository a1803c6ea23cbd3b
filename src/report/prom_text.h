/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing Prometheus text exposition (version 0.0.4): a growing buffer,
 * families with their # HELP and # TYPE lines, samples with labels whose
 * values are escaped as the format asks.
 */
#ifndef SG_PROM_TEXT_H
#define SG_PROM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_prom {
	char *buf;
	size_t len, cap;
	bool oom;		/* a write failed: the text is incomplete, do not serve it */
};

/*
 * v as a label value: backslash, double quote and newline escaped, and
 * bytes that are not UTF-8 replaced by U+FFFD (the format is UTF-8). Cut
 * at a character boundary when buf is short; always terminated.
 */
void sg_prom_escape(const char *v, char *buf, size_t len);

/* # HELP and # TYPE ("counter", "gauge") of one family; its samples follow. */
void sg_prom_family(struct sg_prom *p, const char *name, const char *type, const char *help);
/* name{k1="v1",k2="v2"} value; a NULL key ends the labels (k1 NULL: none). */
void sg_prom_sample(struct sg_prom *p, const char *name, const char *k1, const char *v1,
		    const char *k2, const char *v2, uint64_t value);
/* A family with a single unlabelled sample. */
void sg_prom_one(struct sg_prom *p, const char *name, const char *type, const char *help,
		 uint64_t value);
/* The same for a duration counted in nanoseconds, written in seconds. */
void sg_prom_one_seconds(struct sg_prom *p, const char *name, const char *type, const char *help,
			 uint64_t ns);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON reader for tools that read the audit log back (one record a
 * line). Strict RFC 8259, bounded depth, no I/O: it parses a buffer into a
 * tree the caller frees.
 */
#ifndef SG_JSON_READ_H
#define SG_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sg_jv_type { SG_JV_NULL, SG_JV_BOOL, SG_JV_NUM, SG_JV_STR, SG_JV_ARR, SG_JV_OBJ };

struct sg_jv {
	enum sg_jv_type type;
	bool b;
	bool is_uint;		/* a number written as digits only, in uint64 range */
	uint64_t u;
	double num;
	char *s;		/* strings: decoded UTF-8, NUL-terminated (may hold NUL bytes: slen);
			 * numbers: as written */
	size_t slen;
	struct sg_jv *items;	/* arrays and objects: values */
	char **keys;		/* objects: keys, in document order */
	size_t n;
};

/* Parse exactly one value (whitespace around allowed). 0, -EINVAL, -ENOMEM. */
int sg_jv_parse(const char *buf, size_t len, struct sg_jv *out);
void sg_jv_free(struct sg_jv *v);

/* Member of an object by key (the first one), or NULL; NULL-safe. */
const struct sg_jv *sg_jv_get(const struct sg_jv *obj, const char *key);
/* String value, or NULL when v is not a string; NULL-safe. */
const char *sg_jv_str(const struct sg_jv *v);

#endif

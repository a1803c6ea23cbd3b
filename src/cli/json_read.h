/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON reader for sysguardctl's tables: the daemon's ready file,
 * stats.json and API answers, parsed into a tree. Numbers stay text (64-bit
 * counters print exactly); strings are decoded (\u escapes to UTF-8).
 */
#ifndef SG_CLI_JSON_READ_H
#define SG_CLI_JSON_READ_H

#include <stddef.h>

enum sg_jv_type { SG_JV_NULL, SG_JV_BOOL, SG_JV_NUM, SG_JV_STR, SG_JV_ARR, SG_JV_OBJ };

struct sg_jv {
	enum sg_jv_type type;
	char *key;		/* the member's name in an object, else NULL */
	char *text;		/* STR: decoded; NUM: as written; BOOL: "true"/"false" */
	size_t len;		/* of text (a decoded string may hold a NUL) */
	struct sg_jv *child;	/* ARR, OBJ: first element or member */
	struct sg_jv *next;
};

/* The whole of s[0..len) as one value (trailing space allowed); 0, -EINVAL, -ENOMEM. */
int sg_jv_parse(const char *s, size_t len, struct sg_jv **out);
void sg_jv_free(struct sg_jv *v);

/* The member `key` of an object, or NULL. */
const struct sg_jv *sg_jv_get(const struct sg_jv *obj, const char *key);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Daemon configuration file: YAML mappings of scalars, read as flat
 * "section.key" = "value" pairs (e.g. alerts.url). Parsed with libyaml; no
 * I/O here, so it can be tested and fuzzed alone.
 */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct sg_config_item {
	char *key;		/* "section.key" or "key" */
	char *value;
	unsigned line;
};

struct sg_config {
	struct sg_config_item *items;
	size_t n;
};

/*
 * Parse buf. On error returns a negative errno and writes
 * "source:line:column: what" into err.
 */
int sg_config_parse(const char *buf, size_t len, const char *source, struct sg_config *out,
		    char *err, size_t errlen);
void sg_config_free(struct sg_config *c);

/* The value of key, or NULL. */
const char *sg_config_get(const struct sg_config *c, const char *key);

/*
 * Report the first key not in `known` (NULL-terminated list) into err, so a
 * typo is an error rather than a silently ignored setting. 0 or -EINVAL.
 */
int sg_config_check_keys(const struct sg_config *c, const char *const *known, const char *source,
			 char *err, size_t errlen);

/* Parse a boolean ("true", "false", "yes", "no", "1", "0"). 0 or -EINVAL. */
int sg_config_bool(const char *s, bool *out);

/* Parse an unsigned decimal in [min, max]. 0 or -EINVAL. */
int sg_config_uint(const char *s, unsigned min, unsigned max, unsigned *out);

#endif

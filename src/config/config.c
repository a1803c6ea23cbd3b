// SPDX-License-Identifier: Apache-2.0
#include "config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define SG_CONFIG_DEPTH 2	/* section: {key: value} */

static int add(struct sg_config *c, const char *section, const char *key, const char *value,
	       size_t vlen, unsigned line)
{
	struct sg_config_item *items = realloc(c->items, (c->n + 1) * sizeof(*items));
	struct sg_config_item *it;

	if (!items)
		return -ENOMEM;
	c->items = items;
	it = &items[c->n];
	if (section) {
		size_t n = strlen(section) + 1 + strlen(key) + 1;

		it->key = malloc(n);
		if (it->key)
			snprintf(it->key, n, "%s.%s", section, key);
	} else {
		it->key = strdup(key);
	}
	it->value = strndup(value, vlen);
	it->line = line;
	if (!it->key || !it->value) {
		free(it->key);
		free(it->value);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

static int fail(char *err, size_t errlen, const char *source, const yaml_mark_t *m, const char *what)
{
	snprintf(err, errlen, "%s:%zu:%zu: %s", source, m->line + 1, m->column + 1, what);
	return -EINVAL;
}

int sg_config_parse(const char *buf, size_t len, const char *source, struct sg_config *out,
		    char *err, size_t errlen)
{
	char section[128] = "", key[128] = "";
	struct sg_config c = { 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, rc = 0;
	bool have_key = false, done = false;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			snprintf(err, errlen, "%s:%zu:%zu: %s", source, parser.problem_mark.line + 1,
				 parser.problem_mark.column + 1,
				 parser.problem ? parser.problem : "invalid YAML");
			rc = -EINVAL;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_MAPPING_START_EVENT:
			if (depth > 0 && !have_key)
				rc = fail(err, errlen, source, &ev.start_mark, "a mapping cannot be a key");
			else if (++depth > SG_CONFIG_DEPTH)
				rc = fail(err, errlen, source, &ev.start_mark,
					  "nested too deep: settings are `section: {key: value}`");
			else if (depth == 2)
				snprintf(section, sizeof(section), "%s", key);
			have_key = false;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			section[0] = '\0';
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = fail(err, errlen, source, &ev.start_mark, "lists are not settings here");
			break;
		case YAML_ALIAS_EVENT:
			rc = fail(err, errlen, source, &ev.start_mark, "aliases are not allowed");
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			size_t vlen = ev.data.scalar.length;

			if (depth == 0) {
				/* An empty document is an empty configuration. */
				if (vlen)
					rc = fail(err, errlen, source, &ev.start_mark,
						  "the configuration must be a mapping");
				break;
			}
			if (!have_key) {
				if (vlen == 0 || vlen >= sizeof(key) || memchr(v, '\0', vlen)) {
					rc = fail(err, errlen, source, &ev.start_mark, "bad key");
					break;
				}
				memcpy(key, v, vlen + 1);
				have_key = true;
				break;
			}
			char full[sizeof(section) + sizeof(key) + 1];

			snprintf(full, sizeof(full), "%s%s%s", depth == 2 ? section : "",
				 depth == 2 ? "." : "", key);
			if (sg_config_get(&c, full)) {
				rc = fail(err, errlen, source, &ev.start_mark, "duplicate key");
				break;
			}
			rc = add(&c, depth == 2 ? section : NULL, key, v, vlen,
				 ev.start_mark.line + 1);
			have_key = false;
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc) {
		sg_config_free(&c);
		return rc;
	}
	*out = c;
	return 0;
}

void sg_config_free(struct sg_config *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->items[i].key);
		free(c->items[i].value);
	}
	free(c->items);
	c->items = NULL;
	c->n = 0;
}

const char *sg_config_get(const struct sg_config *c, const char *key)
{
	size_t i;

	if (!key)
		return NULL;
	for (i = c->n; i-- > 0;)
		if (!strcmp(c->items[i].key, key))
			return c->items[i].value;
	return NULL;
}

int sg_config_check_keys(const struct sg_config *c, const char *const *known, const char *source,
			 char *err, size_t errlen)
{
	size_t i, k;

	for (i = 0; i < c->n; i++) {
		for (k = 0; known[k] && strcmp(known[k], c->items[i].key); k++)
			;
		if (!known[k]) {
			snprintf(err, errlen, "%s:%u: unknown setting \"%s\"", source,
				 c->items[i].line, c->items[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

int sg_config_bool(const char *s, bool *out)
{
	if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int sg_config_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Fields of an audit line for the fleet export (fleet_record.h). The audit
 * writer puts event_id, ts, node_id, policy_version, type and severity first
 * (audit.c), and every string value is JSON-escaped, so the first `"type":"`
 * is the record's own and no value can fake a key.
 */
#include <errno.h>
#include <string.h>

#include "report/fleet_record.h"

static bool token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

void sg_fleet_token(char *out, size_t len, const char *s, size_t slen)
{
	size_t i;

	if (!len)
		return;
	for (i = 0; i < slen && i + 1 < len; i++)
		out[i] = token_char(s[i]) ? s[i] : '_';
	if (!i && len > 1)
		out[i++] = '_';
	out[i] = '\0';
}

/* The string value of the first "key":"..." in the line; NULL when absent. */
static const char *str_value(const char *line, size_t len, const char *key, size_t *vlen)
{
	const char *p = memmem(line, len, key, strlen(key)), *end = line + len, *v;

	if (!p)
		return NULL;
	v = p + strlen(key);
	for (p = v; p < end && *p != '"'; p++)
		if (*p == '\\')
			p++;
	if (p >= end)
		return NULL;
	*vlen = (size_t)(p - v);
	return v;
}

static bool has(const char *line, size_t len, const char *s)
{
	return memmem(line, len, s, strlen(s)) != NULL;
}

int sg_fleet_record_info(const char *line, size_t len, struct sg_fleet_info *out)
{
	const char *v;
	size_t vlen, i;

	memset(out, 0, sizeof(*out));
	v = str_value(line, len, "\"event_id\":\"", &vlen);
	if (!v || vlen != 16)
		return -EINVAL;
	for (i = 0; i < 16; i++)
		if (!strchr("0123456789abcdef", v[i]) || !v[i])
			return -EINVAL;
	memcpy(out->event_id, v, 16);
	v = str_value(line, len, "\"type\":\"", &vlen);
	if (!v)
		v = "unknown", vlen = 7;
	sg_fleet_token(out->type, sizeof(out->type), v, vlen);
	out->keep = has(line, len, "\"decision\":\"deny\"") || has(line, len, "\"decision\":\"kill\"") ||
		    has(line, len, "\"action\":\"deny\"") || has(line, len, "\"action\":\"kill\"") ||
		    has(line, len, "\"severity\":\"critical\"");
	return 0;
}

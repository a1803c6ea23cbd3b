// SPDX-License-Identifier: Apache-2.0
/* The fleet status entry and key names (fleet_status.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report/fleet_record.h"
#include "report/fleet_status.h"
#include "report/json_read.h"
#include "policy/bundle.h"

bool sg_fleet_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= SG_FLEET_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

int sg_fleet_policy_key(const char *group, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "policy.%s", group);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int sg_fleet_status_key(const char *node_id, char *out, size_t outlen)
{
	char tok[256];
	int n;

	/* A node id may hold dots or spaces; a key token may not. */
	sg_fleet_token(tok, sizeof(tok), node_id, strlen(node_id));
	n = snprintf(out, outlen, "node.%s", tok);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

void sg_fleet_status_json(const struct sg_fleet_status *s, struct sg_json *j)
{
	const char *p = s->backends, *end;

	sg_json_begin_object(j);
	sg_json_kv_str(j, "node_id", s->node_id);
	sg_json_kv_str(j, "group", s->group);
	sg_json_kv_u64(j, "policy_version", s->policy_version);
	sg_json_kv_str(j, "policy", s->policy_name);
	sg_json_key(j, "backends");
	sg_json_begin_array(j);
	while (*p) {
		end = strchrnul(p, ',');
		sg_json_strn(j, p, (size_t)(end - p));
		p = *end ? end + 1 : end;
	}
	sg_json_end_array(j);
	sg_json_kv_u64(j, "fleet_dropped", s->fleet_dropped);
	sg_json_kv_str(j, "last_error", s->last_error[0] ? s->last_error : NULL);
	sg_json_kv_u64(j, "last_seen", s->last_seen);
	sg_json_kv_u64(j, "started", s->started);
	sg_json_kv_u64(j, "denies", s->denies);
	sg_json_kv_u64(j, "kills", s->kills);
	sg_json_end_object(j);
}

static void copy_str(char *dst, size_t dlen, const struct sg_jv *v)
{
	snprintf(dst, dlen, "%s", sg_jv_str(v) ? sg_jv_str(v) : "");
}

static uint64_t get_u64(const struct sg_jv *obj, const char *key)
{
	const struct sg_jv *v = sg_jv_get(obj, key);

	return v && v->type == SG_JV_NUM && v->is_uint ? v->u : 0;
}

static void join_backends(char *dst, size_t dlen, const struct sg_jv *arr)
{
	size_t i, off = 0;
	int n;

	dst[0] = '\0';
	for (i = 0; arr && arr->type == SG_JV_ARR && i < arr->n; i++) {
		if (!sg_jv_str(&arr->items[i]))
			continue;
		n = snprintf(dst + off, dlen - off, "%s%s", off ? "," : "", sg_jv_str(&arr->items[i]));
		if (n < 0 || (size_t)n >= dlen - off) {
			dst[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
}

int sg_fleet_status_parse(const char *buf, size_t len, struct sg_fleet_status *out)
{
	struct sg_jv v;

	memset(out, 0, sizeof(*out));
	if (sg_jv_parse(buf, len, &v))
		return -EINVAL;
	if (v.type != SG_JV_OBJ || !sg_jv_str(sg_jv_get(&v, "node_id"))) {
		sg_jv_free(&v);
		return -EINVAL;
	}
	copy_str(out->node_id, sizeof(out->node_id), sg_jv_get(&v, "node_id"));
	copy_str(out->group, sizeof(out->group), sg_jv_get(&v, "group"));
	copy_str(out->policy_name, sizeof(out->policy_name), sg_jv_get(&v, "policy"));
	copy_str(out->last_error, sizeof(out->last_error), sg_jv_get(&v, "last_error"));
	join_backends(out->backends, sizeof(out->backends), sg_jv_get(&v, "backends"));
	out->policy_version = get_u64(&v, "policy_version");
	out->fleet_dropped = get_u64(&v, "fleet_dropped");
	out->last_seen = get_u64(&v, "last_seen");
	/* Absent in entries of older daemons: 0, which fleet view reads as "no counts". */
	out->started = get_u64(&v, "started");
	out->denies = get_u64(&v, "denies");
	out->kills = get_u64(&v, "kills");
	sg_jv_free(&v);
	return 0;
}

uint64_t sg_fleet_bundle_version(const char *buf, size_t len)
{
	size_t hlen = len < 4096 ? len : 4096;
	const char *p, *nl;
	uint64_t v = 0;
	size_t n;

	if (hlen < sizeof(SG_BUNDLE_MAGIC) - 1 ||
	    memcmp(buf, SG_BUNDLE_MAGIC, sizeof(SG_BUNDLE_MAGIC) - 1))
		return 0;
	p = memmem(buf, hlen, "\nversion: ", 10);
	if (!p)
		return 0;
	p += 10;
	nl = memchr(p, '\n', hlen - (size_t)(p - buf));
	n = nl ? (size_t)(nl - p) : hlen - (size_t)(p - buf);
	if (sg_parse_u64(p, n, &v))
		return 0;
	return v;
}

// SPDX-License-Identifier: Apache-2.0
#include "cli/policy_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int sg_log_each_exec(const char *path, sg_exec_record_fn fn, void *ctx, FILE *errs)
{
	FILE *in = fopen(path, "re");
	unsigned long lineno = 0, bad = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!in) {
		rc = -errno;
		fprintf(errs, "%s: %s\n", path, strerror(errno));
		return rc;
	}
	while (!rc && (n = getline(&line, &cap, in)) > 0) {
		struct sg_jv rec;

		lineno++;
		if (sg_jv_parse(line, (size_t)n, &rec)) {
			/* The last line of a log cut short by a crash may be incomplete. */
			bad++;
			continue;
		}
		if (rec.type == SG_JV_OBJ && sg_jv_str(sg_jv_get(&rec, "type")) &&
		    !strcmp(sg_jv_str(sg_jv_get(&rec, "type")), "exec"))
			rc = fn(&rec, ctx);
		sg_jv_free(&rec);
	}
	if (ferror(in) && !rc) {
		rc = -EIO;
		fprintf(errs, "%s: read error\n", path);
	}
	if (bad)
		fprintf(errs, "%s: skipped %lu of %lu lines that are not JSON records\n", path, bad,
			lineno);
	free(line);
	fclose(in);
	return rc;
}

/* Hex text into bytes; false unless it is exactly 2*cap digits... or any even length when exact is false. */
static bool from_hex(const char *s, uint8_t *out, size_t cap, size_t *len, bool exact)
{
	size_t n = s ? strlen(s) : 0;
	const char *end;

	if (!s || n % 2 || (exact && n != 2 * cap))
		return false;
	return sodium_hex2bin(out, cap, s, n, NULL, len, &end) == 0 && end == s + n;
}

/* obj.key, or its exact bytes from obj.key_hex, into out (NUL-terminated). */
static bool exact_string(const struct sg_jv *obj, const char *key, char *out, size_t cap)
{
	char hkey[32];
	const char *s;
	size_t len;

	snprintf(hkey, sizeof(hkey), "%s_hex", key);
	s = sg_jv_str(sg_jv_get(obj, hkey));
	if (s && from_hex(s, (uint8_t *)out, cap - 1, &len, false) && !memchr(out, '\0', len)) {
		out[len] = '\0';
		return true;
	}
	s = sg_jv_str(sg_jv_get(obj, key));
	if (!s || strlen(s) >= cap)
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

bool sg_log_exec_facts(const struct sg_jv *rec, struct sg_exec_facts *f)
{
	const struct sg_jv *proc = sg_jv_get(rec, "process");
	const struct sg_jv *file = sg_jv_get(rec, "file");
	const struct sg_jv *parent = sg_jv_get(rec, "parent");
	const struct sg_jv *dev = sg_jv_get(file, "dev"), *ino = sg_jv_get(file, "ino");
	const struct sg_jv *fl = sg_jv_get(file, "fileless");
	size_t len;

	memset(f, 0, sizeof(*f));
	f->fileless = fl && fl->type == SG_JV_BOOL && fl->b;
	if (!f->fileless && exact_string(proc, "exe", f->path, sizeof(f->path))) {
		f->has_path = true;
		f->path_len = strlen(f->path);
	}
	if (dev && ino && dev->is_uint && ino->is_uint) {
		f->id.dev = dev->u;
		f->id.ino = ino->u;
		f->has_id = true;
	}
	f->has_sha256 = from_hex(sg_jv_str(sg_jv_get(file, "sha256")), f->sha256,
				 sizeof(f->sha256), &len, true);
	f->has_parent = exact_string(parent, "exe", f->parent_path, sizeof(f->parent_path));
	return f->has_path || f->has_sha256;
}

const char *sg_log_decision(const struct sg_jv *rec)
{
	return sg_jv_str(sg_jv_get(rec, "decision"));
}

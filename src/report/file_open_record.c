// SPDX-License-Identifier: Apache-2.0
#include "report/file_open_record.h"

#include <stdio.h>
#include <string.h>

#include "report/container_record.h"
#include "report/exec_record.h"

#define MAX_FLAG_NAMES 24

uint64_t sg_record_file_open(struct sg_audit *a, const struct sg_open_facts *f)
{
	const char *names[MAX_FLAG_NAMES];
	size_t n, i;
	struct sg_json j;
	uint64_t id;

	sg_json_init(&j);
	id = sg_audit_begin(a, &j, "file_open", SG_SEV_INFO);
	sg_json_kv_str(&j, "action", "open");
	sg_json_kv_str(&j, "decision", "audit");
	sg_json_kv_str(&j, "access", sg_open_access_name(sg_open_access_of(f->fmode, f->flags)));
	sg_json_kv_u64(&j, "flags", f->flags);
	sg_json_key(&j, "flag_names");
	sg_json_begin_array(&j);
	n = sg_open_flag_names(f->flags, names, MAX_FLAG_NAMES);
	for (i = 0; i < n && i < MAX_FLAG_NAMES; i++)
		sg_json_str(&j, names[i]);
	sg_json_end_array(&j);

	sg_json_key(&j, "rule");
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "id", f->rule_id);
	sg_json_kv_str(&j, "name", f->rule_name);
	sg_json_kv_u64(&j, "line", f->rule_line);
	if (f->rule_fragment)
		sg_json_kv_str(&j, "fragment", f->rule_fragment);
	sg_json_kv_str(&j, "selector", f->by_cgroup ? "cgroup" : "exe");
	if (f->target)
		sg_json_kv_bytes(&j, "target", f->target, strlen(f->target));
	sg_json_end_object(&j);

	sg_json_key(&j, "file");
	sg_json_begin_object(&j);
	sg_json_kv_bytes(&j, "name", f->name, f->name_len);
	if (f->path)
		sg_json_kv_bytes(&j, "path", f->path, f->path_len);
	else
		sg_json_kv_str(&j, "path", NULL);
	if (f->path_truncated)
		sg_json_kv_bool(&j, "path_truncated", true);
	sg_json_kv_u64(&j, "dev", f->file.dev);
	sg_json_kv_u64(&j, "ino", f->file.ino);
	sg_json_kv_str(&j, "type", sg_file_type_name(f->imode));
	sg_json_kv_u64(&j, "mode", f->imode & 07777);
	sg_json_end_object(&j);

	sg_json_key(&j, "process");
	sg_json_begin_object(&j);
	sg_json_kv_i64(&j, "pid", f->pid);
	sg_json_kv_i64(&j, "tid", f->tid);
	sg_json_kv_i64(&j, "ppid", f->ppid);
	sg_json_kv_u64(&j, "uid", f->uid);
	sg_json_kv_u64(&j, "gid", f->gid);
	sg_json_kv_bytes(&j, "comm", f->comm, strnlen(f->comm, sizeof(f->comm)));
	if (f->has_exe)
		sg_json_kv_bytes(&j, "exe", f->exe, strnlen(f->exe, sizeof(f->exe)));
	else
		sg_json_kv_str(&j, "exe", NULL);
	if (f->has_exe_id) {
		sg_json_kv_u64(&j, "exe_dev", f->exe_id.dev);
		sg_json_kv_u64(&j, "exe_ino", f->exe_id.ino);
	}
	sg_json_kv_u64(&j, "cgroup_id", f->cgroup_id);
	sg_record_container_of(&j, f->pid, f->cgroup_id, &f->container);
	sg_json_end_object(&j);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	return id;
}

uint64_t sg_record_file_audit_inactive(struct sg_audit *a, const char *rule, unsigned line,
				       bool is_cgroup, const char *target, const char *why)
{
	struct sg_json j;
	uint64_t id;

	sg_json_init(&j);
	id = sg_audit_begin(a, &j, "file_audit_rule_inactive", SG_SEV_WARNING);
	sg_json_kv_str(&j, "rule", rule);
	sg_json_kv_u64(&j, "line", line);
	sg_json_kv_str(&j, "selector", is_cgroup ? "cgroup" : "exe");
	sg_json_kv_bytes(&j, "target", target, strlen(target));
	sg_json_kv_str(&j, "error", why);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	return id;
}

uint64_t sg_record_ringbuf_drops(struct sg_audit *a, struct sg_alerts *alerts, const char *ring,
				 uint64_t dropped, uint64_t total)
{
	char detail[128];
	struct sg_json j;
	uint64_t id;

	sg_json_init(&j);
	id = sg_audit_begin(a, &j, "ringbuf_drops", SG_SEV_WARNING);
	sg_json_kv_str(&j, "ring", ring);
	sg_json_kv_u64(&j, "dropped", dropped);
	sg_json_kv_u64(&j, "total", total);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	if (alerts) {
		snprintf(detail, sizeof(detail), "%llu %s records lost (ring buffer full)",
			 (unsigned long long)dropped, ring);
		sg_record_alert(a, alerts, "ringbuf_drops", id, SG_SEV_WARNING, NULL, 0, NULL, "none",
				detail);
	}
	return id;
}

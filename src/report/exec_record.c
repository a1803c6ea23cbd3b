// SPDX-License-Identifier: Apache-2.0
#include "report/exec_record.h"

#include "report/container_record.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const sensor_names[] = {
	[SG_SENSOR_EXEC_TP] = "exec_tracepoint",
	[SG_SENSOR_FANOTIFY] = "fanotify",
	[SG_SENSOR_BPF_LSM] = "bpf_lsm",
};

static void args_array(struct sg_json *j, const char *args, size_t len)
{
	size_t off = 0;

	sg_json_begin_array(j);
	while (len && off <= len) {
		const char *s = args + off;
		const char *nul = memchr(s, '\0', len - off);
		size_t n = nul ? (size_t)(nul - s) : len - off;

		sg_json_strn(j, s, n);
		off += n + 1;
	}
	sg_json_end_array(j);
}

void sg_record_process(struct sg_json *j, const struct sg_exec_facts *f)
{
	sg_json_key(j, "process");
	sg_json_begin_object(j);
	sg_json_kv_i64(j, "pid", f->pid);
	sg_json_kv_i64(j, "ppid", f->ppid);
	sg_json_kv_u64(j, "uid", f->uid);
	sg_json_kv_u64(j, "gid", f->gid);
	sg_json_kv_bytes(j, "comm", f->comm, strnlen(f->comm, sizeof(f->comm)));
	if (f->has_path)
		sg_json_kv_bytes(j, "exe", f->path, f->path_len);
	else
		sg_json_kv_str(j, "exe", NULL);
	if (f->filename)
		sg_json_kv_bytes(j, "filename", f->filename, f->filename_len);
	if (f->args) {
		sg_json_key(j, "args");
		args_array(j, f->args, f->args_len);
		sg_json_kv_bool(j, "args_truncated", f->args_truncated);
	}
	sg_json_kv_u64(j, "cgroup_id", f->cgroup_id);
	sg_record_container(j, &f->container, &f->workload);
	if (f->has_container_path)
		sg_json_kv_str(j, "container_exe", f->container_path);
	/* exe is the script or library judged; the process's own executable is named here. */
	if (f->library) {
		if (f->has_interpreter)
			sg_json_kv_bytes(j, "program", f->interpreter, strlen(f->interpreter));
		else
			sg_json_kv_str(j, "program", NULL);
	}
	if (f->script) {
		if (f->has_interpreter)
			sg_json_kv_bytes(j, "interpreter", f->interpreter, strlen(f->interpreter));
		else
			sg_json_kv_str(j, "interpreter", NULL);
		sg_json_kv_str(j, "script", f->script);
	}
	sg_json_end_object(j);

	sg_json_key(j, "parent");
	sg_json_begin_object(j);
	sg_json_kv_i64(j, "pid", f->ppid);
	if (f->has_parent)
		sg_json_kv_bytes(j, "exe", f->parent_path, strlen(f->parent_path));
	else
		sg_json_kv_str(j, "exe", NULL);
	sg_json_end_object(j);

	sg_json_key(j, "file");
	sg_json_begin_object(j);
	if (f->has_id) {
		sg_json_kv_u64(j, "dev", f->id.dev);
		sg_json_kv_u64(j, "ino", f->id.ino);
	}
	if (f->has_sha256)
		sg_json_kv_hex(j, "sha256", f->sha256, sizeof(f->sha256));
	sg_json_kv_bool(j, "fileless", f->fileless);
	sg_json_kv_bool(j, "loader", f->loader);
	sg_json_end_object(j);
	sg_json_kv_str(j, "sensor", sensor_names[f->sensor]);
	if (f->drift)
		sg_json_kv_str(j, "drift", f->drift);
}

/* An allow that an audit rule would have denied: its record names that rule. */
static const struct sg_rule *audited(const struct sg_verdict *v)
{
	return v->action == SG_ACTION_ALLOW ? v->audit : NULL;
}

/* An allow the policy wants on record as audit without a rule (inline code, inline: audit). */
static bool audit_only(const struct sg_exec_facts *f, const struct sg_verdict *v)
{
	return v->action == SG_ACTION_ALLOW && (v->audit || f->audit_only);
}

static void rule_fields(struct sg_json *j, const struct sg_verdict *v)
{
	const struct sg_rule *r = audited(v) ? v->audit : v->rule;

	sg_json_key(j, "rule");
	if (!r) {
		sg_json_null(j);
		sg_json_kv_bool(j, "default_action", true);
		return;
	}
	sg_json_begin_object(j);
	sg_json_kv_u64(j, "id", r->id);
	sg_json_kv_str(j, "name", r->name);
	sg_json_kv_str(j, "kind", sg_match_kind_name(r->kind));
	sg_json_kv_u64(j, "line", r->line);
	/* A rule of a policy fragment (policy.d): which one, so the team that wrote it is known. */
	if (r->fragment) {
		sg_json_kv_str(j, "fragment", r->fragment);
		sg_json_kv_bytes(j, "file", r->source, strlen(r->source));
	}
	sg_json_end_object(j);
	sg_json_kv_bool(j, "default_action", false);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sg_record_alert(struct sg_audit *a, struct sg_alerts *alerts, const char *kind,
		     uint64_t id, enum sg_severity sev, const char *exe, size_t exe_len,
		     const char *rule, const char *action, const char *detail)
{
	char eid[17];
	struct sg_alert_event ev = {
		.kind = kind,
		.event_id = eid,
		.node_id = a->node_id,
		.severity = sg_severity_name(sev),
		.exe = exe,
		.exe_len = exe ? exe_len : 0,
		.rule = rule,
		.policy_version = a->policy_version,
		.action = action,
		.detail = detail,
		.ts_ns = realtime_ns(),
	};

	snprintf(eid, sizeof(eid), "%016llx", (unsigned long long)id);
	sg_alerts_submit(alerts, &ev);
}

static void alert(struct sg_audit *a, struct sg_alerts *alerts, const char *kind,
		  uint64_t id, enum sg_severity sev, const struct sg_exec_facts *f,
		  const char *rule, const char *action, const char *detail)
{
	sg_record_alert(a, alerts, kind, id, sev, f->has_path ? f->path : NULL, f->path_len, rule,
			action, detail);
}

uint64_t sg_record_exec(struct sg_audit *a, struct sg_alerts *alerts,
			const struct sg_exec_facts *f, const struct sg_verdict *v,
			enum sg_mode mode, const char *enforced_by)
{
	bool denied = v->action == SG_ACTION_DENY;
	/* A would-be deny is worth a look but blocked nothing: as a deny in monitor mode. */
	enum sg_severity sev = sg_severity_for(denied || audit_only(f, v),
					       denied && mode == SG_MODE_ENFORCE, false);
	struct sg_json j;
	uint64_t id;

	sg_json_init(&j);
	id = sg_audit_begin(a, &j, "exec", sev);
	sg_json_kv_str(&j, "action", f->library ? "library" : f->via_mmap ? "mmap_exec" : "exec");
	sg_json_kv_str(&j, "decision",
		       sg_action_name(audit_only(f, v) ? SG_ACTION_AUDIT : v->action));
	if (audit_only(f, v))
		sg_json_kv_bool(&j, "would_deny", true);
	sg_json_kv_str(&j, "mode", sg_mode_name(mode));
	rule_fields(&j, v);
	sg_json_kv_str(&j, "enforced_by", enforced_by);
	if (f->reason)
		sg_json_kv_str(&j, "reason", f->reason);
	if (f->held)
		sg_json_kv_bool(&j, "held", true);
	if (f->hash_err)
		sg_json_kv_i64(&j, "hash_error", f->hash_err);
	sg_record_process(&j, f);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	if (alerts && denied)
		alert(a, alerts, "deny", id, sev, f, v->rule ? v->rule->name : NULL,
		      enforced_by ? enforced_by : "none", sg_mode_name(mode));
	return id;
}

void sg_record_fs_mark(struct sg_audit *a, const struct sg_exec_facts *f, int err)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(a, &j, "fanotify_mark", err ? SG_SEV_WARNING : SG_SEV_INFO);
	sg_json_kv_str(&j, "action", err ? "mark_failed" : "marked_late");
	sg_json_kv_str(&j, "found_by", "held_exec");
	sg_json_kv_u64(&j, "dev", f->id.dev);
	if (err)
		sg_json_kv_str(&j, "error", strerror(-err));
	sg_record_process(&j, f);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
}

void sg_record_interpreter_found(struct sg_audit *a, const struct sg_exec_facts *f,
				 const char *how, const char *language, int err)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(a, &j, "interpreter_found", err ? SG_SEV_CRITICAL : SG_SEV_INFO);
	sg_json_kv_str(&j, "how", how);
	sg_json_kv_str(&j, "language", language);
	if (f->has_path)
		sg_json_kv_bytes(&j, "path", f->path, f->path_len);
	sg_json_kv_str(&j, "result", err ? strerror(-err) : "held_from_now_on");
	sg_record_process(&j, f);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
}

uint64_t sg_record_mitigation(struct sg_audit *a, struct sg_alerts *alerts,
			      const struct sg_exec_facts *f, uint64_t decision_id,
			      const char *backend, const char *action, int err)
{
	enum sg_severity sev = err ? SG_SEV_CRITICAL : SG_SEV_INFO;
	struct sg_json j;
	uint64_t id;
	char ref[17];

	sg_json_init(&j);
	id = sg_audit_begin(a, &j, err ? "action_error" : "mitigation", sev);
	snprintf(ref, sizeof(ref), "%016llx", (unsigned long long)decision_id);
	sg_json_kv_str(&j, "decision_event_id", ref);
	sg_json_kv_str(&j, "backend", backend);
	sg_json_kv_str(&j, "action", action);
	sg_json_kv_str(&j, "result", err ? "failed" : "ok");
	if (err) {
		sg_json_kv_i64(&j, "errno", -err);
		sg_json_kv_str(&j, "error", strerror(-err));
	}
	sg_record_process(&j, f);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	if (alerts && err)
		alert(a, alerts, "action_error", id, sev, f, NULL, action, strerror(-err));
	return id;
}

// SPDX-License-Identifier: Apache-2.0
/* Audit records the daemon itself writes about its own life (start-up steps, backends, pins, bundles). */

#include "daemon/daemon.h"

void daemon_note(struct daemon *d, const char *type, enum sg_severity sev, const char *key,
		 const char *val)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, type, sev);
	if (key)
		sg_json_kv_str(&j, key, val);
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

void daemon_backend_record(struct daemon *d, const char *name, bool active, const char *detail)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "backend", active ? SG_SEV_INFO : SG_SEV_WARNING);
	sg_json_kv_str(&j, "backend", name);
	sg_json_kv_bool(&j, "active", active);
	sg_json_kv_str(&j, "detail", detail);
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	fprintf(stderr, "sysguardd: backend %-10s %s (%s)\n", name, active ? "ACTIVE" : "inactive",
		detail);
}

/* LOG-3: pins are kernel state that outlives us; say what was pinned, adopted or removed. */
void daemon_pin_record(struct daemon *d, const char *type, const char *dir, bool adopted,
		       unsigned replaced)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, type, SG_SEV_INFO);
	sg_json_kv_str(&j, "dir", dir);
	if (!strcmp(type, "bpf_pin")) {
		sg_json_kv_bool(&j, "adopted", adopted);
		sg_json_kv_u64(&j, "replaced_links", replaced);
	}
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

/* Read, parse and resolve a policy; on failure explain on stderr and in the log. */
void daemon_bundle_record(struct daemon *d, const char *type, enum sg_severity sev,
			  const char *path, const char *status, const char *msg,
			  const struct sg_bundle_meta *m)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, type, sev);
	path = daemon_shown_path(path);
	sg_json_kv_bytes(&j, "path", path, strlen(path));
	if (status)
		sg_json_kv_str(&j, "status", status);
	if (msg)
		sg_json_kv_str(&j, "error", msg);
	if (m) {
		sg_json_kv_u64(&j, "bundle_version", m->version);
		sg_json_kv_u64(&j, "created", m->created);
		sg_json_kv_str(&j, "key_id", m->key_id);
	}
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

/* logrotate moved the log: records up to here are in the old file, the next ones in the new. */
void daemon_reopen_log(struct daemon *d)
{
	int err = sg_audit_reopen(&d->audit);
	struct sg_json j;

	if (err)
		fprintf(stderr, "sysguardd: cannot reopen audit log %s: %s; still writing the old file\n",
			d->opt.log_path, strerror(-err));
	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, err ? "action_error" : "audit_log_reopened",
		       err ? SG_SEV_CRITICAL : SG_SEV_INFO);
	if (d->opt.log_path)
		sg_json_kv_bytes(&j, "path", daemon_shown_path(d->opt.log_path),
			 strlen(daemon_shown_path(d->opt.log_path)));
	if (err) {
		sg_json_kv_str(&j, "action", "reopen_log");
		sg_json_kv_str(&j, "error", strerror(-err));
	}
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

/* An alert about one of the daemon's own records (event id), when alerts are on. */
void daemon_alert(struct daemon *d, uint64_t event_id, const char *kind, const char *severity,
		  const char *action, const char *detail)
{
	char eid[17];
	struct sg_alert_event ev = {
		.kind = kind,
		.event_id = eid,
		.node_id = d->audit.node_id,
		.severity = severity,
		.policy_version = d->audit.policy_version,
		.action = action,
		.detail = detail,
	};

	if (!d->alerts)
		return;
	snprintf(eid, sizeof(eid), "%016llx", (unsigned long long)event_id);
	sg_alerts_submit(d->alerts, &ev);
}

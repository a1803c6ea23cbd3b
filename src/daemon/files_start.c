// SPDX-License-Identifier: Apache-2.0
/* Start-up of file protection, integrity monitoring, self-defence and the file-open audit. */
#include <sys/epoll.h>

#include "daemon/daemon.h"

bool daemon_self_defence_on(const struct daemon *d)
{
	return !d->opt.self_defence || !strcmp(d->opt.self_defence, "on") ||
	       !strcmp(d->opt.self_defence, "true");
}

/*
 * The process behind a file change may be gone by now (a short-lived mv):
 * its exec and exit are in the ring buffer, so read that first.
 */
static void identify_process(void *ctx, pid_t pid, char *exe, size_t exelen, char *comm,
			     size_t commlen)
{
	struct daemon *d = ctx;

	if (d->kern_up)
		sg_exec_bpf_consume(&d->kern);
	sg_proc_identify(&d->engine.procs, pid, exe, exelen, comm, commlen);
}

/* FILE-1..3: protection, integrity monitoring, self-defence. */
void daemon_start_files(struct daemon *d)
{
	struct sg_files_opts o = {
		.audit = &d->audit,
		.alerts = d->alerts,
		.state_dir = d->opt.state_dir,
		.blocklist = d->opt.blocklist,
		.self_defence = daemon_self_defence_on(d),
		.use_lsm = !d->opt.no_lsm && d->features.f[SG_FEAT_BPF_LSM].usable,
		.record_refusals = d->opt.record_refusals && !d->opt.no_file_refusal,
		.config_path = d->opt.config_path,
		.policy_path = d->opt.policy_path,
		.extra_self = d->opt.trusted_key_paths,
		.identify = identify_process,
		.identify_ctx = d,
	};
	char err[512] = "", detail[256];

	if (d->opt.no_files) {
		daemon_backend_record(d, "files", false, "disabled by --disable-backend");
		return;
	}
	if (sg_files_start(&d->files, &o, err, sizeof(err))) {
		d->files = NULL;
		daemon_backend_record(d, "files", false, err);
		return;
	}
	snprintf(detail, sizeof(detail), "%s%s",
		 !strcmp(sg_files_backend(d->files), "bpf_lsm")
			 ? "bpf_lsm: file_open, inode_unlink/rename/link, path_truncate, inode_setattr"
			 : "fanotify FAN_OPEN_PERM inode marks + FS_IMMUTABLE_FL",
		 o.self_defence ? "; self-defence on" : "; self-defence off");
	daemon_backend_record(d, "files", true, detail);
	daemon_apply_policy(d);
	/* BPF-7: the policy's maps are the daemon's alone (BPF LSM only). */
	if (d->kern_up)
		sg_files_guard_maps(d->files, sg_exec_bpf_object(&d->kern), "exec");
	if (d->egress_up)
		sg_files_guard_maps(d->files, sg_egress_object(&d->egress), "egress");
}

/*
 * FILE-4: the file-open audit's tracepoints are attached only while the
 * policy has a file_audit: rule in force (they run for every open on the
 * host); the object is loaded the first time rules need it and kept until
 * the daemon stops. Observe-only: nothing here depends on the mode.
 */
void daemon_sync_file_audit(struct daemon *d)
{
	size_t n = sg_policy_file_rule_count(d->engine.policy, SG_FILES_TRACE);
	struct sg_open_sink sink = {
		.audit = &d->audit, .alerts = d->alerts, .procs = &d->engine.procs,
		.cgroup2_root = d->engine.cgroup2_root,
	};
	struct sg_open_apply res;
	struct sg_open_container *ctr;
	char err[256] = "", detail[320];
	struct sg_json j;
	size_t nctr;
	int state, rc;

	if (d->opt.no_file_audit || (!n && !d->fa_loaded)) {
		state = d->opt.no_file_audit ? 3 : 1;
		if (state != d->fa_state)
			daemon_backend_record(d, "file_audit", false, d->opt.no_file_audit ?
				       "disabled by --disable-backend" : "no file_audit: rules in the policy");
		d->fa_state = state;
		return;
	}
	if (!d->fa_loaded) {
		if (sg_open_audit_load(&d->fa, &sink, err, sizeof(err))) {
			daemon_backend_record(d, "file_audit", false, err);
			d->fa_state = 4;
			return;
		}
		d->fa_loaded = true;
		daemon_watch_fd(d, sg_open_audit_ringbuf_fd(&d->fa), EPOLLIN);
	}
	nctr = daemon_file_audit_containers(d, &ctr);
	rc = sg_open_audit_apply(&d->fa, d->engine.policy, ctr, nctr, &res, err, sizeof(err));
	daemon_file_audit_containers_free(ctr, nctr);
	if (rc) {
		fprintf(stderr, "sysguardd: file_audit rules not applied: %s\n", err);
		sg_json_init(&j);
		sg_audit_begin(&d->audit, &j, "action_error", SG_SEV_CRITICAL);
		sg_json_kv_str(&j, "backend", "file_audit");
		sg_json_kv_str(&j, "action", "apply_rules");
		sg_json_kv_str(&j, "error", err);
		sg_audit_commit(&d->audit, &j);
		sg_json_free(&j);
		daemon_backend_record(d, "file_audit", d->fa.attached, err);
		d->fa_state = 4;
		return;
	}
	/* LOG-3: a map update is kernel state changing: on the record. */
	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "bpf_map_update", SG_SEV_INFO);
	sg_json_kv_str(&j, "map", "open_sel_exe+open_sel_cgroup");
	sg_json_kv_u64(&j, "entries", res.active);
	sg_json_kv_u64(&j, "inactive_rules", res.inactive);
	sg_json_kv_bool(&j, "dedup_cleared", res.dedup_cleared);
	sg_json_kv_str(&j, "result", "ok");
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	state = d->fa.attached ? 2 : 1;
	if (state != d->fa_state) {
		snprintf(detail, sizeof(detail), "%s for %zu selector(s); observe-only",
			 d->fa.attached_to, res.active);
		daemon_backend_record(d, "file_audit", d->fa.attached,
			       d->fa.attached ? detail : "no usable file_audit: rule; tracepoints not attached");
	}
	d->fa_state = state;
}

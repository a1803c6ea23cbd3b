// SPDX-License-Identifier: Apache-2.0
/* Pushing the policy in force into every active backend. */
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "act/kernel_rules.h"
#include "decide/engine_script.h"

static struct sg_exec_config kernel_config(struct daemon *d)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;
	bool fileless_deny = sg_policy_fileless(d->engine.policy) == SG_FILELESS_DENY;
	struct stat ns;

	/* Paths seen from the daemon's mount namespace are the host's (paths elsewhere are not). */
	if (stat("/proc/self/ns/mnt", &ns))
		ns.st_ino = 0;
	/* The LSM hooks read `enforce` too; --disable-backend bpf_kill empties only the kill. */
	return (struct sg_exec_config){
		.host_mnt_ns = (__u32)ns.st_ino,
		.hold_uncertain = enforce && !d->opt.no_hold && sg_policy_has_name_rules(d->engine.policy),
		.enforce = enforce,
		.kill = enforce && !d->opt.no_kill,
		.fileless_deny = fileless_deny,
		.hold_fileless = !fileless_deny && !d->opt.no_hold,
		.hold_loader = !d->opt.no_hold,
		.hold_scripts = sg_policy_scripts(d->engine.policy)->on && !d->opt.no_hold,
		.daemon_tgid = getpid(),
	};
}

static void egress_rule_skipped(const struct sg_net_rule *r, int err, void *ctx)
{
	struct daemon *d = ctx;
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "egress_rule_inactive", SG_SEV_WARNING);
	sg_json_kv_str(&j, "rule", r->name);
	sg_json_kv_u64(&j, "line", r->line);
	sg_json_kv_bytes(&j, "exe", r->exe, strlen(r->exe));
	sg_json_kv_str(&j, "error", strerror(-err));
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

void daemon_record_scope_error(struct daemon *d, int err)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "action_error", SG_SEV_CRITICAL);
	sg_json_kv_str(&j, "backend", "egress");
	sg_json_kv_str(&j, "action", "container_scopes");
	sg_json_kv_str(&j, "error", strerror(-err));
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

void daemon_apply_egress(struct daemon *d)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;
	char err[256] = "";
	struct sg_json j;

	if (!sg_egress_apply(&d->egress, d->engine.policy, enforce, egress_rule_skipped, d, err,
			     sizeof(err))) {
		/* LOG-3: a map update is kernel state changing: on the record. */
		sg_json_init(&j);
		sg_audit_begin(&d->audit, &j, "bpf_map_update", SG_SEV_INFO);
		sg_json_kv_str(&j, "map", "egress_v4+egress_v6+egress_lists");
		sg_json_kv_u64(&j, "entries", d->egress.prefixes);
		sg_json_kv_str(&j, "result", "ok");
		sg_audit_commit(&d->audit, &j);
		sg_json_free(&j);
		daemon_sync_egress_scopes(d);
		return;
	}
	/* The previous egress rules stay in force; say so loudly. */
	fprintf(stderr, "sysguardd: egress rules not applied: %s\n", err);
	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "action_error", SG_SEV_CRITICAL);
	sg_json_kv_str(&j, "backend", "egress");
	sg_json_kv_str(&j, "action", "apply_rules");
	sg_json_kv_str(&j, "error", err);
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

static void interpreter_unknown(const char *path, void *ctx)
{
	struct daemon *d = ctx;
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "policy_warning", SG_SEV_WARNING);
	sg_json_kv_str(&j, "what", "scripts");
	sg_json_kv_bytes(&j, "interpreter", path, strlen(path));
	sg_json_kv_str(&j, "error", "its name does not say which language (bash, sh, dash, zsh, ksh, "
		       "python, perl, ruby, node or php): its scripts are not judged");
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

/* scripts: the interpreters whose runs the kernel holds for their script's verdict. */
static void apply_interpreters(struct daemon *d)
{
	struct sg_inode_key keys[SG_INTERP_MAX];
	int n = sg_engine_scripts_resolve(&d->engine, keys, SG_INTERP_MAX, interpreter_unknown, d);
	int err = n < 0 ? n : sg_exec_bpf_set_interpreters(&d->kern, keys, (size_t)n);
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "bpf_map_update", err ? SG_SEV_CRITICAL : SG_SEV_INFO);
	sg_json_kv_str(&j, "map", "interpreters");
	sg_json_kv_u64(&j, "entries", n > 0 ? n : 0);
	sg_json_kv_str(&j, "result", err ? strerror(-err) : "ok");
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

/*
 * scripts: in enforce mode, the files a running interpreter may not read
 * are watched (a group and thread of their own; off in monitor mode and
 * without scripts:).
 */
static void sync_script_guard(struct daemon *d)
{
	bool want = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE && !d->opt.no_fanotify &&
		    sg_policy_scripts(d->engine.policy)->on;
	char err[256] = "";
	int n;

	if (!want) {
		daemon_unwatch_fd(d, sg_script_guard_dirs_fd(d->script_guard));
		sg_script_guard_stop(d->script_guard);
		d->script_guard = NULL;
		return;
	}
	if (!d->script_guard) {
		if (sg_script_guard_start(&d->script_guard, &d->audit, d->alerts, err, sizeof(err))) {
			daemon_note(d, "scripts", SG_SEV_WARNING, "sourced_files_unwatched", err);
			return;
		}
		daemon_watch_fd(d, sg_script_guard_dirs_fd(d->script_guard), EPOLLIN);
	}
	n = sg_script_guard_apply(d->script_guard, d->engine.policy, &d->engine);
	if (n < 0)
		daemon_note(d, "scripts", SG_SEV_WARNING, "sourced_files_unwatched", strerror(-n));
	if (sg_script_guard_dirs_skipped(d->script_guard)) {
		snprintf(err, sizeof(err), "%zu directories under deep globs are not watched (more "
			 "than 4096, deeper than 64, or names too long): an interpreter's reads there "
			 "are judged only by path and identity rules",
			 sg_script_guard_dirs_skipped(d->script_guard));
		daemon_note(d, "scripts", SG_SEV_WARNING, "sourced_files_partly_unwatched", err);
	}
}

/* Push the current policy into every active backend. */
void daemon_apply_policy(struct daemon *d)
{
	struct sg_exec_config cfg;

	if (d->kern_up) {
		cfg = kernel_config(d);
		sg_kernel_rules_apply(&d->kern, d->engine.policy, &d->audit);
		apply_interpreters(d);
		sg_exec_bpf_set_gate(&d->kern, cfg.enforce && !d->opt.no_hold);
		sg_exec_bpf_configure(&d->kern, &cfg);
		sg_kernel_library_rules_apply(&d->kern, d->engine.policy, &d->audit);
	}
	sync_script_guard(d);
	if (d->fan_up)
		sg_fanotify_exec_flush_cache(&d->fan);
	if (d->kern_up)
		sg_exec_bpf_clear_names(&d->kern);
	if (d->egress_up)
		daemon_apply_egress(d);
	if (d->files)
		sg_files_apply(d->files, d->engine.policy,
			       sg_engine_mode(&d->engine) == SG_MODE_ENFORCE, d->break_glass);
}

/* The mode changed under the running policy (break-glass, the guard): every backend follows. */
void daemon_mode_changed(struct daemon *d)
{
	d->engine.mode_override = daemon_mode_override(d);
	daemon_apply_policy(d);
	daemon_sync_fanotify(d);
	daemon_write_ready(d);
	daemon_notify_ready(d);
}

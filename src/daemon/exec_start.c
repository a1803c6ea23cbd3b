// SPDX-License-Identifier: Apache-2.0
/* Start-up of exec enforcement: tracepoint and BPF LSM, fanotify (enforce mode only), kill, hold. */
#include <errno.h>
#include <sys/epoll.h>

#include "daemon/daemon.h"
#include "sense/bpf_pins.h"
#include "sense/kdev.h"

/* fanotify runs only in enforce mode: start or stop it to match the current mode. */
void daemon_sync_fanotify(struct daemon *d)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;
	char err[256] = "";
	int e;

	if (!enforce && d->fan_up) {
		daemon_unwatch_fd(d, d->fan.fd);
		daemon_unwatch_fd(d, d->fan.mountinfo_fd);
		d->engine.cache_allowed = NULL;
		d->engine.mark_fs = NULL;
		if (d->kern_up)
			sg_exec_bpf_set_fanotify(&d->kern, -1);
		sg_fanotify_exec_stop(&d->fan);
		d->fan_up = false;
		daemon_backend_record(d, "fanotify", false, "monitor mode: nothing to block");
		return;
	}
	if (!enforce || d->fan_up) {
		if (!enforce)
			daemon_backend_record(d, "fanotify", false, "monitor mode: nothing to block");
		return;
	}
	if (d->opt.no_fanotify) {
		daemon_backend_record(d, "fanotify", false, "disabled by --disable-backend");
	} else if (!d->features.f[SG_FEAT_FAN_EXEC_PERM].usable) {
		daemon_backend_record(d, "fanotify", false, d->features.f[SG_FEAT_FAN_EXEC_PERM].detail);
	} else if (sg_fanotify_exec_start(&d->fan, &d->engine,
					  d->features.f[SG_FEAT_FAN_MARK_IGNORE].usable, err,
					  sizeof(err))) {
		daemon_backend_record(d, "fanotify", false, err);
	} else {
		d->fan_up = true;
		snprintf(err, sizeof(err), "FAN_OPEN_EXEC_PERM on %u filesystems%s", d->fan.nmarked,
			 d->fan.use_ignore ? ", ignore marks for allowed files" : "");
		daemon_backend_record(d, "fanotify", true, err);
		daemon_watch_fd(d, d->fan.fd, EPOLLIN);
		daemon_watch_fd(d, d->fan.mountinfo_fd, EPOLLPRI | EPOLLERR);
		if (d->fan.use_ignore) {
			d->engine.cache_allowed = sg_fanotify_exec_ignore;
			d->engine.cache_ctx = &d->fan;
		}
		d->engine.mark_fs = sg_fanotify_exec_mark_fs;
		d->engine.mark_ctx = &d->fan;
		/* From now on an exec fanotify did not see (a mount it has not marked) is held. */
		if (d->kern_up && (e = sg_exec_bpf_set_fanotify(&d->kern, d->fan.fd)))
			daemon_note(d, "fanotify", SG_SEV_WARNING, "unmarked_filesystems",
			     "cannot tell the kernel our fanotify group; execs from filesystems "
			     "mounted in other namespaces are killed after exec, not held");
	}
}

/* A copy of an interpreter, or a container's: the kernel holds its runs, the guard its opens. */
static int interpreter_found(void *ctx, const struct sg_file_id *id)
{
	struct daemon *d = ctx;
	struct sg_inode_key key = { .ino = id->ino, .dev = sg_kdev_from_st(id->dev) };
	int err = d->kern_up ? sg_exec_bpf_add_interpreter(&d->kern, &key) : -ENODEV;

	if (!err && d->script_guard)
		err = sg_script_guard_add_interpreter(d->script_guard, id);
	return err;
}

int daemon_start_backends(struct daemon *d)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;
	bool want_lsm = d->features.f[SG_FEAT_BPF_LSM].usable && !d->opt.no_lsm;
	char err[256] = "";
	int e;

	e = sg_exec_bpf_start(&d->kern, want_lsm, sg_engine_on_record, &d->engine, err, sizeof(err));
	if (e && want_lsm) {
		daemon_backend_record(d, "bpf_lsm", false, err);
		want_lsm = false;
		e = sg_exec_bpf_start(&d->kern, false, sg_engine_on_record, &d->engine, err,
				      sizeof(err));
	}
	if (e) {
		daemon_backend_record(d, "exec_tracepoint", false, err);
		return e;
	}
	d->kern_up = true;
	d->engine.kern = &d->kern;
	d->engine.interp_found = interpreter_found;
	d->engine.interp_ctx = d;
	daemon_pin_record(d, "bpf_pin", SG_PIN_EXEC, d->kern.adopted, d->kern.replaced_links);
	daemon_backend_record(d, "exec_tracepoint", true, "tp_btf/sched_process_exec, ring buffer");
	daemon_apply_policy(d);

	if (d->kern.lsm_attached)
		daemon_backend_record(d, "bpf_lsm", enforce, enforce ? "bprm_check_security + mmap_file attached"
							       : "attached; monitor mode never denies");
	else if (!want_lsm)
		daemon_backend_record(d, "bpf_lsm", false, d->opt.no_lsm ? "disabled by --disable-backend"
								 : d->features.f[SG_FEAT_BPF_LSM].detail);

	daemon_sync_fanotify(d);

	if (!enforce)
		daemon_backend_record(d, "bpf_kill", false, "monitor mode");
	else if (d->opt.no_kill)
		daemon_backend_record(d, "bpf_kill", false, "disabled by --disable-backend");
	else if (!d->features.f[SG_FEAT_SEND_SIGNAL].usable)
		daemon_backend_record(d, "bpf_kill", false, d->features.f[SG_FEAT_SEND_SIGNAL].detail);
	else
		daemon_backend_record(d, "bpf_kill", true, "bpf_send_signal(SIGKILL) at exec for identity and path rules");
	if (d->opt.no_hold)
		daemon_backend_record(d, "hold", false, "disabled by --disable-backend");
	else if (!enforce)
		daemon_backend_record(d, "hold", false, "monitor mode");
	else if (!d->kern.gate)
		daemon_backend_record(d, "hold", false, d->kern.gate_error[0] ? d->kern.gate_error :
			       "gate not attached: what needs a hold is killed at exec instead");
	else
		daemon_backend_record(d, "hold", enforce, "SIGSTOP at exec; page-fault gate kills a held process "
			       "resumed by anyone but the daemon, and what it forks");
	daemon_start_egress(d);
	daemon_sync_file_audit(d);
	daemon_start_shield(d);
	daemon_start_files(d);
	daemon_start_shield_ctl(d);
	if (d->opt.no_pidfd)
		daemon_backend_record(d, "pidfd_kill", false, "disabled by --disable-backend");
	else
		daemon_backend_record(d, "pidfd_kill", enforce, enforce ? "last resort for what ran past the kernel"
								 : "monitor mode");
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Policy changes while running: sysguardctl policy apply (the inbox), reload, break-glass. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "store/bundle_files.h"

/*
 * sysguardctl policy apply puts a policy (or bundle) in <state-dir>/policy.inbox;
 * the daemon checks it and writes its own policy file: with self-defence
 * nothing else may. A bad one is refused with a record and changes nothing.
 */
/* -1: an update was refused (keep everything as it is), 0 otherwise. `refuse`: why, unread. */
int daemon_take_policy_inbox(struct daemon *d, const char *refuse)
{
	char path[4200], err[1100] = "";
	struct sg_policy_error perr = { 0 };
	struct sg_policy *p = NULL;
	struct sg_json j;
	size_t len = 0;
	char *buf = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/policy.inbox", d->opt.state_dir);
	rc = daemon_read_file(path, &buf, &len);
	if (rc == -ENOENT)
		return 0;
	unlink(path);
	if (refuse) {
		snprintf(err, sizeof(err), "%s", refuse);
	} else if (rc) {
		snprintf(err, sizeof(err), "policy.inbox: %s", strerror(-rc));
	} else if (d->opt.ntrusted) {
		struct sg_bundle_verified v;
		enum sg_bundle_status st = sg_bundle_verify(d->keys, d->opt.ntrusted, buf, len,
							    d->bundle.version, &v, err, sizeof(err));

		if (st != SG_BUNDLE_OK)
			/* The same refusal as a bundle put in place by hand (POL-2). */
			daemon_bundle_record(d, "policy_bundle_rejected", SG_SEV_CRITICAL, path,
				      sg_bundle_status_name(st), err,
				      st == SG_BUNDLE_ROLLBACK ? &v.meta : NULL);
		else if (daemon_parse_policy(d, path, v.policy, v.policy_len, &p, &perr))
			snprintf(err, sizeof(err), "%s", perr.message);
		else
			err[0] = '\0';
	} else if (daemon_parse_policy(d, path, buf, len, &p, &perr)) {
		snprintf(err, sizeof(err), "%s", perr.message);
	}
	sg_policy_free(p);
	if (!err[0]) {
		if (d->files)
			rc = sg_files_write_policy(d->files, buf, len, err, sizeof(err));
		else
			rc = sg_file_replace(d->opt.policy_path, buf, len, 0600, err, sizeof(err));
	}
	free(buf);
	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "policy_update", err[0] ? SG_SEV_CRITICAL : SG_SEV_INFO);
	sg_json_kv_bytes(&j, "path", daemon_shown_path(d->opt.policy_path),
			 strlen(daemon_shown_path(d->opt.policy_path)));
	sg_json_kv_str(&j, "result", err[0] ? "refused" : "written");
	if (err[0])
		sg_json_kv_str(&j, "error", err);
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	/* sysguardctl waits for this answer. */
	snprintf(path, sizeof(path), "%s/policy.inbox.result", d->opt.state_dir);
	sg_file_replace(path, err[0] ? err : "written", strlen(err[0] ? err : "written"), 0600,
			err + sizeof(err) / 2, sizeof(err) / 2);
	return err[0] ? -1 : 0;
}

/*
 * <state-dir>/reload.result answers the reload that was asked for (sysguardctl
 * reload waits for it, so `systemctl reload` fails when a policy is refused).
 */
static void reload_result(struct daemon *d, const char *result)
{
	char path[4200], err[256];

	snprintf(path, sizeof(path), "%s/reload.result", d->opt.state_dir);
	sg_file_replace(path, result, strlen(result), 0644, err, sizeof(err));
}

static int reload(struct daemon *d)
{
	char old[SG_POLICY_VERSION_MAX], result[SG_POLICY_VERSION_MAX + 16];
	bool unchanged;
	struct sg_policy *p;
	struct sg_json j;

	/*
	 * FILE-3: a policy file changed behind the daemon's back is put back, a
	 * mount over it detached; a file still not the protected one refuses
	 * the reload (recorded), and a pending update with it.
	 */
	if (d->files && sg_files_verify_own(d->files)) {
		daemon_take_policy_inbox(d, "a file of the daemon is not the one it protects: "
				     "see self_defence foreign_file_refused in its audit log");
		reload_result(d, "refused: a file of the daemon is not the one it protects "
			      "(self_defence foreign_file_refused in the audit log)\n");
		return -1;
	}
	if (daemon_take_policy_inbox(d, NULL)) {
		reload_result(d, "refused: the policy handed over by sysguardctl policy apply "
			      "(policy_update in the audit log)\n");
		return -1;
	}
	p = daemon_load_policy(d, d->opt.policy_path, false, &unchanged);
	if (!p) {
		/* The running policy stays; load_policy said why. */
		reload_result(d, unchanged ? "unchanged\n"
					   : "refused: the running policy stays (policy_error or "
					     "policy_bundle_rejected in the audit log)\n");
		return unchanged ? 0 : -1;
	}
	snprintf(old, sizeof(old), "%s", sg_policy_version(d->engine.policy));
	sg_engine_set_policy(&d->engine, p);
	daemon_commit_bundle(d, d->opt.policy_path);
	/* A new policy gets a new chance to enforce, and its own guard. */
	d->guard.tripped = false;
	d->engine.mode_override = daemon_mode_override(d);
	daemon_apply_policy(d);
	daemon_sync_fanotify(d);
	daemon_sync_file_audit(d);
	daemon_guard_arm(d, daemon_now_ms(CLOCK_MONOTONIC));
	daemon_write_ready(d);
	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "policy_reload", SG_SEV_INFO);
	sg_json_kv_str(&j, "old_policy_version", old);
	sg_json_kv_str(&j, "new_policy_version", sg_policy_version(p));
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	snprintf(result, sizeof(result), "applied %s\n", sg_policy_version(p));
	reload_result(d, result);
	return 0;
}

int daemon_reload_policy(struct daemon *d)
{
	int rc;

	daemon_notify_reloading(d);
	rc = reload(d);
	daemon_notify_ready(d);
	return rc;
}

/*
 * POL-5 break-glass: while <state-dir>/break-glass exists (sysguardctl
 * break-glass on), the daemon runs in monitor mode whatever the policy says.
 * Checked at start and on SIGHUP, independent of the policy file, so a
 * broken policy cannot keep an operator locked out. True when it changed.
 */
bool daemon_check_break_glass(struct daemon *d)
{
	char path[4096], reason[512] = "";
	struct stat st;
	struct sg_json j;
	bool on;
	int fd;

	snprintf(path, sizeof(path), "%s/break-glass", d->opt.state_dir);
	on = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	if (on == d->break_glass)
		return false;
	d->break_glass = on;
	d->engine.mode_override = daemon_mode_override(d);
	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "break_glass", on ? SG_SEV_CRITICAL : SG_SEV_WARNING);
	sg_json_kv_str(&j, "state", on ? "on" : "off");
	sg_json_kv_str(&j, "mode", sg_mode_name(sg_engine_mode(&d->engine)));
	if (on) {
		ssize_t n = 0;

		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			n = read(fd, reason, sizeof(reason) - 1);
			close(fd);
		}
		sg_json_kv_bytes(&j, "reason", reason, n > 0 ? (size_t)n : 0);
		sg_json_kv_u64(&j, "by_uid", st.st_uid);
	}
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	fprintf(stderr, "sysguardd: break-glass %s: mode %s\n", on ? "ON" : "off",
		sg_mode_name(sg_engine_mode(&d->engine)));
	return true;
}

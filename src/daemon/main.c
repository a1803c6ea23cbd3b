// SPDX-License-Identifier: Apache-2.0
/* sysguardd: the start-up steps in order, the event loop, and a clean stop. */
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "report/container_record.h"
#include "store/bundle_files.h"
#include "sense/bpf_pins.h"
#include "sense/mounts.h"

static void mount_needed(struct daemon *d)
{
	static const struct { const char *dir, *type; } fs[] = {
		{ SG_BPFFS_PATH, "bpf" },
		{ SG_SECURITYFS_PATH, "securityfs" },
		/* The file-open audit's syscall tracepoints are found through tracefs. */
		{ SG_TRACEFS_PATH, "tracefs" },
	};
	size_t i;

	for (i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		int r = sg_ensure_mounted(fs[i].dir, fs[i].type);

		if (r > 0)
			daemon_note(d, "mount", SG_SEV_INFO, "mounted", fs[i].dir);
		else if (r < 0)
			daemon_note(d, "mount", SG_SEV_WARNING, "failed", fs[i].dir);
	}
}

static void raise_memlock(struct daemon *d)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };

	/* Kernels >= 5.11 charge BPF memory to the memcg; the limit may not matter. */
	if (setrlimit(RLIMIT_MEMLOCK, &r))
		daemon_note(d, "daemon", SG_SEV_INFO, "memlock",
		     "setrlimit(RLIMIT_MEMLOCK) refused; relying on memcg accounting");
}

/*
 * <state-dir>/sysguardd.pid, for logrotate's postrotate (SIGUSR1) and other
 * tools that expect one; removed at a clean stop.
 */
static void write_pidfile(struct daemon *d, bool remove)
{
	char path[4200], pid[32], err[256];
	int n;

	snprintf(path, sizeof(path), "%s/sysguardd.pid", d->opt.state_dir);
	if (remove) {
		unlink(path);
		return;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (sg_file_replace(path, pid, (size_t)n, 0644, err, sizeof(err)))
		daemon_note(d, "daemon", SG_SEV_WARNING, "pidfile", err);
}

/*
 * The log's directory, as for the state directory: without systemd's
 * LogsDirectory= (make install, a container) nothing else creates it.
 */
static int make_log_dir(const char *log_path)
{
	char dir[4096];
	char *slash;

	if (!log_path || snprintf(dir, sizeof(dir), "%s", log_path) >= (int)sizeof(dir))
		return 0;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "sysguardd: cannot create log directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* A start that fails after the log opened still writes the records that say why. */
static int stop_early(struct daemon *d, int rc)
{
	d->audit.on_line = NULL;
	sg_fleet_node_stop(d->fleet_node);
	sg_fleet_stop(d->fleet, 0);
	sg_audit_close(&d->audit);
	return rc;
}

/* The records of files and network name the container too. */
static bool daemon_workload_of(void *ctx, pid_t pid, uint64_t cgroup_id, const char *proc_cgroup,
			       struct sg_workload_info *out)
{
	if (proc_cgroup)
		return sg_workloads_lookup_cgroups(ctx, proc_cgroup, strlen(proc_cgroup), out);
	return sg_workloads_lookup(ctx, pid, cgroup_id, out);
}

int main(int argc, char **argv)
{
	struct daemon d = { .epfd = -1, .sigfd = -1 };
	char node[256], ready[4200];
	const char *env_node;
	struct sg_policy *p;
	bool unchanged;
	struct sg_json j;
	char kerr[512];
	size_t k;
	int err;

	/* The settings file is the pod's: read before the switch, while no thread exists. */
	if (daemon_parse_args(argc, argv, &d.opt) || daemon_apply_config(&d.opt) ||
	    daemon_join_host_mount_ns(&d.opt))
		return 2;
	daemon_block_signals();
	if (sodium_init() < 0) {
		fprintf(stderr, "sysguardd: libsodium failed to initialise\n");
		return 1;
	}
	for (k = 0; k < d.opt.ntrusted; k++) {
		if (sg_key_read_public(d.opt.trusted_key_paths[k], d.keys[k].pk, kerr, sizeof(kerr))) {
			fprintf(stderr, "sysguardd: --trusted-key: %s\n", kerr);
			return 2;
		}
	}
	env_node = d.opt.node_id ? d.opt.node_id : getenv("SYSGUARD_NODE_ID");
	if (!env_node || !*env_node)
		env_node = getenv("NODE_NAME");	/* Kubernetes Downward API: spec.nodeName */
	sg_node_id_default(node, sizeof(node), env_node);
	if (mkdir(d.opt.state_dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "sysguardd: cannot create state dir %s: %s\n", d.opt.state_dir,
			strerror(errno));
		return 1;
	}
	if (make_log_dir(d.opt.log_path))
		return 1;
	err = sg_audit_open(&d.audit, d.opt.log_path, d.opt.to_stdout, node);
	if (err) {
		fprintf(stderr, "sysguardd: cannot open audit log %s: %s\n",
			d.opt.log_path ? d.opt.log_path : "(none)", strerror(-err));
		return 1;
	}
	/* Before the first record, so the SIEM and the fleet get every record of this run. */
	if (daemon_start_siem(&d) || daemon_start_fleet(&d))
		return stop_early(&d, 2);
	d.started_ns = daemon_now_ms(CLOCK_MONOTONIC);
	sg_json_init(&j);
	sg_audit_begin(&d.audit, &j, "daemon_start", SG_SEV_INFO);
	sg_json_kv_str(&j, "version", SG_VERSION);
	sg_json_kv_i64(&j, "pid", getpid());
	sg_audit_commit(&d.audit, &j);
	sg_json_free(&j);
	write_pidfile(&d, false);

	raise_memlock(&d);
	mount_needed(&d);
	sg_probe_run(&d.features);
	sg_json_init(&j);
	sg_audit_begin(&d.audit, &j, "probe", SG_SEV_INFO);
	sg_probe_to_json(&d.features, &j);
	sg_audit_commit(&d.audit, &j);
	sg_json_free(&j);

	if (sg_engine_init(&d.engine, &d.audit)) {
		fprintf(stderr, "sysguardd: out of memory\n");
		return stop_early(&d, 1);
	}
	d.engine.no_pidfd_kill = d.opt.no_pidfd;
	d.engine.record_hashes = d.opt.record_hashes;
	daemon_check_break_glass(&d);
	if (daemon_start_alerts(&d) || daemon_start_api(&d) || daemon_start_grpc(&d))
		return stop_early(&d, 2);
	daemon_recovery_check(&d, daemon_now_ms(CLOCK_MONOTONIC));
	d.engine.mode_override = daemon_mode_override(&d);
	snprintf(d.engine.cgroup2_root, sizeof(d.engine.cgroup2_root), "%s", d.features.cgroup2_path);
	/* Containers from the runtimes' own state: without it, rules for containers match none. */
	d.engine.workloads = sg_workloads_new(sg_workload_default_roots, d.engine.cgroup2_root);
	if (!d.engine.workloads) {
		fprintf(stderr, "sysguardd: out of memory\n");
		return stop_early(&d, 1);
	}
	sg_record_set_workload_lookup(daemon_workload_of, d.engine.workloads);
	d.engine.workloads_changed = daemon_sync_scopes;
	d.engine.workloads_ctx = &d;
	p = daemon_load_policy(&d, d.opt.policy_path, true, &unchanged);
	if (!p)
		p = daemon_failsafe_policy(&d);
	if (!p) {
		fprintf(stderr, "sysguardd: internal error: failsafe policy does not parse\n");
		return stop_early(&d, 1);
	}
	sg_engine_set_policy(&d.engine, p);
	daemon_commit_bundle(&d, d.opt.policy_path);
	if (daemon_start_fleet_node(&d))
		return stop_early(&d, 2);

	err = daemon_start_backends(&d);
	if (err) {
		fprintf(stderr, "sysguardd: cannot start the exec sensor; is this root on a BTF kernel?\n");
		return stop_early(&d, 1);
	}
	if (daemon_setup_loop(&d)) {
		fprintf(stderr, "sysguardd: event loop: %s\n", strerror(errno));
		return stop_early(&d, 1);
	}
	/*
	 * Ready means its start is on record: the records of every backend are
	 * written before the ready file says so (bounded: a stalled reader of
	 * stdout delays it a quarter of a second at most, and only now).
	 */
	sg_audit_flush(&d.audit, 250);
	daemon_write_ready(&d);
	daemon_guard_arm(&d, daemon_now_ms(CLOCK_MONOTONIC));
	daemon_watchdog_init(&d);
	daemon_notify_ready(&d);
	fprintf(stderr, "sysguardd: running, mode %s, policy %s\n",
		sg_mode_name(sg_engine_mode(&d.engine)), sg_policy_version(d.engine.policy));
	daemon_run(&d);
	daemon_notify_stopping(&d);

	snprintf(ready, sizeof(ready), "%s/ready", d.opt.state_dir);
	unlink(ready);
	write_pidfile(&d, true);
	/*
	 * No hold from here on, before fanotify goes (its filesystems would look
	 * unmarked): a hold taken now would never be answered. One taken just
	 * before is in the ring buffer, read below once in-flight execs are done.
	 */
	sg_exec_bpf_quiesce(&d.kern);
	usleep(20 * 1000);
	if (d.fan_up)
		sg_fanotify_exec_stop(&d.fan);
	sg_exec_bpf_consume(&d.kern);
	sg_exec_bpf_release_all(&d.kern);
	/* A clean stop ends the in-kernel enforcement too; only a killed daemon leaves it pinned. */
	sg_pins_remove(SG_PIN_EXEC, NULL, NULL);
	daemon_pin_record(&d, "bpf_unpin", SG_PIN_EXEC, false, 0);
	sg_exec_bpf_stop(&d.kern);
	if (d.egress_up) {
		sg_egress_consume(&d.egress);
		sg_pins_remove(SG_PIN_EGRESS, NULL, NULL);
		daemon_pin_record(&d, "bpf_unpin", SG_PIN_EGRESS, false, 0);
		sg_egress_stop(&d.egress);
	}
	free(d.scope_ids);
	if (d.fa_loaded) {
		sg_open_audit_consume(&d.fa);
		sg_open_audit_stop(&d.fa);
	}
	sg_policy_watch_close(&d.watch);
	sg_shield_ctl_stop(d.shield_ctl);
	/* Protection ends with the daemon: flags and marks come off (a killed daemon's flags stay). */
	sg_files_stop(d.files);
	sg_script_guard_stop(d.script_guard);
	daemon_note(&d, "daemon_stop", SG_SEV_INFO, NULL, NULL);
	sg_alerts_stop(d.alerts);
	d.audit.on_line = NULL;
	sg_api_stop(d.api);
	daemon_stop_grpc(&d);
	sg_feed_free(d.feed);
	sg_metrics_http_stop(d.metrics);
	sg_siem_stop(d.siem, SG_SIEM_STOP_DRAIN_MS);
	sg_fleet_node_stop(d.fleet_node);
	sg_fleet_stop(d.fleet, SG_FLEET_STOP_DRAIN_MS);
	sg_engine_free(&d.engine);
	sg_audit_close(&d.audit);
	sg_config_free(&d.opt.config);
	daemon_crash_clean_stop(&d);
	return 0;
}

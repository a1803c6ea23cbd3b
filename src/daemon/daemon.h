/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysguardd's own room: the options it was started with and the state of
 * every stage it wires together (sense -> decide -> act -> report). Each
 * start-up step and each job of the running daemon has its own file here;
 * main.c is the list of steps in order.
 */
#ifndef SG_DAEMON_H
#define SG_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act/egress.h"
#include "act/fanotify_exec.h"
#include "act/files.h"
#include "act/script_guard.h"
#include "act/policy_watch.h"
#include "act/shield_ctl.h"
#include "config/config.h"
#include "decide/engine.h"
#include "policy/bundle.h"
#include "report/alert.h"
#include "report/api.h"
#include "report/audit.h"
#include "report/counters.h"
#include "report/feed.h"
#include "report/fleet_node.h"
#include "report/fleet_publish.h"
#include "report/json.h"
#include "report/metrics_http.h"
#include "report/siem.h"
#include "sense/exec_bpf.h"
#include "sense/open_audit.h"
#include "sense/probe.h"
#include "version.h"

#define SG_POLICY_MAX_BYTES (16u << 20)
/* Ring-buffer wake-ups are batched in the kernel; this bounds the latency. */
#define SG_POLL_MS 5
/* Per-CIDR Shield hits in stats.json only up to this many rules: a stats tick stays cheap. */
#define SG_SHIELD_STATS_MAX_CIDRS 20000
#define SG_STATS_MS 1000
/* At a clean stop, the SIEM export gets this long to send what is queued (daemon_stop included). */
#define SG_SIEM_STOP_DRAIN_MS 2000
/* ...and the fleet export this long to publish it; what is left stays in its spool. */
#define SG_FLEET_STOP_DRAIN_MS 2000

#define SG_MAX_TRUSTED_KEYS 16
#define SG_CONFIG_DEFAULT "/etc/sysguard/sysguard.yaml"
#define SG_BUNDLE_STATE_DEFAULT "/var/lib/sysguard/policy-version"

struct options {
	const char *config_path;
	const char *policy_path;
	const char *policy_dir;		/* policy fragments (policy.d); NULL: none */
	const char *log_path;
	bool log_none;
	const char *state_dir;
	const char *node_id;
	bool to_stdout;
	bool strict;
	int mode;		/* -1: as the policy says */
	const char *crash_limit_arg;
	bool record_hashes;	/* every exec record carries the program's sha256 */
	unsigned crash_limit;	/* unclean starts in a row before starting in monitor mode; 0: off */
	bool no_lsm, no_fanotify, no_kill, no_hold, no_pidfd, no_egress, no_files;
	bool no_file_audit;	/* --disable-backend file_audit */
	bool no_file_refusal;	/* --disable-backend file_refusal */
	bool record_refusals;	/* --record-immutable-refusals: costs every system call */
	/* FILE-1..3 */
	const char *self_defence;	/* "on" (default) or "off" */
	const char *blocklist;
	/* Alerts: NULL / -1 when not given on the command line. */
	bool alert_enabled;
	const char *alert_url;
	const char *alert_format;
	const char *alert_ca_bundle;
	const char *alert_dedup_window;
	const char *alert_per_minute;
	const char *alert_timeout_ms;
	/* POL-2: with trusted keys, the policy file must be a signed bundle. */
	const char *trusted_key_paths[SG_MAX_TRUSTED_KEYS];
	size_t ntrusted;
	const char *bundle_state;
	/* OPS-2 monitoring API: on when a token file is given. */
	const char *api_token_file;
	const char *api_socket;
	const char *api_port;
	/* The gRPC event stream: on when a token file or a TCP address is given. */
	const char *grpc_token_file;
	const char *grpc_socket;
	const char *grpc_address;
	const char *grpc_tls_cert;
	const char *grpc_tls_key;
	const char *grpc_tls_client_ca;
	const char *grpc_buffer;
	/* The metrics listener for a central Prometheus: off unless an address is given. */
	const char *metrics_address;
	const char *metrics_token_file;
	const char *metrics_tls_cert;
	const char *metrics_tls_key;
	/* OPS-4 SIEM export: NULL when not given on the command line. */
	bool siem_enabled;
	const char *siem_address;
	const char *siem_transport;
	const char *siem_ca_file;
	const char *siem_server_name;
	const char *siem_cert_file;
	const char *siem_key_file;
	const char *siem_queue;
	const char *siem_facility;
	/* FLEET-1 events to JetStream: off unless a URL is given. */
	struct sg_fleet_conn_config fleet_conn;	/* url, credentials, TLS */
	char fleet_inbox[300];			/* its inbox prefix, the node's own */
	const char *fleet_stream;
	const char *fleet_replicas;
	const char *fleet_spool_dir;
	const char *fleet_spool_max_bytes;
	const char *fleet_queue;
	/* Policy from the bus (with a group) and the node's status entry. */
	const char *fleet_group;
	const char *fleet_policy_bucket;
	const char *fleet_status_ttl;
	/* In a pod: join this mount namespace (the host's) before anything starts. */
	const char *host_mount_ns;
	struct sg_config config;
};

/* The policy's guard: deny times of the last max_denies + 1 denied execs while armed. */
struct sg_guard_state {
	bool armed;			/* the policy started enforcing less than for_s ago */
	bool tripped;			/* too many denies: monitor mode until the next reload */
	uint64_t until;			/* ms, monotonic */
	uint64_t denied_seen;		/* engine's denied count already taken in */
	uint64_t *times;
	size_t next, filled;
};

struct daemon {
	struct options opt;
	struct sg_audit audit;
	struct sg_features features;
	struct sg_engine engine;
	struct sg_exec_bpf kern;
	bool kern_up;
	struct sg_fanotify_exec fan;
	bool fan_up;
	struct sg_egress egress;
	bool egress_up;
	uint64_t *scope_ids;		/* container cgroups given egress scope bits (scopes.c) */
	size_t nscope_ids;
	struct sg_open_audit fa;	/* FILE-4 file-open audit, loaded once rules need it */
	bool fa_loaded;
	int fa_state;			/* last "backend" record: 0 none, 1 inactive, 2 active, 3 disabled, 4 failed */
	struct sg_policy_watch watch;
	struct sg_files *files;		/* FILE-1..3; NULL when off */
	struct sg_script_guard *script_guard;	/* scripts: a running interpreter's reads; NULL when off */
	struct sg_shield_ctl *shield_ctl;	/* BPF-7: sysguardctl shield goes through us */
	bool break_glass;		/* POL-5: forced to monitor mode by <state-dir>/break-glass */
	/* POL-2 */
	struct sg_bundle_key keys[SG_MAX_TRUSTED_KEYS];
	struct sg_bundle_meta bundle;		/* of the policy in force, when bundle.version */
	uint8_t bundle_hash[32];
	struct sg_bundle_meta pending;		/* verified, persisted once installed */
	uint8_t pending_hash[32];
	struct sg_alerts *alerts;
	struct sg_api *api;
	struct sg_feed *feed;		/* recent records for the API and gRPC; NULL when both are off */
	struct sg_grpc *grpc;
	struct sg_metrics_http *metrics;
	struct sg_siem *siem;
	struct sg_fleet *fleet;
	struct sg_fleet_node *fleet_node;
	uint64_t rb_drops_seen;
	uint64_t started_ns;
	int epfd;
	int sigfd;
	struct sg_guard_state guard;
	char recovery[32];		/* why this run is in monitor mode whatever the policy says */
	uint64_t crash_check_at;	/* when this run counts as stable (ms), 0: done */
	uint64_t watchdog_ms;		/* systemd's WatchdogSec, 0: off */
	uint64_t watchdog_next;
};

/* options.c */
int daemon_parse_args(int argc, char **argv, struct options *o);
/* Settings the command line left unset come from --config, then the defaults. */
int daemon_apply_config(struct options *o);

/* host_ns.c: --host-mount-ns, the operator's paths reached in the pod's files afterwards. */
int daemon_join_host_mount_ns(struct options *o);
/* A path as the operator gave it (for records and the ready file). */
const char *daemon_shown_path(const char *path);

/* records.c: the daemon's records about itself. */
void daemon_note(struct daemon *d, const char *type, enum sg_severity sev, const char *key,
		 const char *val);
void daemon_backend_record(struct daemon *d, const char *name, bool active, const char *detail);
void daemon_pin_record(struct daemon *d, const char *type, const char *dir, bool adopted,
		       unsigned replaced);
void daemon_bundle_record(struct daemon *d, const char *type, enum sg_severity sev,
			  const char *path, const char *status, const char *msg,
			  const struct sg_bundle_meta *m);

void daemon_reopen_log(struct daemon *d);
void daemon_alert(struct daemon *d, uint64_t event_id, const char *kind, const char *severity,
		  const char *action, const char *detail);

/* outputs.c: each returns 0, or non-zero when a bad setting must stop the start. */
int daemon_start_siem(struct daemon *d);
int daemon_start_fleet(struct daemon *d);
int daemon_start_alerts(struct daemon *d);
int daemon_start_api(struct daemon *d);	/* the metrics listener too */
/* Every committed record goes to the outputs that run from then on. */
void daemon_outputs_on(struct daemon *d);
/* The records the API and the gRPC service share (d->feed); 0, or -errno with a message. */
int daemon_make_feed(struct daemon *d);
/* A token file's content without the line end editors and `echo` leave; NULL with a message. */
char *daemon_read_token(const char *what, const char *path, size_t *len);

/* grpc_start.c: the gRPC event stream (docs/grpc.md); 0, or 2 when a bad setting stops the start. */
int daemon_start_grpc(struct daemon *d);
void daemon_stop_grpc(struct daemon *d);

/* fleet_node.c: policy from the bus and the status entry (docs/fleet.md). */
int daemon_check_fleet_node(struct daemon *d);
int daemon_start_fleet_node(struct daemon *d);
void daemon_fleet_node_status(struct daemon *d, const struct sg_counters *c);

/* policy_load.c */
int daemon_read_file(const char *path, char **out, size_t *len);
/* Parse a policy read from `path` with the fragments of --policy-dir (policy.d). */
int daemon_parse_policy(struct daemon *d, const char *path, const char *buf, size_t len,
			struct sg_policy **out, struct sg_policy_error *perr);
struct sg_policy *daemon_load_policy(struct daemon *d, const char *path, bool at_start,
				     bool *unchanged);
struct sg_policy *daemon_failsafe_policy(struct daemon *d);
void daemon_commit_bundle(struct daemon *d, const char *path);

/* policy_update.c */
int daemon_take_policy_inbox(struct daemon *d, const char *refuse);
/* 0: the new policy is in force (or was already); -1: refused, the old one stays. */
int daemon_reload_policy(struct daemon *d);
bool daemon_check_break_glass(struct daemon *d);

/* apply.c */
void daemon_apply_policy(struct daemon *d);
void daemon_apply_egress(struct daemon *d);
void daemon_mode_changed(struct daemon *d);

/* exec_start.c, net_start.c, files_start.c */
int daemon_start_backends(struct daemon *d);
void daemon_sync_fanotify(struct daemon *d);
void daemon_start_egress(struct daemon *d);
void daemon_start_shield(struct daemon *d);
void daemon_start_shield_ctl(struct daemon *d);
bool daemon_self_defence_on(const struct daemon *d);
void daemon_start_files(struct daemon *d);
void daemon_sync_file_audit(struct daemon *d);

/* state.c */
void daemon_write_state(struct daemon *d, const char *name, struct sg_json *j);
void daemon_write_ready(struct daemon *d);
void daemon_write_stats(struct daemon *d);
/* The counters of this instant, from the engine and the backends; sg_counters_free after. */
void daemon_collect_counters(struct daemon *d, struct sg_counters *c);

/* notify.c: systemd's service manager protocol; nothing when not started by systemd. */
void daemon_notify_ready(struct daemon *d);
void daemon_notify_reloading(struct daemon *d);
void daemon_notify_stopping(struct daemon *d);
void daemon_watchdog_init(struct daemon *d);
void daemon_watchdog_tick(struct daemon *d, uint64_t now_ms);

/* guard.c: monitor mode by itself (policy guard, crash loop, boot parameter). */
int daemon_mode_override(const struct daemon *d);
void daemon_guard_arm(struct daemon *d, uint64_t now_ms);
void daemon_guard_tick(struct daemon *d, uint64_t now_ms);
void daemon_recovery_check(struct daemon *d, uint64_t now_ms);
void daemon_crash_tick(struct daemon *d, uint64_t now_ms);
void daemon_crash_clean_stop(struct daemon *d);

/* loop.c */
uint64_t daemon_now_ms(clockid_t c);
void daemon_watch_fd(struct daemon *d, int fd, uint32_t events);
void daemon_unwatch_fd(struct daemon *d, int fd);
void daemon_block_signals(void);
int daemon_setup_loop(struct daemon *d);
void daemon_run(struct daemon *d);

/* scopes.c: the kernel's container cgroups for scoped egress rules (engine hook). */
void daemon_sync_scopes(void *ctx);
void daemon_sync_egress_scopes(struct daemon *d);
/* file_audit rules scoped with container:, as the cgroups of the containers they match. */
size_t daemon_file_audit_containers(struct daemon *d, struct sg_open_container **out);
void daemon_file_audit_containers_free(struct sg_open_container *v, size_t n);
bool daemon_has_scoped_file_audit(const struct daemon *d);
void daemon_record_scope_error(struct daemon *d, int err);

#endif

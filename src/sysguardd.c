// SPDX-License-Identifier: Apache-2.0
/*
 * sysguardd: sense (exec tracepoint, fanotify) -> decide (policy engine) ->
 * act (BPF LSM, fanotify deny, in-kernel kill, pidfd kill) -> report (audit).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <sodium.h>

#include "act/egress.h"
#include "act/fanotify_exec.h"
#include "act/files.h"
#include "act/kernel_rules.h"
#include "act/policy_watch.h"
#include "act/shield_stats.h"
#include "act/shield_ctl.h"
#include "act/shield_guard.h"
#include "net/cidr.h"
#include "config/config.h"
#include "policy/bundle.h"
#include "store/bundle_files.h"
#include "decide/engine.h"
#include "report/alert.h"
#include "report/api.h"
#include "report/metrics.h"
#include "report/siem.h"
#include "report/syslog5424.h"
#include "report/audit.h"
#include "sense/bpf_pins.h"
#include "sense/exec_bpf.h"
#include "sense/mounts.h"
#include "sense/open_audit.h"
#include "sense/probe.h"

#define SG_VERSION "0.1.0"
#define SG_POLICY_MAX_BYTES (16u << 20)
/* Ring-buffer wake-ups are batched in the kernel; this bounds the latency. */
#define SG_POLL_MS 5
/* Per-CIDR Shield hits in stats.json only up to this many rules: a stats tick stays cheap. */
#define SG_SHIELD_STATS_MAX_CIDRS 20000
#define SG_STATS_MS 1000
/* At a clean stop, the SIEM export gets this long to send what is queued (daemon_stop included). */
#define SG_SIEM_STOP_DRAIN_MS 2000

/* What runs when the policy cannot be had at start (POL-4). */
static const char failsafe_closed[] = "version: \"failsafe-closed\"\nmode: enforce\ndefault: deny\n";
static const char failsafe_open[] = "version: \"failsafe-open\"\nmode: monitor\ndefault: allow\n";

#define SG_MAX_TRUSTED_KEYS 16
#define SG_BUNDLE_STATE_DEFAULT "/var/lib/sysguard/policy-version"

struct options {
	const char *config_path;
	const char *policy_path;
	const char *log_path;
	bool log_none;
	const char *state_dir;
	const char *node_id;
	bool to_stdout;
	bool strict;
	int mode;		/* -1: as the policy says */
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
	struct sg_config config;
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
	struct sg_open_audit fa;	/* FILE-4 file-open audit, loaded once rules need it */
	bool fa_loaded;
	int fa_state;			/* last "backend" record: 0 none, 1 inactive, 2 active, 3 disabled, 4 failed */
	struct sg_policy_watch watch;
	struct sg_files *files;		/* FILE-1..3; NULL when off */
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
	struct sg_siem *siem;
	uint64_t rb_drops_seen;
	uint64_t started_ns;
	int epfd;
	int sigfd;
};

static uint64_t now_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysguardd [options]\n"
		"  --policy FILE       policy file (default /etc/sysguard/policy.yaml)\n"
		"  --log FILE          audit log, JSON lines (default /var/log/sysguard/audit.log; '-' for none)\n"
		"  --stdout            also write audit records to stdout\n"
		"  --state-dir DIR     ready/stats files (default /run/sysguard)\n"
		"  --node-id ID        node_id in records (default $SYSGUARD_NODE_ID, $NODE_NAME, hostname)\n"
		"  --mode MODE         monitor|enforce, overrides the policy's mode\n"
		"  --strict            policy unavailable at start: fail closed (deny all execs)\n"
		"  --trusted-key PUB   the policy file must be a bundle signed by this key (repeatable)\n"
		"  --bundle-state FILE last accepted bundle version (default " SG_BUNDLE_STATE_DEFAULT ")\n"
		"  --api-token-file F  serve the monitoring API (bearer token in F) on <state-dir>/api.sock\n"
		"  --api-socket PATH   ...on this Unix socket instead; --api-port N: also 127.0.0.1:N\n"
		"                      instead of open (monitor, allow all)\n"
		"  --disable-backend B bpf_lsm|fanotify|bpf_kill|hold|pidfd_kill|egress|files|file_audit|file_refusal (testing, diagnosis)\n"
		"  --config FILE       settings file (YAML); command-line options win\n"
		"  --self-defence on|off  protect the daemon's binary, config and policy (default on)\n"
		"  --record-immutable-refusals  without BPF LSM, also record what the immutable flag\n"
		"                      refuses (rm, mv, truncate... of protected files); every system\n"
		"                      call on the host then costs ~0.1 us more (docs/file-protection.md)\n"
		"  --blocklist FILE    files protected by sysguardctl block (default /var/lib/sysguard/blocklist)\n"
		"  --alert-enabled     start the alert dispatcher (webhooks for denies and failures)\n"
		"  --alert-url URL     http:// or https:// webhook\n"
		"  --alert-format F    slack|teams (default slack)\n"
		"  --alert-dedup-window S  drop repeats of (exe, severity) within S seconds (default 60)\n"
		"  --alert-per-minute N    at most N alerts a minute (default 30)\n"
		"  --alert-ca-bundle FILE  CA certificates for HTTPS (default: the system's)\n"
		"  --alert-timeout-ms MS   per request (default 5000)\n"
		"  --siem-enabled      export every audit record as RFC 5424 syslog (docs/siem.md)\n"
		"  --siem-address H:P  receiver, host:port or [v6]:port (port default 514 tcp, 6514 tls)\n"
		"  --siem-transport T  tcp|tls (default tls)\n"
		"  --siem-ca-file FILE     CA certificates to verify the receiver (default: the system's)\n"
		"  --siem-server-name N    name or IP its certificate must carry (default: the host)\n"
		"  --siem-cert-file FILE   client certificate chain for mutual TLS (with --siem-key-file)\n"
		"  --siem-key-file FILE    its private key\n"
		"  --siem-queue N      records waiting while the receiver is slow or away (default 4096)\n"
		"  --siem-facility F   syslog facility, kern..local7 (default authpriv)\n"
		"  --version\n");
}

/* Long options without a one-letter code; a range of their own so other options cannot collide. */
enum {
	OPT_SIEM_ENABLED = 0x5100,
	OPT_SIEM_ADDRESS,
	OPT_SIEM_TRANSPORT,
	OPT_SIEM_CA_FILE,
	OPT_SIEM_SERVER_NAME,
	OPT_SIEM_CERT_FILE,
	OPT_SIEM_KEY_FILE,
	OPT_SIEM_QUEUE,
	OPT_SIEM_FACILITY,
	OPT_RECORD_IMMUTABLE_REFUSALS,
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "stdout", no_argument, NULL, 'o' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "node-id", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "strict", no_argument, NULL, 'S' },
		{ "disable-backend", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "alert-enabled", no_argument, NULL, 'A' },
		{ "alert-url", required_argument, NULL, 'U' },
		{ "alert-format", required_argument, NULL, 'F' },
		{ "alert-dedup-window", required_argument, NULL, 'W' },
		{ "alert-per-minute", required_argument, NULL, 'R' },
		{ "alert-ca-bundle", required_argument, NULL, 'C' },
		{ "alert-timeout-ms", required_argument, NULL, 'T' },
		{ "siem-enabled", no_argument, NULL, OPT_SIEM_ENABLED },
		{ "siem-address", required_argument, NULL, OPT_SIEM_ADDRESS },
		{ "siem-transport", required_argument, NULL, OPT_SIEM_TRANSPORT },
		{ "siem-ca-file", required_argument, NULL, OPT_SIEM_CA_FILE },
		{ "siem-server-name", required_argument, NULL, OPT_SIEM_SERVER_NAME },
		{ "siem-cert-file", required_argument, NULL, OPT_SIEM_CERT_FILE },
		{ "siem-key-file", required_argument, NULL, OPT_SIEM_KEY_FILE },
		{ "siem-queue", required_argument, NULL, OPT_SIEM_QUEUE },
		{ "siem-facility", required_argument, NULL, OPT_SIEM_FACILITY },
		{ "trusted-key", required_argument, NULL, 'K' },
		{ "bundle-state", required_argument, NULL, 'B' },
		{ "api-token-file", required_argument, NULL, 'a' },
		{ "api-socket", required_argument, NULL, 'u' },
		{ "api-port", required_argument, NULL, 'P' },
		{ "self-defence", required_argument, NULL, 'D' },
		{ "record-immutable-refusals", no_argument, NULL, OPT_RECORD_IMMUTABLE_REFUSALS },
		{ "blocklist", required_argument, NULL, 'b' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct options){ .mode = -1 };
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'p': o->policy_path = optarg; break;
		case 'l': o->log_path = optarg; break;
		case 'o': o->to_stdout = true; break;
		case 's': o->state_dir = optarg; break;
		case 'n': o->node_id = optarg; break;
		case 'S': o->strict = true; break;
		case 'm':
			if (!strcmp(optarg, "monitor"))
				o->mode = SG_MODE_MONITOR;
			else if (!strcmp(optarg, "enforce"))
				o->mode = SG_MODE_ENFORCE;
			else {
				fprintf(stderr, "sysguardd: --mode must be monitor or enforce, not '%s'\n", optarg);
				return -1;
			}
			break;
		case 'd':
			if (!strcmp(optarg, "bpf_lsm"))
				o->no_lsm = true;
			else if (!strcmp(optarg, "fanotify"))
				o->no_fanotify = true;
			else if (!strcmp(optarg, "bpf_kill"))
				o->no_kill = true;
			else if (!strcmp(optarg, "hold"))
				o->no_hold = true;
			else if (!strcmp(optarg, "pidfd_kill"))
				o->no_pidfd = true;
			else if (!strcmp(optarg, "egress"))
				o->no_egress = true;
			else if (!strcmp(optarg, "file_audit"))
				o->no_file_audit = true;
			else if (!strcmp(optarg, "files"))
				o->no_files = true;
			else if (!strcmp(optarg, "file_refusal"))
				o->no_file_refusal = true;
			else {
				fprintf(stderr, "sysguardd: unknown backend '%s' (bpf_lsm, fanotify, bpf_kill, hold, pidfd_kill, egress, files, file_audit, file_refusal)\n", optarg);
				return -1;
			}
			break;
		case 'c': o->config_path = optarg; break;
		case 'K':
			if (o->ntrusted == SG_MAX_TRUSTED_KEYS) {
				fprintf(stderr, "sysguardd: at most %d --trusted-key\n", SG_MAX_TRUSTED_KEYS);
				return -1;
			}
			o->trusted_key_paths[o->ntrusted++] = optarg;
			break;
		case 'B': o->bundle_state = optarg; break;
		case 'a': o->api_token_file = optarg; break;
		case 'u': o->api_socket = optarg; break;
		case 'P': o->api_port = optarg; break;
		case 'D': o->self_defence = optarg; break;
		case OPT_RECORD_IMMUTABLE_REFUSALS: o->record_refusals = true; break;
		case 'b': o->blocklist = optarg; break;
		case 'A': o->alert_enabled = true; break;
		case 'U': o->alert_url = optarg; break;
		case 'F': o->alert_format = optarg; break;
		case 'W': o->alert_dedup_window = optarg; break;
		case 'R': o->alert_per_minute = optarg; break;
		case 'C': o->alert_ca_bundle = optarg; break;
		case 'T': o->alert_timeout_ms = optarg; break;
		case OPT_SIEM_ENABLED: o->siem_enabled = true; break;
		case OPT_SIEM_ADDRESS: o->siem_address = optarg; break;
		case OPT_SIEM_TRANSPORT: o->siem_transport = optarg; break;
		case OPT_SIEM_CA_FILE: o->siem_ca_file = optarg; break;
		case OPT_SIEM_SERVER_NAME: o->siem_server_name = optarg; break;
		case OPT_SIEM_CERT_FILE: o->siem_cert_file = optarg; break;
		case OPT_SIEM_KEY_FILE: o->siem_key_file = optarg; break;
		case OPT_SIEM_QUEUE: o->siem_queue = optarg; break;
		case OPT_SIEM_FACILITY: o->siem_facility = optarg; break;
		case 'V': printf("sysguardd %s\n", SG_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sysguardd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int read_file(const char *path, char **out, size_t *len);

static const char *const config_keys[] = {
	"policy", "log", "state_dir", "node_id", "mode", "strict",
	"alerts.enabled", "alerts.url", "alerts.format", "alerts.dedup_window_s",
	"alerts.per_minute", "alerts.ca_bundle", "alerts.timeout_ms",
	"shield.interfaces", "shield.generic", "shield.list",
	"api.token_file", "api.socket", "api.port", "self_defence", "files.blocklist",
	"siem.enabled", "siem.address", "siem.transport", "siem.ca_file", "siem.server_name",
	"siem.cert_file", "siem.key_file", "siem.queue", "siem.facility", NULL,
};

/* Settings the command line left unset come from --config, then the defaults. */
static int apply_config(struct options *o)
{
	struct sg_config *c = &o->config;
	const char *v;
	char err[512];
	size_t len = 0;
	char *buf = NULL;
	int rc;

	if (o->config_path) {
		rc = read_file(o->config_path, &buf, &len);
		if (rc) {
			fprintf(stderr, "sysguardd: cannot read config %s: %s\n", o->config_path,
				strerror(-rc));
			return rc;
		}
		rc = sg_config_parse(buf, len, o->config_path, c, err, sizeof(err));
		free(buf);
		if (!rc)
			rc = sg_config_check_keys(c, config_keys, o->config_path, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "sysguardd: %s\n", err);
			return rc;
		}
	}
#define FROM_CONFIG(field, key) do { if (!o->field) o->field = sg_config_get(c, key); } while (0)
	FROM_CONFIG(policy_path, "policy");
	FROM_CONFIG(log_path, "log");
	FROM_CONFIG(state_dir, "state_dir");
	FROM_CONFIG(node_id, "node_id");
	FROM_CONFIG(alert_url, "alerts.url");
	FROM_CONFIG(alert_format, "alerts.format");
	FROM_CONFIG(alert_dedup_window, "alerts.dedup_window_s");
	FROM_CONFIG(alert_per_minute, "alerts.per_minute");
	FROM_CONFIG(alert_ca_bundle, "alerts.ca_bundle");
	FROM_CONFIG(alert_timeout_ms, "alerts.timeout_ms");
	FROM_CONFIG(api_token_file, "api.token_file");
	FROM_CONFIG(api_socket, "api.socket");
	FROM_CONFIG(api_port, "api.port");
	FROM_CONFIG(self_defence, "self_defence");
	FROM_CONFIG(blocklist, "files.blocklist");
	FROM_CONFIG(siem_address, "siem.address");
	FROM_CONFIG(siem_transport, "siem.transport");
	FROM_CONFIG(siem_ca_file, "siem.ca_file");
	FROM_CONFIG(siem_server_name, "siem.server_name");
	FROM_CONFIG(siem_cert_file, "siem.cert_file");
	FROM_CONFIG(siem_key_file, "siem.key_file");
	FROM_CONFIG(siem_queue, "siem.queue");
	FROM_CONFIG(siem_facility, "siem.facility");
#undef FROM_CONFIG
	if (o->mode < 0 && (v = sg_config_get(c, "mode"))) {
		if (strcmp(v, "monitor") && strcmp(v, "enforce")) {
			fprintf(stderr, "sysguardd: %s: mode must be monitor or enforce\n", o->config_path);
			return -EINVAL;
		}
		o->mode = strcmp(v, "monitor") ? SG_MODE_ENFORCE : SG_MODE_MONITOR;
	}
	if ((v = sg_config_get(c, "strict")) && !o->strict && sg_config_bool(v, &o->strict)) {
		fprintf(stderr, "sysguardd: %s: strict must be true or false\n", o->config_path);
		return -EINVAL;
	}
	if ((v = sg_config_get(c, "alerts.enabled")) && !o->alert_enabled &&
	    sg_config_bool(v, &o->alert_enabled)) {
		fprintf(stderr, "sysguardd: %s: alerts.enabled must be true or false\n", o->config_path);
		return -EINVAL;
	}
	if ((v = sg_config_get(c, "siem.enabled")) && !o->siem_enabled &&
	    sg_config_bool(v, &o->siem_enabled)) {
		fprintf(stderr, "sysguardd: %s: siem.enabled must be true or false\n", o->config_path);
		return -EINVAL;
	}
	if (o->self_defence && strcmp(o->self_defence, "on") && strcmp(o->self_defence, "off") &&
	    strcmp(o->self_defence, "true") && strcmp(o->self_defence, "false")) {
		fprintf(stderr, "sysguardd: self-defence must be on or off, not '%s'\n", o->self_defence);
		return -EINVAL;
	}
	if (!o->blocklist)
		o->blocklist = "/var/lib/sysguard/blocklist";
	if (!o->policy_path)
		o->policy_path = "/etc/sysguard/policy.yaml";
	if (!o->log_path)
		o->log_path = "/var/log/sysguard/audit.log";
	if (!strcmp(o->log_path, "-"))
		o->log_path = NULL;
	if (!o->state_dir)
		o->state_dir = "/run/sysguard";
	return 0;
}

/* ALERT-1: nothing is created unless alerts are enabled. */
static void note(struct daemon *d, const char *type, enum sg_severity sev, const char *key,
		 const char *val);

/* Every committed audit line goes to the API's event feed and the SIEM export, when they run. */
static void audit_line(void *ctx, const char *line, size_t len)
{
	struct daemon *d = ctx;

	if (d->api)
		sg_api_push_event(d->api, line, len);
	if (d->siem)
		sg_siem_submit(d->siem, line, len);
}

/* OPS-2: off unless a token file is given; a misconfigured API stops the start (2). */
static int start_api(struct daemon *d)
{
	char sock[4200], err[256], *token = NULL, *end;
	unsigned long port = 0;
	size_t len = 0;
	int rc;

	if (!d->opt.api_token_file)
		return 0;
	rc = read_file(d->opt.api_token_file, &token, &len);
	if (rc) {
		fprintf(stderr, "sysguardd: api token %s: %s\n", d->opt.api_token_file, strerror(-rc));
		return 2;
	}
	while (len && (token[len - 1] == '\n' || token[len - 1] == '\r' || token[len - 1] == ' '))
		token[--len] = '\0';
	if (d->opt.api_port) {
		errno = 0;
		port = strtoul(d->opt.api_port, &end, 10);
		if (errno || *end || port == 0 || port > 65535) {
			fprintf(stderr, "sysguardd: --api-port must be 1-65535\n");
			free(token);
			return 2;
		}
	}
	snprintf(sock, sizeof(sock), "%s/api.sock", d->opt.state_dir);
	rc = sg_api_start(&d->api, d->opt.api_socket ? d->opt.api_socket : sock, (unsigned)port,
			  token, err, sizeof(err));
	sodium_memzero(token, len);
	free(token);
	if (rc) {
		fprintf(stderr, "sysguardd: api: %s\n", err);
		return 2;
	}
	d->audit.on_line = audit_line;
	d->audit.on_line_ctx = d;
	note(d, "api_start", SG_SEV_INFO, "socket", d->opt.api_socket ? d->opt.api_socket : sock);
	return 0;
}

/* OPS-4: nothing is created unless the export is enabled; a bad setting stops the start. */
static int start_siem(struct daemon *d)
{
	struct options *o = &d->opt;
	struct sg_siem_config cfg = {
		.address = o->siem_address,
		.transport = SG_SIEM_TLS,
		.queue = SG_SIEM_QUEUE_DEFAULT,
		.facility = 10,		/* authpriv: security records, kept from general readers */
		.ca_file = o->siem_ca_file,
		.server_name = o->siem_server_name,
		.cert_file = o->siem_cert_file,
		.key_file = o->siem_key_file,
		.hostname = d->audit.node_id,
	};
	char err[512];
	int v;

	if (!o->siem_enabled)
		return 0;
	if (!o->siem_address) {
		fprintf(stderr, "sysguardd: the SIEM export is enabled but no receiver is set "
			"(--siem-address or siem.address, host:port)\n");
		return -EINVAL;
	}
	if (o->siem_transport) {
		v = sg_siem_transport_parse(o->siem_transport);
		if (v < 0) {
			fprintf(stderr, "sysguardd: siem transport must be tcp or tls, not '%s'\n",
				o->siem_transport);
			return -EINVAL;
		}
		cfg.transport = v;
	}
	if (o->siem_facility) {
		v = sg_syslog_facility_parse(o->siem_facility);
		if (v < 0) {
			fprintf(stderr, "sysguardd: siem facility must be one of kern, user, mail, daemon, "
				"auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, "
				"clock, local0..local7; not '%s'\n", o->siem_facility);
			return -EINVAL;
		}
		cfg.facility = (unsigned)v;
	}
	if (o->siem_queue && sg_config_uint(o->siem_queue, 1, SG_SIEM_QUEUE_MAX, &cfg.queue)) {
		fprintf(stderr, "sysguardd: siem queue must be a whole number of records, 1-%u, not '%s'\n",
			SG_SIEM_QUEUE_MAX, o->siem_queue);
		return -EINVAL;
	}
	d->siem = sg_siem_start(&cfg, err, sizeof(err));
	if (!d->siem) {
		fprintf(stderr, "sysguardd: %s (the SIEM export does not start)\n", err);
		return -EINVAL;
	}
	d->audit.on_line = audit_line;
	d->audit.on_line_ctx = d;
	return 0;
}

static int start_alerts(struct daemon *d)
{
	struct options *o = &d->opt;
	struct sg_alert_config cfg = {
		.url = o->alert_url,
		.ca_bundle = o->alert_ca_bundle,
		.dedup_window_s = 60,
		.per_minute = 30,
		.timeout_ms = 5000,
	};
	char err[256];
	int fmt = o->alert_format ? sg_alert_format_parse(o->alert_format) : SG_ALERT_SLACK;

	if (!o->alert_enabled)
		return 0;
	if (!o->alert_url) {
		fprintf(stderr, "sysguardd: alerts are enabled but no URL is set (--alert-url or alerts.url)\n");
		return -EINVAL;
	}
	if (fmt < 0) {
		fprintf(stderr, "sysguardd: alert format must be slack or teams, not '%s'\n", o->alert_format);
		return -EINVAL;
	}
	cfg.format = fmt;
	if ((o->alert_dedup_window && sg_config_uint(o->alert_dedup_window, 0, 86400, &cfg.dedup_window_s)) ||
	    (o->alert_per_minute && sg_config_uint(o->alert_per_minute, 1, 100000, &cfg.per_minute)) ||
	    (o->alert_timeout_ms && sg_config_uint(o->alert_timeout_ms, 1, 600000, &cfg.timeout_ms))) {
		fprintf(stderr, "sysguardd: alert dedup window (0-86400 s), per-minute cap (1-100000) "
			"and timeout (1-600000 ms) must be whole numbers in range\n");
		return -EINVAL;
	}
	d->alerts = sg_alerts_start(&cfg, err, sizeof(err));
	if (!d->alerts) {
		fprintf(stderr, "sysguardd: cannot start alerts: %s\n", err);
		return -EINVAL;
	}
	d->engine.alerts = d->alerts;
	return 0;
}

static void note(struct daemon *d, const char *type, enum sg_severity sev, const char *key,
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

static int read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size > SG_POLICY_MAX_BYTES) {
		close(fd);
		return st.st_size > SG_POLICY_MAX_BYTES ? -EFBIG : -errno;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size && (n = read(fd, buf + off, st.st_size - off)) > 0)
		off += n;
	close(fd);
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

static void report_unresolved(const struct sg_rule *r, int err, void *ctx)
{
	struct daemon *d = ctx;
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "policy_rule_unresolved", SG_SEV_WARNING);
	sg_json_kv_str(&j, "rule", r->name);
	sg_json_kv_u64(&j, "line", r->line);
	sg_json_kv_str(&j, "error", strerror(-err));
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

/* Read, parse and resolve a policy; on failure explain on stderr and in the log. */
static void bundle_record(struct daemon *d, const char *type, enum sg_severity sev,
			  const char *path, const char *status, const char *msg,
			  const struct sg_bundle_meta *m)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, type, sev);
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

/*
 * POL-2: the policy file is a signed bundle. 0 with the policy bytes (inside
 * buf) in *pol; 1 when it is the very bundle in force (a reload that changes
 * nothing); -1 refused, with a record saying exactly why. At start the
 * bundle last accepted is accepted again; later only a newer one.
 */
static int open_bundle(struct daemon *d, const char *path, const char *buf, size_t len,
		       bool at_start, const char **pol, size_t *pol_len)
{
	const char *state = d->opt.bundle_state ? d->opt.bundle_state : SG_BUNDLE_STATE_DEFAULT;
	struct sg_bundle_verified v;
	enum sg_bundle_status st;
	uint8_t hash[32];
	char msg[512];
	uint64_t last;

	if (sg_bundle_version_read(state, &last, msg, sizeof(msg))) {
		fprintf(stderr, "sysguardd: %s\n", msg);
		bundle_record(d, "policy_bundle_rejected", SG_SEV_CRITICAL, path, "state", msg, NULL);
		return -1;
	}
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)buf, len, NULL, 0);
	if (!at_start && d->bundle.version && !memcmp(hash, d->bundle_hash, sizeof(hash)))
		return 1;
	st = sg_bundle_verify(d->keys, d->opt.ntrusted, buf, len, at_start && last ? last - 1 : last,
			      &v, msg, sizeof(msg));
	if (st != SG_BUNDLE_OK) {
		fprintf(stderr, "sysguardd: %s: policy bundle refused (%s): %s\n", path,
			sg_bundle_status_name(st), msg);
		bundle_record(d, "policy_bundle_rejected", SG_SEV_CRITICAL, path,
			      sg_bundle_status_name(st), msg, st == SG_BUNDLE_ROLLBACK ? &v.meta : NULL);
		return -1;
	}
	d->pending = v.meta;
	memcpy(d->pending_hash, hash, sizeof(hash));
	*pol = v.policy;
	*pol_len = v.policy_len;
	return 0;
}

/* The verified bundle is in force: remember it, so no older one is ever accepted again. */
static void commit_bundle(struct daemon *d, const char *path)
{
	const char *state = d->opt.bundle_state ? d->opt.bundle_state : SG_BUNDLE_STATE_DEFAULT;
	char msg[512];

	if (!d->pending.version)
		return;
	d->bundle = d->pending;
	memcpy(d->bundle_hash, d->pending_hash, sizeof(d->bundle_hash));
	memset(&d->pending, 0, sizeof(d->pending));
	if (sg_bundle_version_write(state, d->bundle.version, msg, sizeof(msg))) {
		fprintf(stderr, "sysguardd: %s\n", msg);
		bundle_record(d, "action_error", SG_SEV_CRITICAL, state, "persist", msg, &d->bundle);
	}
	bundle_record(d, "policy_bundle_accepted", SG_SEV_INFO, path, NULL, NULL, &d->bundle);
}

static struct sg_policy *load_policy(struct daemon *d, const char *path, bool at_start,
				     bool *unchanged)
{
	struct sg_policy_error perr = { 0 };
	struct sg_policy *p = NULL;
	const char *pol;
	struct sg_json j;
	size_t len = 0, pol_len;
	char *buf = NULL;
	/*
	 * FILE-3: with self-defence the policy is the verified copy, never what
	 * a mount may have put at the path since.
	 */
	int err = d->files && !at_start && sg_files_policy_copy(d->files, &buf, &len) == 0
			  ? 0
			  : read_file(path, &buf, &len);

	*unchanged = false;
	memset(&d->pending, 0, sizeof(d->pending));
	if (err) {
		snprintf(perr.message, sizeof(perr.message), "%s: cannot read: %s", path, strerror(-err));
	} else {
		pol = buf;
		pol_len = len;
		if (d->opt.ntrusted) {
			int b = open_bundle(d, path, buf, len, at_start, &pol, &pol_len);

			if (b) {
				free(buf);
				*unchanged = b > 0;
				return NULL;
			}
		}
		err = sg_policy_parse(pol, pol_len, path, &p, &perr);
		free(buf);
		if (err)
			memset(&d->pending, 0, sizeof(d->pending));
	}
	if (err) {
		/* The parser's message already names the file, line and column. */
		fprintf(stderr, "sysguardd: %s\n", perr.message);
		sg_json_init(&j);
		sg_audit_begin(&d->audit, &j, "policy_error", SG_SEV_CRITICAL);
		sg_json_kv_bytes(&j, "path", path, strlen(path));
		sg_json_kv_u64(&j, "line", perr.line);
		sg_json_kv_u64(&j, "column", perr.column);
		sg_json_kv_str(&j, "error", perr.message);
		sg_audit_commit(&d->audit, &j);
		sg_json_free(&j);
		return NULL;
	}
	sg_policy_resolve(p, sg_resolve_stat, report_unresolved, d);
	return p;
}

static struct sg_policy *failsafe_policy(struct daemon *d)
{
	const char *doc = d->opt.strict ? failsafe_closed : failsafe_open;
	struct sg_policy_error perr;
	struct sg_policy *p = NULL;

	if (sg_policy_parse(doc, strlen(doc), "<failsafe>", &p, &perr))
		return NULL;
	note(d, "policy_failsafe", d->opt.strict ? SG_SEV_CRITICAL : SG_SEV_WARNING, "behaviour",
	     d->opt.strict ? "fail closed: enforce, every exec denied until a valid policy loads"
			   : "fail open: monitor, nothing blocked until a valid policy loads");
	return p;
}

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

static void apply_egress(struct daemon *d)
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

/* Push the current policy into every active backend. */
static void apply_policy(struct daemon *d)
{
	struct sg_exec_config cfg;

	if (d->kern_up) {
		cfg = kernel_config(d);
		sg_kernel_rules_apply(&d->kern, d->engine.policy, &d->audit);
		sg_exec_bpf_set_gate(&d->kern, cfg.enforce && !d->opt.no_hold);
		sg_exec_bpf_configure(&d->kern, &cfg);
	}
	if (d->fan_up)
		sg_fanotify_exec_flush_cache(&d->fan);
	if (d->kern_up)
		sg_exec_bpf_clear_names(&d->kern);
	if (d->egress_up)
		apply_egress(d);
	if (d->files)
		sg_files_apply(d->files, d->engine.policy,
			       sg_engine_mode(&d->engine) == SG_MODE_ENFORCE, d->break_glass);
}

static void backend_record(struct daemon *d, const char *name, bool active, const char *detail);

static bool self_defence_on(const struct daemon *d)
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
static void start_files(struct daemon *d)
{
	struct sg_files_opts o = {
		.audit = &d->audit,
		.alerts = d->alerts,
		.state_dir = d->opt.state_dir,
		.blocklist = d->opt.blocklist,
		.self_defence = self_defence_on(d),
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
		backend_record(d, "files", false, "disabled by --disable-backend");
		return;
	}
	if (sg_files_start(&d->files, &o, err, sizeof(err))) {
		d->files = NULL;
		backend_record(d, "files", false, err);
		return;
	}
	snprintf(detail, sizeof(detail), "%s%s",
		 !strcmp(sg_files_backend(d->files), "bpf_lsm")
			 ? "bpf_lsm: file_open, inode_unlink/rename/link, path_truncate, inode_setattr"
			 : "fanotify FAN_OPEN_PERM inode marks + FS_IMMUTABLE_FL",
		 o.self_defence ? "; self-defence on" : "; self-defence off");
	backend_record(d, "files", true, detail);
	apply_policy(d);
	/* BPF-7: the policy's maps are the daemon's alone (BPF LSM only). */
	if (d->kern_up)
		sg_files_guard_maps(d->files, sg_exec_bpf_object(&d->kern), "exec");
	if (d->egress_up)
		sg_files_guard_maps(d->files, sg_egress_object(&d->egress), "egress");
}

/*
 * sysguardctl policy apply puts a policy (or bundle) in <state-dir>/policy.inbox;
 * the daemon checks it and writes its own policy file: with self-defence
 * nothing else may. A bad one is refused with a record and changes nothing.
 */
/* -1: an update was refused (keep everything as it is), 0 otherwise. `refuse`: why, unread. */
static int take_policy_inbox(struct daemon *d, const char *refuse)
{
	char path[4200], err[512] = "";
	struct sg_policy_error perr = { 0 };
	struct sg_policy *p = NULL;
	struct sg_json j;
	size_t len = 0;
	char *buf = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/policy.inbox", d->opt.state_dir);
	rc = read_file(path, &buf, &len);
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
			bundle_record(d, "policy_bundle_rejected", SG_SEV_CRITICAL, path,
				      sg_bundle_status_name(st), err,
				      st == SG_BUNDLE_ROLLBACK ? &v.meta : NULL);
		else if (sg_policy_parse(v.policy, v.policy_len, path, &p, &perr))
			snprintf(err, sizeof(err), "%s", perr.message);
		else
			err[0] = '\0';
	} else if (sg_policy_parse(buf, len, path, &p, &perr)) {
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
	sg_json_kv_bytes(&j, "path", d->opt.policy_path, strlen(d->opt.policy_path));
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

static void backend_record(struct daemon *d, const char *name, bool active, const char *detail)
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

static void watch_fd(struct daemon *d, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (d->epfd >= 0 && fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void unwatch_fd(struct daemon *d, int fd)
{
	if (d->epfd >= 0 && fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* fanotify runs only in enforce mode: start or stop it to match the current mode. */
static void sync_fanotify(struct daemon *d)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;
	char err[256] = "";
	int e;

	if (!enforce && d->fan_up) {
		unwatch_fd(d, d->fan.fd);
		unwatch_fd(d, d->fan.mountinfo_fd);
		d->engine.cache_allowed = NULL;
		d->engine.mark_fs = NULL;
		if (d->kern_up)
			sg_exec_bpf_set_fanotify(&d->kern, -1);
		sg_fanotify_exec_stop(&d->fan);
		d->fan_up = false;
		backend_record(d, "fanotify", false, "monitor mode: nothing to block");
		return;
	}
	if (!enforce || d->fan_up) {
		if (!enforce)
			backend_record(d, "fanotify", false, "monitor mode: nothing to block");
		return;
	}
	if (d->opt.no_fanotify) {
		backend_record(d, "fanotify", false, "disabled by --disable-backend");
	} else if (!d->features.f[SG_FEAT_FAN_EXEC_PERM].usable) {
		backend_record(d, "fanotify", false, d->features.f[SG_FEAT_FAN_EXEC_PERM].detail);
	} else if (sg_fanotify_exec_start(&d->fan, &d->engine,
					  d->features.f[SG_FEAT_FAN_MARK_IGNORE].usable, err,
					  sizeof(err))) {
		backend_record(d, "fanotify", false, err);
	} else {
		d->fan_up = true;
		snprintf(err, sizeof(err), "FAN_OPEN_EXEC_PERM on %u filesystems%s", d->fan.nmarked,
			 d->fan.use_ignore ? ", ignore marks for allowed files" : "");
		backend_record(d, "fanotify", true, err);
		watch_fd(d, d->fan.fd, EPOLLIN);
		watch_fd(d, d->fan.mountinfo_fd, EPOLLPRI | EPOLLERR);
		if (d->fan.use_ignore) {
			d->engine.cache_allowed = sg_fanotify_exec_ignore;
			d->engine.cache_ctx = &d->fan;
		}
		d->engine.mark_fs = sg_fanotify_exec_mark_fs;
		d->engine.mark_ctx = &d->fan;
		/* From now on an exec fanotify did not see (a mount it has not marked) is held. */
		if (d->kern_up && (e = sg_exec_bpf_set_fanotify(&d->kern, d->fan.fd)))
			note(d, "fanotify", SG_SEV_WARNING, "unmarked_filesystems",
			     "cannot tell the kernel our fanotify group; execs from filesystems "
			     "mounted in other namespaces are killed after exec, not held");
	}
}

/* LOG-3: pins are kernel state that outlives us; say what was pinned, adopted or removed. */
static void pin_record(struct daemon *d, const char *type, const char *dir, bool adopted,
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

static void start_egress(struct daemon *d)
{
	bool want_lsm = d->features.f[SG_FEAT_BPF_LSM].usable && !d->opt.no_lsm;
	char err[256] = "";

	if (d->opt.no_egress) {
		backend_record(d, "egress", false, "disabled by --disable-backend");
		return;
	}
	if (!d->features.f[SG_FEAT_CGROUP2].usable) {
		backend_record(d, "egress", false, d->features.f[SG_FEAT_CGROUP2].detail);
		return;
	}
	if (want_lsm && sg_egress_start(&d->egress, d->features.cgroup2_path, true,
					sg_engine_on_net_record, &d->engine, err, sizeof(err))) {
		backend_record(d, "egress_lsm", false, err);
		want_lsm = false;
	}
	if (!want_lsm && sg_egress_start(&d->egress, d->features.cgroup2_path, false,
					 sg_engine_on_net_record, &d->engine, err, sizeof(err))) {
		backend_record(d, "egress", false, err);
		return;
	}
	d->egress_up = true;
	pin_record(d, "bpf_pin", SG_PIN_EGRESS, false, 0);
	apply_egress(d);
	if (d->egress.lsm_attached)
		backend_record(d, "egress_lsm", true, "lsm/socket_connect for connects");
	backend_record(d, "egress", true, d->egress.lsm_attached ?
		       "cgroup/sendmsg4|6 at the cgroup2 root (connects: lsm/socket_connect)" :
		       "cgroup/connect4|6 + sendmsg4|6 at the cgroup2 root");
}

/*
 * FILE-4: the file-open audit's tracepoints are attached only while the
 * policy has a file_audit: rule in force (they run for every open on the
 * host); the object is loaded the first time rules need it and kept until
 * the daemon stops. Observe-only: nothing here depends on the mode.
 */
static void sync_file_audit(struct daemon *d)
{
	size_t n = sg_policy_file_rule_count(d->engine.policy, SG_FILES_TRACE);
	struct sg_open_sink sink = {
		.audit = &d->audit, .alerts = d->alerts, .procs = &d->engine.procs,
		.cgroup2_root = d->engine.cgroup2_root,
	};
	struct sg_open_apply res;
	char err[256] = "", detail[320];
	struct sg_json j;
	int state;

	if (d->opt.no_file_audit || (!n && !d->fa_loaded)) {
		state = d->opt.no_file_audit ? 3 : 1;
		if (state != d->fa_state)
			backend_record(d, "file_audit", false, d->opt.no_file_audit ?
				       "disabled by --disable-backend" : "no file_audit: rules in the policy");
		d->fa_state = state;
		return;
	}
	if (!d->fa_loaded) {
		if (sg_open_audit_load(&d->fa, &sink, err, sizeof(err))) {
			backend_record(d, "file_audit", false, err);
			d->fa_state = 4;
			return;
		}
		d->fa_loaded = true;
		watch_fd(d, sg_open_audit_ringbuf_fd(&d->fa), EPOLLIN);
	}
	if (sg_open_audit_apply(&d->fa, d->engine.policy, &res, err, sizeof(err))) {
		fprintf(stderr, "sysguardd: file_audit rules not applied: %s\n", err);
		sg_json_init(&j);
		sg_audit_begin(&d->audit, &j, "action_error", SG_SEV_CRITICAL);
		sg_json_kv_str(&j, "backend", "file_audit");
		sg_json_kv_str(&j, "action", "apply_rules");
		sg_json_kv_str(&j, "error", err);
		sg_audit_commit(&d->audit, &j);
		sg_json_free(&j);
		backend_record(d, "file_audit", d->fa.attached, err);
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
		backend_record(d, "file_audit", d->fa.attached,
			       d->fa.attached ? detail : "no usable file_audit: rule; tracepoints not attached");
	}
	d->fa_state = state;
}

/* Load a Shield deny list file (one CIDR a line) into the live Shield. */
static int shield_load_list(struct sg_shield *s, const char *path, char *err, size_t errlen)
{
	struct sg_cidr *v = NULL;
	size_t n = 0;
	int rc = sg_shield_read_list(path, &v, &n, err, errlen);

	if (!rc)
		rc = sg_shield_update(s, v, n, NULL, 0, true, err, errlen);
	free(v);
	return rc;
}

/*
 * NET-2/NET-5: attach the Shield to the interfaces the config names. It
 * lives in pinned maps (sysguardctl shield edits them) and fails open: any
 * error is reported and traffic keeps flowing; the daemon carries on.
 */
static void start_shield(struct daemon *d)
{
	struct sg_shield_opts o = {
		.pin_dir = SG_SHIELD_PIN_DIR, .max_rules = SG_SHIELD_DEF_RULES,
		.v4_chunks = SG_SHIELD_DEF_CHUNKS, .v6_bits = SG_SHIELD_DEF_V6_BITS,
		.v6_entries = SG_SHIELD_DEF_V6_ENTRIES,
	};
	const char *ifs = sg_config_get(&d->opt.config, "shield.interfaces");
	const char *list = sg_config_get(&d->opt.config, "shield.list");
	const char *g = sg_config_get(&d->opt.config, "shield.generic"), *mode = "";
	char err[512] = "", detail[600], name[IF_NAMESIZE];
	struct sg_shield *s = NULL;
	bool generic = false;
	size_t k;
	int rc;

	if (!ifs || !*ifs)
		return;		/* no Shield asked for: nothing to report */
	if (g && sg_config_bool(g, &generic)) {
		backend_record(d, "shield", false, "shield.generic must be true or false; not attached, traffic flows");
		return;
	}
	rc = sg_shield_open(SG_SHIELD_PIN_DIR, &s, err, sizeof(err));
	if (rc == -ENOENT) {
		err[0] = '\0';
		rc = sg_shield_create(&o, &s, err, sizeof(err));
	}
	if (rc) {
		snprintf(detail, sizeof(detail), "%s; not attached, traffic flows", err);
		backend_record(d, "shield", false, detail);
		return;
	}
	if (list && (rc = shield_load_list(s, list, err, sizeof(err)))) {
		snprintf(detail, sizeof(detail), "list not loaded (%s); the previous list stays", err);
		backend_record(d, "shield", false, detail);
	}
	while (*ifs) {
		k = strcspn(ifs, ", ");
		if (k > 0 && k < sizeof(name)) {
			memcpy(name, ifs, k);
			name[k] = '\0';
			rc = sg_shield_attach(s, name, generic, &mode, err, sizeof(err));
			if (rc)
				snprintf(detail, sizeof(detail), "%s: %s; traffic flows", name, err);
			else
				snprintf(detail, sizeof(detail), "%s: %s XDP", name, mode);
			backend_record(d, "shield", rc == 0, detail);
		}
		ifs += k;
		ifs += strspn(ifs, ", ");
	}
	sg_shield_close(s);
}

/*
 * BPF-7: guard the Shield's pins (if any) and serve <state-dir>/shield.sock,
 * through which every sysguardctl shield command then goes. Without it the
 * CLI edits the pins itself, which the guard refuses.
 */
static void start_shield_ctl(struct daemon *d)
{
	char err[512] = "";

	sg_shield_guard_pins(d->files, true);
	if (sg_shield_ctl_start(&d->shield_ctl, d->opt.state_dir, SG_SHIELD_PIN_DIR, &d->audit,
				sg_shield_guard_pins, d->files, err, sizeof(err))) {
		d->shield_ctl = NULL;
		note(d, "shield_ctl", SG_SEV_CRITICAL, "error", err);
	}
}

static int start_backends(struct daemon *d)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;
	bool want_lsm = d->features.f[SG_FEAT_BPF_LSM].usable && !d->opt.no_lsm;
	char err[256] = "";
	int e;

	e = sg_exec_bpf_start(&d->kern, want_lsm, sg_engine_on_record, &d->engine, err, sizeof(err));
	if (e && want_lsm) {
		backend_record(d, "bpf_lsm", false, err);
		want_lsm = false;
		e = sg_exec_bpf_start(&d->kern, false, sg_engine_on_record, &d->engine, err,
				      sizeof(err));
	}
	if (e) {
		backend_record(d, "exec_tracepoint", false, err);
		return e;
	}
	d->kern_up = true;
	d->engine.kern = &d->kern;
	pin_record(d, "bpf_pin", SG_PIN_EXEC, d->kern.adopted, d->kern.replaced_links);
	backend_record(d, "exec_tracepoint", true, "tp_btf/sched_process_exec, ring buffer");
	apply_policy(d);

	if (d->kern.lsm_attached)
		backend_record(d, "bpf_lsm", enforce, enforce ? "bprm_check_security + mmap_file attached"
							       : "attached; monitor mode never denies");
	else if (!want_lsm)
		backend_record(d, "bpf_lsm", false, d->opt.no_lsm ? "disabled by --disable-backend"
								 : d->features.f[SG_FEAT_BPF_LSM].detail);

	sync_fanotify(d);

	if (!enforce)
		backend_record(d, "bpf_kill", false, "monitor mode");
	else if (d->opt.no_kill)
		backend_record(d, "bpf_kill", false, "disabled by --disable-backend");
	else if (!d->features.f[SG_FEAT_SEND_SIGNAL].usable)
		backend_record(d, "bpf_kill", false, d->features.f[SG_FEAT_SEND_SIGNAL].detail);
	else
		backend_record(d, "bpf_kill", true, "bpf_send_signal(SIGKILL) at exec for identity and path rules");
	if (d->opt.no_hold)
		backend_record(d, "hold", false, "disabled by --disable-backend");
	else if (!enforce)
		backend_record(d, "hold", false, "monitor mode");
	else if (!d->kern.gate)
		backend_record(d, "hold", false, d->kern.gate_error[0] ? d->kern.gate_error :
			       "gate not attached: what needs a hold is killed at exec instead");
	else
		backend_record(d, "hold", enforce, "SIGSTOP at exec; page-fault gate kills a held process "
			       "resumed by anyone but the daemon, and what it forks");
	start_egress(d);
	sync_file_audit(d);
	start_shield(d);
	start_files(d);
	start_shield_ctl(d);
	if (d->opt.no_pidfd)
		backend_record(d, "pidfd_kill", false, "disabled by --disable-backend");
	else
		backend_record(d, "pidfd_kill", enforce, enforce ? "last resort for what ran past the kernel"
								 : "monitor mode");
	return 0;
}

static void write_state(struct daemon *d, const char *name, struct sg_json *j)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->opt.state_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, j->buf, j->len) == (ssize_t)j->len && write(fd, "\n", 1) == 1)
		rename(tmp, path);
	else
		unlink(tmp);
	close(fd);
}

static void backends_json(struct daemon *d, struct sg_json *j)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;

	sg_json_key(j, "backends");
	sg_json_begin_array(j);
	if (d->kern.lsm_attached && enforce)
		sg_json_str(j, "bpf_lsm");
	if (d->fan_up)
		sg_json_str(j, "fanotify");
	if (d->kern_up && enforce && !d->opt.no_kill && d->features.f[SG_FEAT_SEND_SIGNAL].usable)
		sg_json_str(j, "bpf_kill");
	if (enforce && !d->opt.no_pidfd)
		sg_json_str(j, "pidfd_kill");
	if (d->egress_up && enforce)
		sg_json_str(j, "egress");
	if (d->fa.attached)
		sg_json_str(j, "file_audit");
	sg_json_end_array(j);
}

static void write_ready(struct daemon *d)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_i64(&j, "pid", getpid());
	sg_json_kv_str(&j, "version", SG_VERSION);
	sg_json_kv_str(&j, "mode", sg_mode_name(sg_engine_mode(&d->engine)));
	sg_json_kv_bool(&j, "break_glass", d->break_glass);
	sg_json_kv_str(&j, "policy_version", sg_policy_version(d->engine.policy));
	if (d->opt.policy_path)
		sg_json_kv_bytes(&j, "policy_path", d->opt.policy_path, strlen(d->opt.policy_path));
	if (d->bundle.version) {
		sg_json_key(&j, "bundle");
		sg_json_begin_object(&j);
		sg_json_kv_u64(&j, "version", d->bundle.version);
		sg_json_kv_str(&j, "key_id", d->bundle.key_id);
		sg_json_end_object(&j);
	}
	backends_json(d, &j);
	sg_json_kv_str(&j, "files_backend", d->files ? sg_files_backend(d->files) : "none");
	sg_json_kv_bool(&j, "self_defence", d->files && self_defence_on(d) && !d->break_glass);
	sg_json_kv_bytes(&j, "blocklist", d->opt.blocklist, strlen(d->opt.blocklist));
	sg_json_end_object(&j);
	write_state(d, "ready", &j);
	sg_api_set_status(d->api, j.buf, j.len);
	sg_json_free(&j);
}

static void check_drops(struct daemon *d, const uint64_t *k)
{
	struct sg_json j;
	uint64_t id;

	if (k[SG_CNT_RB_DROPS] == d->rb_drops_seen)
		return;
	/* LOG-4: a lost event is counted and said, never silent. */
	sg_json_init(&j);
	id = sg_audit_begin(&d->audit, &j, "ringbuf_drops", SG_SEV_WARNING);
	sg_json_kv_u64(&j, "dropped", k[SG_CNT_RB_DROPS] - d->rb_drops_seen);
	sg_json_kv_u64(&j, "total", k[SG_CNT_RB_DROPS]);
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	if (d->alerts) {
		char eid[17], detail[96];
		struct sg_alert_event ev = {
			.kind = "ringbuf_drops",
			.event_id = eid,
			.node_id = d->audit.node_id,
			.severity = "warning",
			.policy_version = d->audit.policy_version,
			.action = "none",
			.detail = detail,
		};

		snprintf(eid, sizeof(eid), "%016llx", (unsigned long long)id);
		snprintf(detail, sizeof(detail), "%llu exec events lost (ring buffer full)",
			 (unsigned long long)(k[SG_CNT_RB_DROPS] - d->rb_drops_seen));
		sg_alerts_submit(d->alerts, &ev);
	}
	d->rb_drops_seen = k[SG_CNT_RB_DROPS];
}

static void write_stats(struct daemon *d)
{
	static const char *const knames[SG_CNT_MAX] = {
		"ringbuf_drops", "execs_seen", "kills", "kill_failures", "holds", "lsm_denies",
		"gate_kills",
	};
	const struct sg_engine_stats *s = &d->engine.stats;
	uint64_t k[SG_CNT_MAX] = { 0 };
	struct sg_hash_cache_stats hs;
	struct sg_audit_stats aus;
	uint64_t nk[SG_NCNT_MAX];
	struct sg_json j;
	int i;

	if (d->kern_up && sg_exec_bpf_counters(&d->kern, k) == 0)
		check_drops(d, k);
	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "uptime_s", (now_ms(CLOCK_MONOTONIC) - d->started_ns) / 1000);
	sg_json_kv_str(&j, "policy_version", sg_policy_version(d->engine.policy));
	sg_json_key(&j, "decisions");
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "events", s->events);
	sg_json_kv_u64(&j, "decode_errors", s->decode_errors);
	sg_json_kv_u64(&j, "allowed", s->allowed);
	sg_json_kv_u64(&j, "denied", s->denied);
	sg_json_kv_u64(&j, "mitigations", s->mitigations);
	sg_json_kv_u64(&j, "mitigation_failures", s->mitigation_failures);
	sg_json_kv_u64(&j, "hash_errors", s->hash_errors);
	sg_json_kv_u64(&j, "held", s->held);
	sg_json_end_object(&j);
	sg_json_key(&j, "kernel");
	sg_json_begin_object(&j);
	for (i = 0; i < SG_CNT_MAX; i++)
		sg_json_kv_u64(&j, knames[i], k[i]);
	sg_json_kv_u64(&j, "deny_entries", d->kern.deny_count);
	sg_json_end_object(&j);
	sg_json_key(&j, "fanotify");
	sg_json_begin_object(&j);
	sg_json_kv_bool(&j, "active", d->fan_up);
	sg_json_kv_u64(&j, "events", d->fan.stats.events);
	sg_json_kv_u64(&j, "allowed", d->fan.stats.allowed);
	sg_json_kv_u64(&j, "denied", d->fan.stats.denied);
	sg_json_kv_u64(&j, "ignore_marks", d->fan.stats.ignore_marks);
	sg_json_kv_u64(&j, "response_errors", d->fan.stats.response_errors);
	sg_json_kv_u64(&j, "filesystems", d->fan.stats.filesystems);
	sg_json_end_object(&j);
	if (d->egress_up && sg_egress_counters(&d->egress, nk) == 0) {
		sg_json_key(&j, "egress");
		sg_json_begin_object(&j);
		sg_json_kv_u64(&j, "denied", nk[SG_NCNT_DENIES]);
		sg_json_kv_u64(&j, "matched", nk[SG_NCNT_MATCHES]);
		sg_json_kv_u64(&j, "ringbuf_drops", nk[SG_NCNT_RB_DROPS]);
		sg_json_kv_u64(&j, "prefixes", d->egress.prefixes);
		sg_json_end_object(&j);
	}
	if (d->fa_loaded)
		sg_open_audit_report_stats(&d->fa, &j);
	/* NET-2: the Shield lives in pinned maps (sysguardctl shield); report what is loaded. */
	sg_shield_stats_pinned(SG_SHIELD_PIN_DIR, SG_SHIELD_STATS_MAX_CIDRS, &j);
	sg_hash_cache_stats(d->engine.hashes, &hs);
	sg_json_key(&j, "hash_cache");
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "hits", hs.hits);
	sg_json_kv_u64(&j, "misses", hs.misses);
	sg_json_kv_u64(&j, "stale", hs.stale);
	sg_json_kv_u64(&j, "evictions", hs.evictions);
	sg_json_kv_u64(&j, "entries", hs.entries);
	sg_json_end_object(&j);
	sg_audit_report_drops(&d->audit);
	sg_audit_stats(&d->audit, &aus);
	sg_json_kv_u64(&j, "audit_write_errors", aus.write_errors);
	sg_audit_stats_json(&d->audit, &j);
	if (d->alerts) {
		struct sg_alert_stats as;

		sg_alerts_stats(d->alerts, &as);
		sg_json_key(&j, "alerts");
		sg_json_begin_object(&j);
		sg_json_kv_u64(&j, "queued", as.queued);
		sg_json_kv_u64(&j, "sent", as.sent);
		sg_json_kv_u64(&j, "failed", as.failed);
		sg_json_kv_u64(&j, "deduplicated", as.deduplicated);
		sg_json_kv_u64(&j, "rate_limited", as.rate_limited);
		sg_json_kv_u64(&j, "overflow_dropped", as.overflow_dropped);
		sg_json_end_object(&j);
	}
	if (d->siem) {
		struct sg_siem_stats ss;

		sg_siem_stats(d->siem, &ss);
		sg_json_key(&j, "siem");
		sg_json_begin_object(&j);
		sg_json_kv_bool(&j, "connected", ss.connected);
		sg_json_kv_u64(&j, "submitted", ss.submitted);
		sg_json_kv_u64(&j, "sent", ss.sent);
		sg_json_kv_u64(&j, "dropped", ss.dropped);
		sg_json_kv_u64(&j, "resent", ss.resent);
		sg_json_kv_u64(&j, "reconnects", ss.reconnects);
		sg_json_kv_u64(&j, "errors", ss.errors);
		sg_json_kv_u64(&j, "queue_depth", ss.queue_depth);
		sg_json_end_object(&j);
	}
	if (d->files)
		sg_files_stats_json(d->files, &j);
	sg_json_end_object(&j);
	write_state(d, "stats.json", &j);
	if (d->api) {
		char *text;
		size_t len;

		sg_api_set_stats(d->api, j.buf, j.len);
		if (sg_metrics_from_stats(j.buf, j.len, &text, &len) == 0) {
			sg_api_set_metrics(d->api, text, len);
			free(text);
		}
	}
	sg_json_free(&j);
}

static void reload_policy(struct daemon *d)
{
	char old[SG_POLICY_VERSION_MAX];
	bool unchanged;
	struct sg_policy *p;
	struct sg_json j;

	/*
	 * FILE-3: a policy file changed behind the daemon's back is put back, a
	 * mount over it detached; a file still not the protected one refuses
	 * the reload (recorded), and a pending update with it.
	 */
	if (d->files && sg_files_verify_own(d->files)) {
		take_policy_inbox(d, "a file of the daemon is not the one it protects: "
				     "see self_defence foreign_file_refused in its audit log");
		return;
	}
	if (take_policy_inbox(d, NULL))
		return;
	p = load_policy(d, d->opt.policy_path, false, &unchanged);
	if (!p)
		return;		/* the running policy stays; load_policy said why */
	snprintf(old, sizeof(old), "%s", sg_policy_version(d->engine.policy));
	sg_engine_set_policy(&d->engine, p);
	commit_bundle(d, d->opt.policy_path);
	apply_policy(d);
	sync_fanotify(d);
	sync_file_audit(d);
	write_ready(d);
	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "policy_reload", SG_SEV_INFO);
	sg_json_kv_str(&j, "old_policy_version", old);
	sg_json_kv_str(&j, "new_policy_version", sg_policy_version(p));
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

static int setup_loop(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->epfd < 0)
		return -errno;
	ev.data.fd = d->sigfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
	ev.data.fd = sg_exec_bpf_ringbuf_fd(&d->kern);
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	if (d->egress_up)
		watch_fd(d, sg_egress_ringbuf_fd(&d->egress), EPOLLIN);
	if (d->fa_loaded)
		watch_fd(d, sg_open_audit_ringbuf_fd(&d->fa), EPOLLIN);
	/* POL-3: a changed policy file reloads like SIGHUP (editors, ConfigMap volumes). */
	d->watch.fd = -1;
	if (d->opt.policy_path && sg_policy_watch_init(&d->watch, d->opt.policy_path) == 0)
		watch_fd(d, sg_policy_watch_fd(&d->watch), EPOLLIN);
	if (d->fan_up) {
		watch_fd(d, d->fan.fd, EPOLLIN);
		watch_fd(d, d->fan.mountinfo_fd, EPOLLPRI | EPOLLERR);
	}
	if (d->files) {
		watch_fd(d, sg_files_fim_fd(d->files), EPOLLIN);
		watch_fd(d, sg_files_guard_fd(d->files), EPOLLIN);
		watch_fd(d, sg_files_create_fd(d->files), EPOLLIN);
	}
	if (d->shield_ctl)
		watch_fd(d, sg_shield_ctl_fd(d->shield_ctl), EPOLLIN);
	return 0;
}

/*
 * POL-5 break-glass: while <state-dir>/break-glass exists (sysguardctl
 * break-glass on), the daemon runs in monitor mode whatever the policy says.
 * Checked at start and on SIGHUP, independent of the policy file, so a
 * broken policy cannot keep an operator locked out. True when it changed.
 */
static bool check_break_glass(struct daemon *d)
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
	d->engine.mode_override = on ? SG_MODE_MONITOR : d->opt.mode;
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

/* Returns false when the daemon should stop. */
static bool handle_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (check_break_glass(d)) {
				apply_policy(d);
				sync_fanotify(d);
				write_ready(d);
			}
			reload_policy(d);
			continue;
		}
		return false;
	}
	return true;
}

static void run(struct daemon *d)
{
	uint64_t next_stats = 0;
	bool running = true;

	while (running) {
		struct epoll_event evs[8];
		int n = epoll_wait(d->epfd, evs, 8, SG_POLL_MS), i;
		uint64_t now;

		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->sigfd)
				running = handle_signals(d);
			else if (fd == d->watch.fd && sg_policy_watch_changed(&d->watch))
				reload_policy(d);
			else if (d->fan_up && fd == d->fan.fd)
				sg_fanotify_exec_handle(&d->fan);
			else if (d->fan_up && fd == d->fan.mountinfo_fd)
				sg_fanotify_exec_scan_mounts(&d->fan);
			else if (d->files && fd == sg_files_fim_fd(d->files))
				sg_files_on_fim(d->files);
			else if (d->files && fd == sg_files_guard_fd(d->files))
				sg_files_on_guard(d->files);
			else if (d->shield_ctl && fd == sg_shield_ctl_fd(d->shield_ctl))
				sg_shield_ctl_handle(d->shield_ctl);
			else if (d->files && fd == sg_files_create_fd(d->files))
				sg_files_on_create(d->files);
		}
		/* Wake-ups are suppressed in the kernel: drain on every tick. */
		sg_exec_bpf_consume(&d->kern);
		sg_exec_bpf_heartbeat(&d->kern);
		if (d->egress_up)
			sg_egress_consume(&d->egress);
		if (d->fa_loaded)
			sg_open_audit_consume(&d->fa);
		now = now_ms(CLOCK_MONOTONIC);
		if (now >= next_stats) {
			if (d->files)
				sg_files_tick(d->files);
			write_stats(d);
			next_stats = now + SG_STATS_MS;
		}
	}
}

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
			note(d, "mount", SG_SEV_INFO, "mounted", fs[i].dir);
		else if (r < 0)
			note(d, "mount", SG_SEV_WARNING, "failed", fs[i].dir);
	}
}

static void raise_memlock(struct daemon *d)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };

	/* Kernels >= 5.11 charge BPF memory to the memcg; the limit may not matter. */
	if (setrlimit(RLIMIT_MEMLOCK, &r))
		note(d, "daemon", SG_SEV_INFO, "memlock",
		     "setrlimit(RLIMIT_MEMLOCK) refused; relying on memcg accounting");
}

/* A start that fails after the log opened still writes the records that say why. */
static int stop_early(struct daemon *d, int rc)
{
	d->audit.on_line = NULL;
	sg_audit_close(&d->audit);
	return rc;
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

	if (parse_args(argc, argv, &d.opt) || apply_config(&d.opt))
		return 2;
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
	err = sg_audit_open(&d.audit, d.opt.log_path, d.opt.to_stdout, node);
	if (err) {
		fprintf(stderr, "sysguardd: cannot open audit log %s: %s\n",
			d.opt.log_path ? d.opt.log_path : "(none)", strerror(-err));
		return 1;
	}
	/* Before the first record, so the SIEM gets every record of this run. */
	if (start_siem(&d))
		return stop_early(&d, 2);
	d.started_ns = now_ms(CLOCK_MONOTONIC);
	sg_json_init(&j);
	sg_audit_begin(&d.audit, &j, "daemon_start", SG_SEV_INFO);
	sg_json_kv_str(&j, "version", SG_VERSION);
	sg_json_kv_i64(&j, "pid", getpid());
	sg_audit_commit(&d.audit, &j);
	sg_json_free(&j);

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
	d.engine.mode_override = d.opt.mode;
	d.engine.no_pidfd_kill = d.opt.no_pidfd;
	check_break_glass(&d);
	if (start_alerts(&d) || start_api(&d))
		return stop_early(&d, 2);
	snprintf(d.engine.cgroup2_root, sizeof(d.engine.cgroup2_root), "%s", d.features.cgroup2_path);
	p = load_policy(&d, d.opt.policy_path, true, &unchanged);
	if (!p)
		p = failsafe_policy(&d);
	if (!p) {
		fprintf(stderr, "sysguardd: internal error: failsafe policy does not parse\n");
		return stop_early(&d, 1);
	}
	sg_engine_set_policy(&d.engine, p);
	commit_bundle(&d, d.opt.policy_path);

	err = start_backends(&d);
	if (err) {
		fprintf(stderr, "sysguardd: cannot start the exec sensor; is this root on a BTF kernel?\n");
		return stop_early(&d, 1);
	}
	if (setup_loop(&d)) {
		fprintf(stderr, "sysguardd: event loop: %s\n", strerror(errno));
		return stop_early(&d, 1);
	}
	/*
	 * Ready means its start is on record: the records of every backend are
	 * written before the ready file says so (bounded: a stalled reader of
	 * stdout delays it a quarter of a second at most, and only now).
	 */
	sg_audit_flush(&d.audit, 250);
	write_ready(&d);
	fprintf(stderr, "sysguardd: running, mode %s, policy %s\n",
		sg_mode_name(sg_engine_mode(&d.engine)), sg_policy_version(d.engine.policy));
	run(&d);

	snprintf(ready, sizeof(ready), "%s/ready", d.opt.state_dir);
	unlink(ready);
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
	pin_record(&d, "bpf_unpin", SG_PIN_EXEC, false, 0);
	sg_exec_bpf_stop(&d.kern);
	if (d.egress_up) {
		sg_egress_consume(&d.egress);
		sg_pins_remove(SG_PIN_EGRESS, NULL, NULL);
		pin_record(&d, "bpf_unpin", SG_PIN_EGRESS, false, 0);
		sg_egress_stop(&d.egress);
	}
	if (d.fa_loaded) {
		sg_open_audit_consume(&d.fa);
		sg_open_audit_stop(&d.fa);
	}
	sg_policy_watch_close(&d.watch);
	sg_shield_ctl_stop(d.shield_ctl);
	/* Protection ends with the daemon: flags and marks come off (a killed daemon's flags stay). */
	sg_files_stop(d.files);
	note(&d, "daemon_stop", SG_SEV_INFO, NULL, NULL);
	sg_alerts_stop(d.alerts);
	d.audit.on_line = NULL;
	sg_api_stop(d.api);
	sg_siem_stop(d.siem, SG_SIEM_STOP_DRAIN_MS);
	sg_engine_free(&d.engine);
	sg_audit_close(&d.audit);
	sg_config_free(&d.opt.config);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Command line and settings file: what the operator asked for, checked before anything starts. */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "config/daemon_keys.h"
#include "store/policy_dir.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysguardd [options]\n"
		"  --policy FILE       policy file (default /etc/sysguard/policy.yaml)\n"
		"  --policy-dir DIR    policy fragments merged into it, DIR/*.yaml in name order\n"
		"                      (default " SG_POLICY_DIR_DEFAULT " when it exists; '-' for none)\n"
		"  --log FILE          audit log, JSON lines (default /var/log/sysguard/audit.log; '-' for none)\n"
		"  --stdout            also write audit records to stdout\n"
		"  --state-dir DIR     ready/stats files (default /run/sysguard)\n"
		"  --node-id ID        node_id in records (default $SYSGUARD_NODE_ID, $NODE_NAME, hostname)\n"
		"  --mode MODE         monitor|enforce, overrides the policy's mode\n"
		"  --strict            policy unavailable at start: fail closed (deny all execs)\n"
		"                      instead of open (monitor, allow all)\n"
		"  --record-hashes     put every program's sha256 in its exec record, for\n"
		"                      sysguardctl policy learn (costs a hash per new program)\n"
		"  --crash-limit N     after N starts in a row without a clean stop, start in\n"
		"                      monitor mode (default 3; 0: never)\n"
		"  --trusted-key PUB   the policy file must be a bundle signed by this key (repeatable)\n"
		"  --bundle-state FILE last accepted bundle version (default " SG_BUNDLE_STATE_DEFAULT ")\n"
		"  --api-token-file F  serve the monitoring API (bearer token in F) on <state-dir>/api.sock\n"
		"  --api-socket PATH   ...on this Unix socket instead; --api-port N: also 127.0.0.1:N\n"
		"  --grpc-token-file F serve the gRPC event stream (bearer token in F) on\n"
		"                      <state-dir>/grpc.sock (docs/grpc.md)\n"
		"  --grpc-socket PATH  ...on this Unix socket instead\n"
		"  --grpc-address H:P  ...and on TCP, always with TLS (--grpc-tls-cert, --grpc-tls-key)\n"
		"  --grpc-tls-client-ca F  TCP clients must show a certificate this CA signed\n"
		"  --grpc-buffer N     records kept in memory for streams that start from an earlier\n"
		"                      record (default 4096)\n"
		"  --metrics-address H:P  serve /metrics for Prometheus on host:port (docs/api.md)\n"
		"  --metrics-token-file F ...asking for the bearer token in F\n"
		"  --metrics-tls-cert F    ...over HTTPS with this certificate chain (PEM)\n"
		"  --metrics-tls-key F     ...and its key; off loopback, a token or TLS is required\n"
		"  --disable-backend B bpf_lsm|fanotify|bpf_kill|hold|pidfd_kill|egress|files|file_audit|file_refusal (testing, diagnosis)\n"
		"  --config FILE       settings file (YAML; default " SG_CONFIG_DEFAULT " when it\n"
		"                      exists); command-line options win\n"
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
		"  --fleet-url URLS    publish every audit record to NATS JetStream (docs/fleet.md),\n"
		"                      nats://host:port or tls://host:port, several separated by commas\n"
		"  --fleet-stream NAME     the stream (default " SG_FLEET_STREAM_DEFAULT "; made when missing)\n"
		"  --fleet-replicas N      copies of the stream when the daemon makes it (default 1)\n"
		"  --fleet-spool-dir DIR   records waiting for the bus, on disk (default <state-dir>/fleet-spool)\n"
		"  --fleet-spool-max-bytes N  its size limit (default 256 MiB); denies are dropped last\n"
		"  --fleet-queue N     records waiting in memory (default 65536)\n"
		"  --fleet-group G     take signed policy bundles from the bus, key policy.G of the\n"
		"                      policy bucket (needs --trusted-key); the status entry's group\n"
		"  --fleet-policy-bucket NAME  that bucket (default " SG_FLEET_POLICY_BUCKET_DEFAULT ")\n"
		"  --fleet-creds FILE  log in to the bus with this NATS credentials file (JWT and seed)\n"
		"  --fleet-nkey-seed FILE  ...or with this nkey: seed, then public key (nk -gen user -pubout)\n"
		"  --fleet-user NAME   ...or as this user, with --fleet-password-file\n"
		"  --fleet-password-file FILE  the user's password, on its first line\n"
		"  --fleet-tls-ca FILE     TLS to the bus: the servers' certificates must chain to\n"
		"                      these CAs and name the server's host (tls:// URLs alone:\n"
		"                      the system's CAs)\n"
		"  --fleet-tls-cert FILE   client certificate chain for mutual TLS (with --fleet-tls-key)\n"
		"  --fleet-tls-key FILE    its private key\n"
		"  --fleet-status-ttl S  the node's status entry expires S seconds after it was last\n"
		"                      renewed (default 30; the status bucket is made with it)\n"
		"  --host-mount-ns PATH  in a pod: work in this mount namespace, the host's\n"
		"                      (/proc/1/ns/mnt with hostPID); the files named above\n"
		"                      stay the pod's (docs/deployment.md)\n"
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
	OPT_FLEET_URL = 0x5200,
	OPT_FLEET_STREAM,
	OPT_FLEET_REPLICAS,
	OPT_FLEET_SPOOL_DIR,
	OPT_FLEET_SPOOL_MAX_BYTES,
	OPT_FLEET_QUEUE,
	OPT_FLEET_GROUP,
	OPT_FLEET_POLICY_BUCKET,
	OPT_FLEET_STATUS_TTL,
	OPT_FLEET_CREDS,
	OPT_FLEET_NKEY_SEED,
	OPT_FLEET_USER,
	OPT_FLEET_PASSWORD_FILE,
	OPT_FLEET_TLS_CA,
	OPT_FLEET_TLS_CERT,
	OPT_FLEET_TLS_KEY,
	OPT_RECORD_IMMUTABLE_REFUSALS,
	OPT_CRASH_LIMIT,
	OPT_RECORD_HASHES,
	OPT_METRICS_ADDRESS,
	OPT_METRICS_TOKEN_FILE,
	OPT_METRICS_TLS_CERT,
	OPT_METRICS_TLS_KEY,
	OPT_POLICY_DIR,
	OPT_HOST_MOUNT_NS,
	OPT_GRPC_TOKEN_FILE = 0x5300,
	OPT_GRPC_SOCKET,
	OPT_GRPC_ADDRESS,
	OPT_GRPC_TLS_CERT,
	OPT_GRPC_TLS_KEY,
	OPT_GRPC_TLS_CLIENT_CA,
	OPT_GRPC_BUFFER,
};

int daemon_parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "policy-dir", required_argument, NULL, OPT_POLICY_DIR },
		{ "log", required_argument, NULL, 'l' },
		{ "stdout", no_argument, NULL, 'o' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "node-id", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "strict", no_argument, NULL, 'S' },
		{ "crash-limit", required_argument, NULL, OPT_CRASH_LIMIT },
		{ "record-hashes", no_argument, NULL, OPT_RECORD_HASHES },
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
		{ "fleet-url", required_argument, NULL, OPT_FLEET_URL },
		{ "fleet-stream", required_argument, NULL, OPT_FLEET_STREAM },
		{ "fleet-replicas", required_argument, NULL, OPT_FLEET_REPLICAS },
		{ "fleet-spool-dir", required_argument, NULL, OPT_FLEET_SPOOL_DIR },
		{ "fleet-spool-max-bytes", required_argument, NULL, OPT_FLEET_SPOOL_MAX_BYTES },
		{ "fleet-queue", required_argument, NULL, OPT_FLEET_QUEUE },
		{ "fleet-group", required_argument, NULL, OPT_FLEET_GROUP },
		{ "fleet-policy-bucket", required_argument, NULL, OPT_FLEET_POLICY_BUCKET },
		{ "fleet-status-ttl", required_argument, NULL, OPT_FLEET_STATUS_TTL },
		{ "fleet-creds", required_argument, NULL, OPT_FLEET_CREDS },
		{ "fleet-nkey-seed", required_argument, NULL, OPT_FLEET_NKEY_SEED },
		{ "fleet-user", required_argument, NULL, OPT_FLEET_USER },
		{ "fleet-password-file", required_argument, NULL, OPT_FLEET_PASSWORD_FILE },
		{ "fleet-tls-ca", required_argument, NULL, OPT_FLEET_TLS_CA },
		{ "fleet-tls-cert", required_argument, NULL, OPT_FLEET_TLS_CERT },
		{ "fleet-tls-key", required_argument, NULL, OPT_FLEET_TLS_KEY },
		{ "trusted-key", required_argument, NULL, 'K' },
		{ "bundle-state", required_argument, NULL, 'B' },
		{ "api-token-file", required_argument, NULL, 'a' },
		{ "api-socket", required_argument, NULL, 'u' },
		{ "api-port", required_argument, NULL, 'P' },
		{ "grpc-token-file", required_argument, NULL, OPT_GRPC_TOKEN_FILE },
		{ "grpc-socket", required_argument, NULL, OPT_GRPC_SOCKET },
		{ "grpc-address", required_argument, NULL, OPT_GRPC_ADDRESS },
		{ "grpc-tls-cert", required_argument, NULL, OPT_GRPC_TLS_CERT },
		{ "grpc-tls-key", required_argument, NULL, OPT_GRPC_TLS_KEY },
		{ "grpc-tls-client-ca", required_argument, NULL, OPT_GRPC_TLS_CLIENT_CA },
		{ "grpc-buffer", required_argument, NULL, OPT_GRPC_BUFFER },
		{ "metrics-address", required_argument, NULL, OPT_METRICS_ADDRESS },
		{ "metrics-token-file", required_argument, NULL, OPT_METRICS_TOKEN_FILE },
		{ "metrics-tls-cert", required_argument, NULL, OPT_METRICS_TLS_CERT },
		{ "metrics-tls-key", required_argument, NULL, OPT_METRICS_TLS_KEY },
		{ "self-defence", required_argument, NULL, 'D' },
		{ "record-immutable-refusals", no_argument, NULL, OPT_RECORD_IMMUTABLE_REFUSALS },
		{ "blocklist", required_argument, NULL, 'b' },
		{ "host-mount-ns", required_argument, NULL, OPT_HOST_MOUNT_NS },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct options){ .mode = -1 };
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'p': o->policy_path = optarg; break;
		case OPT_POLICY_DIR: o->policy_dir = optarg; break;
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
		case OPT_GRPC_TOKEN_FILE: o->grpc_token_file = optarg; break;
		case OPT_GRPC_SOCKET: o->grpc_socket = optarg; break;
		case OPT_GRPC_ADDRESS: o->grpc_address = optarg; break;
		case OPT_GRPC_TLS_CERT: o->grpc_tls_cert = optarg; break;
		case OPT_GRPC_TLS_KEY: o->grpc_tls_key = optarg; break;
		case OPT_GRPC_TLS_CLIENT_CA: o->grpc_tls_client_ca = optarg; break;
		case OPT_GRPC_BUFFER: o->grpc_buffer = optarg; break;
		case OPT_METRICS_ADDRESS: o->metrics_address = optarg; break;
		case OPT_METRICS_TOKEN_FILE: o->metrics_token_file = optarg; break;
		case OPT_METRICS_TLS_CERT: o->metrics_tls_cert = optarg; break;
		case OPT_METRICS_TLS_KEY: o->metrics_tls_key = optarg; break;
		case 'D': o->self_defence = optarg; break;
		case OPT_RECORD_IMMUTABLE_REFUSALS: o->record_refusals = true; break;
		case OPT_CRASH_LIMIT: o->crash_limit_arg = optarg; break;
		case OPT_RECORD_HASHES: o->record_hashes = true; break;
		case 'b': o->blocklist = optarg; break;
		case OPT_HOST_MOUNT_NS: o->host_mount_ns = optarg; break;
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
		case OPT_FLEET_URL: o->fleet_conn.url = optarg; break;
		case OPT_FLEET_STREAM: o->fleet_stream = optarg; break;
		case OPT_FLEET_REPLICAS: o->fleet_replicas = optarg; break;
		case OPT_FLEET_SPOOL_DIR: o->fleet_spool_dir = optarg; break;
		case OPT_FLEET_SPOOL_MAX_BYTES: o->fleet_spool_max_bytes = optarg; break;
		case OPT_FLEET_QUEUE: o->fleet_queue = optarg; break;
		case OPT_FLEET_GROUP: o->fleet_group = optarg; break;
		case OPT_FLEET_POLICY_BUCKET: o->fleet_policy_bucket = optarg; break;
		case OPT_FLEET_STATUS_TTL: o->fleet_status_ttl = optarg; break;
		case OPT_FLEET_CREDS: o->fleet_conn.creds = optarg; break;
		case OPT_FLEET_NKEY_SEED: o->fleet_conn.nkey_seed = optarg; break;
		case OPT_FLEET_USER: o->fleet_conn.user = optarg; break;
		case OPT_FLEET_PASSWORD_FILE: o->fleet_conn.password_file = optarg; break;
		case OPT_FLEET_TLS_CA: o->fleet_conn.tls_ca = optarg; break;
		case OPT_FLEET_TLS_CERT: o->fleet_conn.tls_cert = optarg; break;
		case OPT_FLEET_TLS_KEY: o->fleet_conn.tls_key = optarg; break;
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

/* Settings the command line left unset come from --config, then the defaults. */
int daemon_apply_config(struct options *o)
{
	struct sg_config *c = &o->config;
	const char *v;
	char err[512];
	size_t len = 0;
	char *buf = NULL;
	int rc;

	/* The packaged settings file is read when there; without it, the defaults. */
	if (!o->config_path && access(SG_CONFIG_DEFAULT, F_OK) == 0)
		o->config_path = SG_CONFIG_DEFAULT;
	if (o->config_path) {
		rc = daemon_read_file(o->config_path, &buf, &len);
		if (rc) {
			fprintf(stderr, "sysguardd: cannot read config %s: %s\n", o->config_path,
				strerror(-rc));
			return rc;
		}
		rc = sg_config_parse(buf, len, o->config_path, c, err, sizeof(err));
		free(buf);
		if (!rc)
			rc = sg_config_check_keys(c, sg_daemon_config_keys, o->config_path, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "sysguardd: %s\n", err);
			return rc;
		}
	}
#define FROM_CONFIG(field, key) do { if (!o->field) o->field = sg_config_get(c, key); } while (0)
	FROM_CONFIG(policy_path, "policy");
	FROM_CONFIG(policy_dir, "policy_dir");
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
	FROM_CONFIG(grpc_token_file, "grpc.token_file");
	FROM_CONFIG(grpc_socket, "grpc.socket");
	FROM_CONFIG(grpc_address, "grpc.address");
	FROM_CONFIG(grpc_tls_cert, "grpc.tls_cert");
	FROM_CONFIG(grpc_tls_key, "grpc.tls_key");
	FROM_CONFIG(grpc_tls_client_ca, "grpc.tls_client_ca");
	FROM_CONFIG(grpc_buffer, "grpc.buffer");
	FROM_CONFIG(metrics_address, "metrics.address");
	FROM_CONFIG(metrics_token_file, "metrics.token_file");
	FROM_CONFIG(metrics_tls_cert, "metrics.tls_cert");
	FROM_CONFIG(metrics_tls_key, "metrics.tls_key");
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
	FROM_CONFIG(fleet_conn.url, "fleet.url");
	FROM_CONFIG(fleet_conn.creds, "fleet.creds");
	FROM_CONFIG(fleet_conn.nkey_seed, "fleet.nkey_seed");
	FROM_CONFIG(fleet_conn.user, "fleet.user");
	FROM_CONFIG(fleet_conn.password_file, "fleet.password_file");
	FROM_CONFIG(fleet_conn.tls_ca, "fleet.tls_ca");
	FROM_CONFIG(fleet_conn.tls_cert, "fleet.tls_cert");
	FROM_CONFIG(fleet_conn.tls_key, "fleet.tls_key");
	FROM_CONFIG(fleet_stream, "fleet.stream");
	FROM_CONFIG(fleet_replicas, "fleet.replicas");
	FROM_CONFIG(fleet_spool_dir, "fleet.spool_dir");
	FROM_CONFIG(fleet_spool_max_bytes, "fleet.spool_max_bytes");
	FROM_CONFIG(fleet_queue, "fleet.queue");
	FROM_CONFIG(fleet_group, "fleet.group");
	FROM_CONFIG(fleet_policy_bucket, "fleet.policy_bucket");
	FROM_CONFIG(fleet_status_ttl, "fleet.status_ttl");
	FROM_CONFIG(host_mount_ns, "host_mount_ns");
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
	if ((v = sg_config_get(c, "record_hashes")) && !o->record_hashes &&
	    sg_config_bool(v, &o->record_hashes)) {
		fprintf(stderr, "sysguardd: %s: record_hashes must be true or false\n", o->config_path);
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
	if (!o->crash_limit_arg)
		o->crash_limit_arg = sg_config_get(c, "crash_limit");
	o->crash_limit = 3;
	if (o->crash_limit_arg && sg_config_uint(o->crash_limit_arg, 0, 1000, &o->crash_limit)) {
		fprintf(stderr, "sysguardd: crash limit must be 0 to 1000 starts, not '%s'\n",
			o->crash_limit_arg);
		return -EINVAL;
	}
	if (!o->blocklist)
		o->blocklist = "/var/lib/sysguard/blocklist";
	if (!o->policy_path)
		o->policy_path = "/etc/sysguard/policy.yaml";
	/* The default directory is read when there; "-" (or "") reads none. */
	if (!o->policy_dir)
		o->policy_dir = SG_POLICY_DIR_DEFAULT;
	if (!strcmp(o->policy_dir, "-") || !*o->policy_dir)
		o->policy_dir = NULL;
	if (!o->log_path)
		o->log_path = "/var/log/sysguard/audit.log";
	if (!strcmp(o->log_path, "-"))
		o->log_path = NULL;
	if (!o->state_dir)
		o->state_dir = "/run/sysguard";
	return 0;
}

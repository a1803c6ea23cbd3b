// SPDX-License-Identifier: Apache-2.0
/* Every key sysguardd's settings file may hold: the daemon and the reference config's test share it. */
#include <stddef.h>

#include "config/daemon_keys.h"

const char *const sg_daemon_config_keys[] = {
	"policy", "policy_dir", "log", "state_dir", "node_id", "mode", "strict", "crash_limit", "record_hashes",
	"alerts.enabled", "alerts.url", "alerts.format", "alerts.dedup_window_s",
	"alerts.per_minute", "alerts.ca_bundle", "alerts.timeout_ms",
	"shield.interfaces", "shield.generic", "shield.list",
	"api.token_file", "api.socket", "api.port", "self_defence", "files.blocklist",
	"grpc.token_file", "grpc.socket", "grpc.address", "grpc.tls_cert", "grpc.tls_key",
	"grpc.tls_client_ca", "grpc.buffer",
	"metrics.address", "metrics.token_file", "metrics.tls_cert", "metrics.tls_key",
	"siem.enabled", "siem.address", "siem.transport", "siem.ca_file", "siem.server_name",
	"siem.cert_file", "siem.key_file", "siem.queue", "siem.facility",
	"fleet.url", "fleet.stream", "fleet.replicas", "fleet.spool_dir", "fleet.spool_max_bytes",
	"fleet.queue", "fleet.group", "fleet.policy_bucket", "fleet.status_ttl",
	"fleet.creds", "fleet.nkey_seed", "fleet.user", "fleet.password_file", "fleet.tls_ca",
	"fleet.tls_cert", "fleet.tls_key", "host_mount_ns", NULL,
};

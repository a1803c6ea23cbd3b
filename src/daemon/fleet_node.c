// SPDX-License-Identifier: Apache-2.0
/*
 * Policy from the bus and the node's status entry (docs/fleet.md): the
 * settings, start-up, and the two hand-overs between the node's thread and
 * the event loop. A value from the bus goes through the policy inbox, the
 * path of `sysguardctl policy apply`, so it is verified (trusted keys,
 * anti-rollback) and recorded by the event loop exactly as a local bundle.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "store/bundle_files.h"

static bool policy_from_bus(const struct options *o)
{
	return o->fleet_group || o->fleet_policy_bucket;
}

/* Before anything starts: a bad setting, or policy from the bus that nothing could verify, stops it. */
int daemon_check_fleet_node(struct daemon *d)
{
	const struct options *o = &d->opt;
	unsigned ttl;

	if (!o->fleet_conn.url) {
		if (o->fleet_group || o->fleet_policy_bucket || o->fleet_status_ttl) {
			fprintf(stderr, "sysguardd: the fleet settings need --fleet-url (fleet.url)\n");
			return -EINVAL;
		}
		return 0;
	}
	if (o->fleet_group && !sg_fleet_name_ok(o->fleet_group)) {
		fprintf(stderr, "sysguardd: fleet group must be 1-64 letters, digits, '-' or '_', not '%s'\n",
			o->fleet_group);
		return -EINVAL;
	}
	if (o->fleet_policy_bucket && !sg_fleet_name_ok(o->fleet_policy_bucket)) {
		fprintf(stderr, "sysguardd: fleet policy bucket must be 1-64 letters, digits, '-' or '_', "
			"not '%s'\n", o->fleet_policy_bucket);
		return -EINVAL;
	}
	if (o->fleet_status_ttl && sg_config_uint(o->fleet_status_ttl, 1, SG_FLEET_STATUS_TTL_MAX, &ttl)) {
		fprintf(stderr, "sysguardd: fleet status TTL must be 1-%u seconds, not '%s'\n",
			SG_FLEET_STATUS_TTL_MAX, o->fleet_status_ttl);
		return -EINVAL;
	}
	if (policy_from_bus(o) && !o->ntrusted) {
		/* The bus is not trusted: without keys a policy from it could not be verified. */
		fprintf(stderr, "sysguardd: policy from the bus (--fleet-group) needs --trusted-key: "
			"only signed bundles are taken from it\n");
		return -EINVAL;
	}
	return 0;
}

/* The node's thread: into the inbox, then the signal `sysguardctl policy apply` sends. */
static void deliver(void *ctx, const char *data, size_t len)
{
	struct daemon *d = ctx;
	char path[4200], err[512];

	snprintf(path, sizeof(path), "%s/policy.inbox", d->opt.state_dir);
	if (sg_file_replace(path, data, len, 0600, err, sizeof(err))) {
		fprintf(stderr, "sysguardd: fleet: policy from the bus: %s\n", err);
		return;
	}
	kill(getpid(), SIGHUP);
}

/* After the policy is loaded, so that the value already in force at a restart is known. */
int daemon_start_fleet_node(struct daemon *d)
{
	const struct options *o = &d->opt;
	struct sg_fleet_node_config cfg = {
		.conn = &o->fleet_conn,
		.node_id = d->audit.node_id,
		.group = o->fleet_group ? o->fleet_group : SG_FLEET_GROUP_DEFAULT,
		.policy_bucket = !policy_from_bus(o) ? NULL :
				 o->fleet_policy_bucket ? o->fleet_policy_bucket :
				 SG_FLEET_POLICY_BUCKET_DEFAULT,
		.status_ttl_s = SG_FLEET_STATUS_TTL_DEFAULT,
		.deliver = deliver,
		.ctx = d,
	};
	struct sg_fleet_status st = { .policy_version = d->bundle.version };
	char err[256];

	if (!o->fleet_conn.url)
		return 0;
	snprintf(st.policy_name, sizeof(st.policy_name), "%s", sg_policy_version(d->engine.policy));
	cfg.status = &st;
	if (o->fleet_status_ttl)
		sg_config_uint(o->fleet_status_ttl, 1, SG_FLEET_STATUS_TTL_MAX, &cfg.status_ttl_s);
	d->fleet_node = sg_fleet_node_start(&cfg, err, sizeof(err));
	if (!d->fleet_node) {
		fprintf(stderr, "sysguardd: %s (policy from the bus and the status entry do not start)\n",
			err);
		return -EINVAL;
	}
	return 0;
}

/* Each stats tick, from the snapshot stats.json is written from. */
void daemon_fleet_node_status(struct daemon *d, const struct sg_counters *c)
{
	struct sg_fleet_status st = { 0 };
	size_t off = 0;
	int b, n;

	if (!d->fleet_node)
		return;
	st.policy_version = d->bundle.version;
	snprintf(st.policy_name, sizeof(st.policy_name), "%s", c->policy_version);
	for (b = 0; b < SG_BACKEND_MAX; b++) {
		if (!c->backend[b])
			continue;
		n = snprintf(st.backends + off, sizeof(st.backends) - off, "%s%s", off ? "," : "",
			     sg_backend_name(b));
		if (n < 0 || (size_t)n >= sizeof(st.backends) - off)
			break;
		off += (size_t)n;
	}
	st.fleet_dropped = c->fleet.dropped;
	st.denies = c->decisions.denied;
	st.kills = c->decisions.mitigations;
	snprintf(st.last_error, sizeof(st.last_error), "%s", c->fleet.last_error);
	sg_fleet_node_set_status(d->fleet_node, &st);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's keys in the bus (docs/fleet.md): a thread of its own, with its
 * own NATS connection, that watches policy.<group> in the policy bucket and
 * hands every new value to the daemon (which verifies it as any local
 * bundle: the bus is not trusted), and renews node.<node_id> in the status
 * bucket, whose entries expire after a TTL. Needs no right to make either
 * bucket when it exists: both are looked up first. Nothing here blocks the
 * event loop: it only copies a status snapshot in.
 */
#ifndef SG_FLEET_NODE_H
#define SG_FLEET_NODE_H

#include <stddef.h>

#include "report/fleet_conn.h"
#include "report/fleet_status.h"

struct sg_fleet_node_config {
	const struct sg_fleet_conn_config *conn;	/* the servers, credentials, TLS */
	const char *node_id;
	const char *group;		/* of the status entry and, with policy on, the key watched */
	const char *policy_bucket;	/* NULL: no policy from the bus */
	unsigned status_ttl_s;
	/* The status at start: its policy_version is the bundle in force, known before any value. */
	const struct sg_fleet_status *status;
	/*
	 * On the node's thread, with a value of policy.<group> not seen before:
	 * hand it over (copy it); the caller verifies and applies it elsewhere.
	 */
	void (*deliver)(void *ctx, const char *data, size_t len);
	void *ctx;
};

struct sg_fleet_node;

/*
 * Start the thread; nothing is connected yet (an unreachable bus holds
 * nobody), but the credential and TLS files are read. NULL with err.
 */
struct sg_fleet_node *sg_fleet_node_start(const struct sg_fleet_node_config *cfg, char *err,
					  size_t errlen);

/* The status the next entry will carry (copied; last_seen is set when it is written). */
void sg_fleet_node_set_status(struct sg_fleet_node *n, const struct sg_fleet_status *s);

/* Stop the thread and free everything; the status entry is left to expire. NULL-safe. */
void sg_fleet_node_stop(struct sg_fleet_node *n);

#endif

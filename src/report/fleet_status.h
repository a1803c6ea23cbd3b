/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A node's status entry in the fleet status bucket (docs/fleet.md, "Fleet
 * status"), and the names of the keys the fleet uses. Pure: no I/O, so the
 * daemon's writer and sysguardctl's reader share and unit-test it.
 */
#ifndef SG_FLEET_STATUS_H
#define SG_FLEET_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/json.h"

#define SG_FLEET_GROUP_DEFAULT		"default"
#define SG_FLEET_POLICY_BUCKET_DEFAULT	"SYSGUARD_POLICY"
#define SG_FLEET_STATUS_BUCKET		"SYSGUARD_STATUS"
/*
 * Samples of the status entry kept for `fleet view`: a bucket of its own,
 * since the status bucket's TTL (seconds) would expire any history with it.
 */
#define SG_FLEET_HISTORY_BUCKET		"SYSGUARD_STATUS_HISTORY"
#define SG_FLEET_HISTORY_VALUES		64	/* per node: the most JetStream keeps */
#define SG_FLEET_HISTORY_PERIOD_S	60u	/* 64 minutes of samples */
#define SG_FLEET_HISTORY_TTL_S		(24u * 3600u)
#define SG_FLEET_POLICY_HISTORY		5	/* revisions the policy bucket keeps */
#define SG_FLEET_STATUS_TTL_DEFAULT	30u	/* seconds */
#define SG_FLEET_STATUS_TTL_MAX		3600u
#define SG_FLEET_NAME_MAX		64
#define SG_FLEET_BACKENDS_MAX		160

struct sg_fleet_status {
	char node_id[256];
	char group[SG_FLEET_NAME_MAX + 1];
	uint64_t policy_version;	/* the signed bundle's version in force, 0 for none */
	char policy_name[128];		/* the policy's own version string */
	char backends[SG_FLEET_BACKENDS_MAX];	/* active ones, separated by commas */
	uint64_t fleet_dropped;
	char last_error[160];		/* the export's, "" for none */
	uint64_t last_seen;		/* Unix seconds, when the entry was written */
	/* Since the daemon started (Unix seconds, `started`): they go back to 0 at a restart. */
	uint64_t started;
	uint64_t denies;		/* the policy engine's deny verdicts */
	uint64_t kills;			/* processes killed (mitigations carried out) */
};

/*
 * True when s is 1-64 letters, digits, '-' or '_': one token of a subject
 * or a key, and a valid bucket name.
 */
bool sg_fleet_name_ok(const char *s);

/* "policy.<group>" / "node.<node_id as a token>" into out; -ENAMETOOLONG or 0. */
int sg_fleet_policy_key(const char *group, char *out, size_t outlen);
int sg_fleet_status_key(const char *node_id, char *out, size_t outlen);

/* The entry's JSON object (one line, no line end). */
void sg_fleet_status_json(const struct sg_fleet_status *s, struct sg_json *j);

/* Read an entry back; -EINVAL when it is not one. */
int sg_fleet_status_parse(const char *buf, size_t len, struct sg_fleet_status *out);

/* A bundle's version from its header without verifying it; 0 when it has none. */
uint64_t sg_fleet_bundle_version(const char *buf, size_t len);

#endif

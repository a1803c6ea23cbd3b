/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events to JetStream (FLEET-1, docs/fleet.md): every audit record published
 * to subject sysguard.<node>.<type> of a JetStream stream, at least once,
 * with a message id JetStream deduplicates on. The event loop only calls
 * sg_fleet_submit(), which copies the line into a bounded queue; a worker
 * thread moves it to an on-disk spool (spool.h), publishes from the spool's
 * head and takes records off once acknowledged, so what the bus did not take
 * is replayed in order, before newer records, once the bus is back, also
 * after a restart. Nothing exists unless enabled.
 */
#ifndef SG_FLEET_PUBLISH_H
#define SG_FLEET_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/fleet_conn.h"

#define SG_FLEET_QUEUE_DEFAULT		65536u
#define SG_FLEET_QUEUE_MAX		1000000u
#define SG_FLEET_STREAM_DEFAULT		"SYSGUARD_EVENTS"
#define SG_FLEET_SPOOL_MAX_DEFAULT	(256ull << 20)
#define SG_FLEET_ACK_WAIT_MS		2000u
#define SG_FLEET_ERROR_MAX		160

enum sg_fleet_drop {
	SG_FLEET_DROP_QUEUE_FULL,	/* the in-memory queue was full */
	SG_FLEET_DROP_SPOOL_FULL,	/* the bus was away or slow and the spool full for its kind */
	SG_FLEET_DROP_TOO_LARGE,	/* longer than a spool record, or than the bus takes */
	SG_FLEET_DROP_SPOOL_ERROR,	/* writing or reading the spool failed */
	SG_FLEET_DROP_MAX,
};

struct sg_fleet_config {
	const struct sg_fleet_conn_config *conn;	/* the servers, credentials, TLS */
	const char *stream;		/* NULL: SG_FLEET_STREAM_DEFAULT */
	const char *node_id;		/* the records' node_id */
	const char *spool_dir;
	uint64_t spool_max_bytes;	/* 0: SG_FLEET_SPOOL_MAX_DEFAULT */
	unsigned queue;			/* 0: SG_FLEET_QUEUE_DEFAULT */
	unsigned replicas;		/* of the stream when the daemon makes it; 0: 1 */
};

struct sg_fleet_stats {
	uint64_t submitted;		/* records handed to the export, and found in the spool at start */
	uint64_t delivered;		/* acknowledged by JetStream (a duplicate it had counts once) */
	uint64_t dropped;		/* the sum of dropped_by[] */
	uint64_t dropped_by[SG_FLEET_DROP_MAX];
	uint64_t queued;		/* not a counter: in memory, waiting for the spool */
	uint64_t spooled;		/* not a counter: on disk (in flight included), not yet delivered */
	uint64_t spool_bytes;		/* not a counter */
	uint64_t replayed;		/* delivered after waiting out a bus failure in the spool */
	uint64_t recovered;		/* found in the spool at start (part of submitted) */
	uint64_t publish_errors;	/* batches not fully acknowledged */
	uint64_t late_acks;		/* stored behind an earlier one that failed: out of order */
	uint64_t disconnects;		/* times the bus (or the stream) went away after being there */
	bool connected;			/* connected and the stream is there */
	char last_error[SG_FLEET_ERROR_MAX];		/* "" until something failed */
	/* Under one lock: submitted = delivered + dropped + queued + spooled. */
};

struct sg_fleet;

/* Check cfg, open the spool (what a previous run left is replayed first), start the worker. */
struct sg_fleet *sg_fleet_start(const struct sg_fleet_config *cfg, char *err, size_t errlen);

/*
 * Queue one audit line (copied). Never blocks; counts a drop when the queue is
 * full (denies, kills and criticals get an eighth more room).
 */
void sg_fleet_submit(struct sg_fleet *f, const char *line, size_t len);

/* A consistent snapshot; zeros when f is NULL. */
void sg_fleet_stats(struct sg_fleet *f, struct sg_fleet_stats *out);

/*
 * Stop: the worker gets up to drain_ms to publish what is spooled and
 * queued; what is left stays in the spool for the next run. Frees everything.
 */
void sg_fleet_stop(struct sg_fleet *f, unsigned drain_ms);

const char *sg_fleet_drop_name(int reason);

#endif

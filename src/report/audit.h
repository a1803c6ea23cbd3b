/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Audit log: one JSON object per line (LOG-1) to a file and/or stdout, with
 * the fields every record carries (LOG-2). A record is built with
 * sg_audit_begin(), completed by the caller, and queued whole by
 * sg_audit_commit() to each destination's writer thread (audit_sink.h), so
 * concurrent writers never interleave lines and no caller waits for I/O.
 * The log lock is held from begin to commit, so lines appear in event_id
 * order.
 */
#ifndef SG_AUDIT_H
#define SG_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "audit_sink.h"
#include "json.h"

enum sg_severity {
	SG_SEV_INFO = 0,	/* allow */
	SG_SEV_WARNING = 1,	/* deny in monitor mode */
	SG_SEV_CRITICAL = 2,	/* deny in enforce mode, or a failed mitigation */
};

#define SG_AUDIT_MAX_SINKS 4

struct sg_audit_stats {
	uint64_t write_errors;	/* summed over the destinations */
	uint64_t dropped;
	uint64_t lines_cut;
};

struct sg_audit {
	char node_id[256];
	char policy_version[96];	/* SG_POLICY_VERSION_MAX */
	uint64_t next_event_id;	/* monotonic, unique per daemon run */
	/* The time stamp's date and time of day, formatted once per second (under the lock). */
	int64_t ts_sec;
	char ts_second[20];
	struct sg_audit_sink sinks[SG_AUDIT_MAX_SINKS];
	unsigned nsinks;
	char *path;		/* the log file, reopened by sg_audit_reopen; NULL: none */
	pthread_mutex_t lock;
	/* Called with each committed line, under the lock (e.g. the API's event feed). */
	void (*on_line)(void *ctx, const char *line, size_t len);
	void *on_line_ctx;
};

/*
 * Open the log (append, create 0600). path may be NULL for stdout only.
 * 0 or negative errno (the caller names the path); on error there is nothing
 * to close.
 */
int sg_audit_open(struct sg_audit *a, const char *path, bool to_stdout,
		  const char *node_id);
/*
 * Add a destination writing to fd through a queue of cap bytes (default
 * when 0); fd is closed by sg_audit_close when own_fd. 0 or negative errno.
 * Call before records are written from other threads.
 */
/*
 * Reopen the log file at its path (after logrotate moved it): records
 * committed before this call are written to the old file, every later one
 * to the new. 0 (also without a log file) or negative errno, and then the
 * old file stays in use.
 */
int sg_audit_reopen(struct sg_audit *a);
int sg_audit_add_sink(struct sg_audit *a, const char *name, int fd, bool own_fd, size_t cap);
/*
 * One "audit_dropped" record for each destination that dropped lines since
 * the last call (the daemon calls it once a second). Written to every
 * destination, so a stalled one is reported by the others.
 */
void sg_audit_report_drops(struct sg_audit *a);
/* Wait until every line committed so far was written or dropped. 0 or -ETIMEDOUT. */
int sg_audit_flush(struct sg_audit *a, int timeout_ms);
/* Writes what is queued (giving a blocked destination about a second), then releases all. */
void sg_audit_close(struct sg_audit *a);
void sg_audit_stats(struct sg_audit *a, struct sg_audit_stats *out);
/* The totals and each destination's counters, for stats.json and /metrics (report/counters.h). */
struct sg_counters_audit;
void sg_audit_counters(struct sg_audit *a, struct sg_counters_audit *c);
void sg_audit_set_policy_version(struct sg_audit *a, const char *version);

/*
 * Start a record: fills event_id (16 hex digits), ts (RFC 3339 UTC with
 * nanoseconds), node_id, policy_version, type and severity, and leaves the
 * object open for the caller. Returns the event id.
 * Takes the log lock: every begin must be followed by exactly one commit on
 * the same thread, with no I/O or blocking in between.
 */
uint64_t sg_audit_begin(struct sg_audit *a, struct sg_json *j, const char *type,
			enum sg_severity sev);
/*
 * Close the object, append '\n', queue the line to every destination and
 * release the lock; never waits for I/O. 0, or -ENOBUFS when a full queue
 * dropped it (counted; see sg_audit_report_drops). A record
 * that cannot be written as built (allocation failure, objects left open)
 * is replaced by an "audit_error" record with the same event id.
 */
int sg_audit_commit(struct sg_audit *a, struct sg_json *j);

const char *sg_severity_name(enum sg_severity s);
/* LOG-2: the severity of a decision. */
enum sg_severity sg_severity_for(bool denied, bool enforce, bool mitigation_failed);

/* node_id default: hostname; `override` (--node-id / Downward API env) wins. */
void sg_node_id_default(char *buf, size_t len, const char *override);

#endif

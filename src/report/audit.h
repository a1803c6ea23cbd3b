/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Audit log: one JSON object per line (LOG-1) to a file and/or stdout, with
 * the fields every record carries (LOG-2). A record is built with
 * sg_audit_begin(), completed by the caller, and written by sg_audit_commit()
 * in a single write(2) so concurrent writers never interleave lines. The log
 * lock is held from begin to commit, so lines appear in event_id order.
 */
#ifndef SG_AUDIT_H
#define SG_AUDIT_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "json.h"

enum sg_severity {
	SG_SEV_INFO = 0,	/* allow */
	SG_SEV_WARNING = 1,	/* deny in monitor mode */
	SG_SEV_CRITICAL = 2,	/* deny in enforce mode, or a failed mitigation */
};

struct sg_audit {
	int fd;			/* log file, -1 when none */
	bool to_stdout;
	char node_id[256];
	char policy_version[64];
	uint64_t next_event_id;	/* monotonic, unique per daemon run */
	uint64_t write_errors;
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
void sg_audit_close(struct sg_audit *a);
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
 * Close the object, append '\n', write the line and release the lock.
 * 0 or negative errno. A record that cannot be written as built (allocation
 * failure, objects left open) is replaced by an "audit_error" record with
 * the same event id.
 */
int sg_audit_commit(struct sg_audit *a, struct sg_json *j);

const char *sg_severity_name(enum sg_severity s);
/* LOG-2: the severity of a decision. */
enum sg_severity sg_severity_for(bool denied, bool enforce, bool mitigation_failed);

/* node_id default: hostname; `override` (--node-id / Downward API env) wins. */
void sg_node_id_default(char *buf, size_t len, const char *override);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One destination of the audit log (the file, stdout) behind a bounded
 * queue drained by its own writer thread. The thread that commits a record
 * only copies the line into memory: it never waits for the destination, so
 * a reader that stops reading (a stalled log shipper, a terminal on XOFF)
 * or a slow disk cannot hold up the threads that answer permission events.
 * What does not fit is dropped whole and counted.
 */
#ifndef SG_AUDIT_SINK_H
#define SG_AUDIT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

/* Per-destination queue size: room for a few thousand ordinary records. */
#define SG_AUDIT_QUEUE_BYTES (2u << 20)

struct sg_audit_sink_stats {
	uint64_t written;	/* lines fully written */
	uint64_t dropped;	/* lines lost: queue full, or the write failed */
	uint64_t write_errors;	/* failed or short write(2) batches */
	uint64_t lines_cut;	/* partial lines removed (truncated) or ended with '\n' */
	uint64_t queued_bytes;
};

struct sg_audit_sink {
	char name[16];		/* "file", "stdout": names the sink in records */
	int fd;
	bool own_fd;		/* closed with the sink */
	bool regular;		/* a regular file: a partial line can be truncated away */
	bool need_newline;	/* a partial line could not be removed: end it first */
	pthread_t thread;
	bool started, stop, busy;
	unsigned flushing;	/* callers of sg_audit_sink_flush waiting: write now */
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* work queued, stop asked, or a batch done */
	char *fill, *spare;	/* producers append to fill; the writer drains spare */
	size_t len, cap, batch_len;
	/* A reopened log: lines queued after fill[switch_at] go to next_fd (-1: none asked). */
	int next_fd;
	size_t switch_at;
	struct sg_audit_sink_stats st;
	uint64_t drops_reported;
};

/*
 * Start a sink on fd (closed by sg_audit_sink_stop when own_fd). cap is the
 * queue size in bytes (SG_AUDIT_QUEUE_BYTES when 0). 0 or negative errno;
 * on error fd is left to the caller.
 */
int sg_audit_sink_start(struct sg_audit_sink *s, const char *name, int fd, bool own_fd,
			size_t cap);
/*
 * Queue one whole line; never waits for I/O. 0, or -ENOBUFS when the line
 * did not fit and was dropped (counted).
 */
int sg_audit_sink_push(struct sg_audit_sink *s, const char *line, size_t len);
/* Wait until everything queued so far was written or dropped; -ETIMEDOUT after timeout_ms. */
int sg_audit_sink_flush(struct sg_audit_sink *s, int timeout_ms);
/*
 * Write what is queued within timeout_ms, then stop the writer (cancelled
 * if the destination still blocks it) and release the sink.
 */
void sg_audit_sink_stop(struct sg_audit_sink *s, int timeout_ms);
/*
 * From now on write to fd (a reopened log file; the old fd is closed once
 * every line queued before this call is written to it). Never waits for I/O.
 */
void sg_audit_sink_switch_fd(struct sg_audit_sink *s, int fd);
void sg_audit_sink_stats(struct sg_audit_sink *s, struct sg_audit_sink_stats *out);
/* Lines dropped since the last call (and *total, all so far). */
uint64_t sg_audit_sink_take_drops(struct sg_audit_sink *s, uint64_t *total);

#endif

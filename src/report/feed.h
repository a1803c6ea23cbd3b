/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recent audit records and the status documents, held in memory for the
 * gRPC service (report/grpc/): the event loop copies each committed line in
 * (a memcpy under a lock, never a wait on a reader), and each stream copies
 * out what is newer than its position. A reader slower than the ring skips
 * ahead and is told how many it missed; the audit log still has them.
 *
 * Pure C and I/O free, so the filters are unit-tested (tests/unit/test_feed.c).
 */
#ifndef SG_FEED_H
#define SG_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_FEED_RECORDS_DEFAULT 4096
#define SG_FEED_RECORDS_MAX 1000000

struct sg_feed;

struct sg_feed *sg_feed_new(size_t records);
void sg_feed_free(struct sg_feed *f);

/* One committed audit line (with or without its '\n'). */
void sg_feed_push(struct sg_feed *f, const char *line, size_t len);
void sg_feed_set_status(struct sg_feed *f, const char *json, size_t len);
void sg_feed_set_stats(struct sg_feed *f, const char *json, size_t len);
/* Wakes every reader for good: sg_feed_read returns -ESHUTDOWN from then on. */
void sg_feed_stop(struct sg_feed *f);

/* Position of the next record pushed: where a live stream starts. */
uint64_t sg_feed_live(struct sg_feed *f);
/*
 * Position just after the record with this event id: 0, or -ERANGE with
 * *oldest set to the oldest event id still held (0 when none), when it is not
 * in memory.
 */
int sg_feed_after_event(struct sg_feed *f, uint64_t event_id, uint64_t *pos, uint64_t *oldest);

/* Called under the feed's lock: copy the line and return. */
typedef void (*sg_feed_copy_fn)(void *ctx, const char *line, size_t len);
/*
 * Up to max records from *pos on, waiting up to timeout_ms for the first:
 * the count (0 on timeout), *pos advanced, *skipped increased by what left
 * memory before it was read; -ESHUTDOWN once stopped.
 */
int sg_feed_read(struct sg_feed *f, uint64_t *pos, unsigned max, int timeout_ms,
		 uint64_t *skipped, sg_feed_copy_fn copy, void *ctx);

/* Copies (malloc'd, NUL-terminated, caller frees) of the status documents; NULL when none. */
char *sg_feed_status(struct sg_feed *f);
char *sg_feed_stats(struct sg_feed *f);
/* The newest event id held (0 when none) and how many records are held. */
void sg_feed_extent(struct sg_feed *f, uint64_t *newest_event_id, uint64_t *held);

/* The fields a record is filtered by and the API returns; strings point into meta's own buffers. */
struct sg_feed_meta {
	uint64_t event_id;
	char type[64];
	char severity[16];
	char decision[16];
	char ts[40];
	char node_id[256];
	char container_id[80];
	char pod_name[256];
	char pod_namespace[256];
};

/* 0, or -EINVAL when line is not a JSON object with an event_id. */
int sg_feed_meta_parse(const char *line, size_t len, struct sg_feed_meta *m);

struct sg_feed_filter {
	const char *const *types;
	size_t ntypes;
	int min_severity;	/* -1: any; else sg_feed_severity_rank() */
	const char *const *decisions;
	size_t ndecisions;
	const char *container_id;	/* "" or NULL: any; a full id or a prefix of >= 12 */
	const char *pod_name;
	const char *pod_namespace;
};

/* 0 info, 1 warning, 2 critical; -1 for anything else. */
int sg_feed_severity_rank(const char *name);
/* NULL when the filter can be used, else why not (for the client's error). */
const char *sg_feed_filter_check(const struct sg_feed_filter *flt);
bool sg_feed_filter_match(const struct sg_feed_filter *flt, const struct sg_feed_meta *m);

#endif

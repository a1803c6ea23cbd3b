/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet export's on-disk spool (docs/fleet.md): records the bus has not
 * acknowledged yet, oldest first, in append-only segment files of one
 * directory. A cursor file says how far the head segment was delivered, so a
 * restart (or a kill -9) resumes where delivery stopped. Bounded in bytes;
 * the last quarter is kept for the records that must survive longest
 * (denies, kills, criticals). One thread uses a spool at a time.
 */
#ifndef SG_SPOOL_H
#define SG_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record longer than this is never spooled (JetStream's default max payload is 1 MiB). */
#define SG_SPOOL_RECORD_MAX	(1u << 20)

struct sg_spool;

/* One record read back: the three strings point into buf (one allocation). */
struct sg_spool_rec {
	char *buf;
	const char *msgid;
	const char *subject;
	const char *line;
	size_t len;
	bool keep;
	uint64_t end;			/* offset just past it in the head segment */
};

/*
 * Open (creating dir 0700 if missing) and check what is there: a torn or
 * damaged tail (a crash mid-write) is cut off. 0, or negative errno with
 * the reason in err.
 */
int sg_spool_open(struct sg_spool **out, const char *dir, uint64_t max_bytes, char *err,
		  size_t errlen);

/*
 * Append one record after the others. 0; -ENOSPC when the spool is full for
 * a record of its kind (keep: the whole spool, else three quarters of it);
 * -EFBIG when it could never fit; another negative errno when writing failed.
 */
int sg_spool_append(struct sg_spool *s, const char *msgid, const char *subject,
		    const char *line, size_t len, bool keep);

/* Make what was appended durable (fdatasync) if anything was since the last call. */
int sg_spool_sync(struct sg_spool *s);

/*
 * Read up to max records from the head, oldest first, without taking them
 * off (the same ones come back until sg_spool_consume); never across a
 * segment's end, so *n may be less than max with more records left. 0 or
 * negative errno (a damaged record: the rest of its segment is skipped).
 */
int sg_spool_peek(struct sg_spool *s, struct sg_spool_rec *v, unsigned max, unsigned *n);

/* Take the first n records off the head; end is the last one's end. 0 or negative errno. */
int sg_spool_consume(struct sg_spool *s, unsigned n, uint64_t end);

void sg_spool_rec_free(struct sg_spool_rec *v, unsigned n);

uint64_t sg_spool_records(const struct sg_spool *s);
uint64_t sg_spool_bytes(const struct sg_spool *s);

/* Syncs and closes; the files stay for the next run. */
void sg_spool_close(struct sg_spool *s);

#endif

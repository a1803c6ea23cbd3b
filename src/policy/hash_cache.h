/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content-hash cache: file identity (dev, ino) -> SHA-256, so a binary run
 * again is not hashed again. An entry is only returned while the file's
 * change stamp is the one it was hashed under; any other stamp is a miss and
 * drops the entry. Bounded: the least recently used entry makes room.
 *
 * Pure data structure, no I/O and no locking: the caller takes the stamp
 * (fstat of the same open file it hashes, before and after hashing, and only
 * puts when both agree) and serialises access.
 *
 * ctime cannot be set from user space, so a changed file gets a new stamp,
 * but only at the filesystem's timestamp granularity: a rewrite keeping the
 * size within the same clock tick as the hash is not seen. Callers that
 * cannot accept that window should use the cache only for files that cannot
 * be written while they run (e.g. the executable of a live exec).
 */
#ifndef SG_HASH_CACHE_H
#define SG_HASH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* What must not change for a cached hash to stay valid. */
struct sg_file_stamp {
	uint64_t ctime_ns;
	uint64_t mtime_ns;
	uint64_t size;
};

struct sg_hash_cache_stats {
	uint64_t hits;
	uint64_t misses;	/* absent, stale stamps included */
	uint64_t stale;		/* present but hashed under another stamp */
	uint64_t evictions;	/* dropped to make room */
	size_t entries;
	size_t max_entries;
};

struct sg_hash_cache;

/* A cache holding at most max_entries (1 .. 2^30); NULL on bad size or no memory. */
struct sg_hash_cache *sg_hash_cache_new(size_t max_entries);
void sg_hash_cache_free(struct sg_hash_cache *c);

/*
 * Copy the hash of `id` into out and return true only when an entry exists
 * with exactly this stamp. A stale entry is dropped.
 */
bool sg_hash_cache_get(struct sg_hash_cache *c, const struct sg_file_id *id,
		       const struct sg_file_stamp *stamp, uint8_t out[SG_SHA256_LEN]);

/*
 * As sg_hash_cache_get(), but on the ctime alone: for a caller that knows
 * the file's ctime from the kernel (read at exec) and has not opened it.
 * Any write or attribute change sets a new ctime, so it alone says the
 * content is the one hashed. A mismatch drops the entry like a stale stamp.
 */
bool sg_hash_cache_get_ctime(struct sg_hash_cache *c, const struct sg_file_id *id,
			     uint64_t ctime_ns, uint8_t out[SG_SHA256_LEN]);

/* Insert or replace the entry for `id`, evicting the least recently used when full. */
void sg_hash_cache_put(struct sg_hash_cache *c, const struct sg_file_id *id,
		       const struct sg_file_stamp *stamp, const uint8_t sha[SG_SHA256_LEN]);

/* Drop the entry for `id`, if any (e.g. when the file was seen written). */
void sg_hash_cache_forget(struct sg_hash_cache *c, const struct sg_file_id *id);

/* Drop every entry; counters are kept. */
void sg_hash_cache_clear(struct sg_hash_cache *c);

void sg_hash_cache_stats(const struct sg_hash_cache *c, struct sg_hash_cache_stats *out);

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * Hash cache: a fixed pool of entries on a doubly linked LRU list, indexed
 * by an open-addressing table (linear probing, backward-shift deletion, so
 * no tombstones build up under churn). Every operation is O(1) expected and
 * nothing is allocated after creation.
 */
#include <stdlib.h>
#include <string.h>

#include "hash_cache.h"
#include "table.h"

#define NIL UINT32_MAX
#define MAX_ENTRIES (1u << 30)

struct entry {
	struct sg_file_id id;
	struct sg_file_stamp stamp;
	uint64_t hash;
	uint32_t prev, next;	/* LRU list, or next free entry */
	uint8_t sha[SG_SHA256_LEN];
};

struct sg_hash_cache {
	struct entry *e;
	uint32_t *slot;		/* entry index or NIL */
	size_t mask;
	size_t max;
	size_t count;
	uint32_t head, tail;	/* most and least recently used */
	uint32_t free;		/* never-used and dropped entries */
	struct sg_hash_cache_stats st;
};

static uint64_t hash_id(const struct sg_file_id *id)
{
	uint64_t k[2] = { id->dev, id->ino };

	return sg_hash_bytes(k, sizeof(k));
}

static void lru_unlink(struct sg_hash_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];

	if (e->prev != NIL)
		c->e[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != NIL)
		c->e[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

static void lru_push_front(struct sg_hash_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];

	e->prev = NIL;
	e->next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static void reset(struct sg_hash_cache *c)
{
	size_t i;

	for (i = 0; i <= c->mask; i++)
		c->slot[i] = NIL;
	for (i = 0; i < c->max; i++)
		c->e[i].next = i + 1 < c->max ? (uint32_t)(i + 1) : NIL;
	c->free = 0;
	c->head = NIL;
	c->tail = NIL;
	c->count = 0;
}

struct sg_hash_cache *sg_hash_cache_new(size_t max_entries)
{
	struct sg_hash_cache *c;
	size_t cap = 8;

	if (max_entries == 0 || max_entries > MAX_ENTRIES)
		return NULL;
	while (cap < 2 * max_entries)
		cap <<= 1;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->e = calloc(max_entries, sizeof(*c->e));
	c->slot = calloc(cap, sizeof(*c->slot));
	if (!c->e || !c->slot) {
		sg_hash_cache_free(c);
		return NULL;
	}
	c->mask = cap - 1;
	c->max = max_entries;
	c->st.max_entries = max_entries;
	reset(c);
	return c;
}

void sg_hash_cache_free(struct sg_hash_cache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->slot);
	free(c);
}

/* Slot holding `id`, or the empty slot where it would go. */
static size_t find_slot(const struct sg_hash_cache *c, const struct sg_file_id *id, uint64_t h)
{
	size_t i = h & c->mask;

	for (;;) {
		uint32_t k = c->slot[i];

		if (k == NIL)
			return i;
		if (c->e[k].hash == h && c->e[k].id.dev == id->dev && c->e[k].id.ino == id->ino)
			return i;
		i = (i + 1) & c->mask;
	}
}

/* Empty slot i and pull later entries of the probe run back over it. */
static void slot_delete(struct sg_hash_cache *c, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & c->mask;
		if (c->slot[j] == NIL)
			break;
		home = c->e[c->slot[j]].hash & c->mask;
		/* Move the entry at j unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			c->slot[i] = c->slot[j];
			i = j;
		}
	}
	c->slot[i] = NIL;
}

/* Drop the entry in slot s entirely. */
static void drop(struct sg_hash_cache *c, size_t s)
{
	uint32_t k = c->slot[s];

	slot_delete(c, s);
	lru_unlink(c, k);
	c->e[k].next = c->free;
	c->free = k;
	c->count--;
}

static bool get(struct sg_hash_cache *c, const struct sg_file_id *id,
		const struct sg_file_stamp *stamp, bool ctime_only, uint8_t out[SG_SHA256_LEN])
{
	size_t s = find_slot(c, id, hash_id(id));
	uint32_t k = c->slot[s];
	struct entry *e;

	if (k == NIL) {
		c->st.misses++;
		return false;
	}
	e = &c->e[k];
	if (e->stamp.ctime_ns != stamp->ctime_ns ||
	    (!ctime_only && (e->stamp.mtime_ns != stamp->mtime_ns || e->stamp.size != stamp->size))) {
		c->st.stale++;
		c->st.misses++;
		drop(c, s);
		return false;
	}
	memcpy(out, e->sha, SG_SHA256_LEN);
	lru_unlink(c, k);
	lru_push_front(c, k);
	c->st.hits++;
	return true;
}

bool sg_hash_cache_get(struct sg_hash_cache *c, const struct sg_file_id *id,
		       const struct sg_file_stamp *stamp, uint8_t out[SG_SHA256_LEN])
{
	return get(c, id, stamp, false, out);
}

bool sg_hash_cache_get_ctime(struct sg_hash_cache *c, const struct sg_file_id *id,
			     uint64_t ctime_ns, uint8_t out[SG_SHA256_LEN])
{
	struct sg_file_stamp stamp = { .ctime_ns = ctime_ns };

	return get(c, id, &stamp, true, out);
}

void sg_hash_cache_put(struct sg_hash_cache *c, const struct sg_file_id *id,
		       const struct sg_file_stamp *stamp, const uint8_t sha[SG_SHA256_LEN])
{
	uint64_t h = hash_id(id);
	size_t s = find_slot(c, id, h);
	uint32_t k = c->slot[s];
	struct entry *e;

	if (k != NIL) {
		lru_unlink(c, k);
	} else {
		if (c->count == c->max) {
			drop(c, find_slot(c, &c->e[c->tail].id, c->e[c->tail].hash));
			c->st.evictions++;
			/* Deletion may have shifted the run our empty slot was in. */
			s = find_slot(c, id, h);
		}
		k = c->free;
		c->free = c->e[k].next;
		c->slot[s] = k;
		c->count++;
	}
	e = &c->e[k];
	e->id = *id;
	e->hash = h;
	e->stamp = *stamp;
	memcpy(e->sha, sha, SG_SHA256_LEN);
	lru_push_front(c, k);
}

void sg_hash_cache_forget(struct sg_hash_cache *c, const struct sg_file_id *id)
{
	size_t s = find_slot(c, id, hash_id(id));

	if (c->slot[s] != NIL)
		drop(c, s);
}

void sg_hash_cache_clear(struct sg_hash_cache *c)
{
	reset(c);
}

void sg_hash_cache_stats(const struct sg_hash_cache *c, struct sg_hash_cache_stats *out)
{
	*out = c->st;
	out->entries = c->count;
}

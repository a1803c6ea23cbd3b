/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Open-addressing hash table from a key to a chain of rule indices. The table
 * stores no keys: a slot holds the key's hash and the index of the first rule
 * carrying that key, and the caller compares keys through the rule. Sized
 * once for the number of rules it will hold, so it never grows or fails
 * after creation.
 */
#ifndef SG_POLICY_TABLE_H
#define SG_POLICY_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_NIL UINT32_MAX

struct sg_slot {
	uint64_t hash;
	uint32_t head;		/* rule index, SG_NIL when the slot is empty */
};

struct sg_table {
	struct sg_slot *slot;
	size_t mask;		/* capacity - 1; no slots at all when slot is NULL */
};

/* Does rule `idx` carry `key`? */
typedef bool (*sg_key_eq_fn)(const void *ctx, uint32_t idx, const void *key);

/* Room for `n` distinct keys at a load factor of at most 1/2. 0 or -ENOMEM. */
int sg_table_init(struct sg_table *t, size_t n);
void sg_table_clear(struct sg_table *t);
void sg_table_free(struct sg_table *t);

/*
 * Make `idx` the head of its key's chain and return the previous head
 * (SG_NIL for a new key); the caller links the two. The table must have been
 * sized for every key pushed.
 */
uint32_t sg_table_push(struct sg_table *t, uint64_t hash, sg_key_eq_fn eq,
		       const void *ctx, const void *key, uint32_t idx);

/* Head of the chain for `key`, or SG_NIL. */
uint32_t sg_table_find(const struct sg_table *t, uint64_t hash, sg_key_eq_fn eq,
		       const void *ctx, const void *key);

/* FNV-1a over bytes, finished with a mixer so low bits are usable as index. */
uint64_t sg_hash_bytes(const void *p, size_t len);

/*
 * The same hash taken in pieces, so every prefix of a string can be hashed
 * in one pass: sg_hash_final(sg_hash_update(SG_HASH_INIT, p, len)) equals
 * sg_hash_bytes(p, len), and update may be called again on the unfinished
 * value to extend the key.
 */
#define SG_HASH_INIT 0xcbf29ce484222325ULL
uint64_t sg_hash_update(uint64_t h, const void *p, size_t len);
uint64_t sg_hash_final(uint64_t h);

#endif

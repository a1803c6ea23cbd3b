// SPDX-License-Identifier: Apache-2.0
/* Open-addressing (linear probing) table of rule chains; see table.h. */
#include <errno.h>
#include <stdlib.h>

#include "table.h"

int sg_table_init(struct sg_table *t, size_t n)
{
	size_t cap = 8;

	t->slot = NULL;
	t->mask = 0;
	if (n == 0)
		return 0;
	while (cap < 2 * n) {
		if (cap > SIZE_MAX / 4 / sizeof(*t->slot))
			return -ENOMEM;
		cap <<= 1;
	}
	t->slot = malloc(cap * sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	t->mask = cap - 1;
	sg_table_clear(t);
	return 0;
}

void sg_table_clear(struct sg_table *t)
{
	size_t i;

	if (!t->slot)
		return;
	for (i = 0; i <= t->mask; i++) {
		t->slot[i].hash = 0;
		t->slot[i].head = SG_NIL;
	}
}

void sg_table_free(struct sg_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->mask = 0;
}

static struct sg_slot *probe(const struct sg_table *t, uint64_t hash, sg_key_eq_fn eq,
			     const void *ctx, const void *key)
{
	size_t i = hash & t->mask;

	/* At most half full, so an empty slot always ends the probe. */
	for (;;) {
		struct sg_slot *s = &t->slot[i];

		if (s->head == SG_NIL)
			return s;
		if (s->hash == hash && eq(ctx, s->head, key))
			return s;
		i = (i + 1) & t->mask;
	}
}

uint32_t sg_table_push(struct sg_table *t, uint64_t hash, sg_key_eq_fn eq,
		       const void *ctx, const void *key, uint32_t idx)
{
	struct sg_slot *s = probe(t, hash, eq, ctx, key);
	uint32_t prev = s->head;

	s->hash = hash;
	s->head = idx;
	return prev;
}

uint32_t sg_table_find(const struct sg_table *t, uint64_t hash, sg_key_eq_fn eq,
		       const void *ctx, const void *key)
{
	if (!t->slot)
		return SG_NIL;
	return probe(t, hash, eq, ctx, key)->head;
}

uint64_t sg_hash_update(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t sg_hash_final(uint64_t h)
{
	/* splitmix64 finaliser: FNV's low bits are weak for short keys. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

uint64_t sg_hash_bytes(const void *p, size_t len)
{
	return sg_hash_final(sg_hash_update(SG_HASH_INIT, p, len));
}

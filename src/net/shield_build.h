/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shield rule-set builder: turns a rule list into the lookup tables of one
 * set (layout: bpf/shield_abi.h) without touching the other set, and the same
 * lookups the XDP program does, for tests. Pure code: works on memory the
 * caller provides (the memory-mapped maps, or plain buffers in tests).
 */
#ifndef SG_NET_SHIELD_BUILD_H
#define SG_NET_SHIELD_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "shield_abi.h"

struct sg_sh_tables {
	uint32_t *root;				/* SG_SH_SETS * SG_SH_ROOT_SIZE */
	uint32_t *pool;				/* nchunks * SG_SH_CHUNK */
	uint32_t nchunks;
	uint32_t *v6bkt;			/* SG_SH_SETS << v6_bits */
	uint32_t v6_bits;
	struct sg_shield_v6meta *v6meta;	/* SG_SH_SETS */
	const struct sg_shield_rule *rules;	/* lookups: the live rule slots */
};

struct sg_sh_v6entry {
	struct sg_shield_v6key key;
	uint32_t rule;
};

struct sg_sh_build_out {
	struct sg_sh_v6entry *v6;		/* hash entries for the set (malloc'd) */
	size_t nv6;
	uint32_t chunks_used;			/* by the new set */
	uint32_t chunks_other;			/* by the other set, left alone */
};

/*
 * Builds set `set` from rules[0..nrules) (slot i is rule id i + 1, family 0
 * = free slot). Returns 0, -ENOSPC when the chunk pool cannot hold both sets,
 * or -E2BIG for more than SG_SH_V6_CLASSES distinct IPv6 lengths; err says which.
 */
int sg_sh_build(struct sg_sh_tables *t, uint32_t set, const struct sg_shield_rule *rules,
		uint32_t nrules, struct sg_sh_build_out *out, char *err, size_t errlen);

/* Rule id matching addr (network order) in set, 0 if none: what the XDP program computes. */
uint32_t sg_sh_lookup4(const struct sg_sh_tables *t, uint32_t set, uint32_t addr_be);

typedef const uint32_t *(*sg_sh_find6_fn)(const struct sg_shield_v6key *key, void *ctx);
uint32_t sg_sh_lookup6(const struct sg_sh_tables *t, uint32_t set, const uint32_t a[4],
		       sg_sh_find6_fn find, void *ctx);

#endif

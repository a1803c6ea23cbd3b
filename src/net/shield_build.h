/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shield tables: a rule list becomes the sorted entry list and bucket index
 * of one set and one family (layout and lookup: bpf/shield_abi.h), without
 * touching the other set; merging edits into a sorted list; and the lookup
 * the XDP program does, for tests. Pure code: works on memory the caller
 * provides (the memory-mapped maps, or plain buffers in tests).
 */
#ifndef SG_NET_SHIELD_BUILD_H
#define SG_NET_SHIELD_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "net/cidr.h"
#include "shield_abi.h"

/* A prefix of either family as 128 bits, host order; IPv4 in the top 32 bits of hi. */
struct sg_sh_pfx {
	uint64_t hi, lo;
	uint32_t len;
};

struct sg_sh_tables {
	uint32_t *v4idx;			/* (2^v4_bits + 1) * SG_SH_SETS, sets interleaved */
	uint64_t *v4list;			/* SG_SH_SETS * cap4, cap4 = rules + 1 */
	uint32_t *v6idx;			/* SG_SH_V6_IDX_WORDS(v6_bits) * SG_SH_SETS */
	struct sg_shield_v6ent *v6list;
	uint32_t v4_bits, v6_bits, cap4, cap6;
};

void sg_sh_pfx_of(const struct sg_cidr *c, struct sg_sh_pfx *p);
void sg_sh_cidr_of(int family, const struct sg_sh_pfx *p, struct sg_cidr *c);
int sg_sh_pfx_cmp(const struct sg_sh_pfx *a, const struct sg_sh_pfx *b);
/* Sorts p and drops duplicates; returns the new count. */
size_t sg_sh_sort(struct sg_sh_pfx *p, size_t n);

/* Index bits that keep a family's buckets at a few entries for a table of cap entries. */
uint32_t sg_sh_bits_for(int family, uint32_t cap);

/*
 * out = (old - del) + add, each sorted and unique; from[i] is 1 + the
 * position in old of out[i], or 0 for a new prefix. out holds nold + nadd.
 * -ENOENT when del[*missing] is not in old.
 */
int sg_sh_merge(const struct sg_sh_pfx *old, size_t nold, const struct sg_sh_pfx *add, size_t nadd,
		const struct sg_sh_pfx *del, size_t ndel, struct sg_sh_pfx *out, uint32_t *from,
		size_t *nout, size_t *missing);

/* Writes the family's table of set from p[0..n) (sorted, unique). -ENOSPC when n + 1 > cap. */
int sg_sh_build(struct sg_sh_tables *t, uint32_t set, int family, const struct sg_sh_pfx *p,
		size_t n);

/* The n prefixes of the family's table of set, in order. */
void sg_sh_read(const struct sg_sh_tables *t, uint32_t set, int family, size_t n,
		struct sg_sh_pfx *out);

/* The i-th (from 0) prefix of the family's table of set. */
void sg_sh_read_one(const struct sg_sh_tables *t, uint32_t set, int family, size_t i,
		    struct sg_sh_pfx *out);

/* What the XDP program computes: the position (1..n, the rule id) of the longest prefix holding the address, 0 if none. */
uint32_t sg_sh_lookup(const struct sg_sh_tables *t, uint32_t set, int family, uint64_t hi,
		      uint64_t lo);

#endif

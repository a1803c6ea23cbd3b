/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shield (NET-2..6): the ABI shared by bpf/shield.bpf.c and user space.
 *
 * Two complete rule sets live side by side; cfg.active names the one packets
 * use, so a rebuild writes the other set and flips one aligned word (NET-4).
 *
 * IPv4: a multibit trie with strides 16-4-4-4-4 and leaf pushing. The root
 * (65536 entries per set) is indexed by the top 16 address bits; an entry is
 * either a rule id (0 = no rule) or SG_SH_PTR | chunk, a 16-entry chunk in
 * the shared pool indexed by the next 4 bits. All tables are BPF arrays, so
 * every lookup is an inlined bounds check and load (no helper call).
 *
 * IPv6: one hash keyed by (set, length, masked address). Lengths are mapped
 * to at most SG_SH_V6_CLASSES classes per set, longest first; a per-set
 * bucket array indexed by cfg.v6_bits address bits after the first
 * SG_SH_V6_SKIP (global unicast is 2000::/3: those bits are the same for
 * nearly every address, indexing on them would use 1/8 of the buckets) holds either
 * SG_SH_ONE | rule id when one rule alone covers the bucket (compared against
 * the rules array: no hash lookup), or the mask of classes present under it
 * (one hash lookup per class, longest first). A miss in an empty bucket costs
 * one array load.
 */
#ifndef SG_SHIELD_ABI_H
#define SG_SHIELD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SG_SH_SETS		2
#define SG_SH_ROOT_BITS		16
#define SG_SH_ROOT_SIZE		(1u << SG_SH_ROOT_BITS)
#define SG_SH_STRIDE		4
#define SG_SH_CHUNK		(1u << SG_SH_STRIDE)
#define SG_SH_LEVELS		4		/* chunk levels below the root: 16+4*4 = 32 */
#define SG_SH_PTR		0x80000000u
#define SG_SH_ONE		0x80000000u	/* v6 bucket: a single rule id */
#define SG_SH_V6_CLASSES	31		/* bit 31 of a bucket is SG_SH_ONE */
#define SG_SH_V6_BITS_MAX	24
#define SG_SH_V6_SKIP		3

/*
 * One Shield rule; slot i of the rules map is rule id i + 1. family 0 = free.
 * A slot is written only while no live table points at it (NET-4).
 */
struct sg_shield_rule {
	__u8 family;			/* 4 or 6 */
	__u8 len;
	__u16 pad;
	__u32 addr[4];			/* network byte order; v4 uses addr[0] */
	__u32 pad2;			/* array elements are 8-byte aligned: keep mmap stride = size */
};

/*
 * Array maps lay elements out 8 bytes apart, so the u32 tables are arrays of
 * 16-entry chunks: dense in memory and flat u32 arrays once memory-mapped.
 */
struct sg_shield_chunk {
	__u32 e[SG_SH_CHUNK];
};

struct sg_shield_v6key {
	__u32 set_len;			/* set << 8 | prefix length */
	__u32 addr[4];			/* masked, network byte order */
};

/* Per-set IPv6 length classes, class 0 = longest length. */
struct sg_shield_v6meta {
	__u32 nclass;
	__u32 short_mask;		/* classes too short to bucket: checked for every packet */
	__u32 len[SG_SH_V6_CLASSES + 1];
	__u32 mask[SG_SH_V6_CLASSES + 1][4];
};

struct sg_shield_gw {
	__u32 family;			/* 0 = none, 4, 6 */
	__u32 addr[4];
};

/* The program's runtime settings (.bss, memory-mapped by user space). */
struct sg_shield_cfg {
	__u32 active;			/* rule set packets use: 0 or 1 */
	__u32 dry_run;			/* 1: count matches, pass everything */
	__u32 gw_idx;			/* gw[gw_idx] is the live gateway */
	__u32 v6_bits;			/* bucket index bits, fixed at creation */
	struct sg_shield_gw gw[2];
};

/* Global counters: one per-CPU array element of SG_SH_CNT_MAX u64, indexed by this enum. */
enum sg_shield_counter {
	SG_SH_CNT_PKTS = 0,		/* IPv4/IPv6 packets looked up */
	SG_SH_CNT_DROPPED,
	SG_SH_CNT_DRY_MATCH,		/* would have been dropped (dry run) */
	SG_SH_CNT_GW_PASS,		/* matched a rule but came from the gateway */
	SG_SH_CNT_NON_IP,
	SG_SH_CNT_MAX,
};

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shield (NET-2..6): the ABI shared by bpf/shield.bpf.c and user space.
 *
 * Two complete rule sets live side by side; cfg.active names the one packets
 * use, so a rebuild writes the other set and flips one aligned word (NET-4).
 *
 * Per family and set the rule list itself is the lookup table: the prefixes
 * sorted by (address, length) after a first entry holding everything (::/0,
 * position 0, "no rule"), each entry carrying the distance back to the
 * innermost prefix that encloses it ("up"). An index on the top address bits
 * gives, per bucket, the position of the last entry before it. A lookup takes
 * that entry and the bucket's, binary-searches the last one starting at or
 * before the address, and walks up while that entry does not hold the
 * address: the first that does is the longest match (every prefix holding
 * the address encloses that entry). About 8 B per IPv4 and 24 B per IPv6
 * prefix; an entry's position is its rule id, which indexes the counters.
 *
 * Every table is one element of a BPF array whose value is the whole table
 * (sized at load), so the program indexes it directly after one lookup of
 * element 0: no helper call and no stack round trip per step.
 */
#ifndef SG_SHIELD_ABI_H
#define SG_SHIELD_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SG_SH_SETS		2
/*
 * Bucket offset word: the position of the last entry before the bucket, and
 * this flag when no entry before the bucket holds it (so an address of the
 * bucket that no entry in it holds is a miss, found without walking up).
 */
#define SG_SH_IDX_NONE		0x80000000u
#define SG_SH_IDX_POS		0x7fffffffu
#define SG_SH_BITS_MIN		8
#define SG_SH_V4_BITS_MAX	20
#define SG_SH_V6_BITS_MAX	22

/*
 * The IPv6 index has two parts: 2^bits buckets over 2000::/3 (global
 * unicast, nearly all traffic and lists), indexed by the bits after the
 * first three, then 2^SG_SH_V6_WIDE_BITS coarse buckets over the whole
 * address space for everything else. Words per set: both parts, each with
 * its end word.
 */
#define SG_SH_V6_WIDE_BITS	12
#define SG_SH_V6_IDX_WORDS(bits)	((1ull << (bits)) + 1 + (1ull << SG_SH_V6_WIDE_BITS) + 1)

/*
 * IPv4 entry (u64): address (host order) << 32 | length << 26 | up. Entries
 * compare as integers in (address, length) order.
 */
#define SG_SH4_LEN_SHIFT	26
#define SG_SH4_UP_MASK		((1u << SG_SH4_LEN_SHIFT) - 1)

/* IPv6 entry: the address as two host-order halves, so integer order is address order. */
struct sg_shield_v6ent {
	__u64 hi;
	__u64 lo;
	__u32 len_up;			/* length << 24 | up */
	__u32 pad;
};
#define SG_SH6_LEN_SHIFT	24
#define SG_SH6_UP_MASK		((1u << SG_SH6_LEN_SHIFT) - 1)

struct sg_shield_gw {
	__u32 family;			/* 0 = none, 4, 6 */
	__u32 addr[4];
};

/*
 * The program's runtime settings (.bss, memory-mapped by user space). The
 * sizes repeat the program's read-only constants for user space; the counts
 * are what each set holds, written before the set goes live.
 */
struct sg_shield_cfg {
	__u32 active;			/* rule set packets use: 0 or 1 */
	__u32 dry_run;			/* 1: count matches, pass everything */
	__u32 gw_idx;			/* gw[gw_idx] is the live gateway */
	__u32 v4_bits, v6_bits;		/* index bits */
	__u32 cap4, cap6;		/* entries per set */
	__u32 max_rules;		/* IPv4 + IPv6 rules a list may hold */
	__u32 n4[SG_SH_SETS], n6[SG_SH_SETS];
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

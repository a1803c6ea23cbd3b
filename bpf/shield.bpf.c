// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Shield: XDP ingress deny list (NET-2..6). Drop on a longest-prefix match,
 * pass on a miss, never drop the gateway, count per rule. Layout of the
 * tables and how a lookup walks them: shield_abi.h. User space
 * (src/act/shield.c) sizes the tables and sets the constants before load.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "shield_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP_BE	0x0008		/* htons(0x0800) */
#define ETH_P_IPV6_BE	0xDD86		/* htons(0x86DD) */
#define ETH_P_8021Q_BE	0x0081
#define ETH_P_8021AD_BE	0xA888

struct sg_shield_cfg cfg = {};

/* Sizes, fixed when user space loads the program (the verifier sees them as constants). */
const volatile __u32 v4_bits = 16, v6_bits = 16, cap4 = 1, cap6 = 1, max_rules = 1;

/* Tables: one element each whose value is the whole table (value_size set at load). */
#define TABLE(name)							\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(map_flags, BPF_F_MMAPABLE);			\
		__uint(key_size, 4);					\
		__uint(value_size, 8);					\
		__uint(max_entries, 1);					\
	} name SEC(".maps")

TABLE(v4idx);		/* u32 [2^v4_bits + 1][SG_SH_SETS] */
TABLE(v4list);		/* u64 [SG_SH_SETS][cap4] */
TABLE(v6idx);		/* u32 [SG_SH_V6_IDX_WORDS(v6_bits)][SG_SH_SETS] */
TABLE(v6list);		/* struct sg_shield_v6ent [SG_SH_SETS][cap6] */
TABLE(hits);		/* u64 [SG_SH_SETS][max_rules]: drops per rule, IPv4 ids then IPv6 */

struct sg_shield_counters {
	__u64 c[SG_SH_CNT_MAX];
};

/* One element, so a packet pays one lookup for all its counters. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct sg_shield_counters);
	__uint(max_entries, 1);
} stats SEC(".maps");

#define SEARCH_STEPS	25	/* binary search over at most 2^25 entries */
/* The deepest nesting there can be: a chain of prefixes has strictly growing lengths. */
#define UP4_STEPS	33
#define UP6_STEPS	129

/*
 * The candidates of bucket word b: from *first (the last entry before the
 * bucket), how many; 0 for a miss found by the index alone. *none: nothing
 * before the bucket holds it, so a walk that leaves the bucket is a miss.
 */
static __always_inline __u64 bucket(const __u32 *idx, __u64 b, __u64 *first, __u32 *none)
{
	__u32 w = idx[b];
	__u64 n;

	*first = w & SG_SH_IDX_POS;
	n = (idx[b + 2] & SG_SH_IDX_POS) + 1 - *first;
	*none = w & SG_SH_IDX_NONE;
	return *none && n == 1 ? 0 : n;
}

/*
 * Entry position of the longest IPv4 prefix holding x (0, the list's ::/0
 * sentinel, when none does). The bucket's candidates are [lo, lo + n): the
 * last entry before the bucket, then those in it.
 */
static __always_inline __u64 lookup_v4(__u64 set, __u64 x)
{
	__u64 key = x << 32 | 0xffffffffu, base = set ? cap4 : 0, b, lo, n, half, e, i, first;
	__u32 none;
	__u32 zero = 0, *idx = bpf_map_lookup_elem(&v4idx, &zero);
	__u64 *ent = bpf_map_lookup_elem(&v4list, &zero);

	if (!idx || !ent)
		return 0;
	b = (x >> (32 - v4_bits)) << 1 | set;
	/* On b itself: older verifiers do not carry a bound on b + 2 back to b. */
	if (b >= ((1ull << v4_bits) + 1) * SG_SH_SETS - 2)
		return 0;
	n = bucket(idx, b, &first, &none);
	if (!n)
		return 0;
	lo = first;
	for (i = 0; i < SEARCH_STEPS && n > 1; i++) {
		half = n >> 1;
		if (base + lo + half >= SG_SH_SETS * (__u64)cap4)
			return 0;
		/* lo += half when the entry sorts at or before the key, without a branch (halved, the entries compare in 63 bits). */
		lo += half & ((((key >> 1) - (ent[base + lo + half] >> 1)) >> 63) - 1);
		n -= half;
	}
	for (i = 0; i < UP4_STEPS; i++) {
		if ((none && lo <= first) || base + lo >= SG_SH_SETS * (__u64)cap4)
			return 0;
		e = ent[base + lo];
		/* Shifted by 32 - length in a u64: length 0 holds everything. */
		if (!((x ^ (e >> 32)) >> (32 - ((e >> SG_SH4_LEN_SHIFT) & 63))))
			return lo;
		lo -= e & SG_SH4_UP_MASK;
	}
	return 0;
}

static __always_inline bool v6_le(const struct sg_shield_v6ent *e, __u64 hi, __u64 lo)
{
	return e->hi < hi || (e->hi == hi && e->lo <= lo);
}

static __always_inline bool v6_holds(const struct sg_shield_v6ent *e, __u64 hi, __u64 lo)
{
	__u64 len = e->len_up >> SG_SH6_LEN_SHIFT;

	if (len == 0)
		return true;
	if (len <= 64)
		return !((hi ^ e->hi) >> ((64 - len) & 63));
	return hi == e->hi && !((lo ^ e->lo) >> ((128 - len) & 63));
}

/* The same over IPv6. */
static __always_inline __u64 lookup_v6(__u64 set, __u64 hi, __u64 lo_addr)
{
	__u64 base = set ? cap6 : 0, b, lo, n, half, i, first;
	__u32 none;
	__u32 zero = 0, *idx = bpf_map_lookup_elem(&v6idx, &zero);
	struct sg_shield_v6ent *ent = bpf_map_lookup_elem(&v6list, &zero), *e;

	if (!idx || !ent)
		return 0;
	/* Global unicast by the bits after 2000::/3; anything else in the coarse part. */
	if ((hi >> 61) == 1)
		b = ((hi >> (61 - v6_bits)) & ((1ull << v6_bits) - 1)) << 1 | set;
	else
		b = ((1ull << v6_bits) + 1 + (hi >> (64 - SG_SH_V6_WIDE_BITS))) << 1 | set;
	if (b >= SG_SH_V6_IDX_WORDS(v6_bits) * SG_SH_SETS - 2)
		return 0;
	n = bucket(idx, b, &first, &none);
	if (!n)
		return 0;
	lo = first;
	for (i = 0; i < SEARCH_STEPS && n > 1; i++) {
		half = n >> 1;
		if (base + lo + half >= SG_SH_SETS * (__u64)cap6)
			return 0;
		if (v6_le(&ent[base + lo + half], hi, lo_addr))
			lo += half;
		n -= half;
	}
	for (i = 0; i < UP6_STEPS; i++) {
		if ((none && lo <= first) || base + lo >= SG_SH_SETS * (__u64)cap6)
			return 0;
		e = &ent[base + lo];
		if (v6_holds(e, hi, lo_addr))
			return lo;
		lo -= e->len_up & SG_SH6_UP_MASK;
	}
	return 0;
}

/* Host-order address halves against the live gateway (read only for a packet a rule matched). */
static __always_inline bool is_gateway(__u32 family, __u64 hi, __u64 lo)
{
	__u32 g = cfg.gw_idx & 1;

	if (cfg.gw[g].family != family)
		return false;
	if (family == 4)
		return bpf_ntohl(cfg.gw[g].addr[0]) == hi;
	return ((__u64)bpf_ntohl(cfg.gw[g].addr[0]) << 32 | bpf_ntohl(cfg.gw[g].addr[1])) == hi &&
	       ((__u64)bpf_ntohl(cfg.gw[g].addr[2]) << 32 | bpf_ntohl(cfg.gw[g].addr[3])) == lo;
}

/* Counts and decides once the lookup is done (so that little stays live across it). */
static __always_inline int account(__u64 set, __u64 slot, bool matched, bool gw)
{
	struct sg_shield_counters *cnt;
	__u32 zero = 0;
	__u64 *h;

	cnt = bpf_map_lookup_elem(&stats, &zero);
	if (!cnt)
		return XDP_PASS;
	cnt->c[SG_SH_CNT_PKTS]++;
	if (!matched)
		return XDP_PASS;
	if (gw) {
		cnt->c[SG_SH_CNT_GW_PASS]++;
		return XDP_PASS;
	}
	h = bpf_map_lookup_elem(&hits, &zero);
	slot += set * max_rules - 1;
	/* Shared by every CPU (a per-CPU copy of a million counters would not fit the cap). */
	if (h && slot < SG_SH_SETS * (__u64)max_rules)
		__sync_fetch_and_add(&h[slot], 1);
	if (cfg.dry_run) {
		cnt->c[SG_SH_CNT_DRY_MATCH]++;
		return XDP_PASS;
	}
	cnt->c[SG_SH_CNT_DROPPED]++;
	return XDP_DROP;
}

SEC("xdp")
int sg_shield(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 set = cfg.active & 1, rule, hi, lo;
	__u16 proto;
	void *l3;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == ETH_P_8021Q_BE || proto == ETH_P_8021AD_BE) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > end)
			return XDP_PASS;
		proto = vh->h_vlan_encapsulated_proto;
		l3 = vh + 1;
	}
	if (proto == ETH_P_IP_BE) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		hi = bpf_ntohl(ip->saddr);
		rule = lookup_v4(set, hi);
		return account(set, rule, rule, rule && is_gateway(4, hi, 0));
	}
	if (proto == ETH_P_IPV6_BE) {
		struct ipv6hdr *ip6 = l3;
		__u32 a[4];

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		__builtin_memcpy(a, &ip6->saddr, sizeof(a));
		hi = (__u64)bpf_ntohl(a[0]) << 32 | bpf_ntohl(a[1]);
		lo = (__u64)bpf_ntohl(a[2]) << 32 | bpf_ntohl(a[3]);
		rule = lookup_v6(set, hi, lo);
		/* IPv6 rule ids follow the set's IPv4 ones in the counters. */
		return account(set, cfg.n4[set] + rule, rule, rule && is_gateway(6, hi, lo));
	}
	{
		struct sg_shield_counters *cnt;
		__u32 zero = 0;

		cnt = bpf_map_lookup_elem(&stats, &zero);
		if (cnt)
			cnt->c[SG_SH_CNT_NON_IP]++;
	}
	return XDP_PASS;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Shield: XDP ingress deny list (NET-2..6). Drop on a longest-prefix match,
 * pass on a miss, never drop the gateway, count per rule. Layout of the
 * tables: shield_abi.h. User space (src/act/shield.c) sizes the maps before load.
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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sg_shield_chunk);
	__uint(max_entries, SG_SH_SETS * SG_SH_ROOT_SIZE / SG_SH_CHUNK);
} v4root SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sg_shield_chunk);
	__uint(max_entries, 1);			/* chunks, set by user space */
} v4pool SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sg_shield_chunk);
	__uint(max_entries, 1);			/* (SG_SH_SETS << cfg.v6_bits) / SG_SH_CHUNK */
} v6bkt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sg_shield_v6meta);
	__uint(max_entries, SG_SH_SETS);
} v6meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sg_shield_v6key);
	__type(value, __u32);
	__uint(max_entries, 1);			/* SG_SH_SETS * max v6 rules */
} v6hash SEC(".maps");

/* The rule list itself (list, stats, rebuilds); IPv6 single-rule buckets compare against it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sg_shield_rule);
	__uint(max_entries, 1);			/* max rules */
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);			/* max rules + 1, by rule id */
} hits SEC(".maps");

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

/* Entry i of a flat u32 table stored as 16-entry chunks (an inlined array load). */
static __always_inline __u32 *entry(void *map, __u32 i)
{
	__u32 c = i / SG_SH_CHUNK;
	struct sg_shield_chunk *ch = bpf_map_lookup_elem(map, &c);

	return ch ? &ch->e[i & (SG_SH_CHUNK - 1)] : NULL;
}

static __always_inline __u32 lookup_v4(__u32 set, __u32 daddr_be)
{
	__u32 ip = bpf_ntohl(daddr_be);
	__u32 idx = set * SG_SH_ROOT_SIZE + (ip >> 16);
	__u32 *e = entry(&v4root, idx);
	struct sg_shield_chunk *ch;
	__u32 v, shift = 16;
	int i;

	if (!e)
		return 0;
	v = *e;
	for (i = 0; i < SG_SH_LEVELS; i++) {
		if (!(v & SG_SH_PTR))
			break;
		shift -= SG_SH_STRIDE;
		idx = v & ~SG_SH_PTR;
		ch = bpf_map_lookup_elem(&v4pool, &idx);
		if (!ch)
			return 0;
		v = ch->e[(ip >> shift) & (SG_SH_CHUNK - 1)];
	}
	return v & SG_SH_PTR ? 0 : v;
}

/* Index of the lowest set bit of a non-zero word (BPF has no ctz). */
static __always_inline __u32 lowest_bit(__u32 m)
{
	__u32 n = 0;

	if (!(m & 0xffff)) { n += 16; m >>= 16; }
	if (!(m & 0xff)) { n += 8; m >>= 8; }
	if (!(m & 0xf)) { n += 4; m >>= 4; }
	if (!(m & 0x3)) { n += 2; m >>= 2; }
	if (!(m & 0x1)) n += 1;
	return n;
}

static __always_inline __u32 word_mask(__u32 len, __u32 i)
{
	__u32 bits = len > 32 * i ? len - 32 * i : 0;

	return bpf_htonl(bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0);
}

static __always_inline bool rule_covers(__u32 id, const __u32 *a)
{
	struct sg_shield_rule *r;
	__u32 slot = id - 1;

	r = bpf_map_lookup_elem(&rules, &slot);
	if (!r || r->family != 6)
		return false;
	return (a[0] & word_mask(r->len, 0)) == r->addr[0] &&
	       (a[1] & word_mask(r->len, 1)) == r->addr[1] &&
	       (a[2] & word_mask(r->len, 2)) == r->addr[2] &&
	       (a[3] & word_mask(r->len, 3)) == r->addr[3];
}

static __always_inline __u32 lookup_v6(__u32 set, const __u32 *a)
{
	struct sg_shield_v6meta *meta;
	struct sg_shield_v6key key;
	__u32 bits = cfg.v6_bits, idx, m, c, *e;
	int i;

	if (bits == 0 || bits > SG_SH_V6_BITS_MAX)
		return 0;
	meta = bpf_map_lookup_elem(&v6meta, &set);
	if (!meta)
		return 0;
	idx = (set << bits) | ((bpf_ntohl(a[0]) << SG_SH_V6_SKIP) >> (32 - bits));
	e = entry(&v6bkt, idx);
	if (!e)
		return 0;
	m = *e;
	if (m & SG_SH_ONE) {
		if (rule_covers(m & ~SG_SH_ONE, a))
			return m & ~SG_SH_ONE;
		m = 0;
	}
	m |= meta->short_mask;
	for (i = 0; i < SG_SH_V6_CLASSES && m; i++) {
		__u32 *r;

		c = lowest_bit(m) & 31;
		m &= m - 1;
		key.set_len = set << 8 | meta->len[c];
		key.addr[0] = a[0] & meta->mask[c][0];
		key.addr[1] = a[1] & meta->mask[c][1];
		key.addr[2] = a[2] & meta->mask[c][2];
		key.addr[3] = a[3] & meta->mask[c][3];
		r = bpf_map_lookup_elem(&v6hash, &key);
		if (r)
			return *r;
	}
	return 0;
}

static __always_inline bool is_gateway(__u32 family, const __u32 *a)
{
	__u32 g = cfg.gw_idx & 1;

	if (cfg.gw[g].family != family)
		return false;
	if (family == 4)
		return cfg.gw[g].addr[0] == a[0];
	return cfg.gw[g].addr[0] == a[0] && cfg.gw[g].addr[1] == a[1] &&
	       cfg.gw[g].addr[2] == a[2] && cfg.gw[g].addr[3] == a[3];
}

SEC("xdp")
int sg_shield(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 set = cfg.active & 1, rule, family, a[4], zero = 0;
	struct sg_shield_counters *cnt;
	__u16 proto;
	void *l3;
	__u64 *h;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	cnt = bpf_map_lookup_elem(&stats, &zero);
	if (!cnt)
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
		family = 4;
		a[0] = ip->saddr;
		a[1] = a[2] = a[3] = 0;
		rule = lookup_v4(set, a[0]);
	} else if (proto == ETH_P_IPV6_BE) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		family = 6;
		__builtin_memcpy(a, &ip6->saddr, sizeof(a));
		rule = lookup_v6(set, a);
	} else {
		cnt->c[SG_SH_CNT_NON_IP]++;
		return XDP_PASS;
	}
	cnt->c[SG_SH_CNT_PKTS]++;
	if (!rule)
		return XDP_PASS;
	if (is_gateway(family, a)) {
		cnt->c[SG_SH_CNT_GW_PASS]++;
		return XDP_PASS;
	}
	h = bpf_map_lookup_elem(&hits, &rule);
	if (h)
		*h += 1;
	if (cfg.dry_run) {
		cnt->c[SG_SH_CNT_DRY_MATCH]++;
		return XDP_PASS;
	}
	cnt->c[SG_SH_CNT_DROPPED]++;
	return XDP_DROP;
}

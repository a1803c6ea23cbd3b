// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's LPM trie doing the Shield's job, for the benchmark only: drop
 * IPv4/IPv6 packets whose source is in a trie. Same parsing as the Shield.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct key4 {
	__u32 len;
	__u32 addr;
};

struct key6 {
	__u32 len;
	__u32 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct key4);
	__type(value, __u32);
	__uint(max_entries, 1);
} trie4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct key6);
	__type(value, __u32);
	__uint(max_entries, 1);
} trie6 SEC(".maps");

SEC("xdp")
int lpm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 *v = NULL;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == 0x0008) {
		struct iphdr *ip = (void *)(eth + 1);
		struct key4 k = { .len = 32 };

		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		k.addr = ip->saddr;
		v = bpf_map_lookup_elem(&trie4, &k);
	} else if (eth->h_proto == 0xDD86) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct key6 k = { .len = 128 };

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		__builtin_memcpy(k.addr, &ip6->saddr, sizeof(k.addr));
		v = bpf_map_lookup_elem(&trie6, &k);
	}
	return v ? XDP_DROP : XDP_PASS;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Egress policy (NET-1): cgroup/connect4|6 and sendmsg4|6 at the cgroup2
 * root, so every TCP connect, UDP connect and unconnected UDP sendto on the
 * host is checked. Returning 0 makes the call fail with EPERM before any
 * packet leaves.
 *
 * An IPv4-mapped destination (::ffff:a.b.c.d) on an IPv6 socket is IPv4
 * traffic: for TCP and UDP connect the kernel runs only connect6 and then
 * hands the socket to IPv4 without running connect4, so these programs
 * decide it with the IPv4 rules themselves. Otherwise a deny on
 * 169.254.169.254 would not cover ::ffff:169.254.169.254.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "sysguard.h"
#include "event_hdr.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EPERM 1
#define SG_AF_INET 2
#define SG_AF_INET6 10
#define SG_SOCK_STREAM 1
#define SG_SOCK_DGRAM 2
#define SG_SIN6_LEN_RFC2133 24

struct sg_egress_config egress_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_EGRESS_PREFIXES);
	__type(key, struct sg_egress_key4);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} egress_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SG_EGRESS_PREFIXES);
	__type(key, struct sg_egress_key6);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} egress_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_EGRESS_LISTS);
	__type(key, __u32);
	__type(value, struct sg_egress_list);
} egress_lists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_EGRESS_SCOPES);
	__type(key, __u64);
	__type(value, __u64);
} egress_scopes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} net_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_NCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} net_counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&net_counters, &which);

	if (v)
		*v += 1;
}

static __always_inline void current_exe(struct sg_inode_key *k)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);

	k->ino = 0;
	k->dev = 0;
	k->pad = 0;
	if (!inode)
		return;
	k->ino = BPF_CORE_READ(inode, i_ino);
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
}

/*
 * The scope bits of the container the caller is in: its cgroup or the
 * nearest ancestor the daemon listed (a container's own sub-cgroups are
 * still that container).
 */
static __always_inline __u64 scope_mask(void)
{
	__u64 mask = 0;
	int level;

	for (level = 1; level <= SG_SCOPE_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		__u64 *m;

		if (!id)
			break;
		m = bpf_map_lookup_elem(&egress_scopes, &id);
		if (m)
			mask = *m;
	}
	return mask;
}

static __always_inline __u8 proto_of(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol)
		return ctx->protocol;
	return ctx->type == SG_SOCK_STREAM ? 6 : ctx->type == SG_SOCK_DGRAM ? 17 : 0;
}

/*
 * 1: let the call through, 0: refuse it. dport in host order; mapped: an
 * IPv6 socket's ::ffff:daddr, decided as the IPv4 address it is.
 */
static __always_inline int decide(__u32 *list_idx, __u8 family, const __u8 *daddr, __u16 dport,
				  __u8 proto, __u8 op, __u8 mapped)
{
	struct sg_egress_list *l;
	struct sg_inode_key exe;
	struct sg_net_event *e;
	int i, hit = -1, blocked;
	__u64 scopes = 0;
	bool scopes_read = false;

	if (!list_idx)
		return 1;
	l = bpf_map_lookup_elem(&egress_lists, list_idx);
	if (!l)
		return 1;
	current_exe(&exe);
	for (i = 0; i < SG_EGRESS_LIST_LEN; i++) {
		struct sg_egress_rule *r = &l->r[i];

		if (!r->rule_id)
			break;
		if (r->proto && r->proto != proto)
			continue;
		if (dport < r->port_lo || dport > r->port_hi)
			continue;
		if (r->exe.ino && (r->exe.ino != exe.ino || r->exe.dev != exe.dev))
			continue;
		if (r->scope_bit) {
			if (!scopes_read) {
				scopes = scope_mask();
				scopes_read = true;
			}
			if (r->scope_bit > 64 || !(scopes & (1ull << ((r->scope_bit - 1) & 63))))
				continue;
		}
		hit = i;
		break;
	}
	if (hit < 0 || hit >= SG_EGRESS_LIST_LEN)
		return 1;
	count(SG_NCNT_MATCHES);
	blocked = egress_cfg.enforce && l->r[hit].action == SG_EGRESS_DENY;
	if (blocked)
		count(SG_NCNT_DENIES);

	e = bpf_ringbuf_reserve(&net_events, sizeof(*e), 0);
	if (!e) {
		count(SG_NCNT_RB_DROPS);
		return !blocked;
	}
	__builtin_memset(e, 0, sizeof(*e));	/* BPF-6: no residue reaches user space */
	sg_fill_hdr(&e->hdr, SG_EV_NET, (struct task_struct *)bpf_get_current_task());
	e->exe = exe;
	e->rule_id = l->r[hit].rule_id;
	e->action = l->r[hit].action;
	e->blocked = blocked;
	e->family = family;
	e->proto = proto;
	e->dport = dport;
	e->op = op;
	e->mapped = mapped;
	if (family == 4)
		__builtin_memcpy(e->daddr, daddr, 4);
	else
		__builtin_memcpy(e->daddr, daddr, 16);
	bpf_ringbuf_submit(e, 0);
	return !blocked;
}

/* ::ffff:a.b.c.d: the kernel sends it as IPv4 to a.b.c.d. */
static __always_inline bool v4_mapped(const __u8 *a)
{
	int i;

	for (i = 0; i < 10; i++)
		if (a[i])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

static __always_inline int check_v4(const __u8 *ip4, __u16 dport, __u8 proto, __u8 op,
				    __u8 mapped)
{
	struct sg_egress_key4 k = { .prefixlen = 32 };

	__builtin_memcpy(k.addr, ip4, 4);
	return decide(bpf_map_lookup_elem(&egress_v4, &k), 4, k.addr, dport, proto, op, mapped);
}

/* An IPv6 address, or the IPv4 one it maps. */
static __always_inline int check_v6(const __u8 *ip6, __u16 dport, __u8 proto, __u8 op)
{
	struct sg_egress_key6 k = { .prefixlen = 128 };

	if (v4_mapped(ip6))
		return check_v4(ip6 + 12, dport, proto, op, 1);
	__builtin_memcpy(k.addr, ip6, 16);
	return decide(bpf_map_lookup_elem(&egress_v6, &k), 6, k.addr, dport, proto, op, 0);
}

static __always_inline int check4(struct bpf_sock_addr *ctx, __u8 op)
{
	__u32 ip = ctx->user_ip4;

	/*
	 * An IPv6 socket reaches connect4|sendmsg4 with a mapped destination
	 * (unconnected UDP sendto) or an AF_INET address (UDP connect).
	 */
	return check_v4((const __u8 *)&ip, bpf_ntohs((__u16)ctx->user_port), proto_of(ctx), op,
			ctx->family == SG_AF_INET6);
}

static __always_inline int check6(struct bpf_sock_addr *ctx, __u8 op)
{
	__u8 a[16];
	__u32 w;

	/* user_ip6 must be read one 32-bit word at a time. */
	w = ctx->user_ip6[0];
	__builtin_memcpy(&a[0], &w, 4);
	w = ctx->user_ip6[1];
	__builtin_memcpy(&a[4], &w, 4);
	w = ctx->user_ip6[2];
	__builtin_memcpy(&a[8], &w, 4);
	w = ctx->user_ip6[3];
	__builtin_memcpy(&a[12], &w, 4);
	return check_v6(a, bpf_ntohs((__u16)ctx->user_port), proto_of(ctx), op);
}

SEC("cgroup/connect4")
int sg_connect4(struct bpf_sock_addr *ctx)
{
	return check4(ctx, SG_NET_CONNECT);
}

SEC("cgroup/connect6")
int sg_connect6(struct bpf_sock_addr *ctx)
{
	return check6(ctx, SG_NET_CONNECT);
}

SEC("cgroup/sendmsg4")
int sg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return check4(ctx, SG_NET_SENDMSG);
}

SEC("cgroup/sendmsg6")
int sg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return check6(ctx, SG_NET_SENDMSG);
}

/*
 * BPF LSM backend, where it loads: socket_connect sees every connect, of
 * any socket type, before the protocol does. The address is user input:
 * one shorter than the protocols accept is skipped, not read (NET-1); for
 * IPv6 that is the 24-byte RFC 2133 form, not sizeof(struct sockaddr_in6),
 * or a connect passing 24 bytes would go unchecked.
 * Unconnected UDP sends stay with sendmsg4|6 above.
 */
SEC("lsm/socket_connect")
int BPF_PROG(sg_lsm_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	__u16 family, port;
	__u8 proto;

	if (ret)
		return ret;
	if (addrlen < (int)sizeof(family) || bpf_probe_read_kernel(&family, sizeof(family), address))
		return 0;
	proto = BPF_CORE_READ(sock, sk, sk_protocol);
	if (family == SG_AF_INET) {
		struct sockaddr_in *in = (void *)address;
		__u8 a4[4] = {};

		if (addrlen < (int)sizeof(struct sockaddr_in))
			return 0;
		port = bpf_ntohs(BPF_CORE_READ(in, sin_port));
		bpf_probe_read_kernel(a4, 4, &in->sin_addr);
		return check_v4(a4, port, proto, SG_NET_CONNECT,
				BPF_CORE_READ(sock, sk, __sk_common.skc_family) == SG_AF_INET6) ?
			0 : -EPERM;
	}
	if (family == SG_AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)address;
		__u8 a6[16] = {};

		/* TCP and UDP take an RFC 2133 sockaddr_in6 (no scope id): 24 bytes. */
		if (addrlen < SG_SIN6_LEN_RFC2133)
			return 0;
		port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
		bpf_probe_read_kernel(a6, 16, &in6->sin6_addr);
		return check_v6(a6, port, proto, SG_NET_CONNECT) ? 0 : -EPERM;
	}
	return 0;
}

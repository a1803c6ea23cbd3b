/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by SysGuard's BPF programs: file identity, path walk, counters. */
#ifndef SG_COMMON_BPF_H
#define SG_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sysguard.h"
#include "event_hdr.bpf.h"

#ifndef EPERM
#define EPERM 1
#endif
#define SG_SIGKILL 9
#define SG_SIGSTOP 19

/* Kernels before 6.11 kept ctime as a timespec64, named __i_ctime in 6.6-6.10. */
struct inode___ctime_ts {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));
struct inode___ctime_ts66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));
struct inode___ctime_split {
	time64_t i_ctime_sec;
	u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

static __always_inline __u64 sg_inode_ctime_ns(struct inode *inode)
{
	struct inode___ctime_split *s = (void *)inode;
	struct inode___ctime_ts66 *t66 = (void *)inode;
	struct inode___ctime_ts *t = (void *)inode;

	/*
	 * Since 6.13 bit 31 of i_ctime_nsec is I_CTIME_QUERIED (multigrain
	 * timestamps): a stat() flips it without changing the time, so it
	 * must not make the ctime look new. Nanoseconds never reach bit 30.
	 */
	if (bpf_core_field_exists(s->i_ctime_sec))
		return BPF_CORE_READ(s, i_ctime_sec) * 1000000000ull +
		       (BPF_CORE_READ(s, i_ctime_nsec) & 0x7fffffffu);
	if (bpf_core_field_exists(t66->__i_ctime))
		return BPF_CORE_READ(t66, __i_ctime.tv_sec) * 1000000000ull +
		       BPF_CORE_READ(t66, __i_ctime.tv_nsec);
	return BPF_CORE_READ(t, i_ctime.tv_sec) * 1000000000ull +
	       BPF_CORE_READ(t, i_ctime.tv_nsec);
}

static __always_inline void sg_inode_key_of(struct inode *inode, struct sg_inode_key *k)
{
	k->ino = BPF_CORE_READ(inode, i_ino);
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k->pad = 0;
}

static __always_inline void sg_file_key(struct file *f, struct sg_inode_key *k)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);

	if (!inode) {
		k->ino = 0;
		k->dev = 0;
		k->pad = 0;
		return;
	}
	sg_inode_key_of(inode, k);
}

struct sg_path_scratch {
	char buf[SG_PATH_BUF];
} __attribute__((aligned(8)));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_path_scratch);
} sg_path_scratch SEC(".maps");

struct sg_walk_ctx {
	struct dentry *d;
	struct mount *mnt;
	__u32 off;
	__u32 flags;
	__u16 depth;
	__u64 hash;
};

#define SG_FNV_OFFSET 0xcbf29ce484222325ull
#define SG_FNV_PRIME 0x100000001b3ull

/* FNV-1a over 8-byte words of the scratch path; the tail word is masked to `off`. */
static long sg_hash_step(__u32 i, void *data)
{
	struct sg_walk_ctx *c = data;
	struct sg_path_scratch *s;
	__u32 zero = 0, at = i * 8, left;
	__u64 w;

	if (at >= c->off)
		return 1;
	s = bpf_map_lookup_elem(&sg_path_scratch, &zero);
	if (!s)
		return 1;
	/* A mask, not a comparison: the verifier must see the bound on this very register. */
	at &= SG_PATH_BUF - 8;
	w = *(__u64 *)&s->buf[at];
	left = c->off - at;
	if (left < 8)
		w &= (1ull << (left * 8)) - 1;
	c->hash = (c->hash ^ w) * SG_FNV_PRIME;
	return 0;
}

/* One step of the walk; bpf_loop() verifies it once, however deep the path. */
static long sg_walk_step(__u32 i, void *data)
{
	struct sg_walk_ctx *c = data;
	/* Plain locals: CO-RE must relocate kernel fields only, not our context. */
	struct dentry *d = c->d;
	struct mount *mnt = c->mnt;
	struct dentry *mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct sg_path_scratch *s;
	__u32 zero = 0, off = c->off;
	long len;

	if (d == mnt_root) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt)
			return 1;	/* root of the mount tree */
		c->d = BPF_CORE_READ(mnt, mnt_mountpoint);
		c->mnt = up;
		return 0;
	}
	if (off > SG_PATH_BUF - SG_NAME_LEN) {
		c->flags |= SG_F_PATH_TRUNC;
		return 1;
	}
	s = bpf_map_lookup_elem(&sg_path_scratch, &zero);
	if (!s)
		return 1;
	len = bpf_probe_read_kernel_str(&s->buf[off], SG_NAME_LEN, BPF_CORE_READ(d, d_name.name));
	if (len <= 0)
		return 1;
	c->off = off + len;
	c->depth++;
	/* A pseudo file (memfd:, anon) or a disconnected dentry: its own name ends it. */
	if (d == parent) {
		c->flags |= SG_F_PATH_PSEUDO;
		return 1;
	}
	c->d = parent;
	return 0;
}

/*
 * Write the components of f's path into buf (SG_PATH_BUF bytes), leaf first,
 * each NUL terminated; user space reverses them. bpf_d_path() is not allowed
 * from tracepoints, so walk dentries and cross mounts ourselves. Returns
 * bytes used; sets *depth and *hash (of the bytes written) and ORs
 * SG_F_PATH_TRUNC / SG_F_PATH_PSEUDO into *flags.
 */
static __always_inline __u32 sg_walk_path(struct file *f, char *buf, __u16 *depth,
					  __u32 *flags, __u64 *hash)
{
	struct vfsmount *vfs = BPF_CORE_READ(f, f_path.mnt);
	struct sg_walk_ctx c = {
		.d = BPF_CORE_READ(f, f_path.dentry),
		.mnt = container_of(vfs, struct mount, mnt),
	};
	struct sg_path_scratch *s;
	__u32 zero = 0, n;

	if (bpf_loop(SG_PATH_DEPTH, sg_walk_step, &c, 0) == SG_PATH_DEPTH)
		c.flags |= SG_F_PATH_TRUNC;
	c.hash = SG_FNV_OFFSET;
	bpf_loop(SG_PATH_BUF / 8, sg_hash_step, &c, 0);
	s = bpf_map_lookup_elem(&sg_path_scratch, &zero);
	n = c.off;
	if (!s || n > SG_PATH_BUF)
		return 0;
	/* Copy only what this walk wrote: the rest of scratch is another exec's. */
	if (bpf_probe_read_kernel(buf, n, s->buf))
		return 0;
	*depth = c.depth;
	*flags |= c.flags;
	*hash = c.hash;
	return n;
}

/*
 * Records are too large for an inlined memset; copy from a zeroed buffer
 * instead so every byte is initialised before submit (BPF-6).
 */
#define SG_ZERO_BYTES 4096
const volatile char sg_zero[SG_ZERO_BYTES] = {};
#define sg_zero_fill(ptr, size) bpf_probe_read_kernel((ptr), (size), (const void *)sg_zero)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void sg_count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);

	if (v)
		*v += 1;
}

#endif

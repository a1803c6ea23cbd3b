/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A file's full path rebuilt from its dentries and mounts: bpf_d_path() is
 * refused in tracepoints, so the walk is ours. Used by the exec sensor and
 * the file-open audit; its one map is a per-CPU scratch buffer.
 */
#ifndef SG_PATH_WALK_BPF_H
#define SG_PATH_WALK_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sysguard.h"

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
	__u16 fsrel;	/* walk to the filesystem's root, crossing no mount */
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

	if (c->fsrel) {
		if (d == parent)
			return 1;	/* the filesystem's root: the path is relative to it */
	} else if (d == mnt_root) {
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
 * Write the components of a dentry's path (in mount vfs) into buf
 * (SG_PATH_BUF bytes), leaf first, each NUL terminated; user space
 * reverses them. bpf_d_path() is not allowed from tracepoints, so walk
 * dentries and cross mounts ourselves. Returns
 * bytes used; sets *depth and *hash (of the bytes written) and ORs
 * SG_F_PATH_TRUNC / SG_F_PATH_PSEUDO into *flags. With `fsrel` the path is
 * the file's within its filesystem, whatever the caller's mounts say: what
 * another mount namespace shows is not the host's name for the file.
 */
static __always_inline __u32 sg_walk_dentry(struct dentry *dentry, struct vfsmount *vfs,
					    char *buf, __u16 *depth, __u32 *flags, __u64 *hash,
					    bool fsrel)
{
	struct sg_walk_ctx c = {
		.d = dentry,
		.mnt = container_of(vfs, struct mount, mnt),
		.fsrel = fsrel,
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

/* sg_walk_dentry() of an open file's path. */
static __always_inline __u32 sg_walk_path(struct file *f, char *buf, __u16 *depth,
					  __u32 *flags, __u64 *hash, bool fsrel)
{
	return sg_walk_dentry(BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), buf,
			      depth, flags, hash, fsrel);
}

#endif

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers shared by SysGuard's BPF programs: file identity, counters. */
#ifndef SG_COMMON_BPF_H
#define SG_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sysguard.h"
#include "event_hdr.bpf.h"
#include "path_walk.bpf.h"
#include "zero_fill.bpf.h"

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

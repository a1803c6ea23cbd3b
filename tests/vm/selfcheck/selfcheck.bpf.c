// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * VM harness self-check: a minimal BPF LSM exec guard. Denies execve() of any
 * file whose (device, inode) is in deny_inodes with -EPERM, and counts every
 * call so the loader can prove the hook actually ran.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct ino_key {
	__u64 ino;
	__u64 dev;	/* super_block->s_dev (kernel dev_t encoding) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct ino_key);
	__type(value, __u64);	/* deny hits */
} deny_inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

SEC("lsm/bprm_check_security")
int BPF_PROG(selfcheck_bprm, struct linux_binprm *bprm, int ret)
{
	struct ino_key key = {};
	__u32 zero = 0;
	__u64 *cnt, *hits;

	if (ret)
		return ret;
	cnt = bpf_map_lookup_elem(&calls, &zero);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	key.ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	key.dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	hits = bpf_map_lookup_elem(&deny_inodes, &key);
	if (hits) {
		__sync_fetch_and_add(hits, 1);
		return -EPERM;
	}
	return 0;
}

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The header every ring-buffer record starts with. No maps here, so objects
 * that do not want common.bpf.h's maps (egress, the file guard) can use it.
 */
#ifndef SG_EVENT_HDR_BPF_H
#define SG_EVENT_HDR_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sysguard.h"

static __always_inline void sg_fill_hdr(struct sg_event_hdr *h, __u32 type,
					struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->type = type;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->pid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

#endif

// SPDX-License-Identifier: GPL-2.0
/* Test input for the BPF-2 helper audit: only allowlisted helpers; must pass. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_execve")
int allowed(void *ctx)
{
	return bpf_get_current_pid_tgid() == 1;
}

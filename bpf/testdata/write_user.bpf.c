// SPDX-License-Identifier: GPL-2.0
/*
 * Test input for the BPF-2 helper audit, NOT a SysGuard program: it calls
 * bpf_probe_write_user. Built and opened by
 * tests/helper_audit/audit_objects.c; never loaded.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_execve")
int write_user(void *ctx)
{
	char buf[4] = "pwn";

	bpf_probe_write_user((void *)0x1000, buf, sizeof(buf));
	return 0;
}

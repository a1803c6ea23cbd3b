// SPDX-License-Identifier: GPL-2.0
/*
 * Test input for the BPF-2 helper audit, NOT a SysGuard program: the
 * forbidden bpf_probe_write_user is called only from a subprogram (.text),
 * which libbpf appends to the calling program at load time, so only the
 * audit of the object's executable sections sees it. Never loaded.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

static __attribute__((noinline)) int sneaky(long addr)
{
	char buf[4] = "pwn";

	return bpf_probe_write_user((void *)addr, buf, sizeof(buf));
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int via_subprog(void *ctx)
{
	return sneaky(0x1000) ? 1 : 0;
}

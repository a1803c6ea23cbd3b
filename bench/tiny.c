/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec benchmark's target: a static binary that does nothing but exit 0.
 * No libc, no dynamic loader, no relocations, a single page of text, so the
 * cost of one exec is almost only the kernel's (and a monitor's) work.
 *
 * Build: gcc -static -nostdlib -O2 -fno-stack-protector -fno-pie -no-pie \
 *            -o tiny tiny.c
 */
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "tiny.c: add the raw exit syscall for this architecture"
#endif

__attribute__((noreturn, used)) void _start(void)
{
#if defined(__x86_64__)
	__asm__ volatile("mov $60, %eax\n\t"	/* SYS_exit */
			 "xor %edi, %edi\n\t"
			 "syscall");
#else
	__asm__ volatile("mov x8, #93\n\t"	/* SYS_exit */
			 "mov x0, #0\n\t"
			 "svc #0");
#endif
	__builtin_unreachable();
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an open waiting in a fanotify permission event is for. FAN_OPEN_PERM
 * does not say whether the file is being opened for reading or writing; the
 * opener is blocked inside its system call, so /proc/<tid>/syscall shows the
 * call and its arguments (the open flags). Anything not recognised is
 * treated as a write, so a protected file fails closed.
 *
 * Only flags passed in registers count: /proc/<tid>/syscall reports the
 * registers saved at entry, which the blocked opener cannot change. Flags
 * in the opener's memory (openat2's struct open_how) are not evidence:
 * another thread, a CLONE_VM sibling or a /proc/<pid>/mem writer can
 * rewrite them after the kernel copied them, and no re-read closes that.
 */
#ifndef SG_OPEN_INTENT_H
#define SG_OPEN_INTENT_H

#include <stdbool.h>
#include <stdint.h>

enum sg_open_intent {
	SG_INTENT_READ = 0,	/* O_RDONLY without O_TRUNC */
	SG_INTENT_EXEC = 1,	/* execve, execveat, uselib: the kernel opens to read */
	SG_INTENT_WRITE = 2,	/* O_WRONLY, O_RDWR or O_TRUNC */
	SG_INTENT_UNKNOWN = 3,	/* flags we cannot trust (openat2, io_uring, a kernel thread...) */
};

/* Where the open flags are, for the calls that take them. */
struct sg_syscall {
	long nr;		/* -1: not in a system call */
	uint64_t args[6];
};

/* Parse a /proc/<tid>/syscall line. 0, or -EINVAL ("running", garbage). */
int sg_syscall_parse(const char *line, struct sg_syscall *out);

/* The intent of the call, from its register arguments only; openat2 is UNKNOWN. */
enum sg_open_intent sg_open_intent_of(const struct sg_syscall *sc);

const char *sg_open_intent_name(enum sg_open_intent i);

#endif

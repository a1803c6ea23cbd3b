// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sense/open_intent.h"

/* System call numbers of the calls that open a file by name or handle. */
#if defined(__x86_64__)
#define NR_OPEN 2
#define NR_CREAT 85
#define NR_OPENAT 257
#define NR_OPEN_BY_HANDLE_AT 304
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_USELIB 134
#elif defined(__aarch64__)
#define NR_OPEN (-100)		/* no open(2) or creat(2) on arm64 */
#define NR_CREAT (-101)
#define NR_OPENAT 56
#define NR_OPEN_BY_HANDLE_AT 265
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#define NR_USELIB (-102)
#else
#error "open_intent: system call numbers for this architecture are missing"
#endif

int sg_syscall_parse(const char *line, struct sg_syscall *out)
{
	const char *p = line;
	char *end;
	int i;

	memset(out, 0, sizeof(*out));
	errno = 0;
	out->nr = strtol(p, &end, 10);
	if (end == p || errno)
		return -EINVAL;
	if (out->nr < 0) {
		out->nr = -1;
		return 0;
	}
	p = end;
	for (i = 0; i < 6; i++) {
		while (*p == ' ')
			p++;
		if (strncmp(p, "0x", 2))
			return -EINVAL;
		out->args[i] = strtoull(p, &end, 16);
		if (end == p + 2 || errno)
			return -EINVAL;
		p = end;
	}
	return 0;
}

static enum sg_open_intent from_flags(uint64_t flags)
{
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		return SG_INTENT_WRITE;
	return SG_INTENT_READ;
}

/*
 * openat2 (437) falls to the default: its flags are in user memory (see the
 * header), so what we could read there says nothing about this open.
 */
enum sg_open_intent sg_open_intent_of(const struct sg_syscall *sc)
{
	switch (sc->nr) {
	case NR_OPEN:
		return from_flags(sc->args[1]);
	case NR_OPENAT:
	case NR_OPEN_BY_HANDLE_AT:
		return from_flags(sc->args[2]);
	case NR_CREAT:
		return SG_INTENT_WRITE;
	case NR_EXECVE:
	case NR_EXECVEAT:
	case NR_USELIB:
		return SG_INTENT_EXEC;
	default:
		return SG_INTENT_UNKNOWN;
	}
}

const char *sg_open_intent_name(enum sg_open_intent i)
{
	static const char *const names[] = { "read", "exec", "write", "unknown" };

	return (unsigned)i < 4 ? names[i] : "unknown";
}

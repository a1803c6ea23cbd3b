// SPDX-License-Identifier: Apache-2.0
/*
 * A minimal "interpreter" that asks the kernel before it runs a file, as
 * script interpreters do on kernels with AT_EXECVE_CHECK (6.14+): the exec
 * checks, and the LSMs and fanotify, run on FILE without executing it.
 * Prints "allowed" (exit 0) or "refused ERRNO-NAME" (exit 1); 2 on misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AT_EXECVE_CHECK
#define AT_EXECVE_CHECK 0x10000
#endif

int main(int argc, char **argv)
{
	char *const none[] = { NULL };
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: execve_check FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "execve_check: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (syscall(SYS_execveat, fd, "", none, none, AT_EMPTY_PATH | AT_EXECVE_CHECK) == 0) {
		puts("allowed");
		return 0;
	}
	printf("refused %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	return 1;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * e2e exec helper: fork, exec a program in the child in one of several ways,
 * wait for it and print one JSON line describing what happened:
 *
 *   {"pid":N,"exec_errno":E,"exited":C,"signal":S,"timeout":false}
 *
 * exited is -1 when the child was killed by signal S. The parent is this
 * program, so it also serves as "the parent binary" of parent-rule tests.
 *
 *   sgexec path    FILE [ARG...]  execv(FILE, [FILE, ARG...])
 *   sgexec memfd   FILE [ARG...]  copy FILE into a memfd, fexecve it
 *   sgexec deleted FILE [ARG...]  open FILE, unlink it, execveat(fd, "", AT_EMPTY_PATH)
 *
 * An attacker's option may come first, to undo a hold of the child:
 *   --sigcont   send the child SIGCONT every millisecond while waiting
 *   --ptrace    trace the child (PTRACE_TRACEME before its exec) and resume
 *               every stop it takes, swallowing the SIGSTOP
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TIMEOUT_MS 20000

static int copy_to_memfd(const char *file)
{
	char buf[65536];
	ssize_t n;
	int src = open(file, O_RDONLY | O_CLOEXEC);
	int mfd = memfd_create("sg-e2e", MFD_CLOEXEC);

	if (src < 0 || mfd < 0)
		return -1;
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(mfd, buf, n) != n)
			return -1;
	close(src);
	return n < 0 ? -1 : mfd;
}

static int attack_sigcont, attack_ptrace;

static void child(const char *mode, char **argv, int errpipe)
{
	int e, fd;

	if (attack_ptrace && ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(125);

	if (!strcmp(mode, "path")) {
		execv(argv[0], argv);
	} else if (!strcmp(mode, "memfd")) {
		fd = copy_to_memfd(argv[0]);
		if (fd >= 0) {
			argv[0] = "sg-e2e-memfd";
			fexecve(fd, argv, environ);
		}
	} else if (!strcmp(mode, "deleted")) {
		fd = open(argv[0], O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && unlink(argv[0]) == 0)
			syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	} else {
		errno = EINVAL;
	}
	e = errno;
	if (write(errpipe, &e, sizeof(e)) != sizeof(e))
		_exit(126);
	_exit(127);
}

int main(int argc, char **argv)
{
	int p[2], e = 0, status = 0, timed_out = 0, waited = 0;
	unsigned spins = 0;
	struct timespec ms = { 0, 1000000 };
	pid_t pid;

	while (argc > 1 && !strncmp(argv[1], "--", 2)) {
		if (!strcmp(argv[1], "--sigcont"))
			attack_sigcont = 1;
		else if (!strcmp(argv[1], "--ptrace"))
			attack_ptrace = 1;
		else
			return 2;
		argv++;
		argc--;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: sgexec [--sigcont|--ptrace] path|memfd|deleted FILE [ARG...]\n");
		return 2;
	}
	if (pipe2(p, O_CLOEXEC))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(p[0]);
		child(argv[1], argv + 2, p[1]);
	}
	close(p[1]);
	if (read(p[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(p[0]);
	for (;;) {
		/* A tracer waits for each stop; everyone else polls, so a hold cannot hang us. */
		pid_t r = waitpid(pid, &status, (attack_ptrace ? 0 : WNOHANG) | __WALL);

		if (r == pid && attack_ptrace && WIFSTOPPED(status)) {
			/* Resume with no signal: the stop the daemon asked for is swallowed. */
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			continue;
		}
		if (r == pid)
			break;
		if (r < 0)
			return 1;
		if (attack_sigcont) {
			/* As fast as we can: the first SIGCONT may come before the daemon looks. */
			kill(pid, SIGCONT);
			if (++spins % 1000)
				continue;
		}
		if (waited++ >= TIMEOUT_MS) {
			/* Held (stopped) and never resumed or killed: report it, do not hang. */
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			timed_out = 1;
			break;
		}
		nanosleep(&ms, NULL);
	}
	printf("{\"pid\":%d,\"exec_errno\":%d,\"exited\":%d,\"signal\":%d,\"timeout\":%s}\n", (int)pid,
	       e, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0, timed_out ? "true" : "false");
	return 0;
}

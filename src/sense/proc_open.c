// SPDX-License-Identifier: Apache-2.0
#include "sense/proc_open.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SG_PROC_OPEN_TIMEOUT_MS 2000

/* In the child: only system calls from here on. */
static void child_open(int sock, int rootfd, int cwdfd, const char *path)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { 0 };
	struct iovec iov;
	int err = 0, fd = -1;

	if (fchdir(rootfd) || chroot(".") || fchdir(cwdfd))
		err = errno;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		err = errno;
	iov.iov_base = &err;
	iov.iov_len = sizeof(err);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	_exit(sendmsg(sock, &msg, 0) < 0 ? 1 : 0);
}

static int receive(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr msg = { 0 };
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct cmsghdr *c;
	struct iovec iov;
	int err = 0, fd = -1;

	if (poll(&p, 1, SG_PROC_OPEN_TIMEOUT_MS) <= 0)
		return -ETIMEDOUT;
	iov.iov_base = &err;
	iov.iov_len = sizeof(err);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != sizeof(err))
		return -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (err) {
		if (fd >= 0)
			close(fd);
		return -err;
	}
	return fd >= 0 ? fd : -EIO;
}

int sg_open_in_process(pid_t pid, const char *path)
{
	char link[64];
	int rootfd, cwdfd = -1, sv[2] = { -1, -1 }, r;
	pid_t child;

	snprintf(link, sizeof(link), "/proc/%d/root", pid);
	rootfd = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
	cwdfd = open(link, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwdfd < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		r = cwdfd < 0 && errno == ENOENT ? -ESRCH : -errno;
		goto out;
	}
	child = fork();
	if (child < 0) {
		r = -errno;
		goto out;
	}
	if (child == 0) {
		close(sv[0]);
		child_open(sv[1], rootfd, cwdfd, path);
	}
	close(sv[1]);
	sv[1] = -1;
	r = receive(sv[0]);
	if (r == -ETIMEDOUT)
		kill(child, SIGKILL);
	waitpid(child, NULL, 0);
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (cwdfd >= 0)
		close(cwdfd);
	close(rootfd);
	return r;
}

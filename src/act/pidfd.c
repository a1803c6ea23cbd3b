// SPDX-License-Identifier: Apache-2.0
#include "act/pidfd.h"

#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sg_pidfd_signal(pid_t pid, int sig, const struct sg_file_id *expect)
{
	char exe[64];
	struct stat st;
	int pfd, err = 0;

	pfd = syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return -errno;
	if (expect) {
		snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
		if (stat(exe, &st)) {
			err = errno == ENOENT ? -ESRCH : -errno;
			goto out;
		}
		if (st.st_dev != expect->dev || st.st_ino != expect->ino) {
			err = -ESRCH;
			goto out;
		}
		/*
		 * If our process is still alive now, its pid was not recycled, so
		 * what /proc said was about it. A dead one makes the pidfd readable.
		 */
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		if (poll(&p, 1, 0) > 0) {
			err = -ESRCH;
			goto out;
		}
	}
	if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0))
		err = -errno;
out:
	close(pfd);
	return err;
}

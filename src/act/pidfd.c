// SPDX-License-Identifier: Apache-2.0
#include "act/pidfd.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
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

#define SG_TREE_MAX 4096

/* Append the children of every thread of pid to list (up to max). */
static size_t children_of(pid_t pid, pid_t *list, size_t n, size_t max)
{
	char path[320], buf[4096];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return n;
	while ((de = readdir(dir)) && n < max) {
		char *p, *end;
		ssize_t len;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len > 0 ? len : 0] = '\0';
		for (p = buf; n < max; p = end) {
			long c = strtol(p, &end, 10);

			if (end == p)
				break;
			if (c > 0)
				list[n++] = (pid_t)c;
		}
	}
	closedir(dir);
	return n;
}

int sg_pidfd_kill_descendants(pid_t pid, void (*doom)(void *ctx, pid_t pid), void *ctx)
{
	pid_t *list = malloc(SG_TREE_MAX * sizeof(*list));
	size_t n, i = 0;
	int killed = 0;

	if (!list)
		return -ENOMEM;
	n = children_of(pid, list, 0, SG_TREE_MAX);
	for (i = 0; i < n; i++) {
		if (doom)
			doom(ctx, list[i]);
		n = children_of(list[i], list, n, SG_TREE_MAX);
	}
	while (n-- > 0)
		if (sg_pidfd_signal(list[n], SIGKILL, NULL) == 0)
			killed++;
	free(list);
	return killed;
}

// SPDX-License-Identifier: Apache-2.0
#include "sense/host_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sense/proc.h"

#define SG_MOUNTINFO_READ (4u << 20)

static int fd_name(int fd, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, len - 1);
	if (n < 0)
		return -errno;
	/* Too long for PATH_MAX (ENAMETOOLONG) or for out: no whole name. */
	if ((size_t)n >= len - 1 || n == 0 || out[0] != '/')
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

/* The same file, opened through a host mount of its filesystem. */
static int by_handle(const struct sg_host_mounts *m, int fd, dev_t dev, char *out, size_t len)
{
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	int mnt_id, hfd = -1, err;
	size_t i;

	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", fh, &mnt_id, AT_EMPTY_PATH)) {
		err = -errno;
		free(fh);
		return err;
	}
	for (i = 0; i < m->n && hfd < 0; i++) {
		int mfd;

		if (m->v[i].dev != dev)
			continue;
		/* open_by_handle_at() refuses an O_PATH descriptor for the mount. */
		mfd = open(m->v[i].point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (mfd >= 0) {
			hfd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
			close(mfd);
		}
	}
	free(fh);
	if (hfd < 0)
		return -ENOENT;
	err = fd_name(hfd, out, len);
	close(hfd);
	return err;
}

/*
 * Filesystems without file handles (overlayfs, as containers use it): the
 * opener's mount table says which directory of the filesystem its mount
 * shows and where; the kernel's name of the file on that mount gives the
 * rest. A chroot of the opener makes the two disagree: no name then.
 */
static int by_opener_mounts(const struct sg_host_mounts *host, pid_t opener, int fd,
			    uint64_t mnt_id, dev_t dev, char *out, size_t len)
{
	struct sg_host_mounts theirs = { .fd = -1 };
	const struct sg_host_mount *mnt = NULL;
	char name[4096], rel[4096], *buf;
	const char *rest;
	size_t plen, i;
	ssize_t n;
	int err;

	err = fd_name(fd, name, sizeof(name));
	if (err)
		return err;
	buf = malloc(SG_MOUNTINFO_READ);
	if (!buf)
		return -ENOMEM;
	n = sg_proc_read(opener, "mountinfo", buf, SG_MOUNTINFO_READ);
	err = n < 0 ? (int)n : sg_host_mounts_parse(&theirs, buf, (size_t)n);
	free(buf);
	if (err)
		return err;
	for (i = 0; i < theirs.n && !mnt; i++)
		if (theirs.v[i].id == mnt_id && theirs.v[i].dev == dev)
			mnt = &theirs.v[i];
	err = -ENOENT;
	if (!mnt)
		goto out;
	plen = strlen(mnt->point);
	if (!strcmp(mnt->point, "/"))
		rest = name;
	else if (!strncmp(name, mnt->point, plen) && (name[plen] == '/' || name[plen] == '\0'))
		rest = name + plen;
	else
		goto out;
	if (snprintf(rel, sizeof(rel), "%s%s", strcmp(mnt->root, "/") ? mnt->root : "",
		     rest[0] ? rest : "/") >= (int)sizeof(rel)) {
		err = -ENAMETOOLONG;
		goto out;
	}
	err = sg_host_path_of(host, dev, rel, out, len);
out:
	sg_host_mounts_free(&theirs);
	return err;
}

int sg_host_path_of_fd(struct sg_host_mounts *m, pid_t opener, int fd, char *out, size_t len)
{
	struct statx stx;
	dev_t dev;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP;
	sg_host_mounts_refresh(m);
	if (sg_host_mounts_has_id(m, stx.stx_mnt_id))
		return fd_name(fd, out, len);
	dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	if (by_handle(m, fd, dev, out, len) == 0)
		return 0;
	return by_opener_mounts(m, opener, fd, stx.stx_mnt_id, dev, out, len);
}

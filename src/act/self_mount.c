// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/self_mount.h"

/* Mounts stacked on one path that one restore detaches at most. */
#define SG_MOUNT_ROUNDS 16

static int mnt_of(int dirfd, const char *path, int flags, uint64_t *id)
{
	struct statx stx;

	if (statx(dirfd, path, flags | AT_STATX_SYNC_AS_STAT, STATX_MNT_ID, &stx))
		return -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -ENOSYS;
	*id = stx.stx_mnt_id;
	return 0;
}

int sg_mount_id(const char *path, uint64_t *id)
{
	return mnt_of(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, id);
}

int sg_mount_id_fd(int fd, uint64_t *id)
{
	return mnt_of(fd, "", AT_EMPTY_PATH, id);
}

/*
 * The path with its directory resolved (symlinks, "..") so that walking up
 * by name meets every directory a mount could cover.
 */
static int absolute(const char *path, char *buf, size_t len)
{
	char dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
	int n;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    snprintf(base, sizeof(base), "%s", path) >= (int)sizeof(base))
		return -ENAMETOOLONG;
	if (!realpath(dirname(dir), real))
		return -errno;
	n = snprintf(buf, len, "%s/%s", strcmp(real, "/") ? real : "", basename(base));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Cut the last component of an absolute path. False at "/". */
static bool parent(char *p)
{
	char *s = strrchr(p, '/');

	if (!s || (s == p && !p[1]))
		return false;
	if (s == p)
		p[1] = '\0';
	else
		*s = '\0';
	return true;
}

/*
 * The mount `p` shows: its own, or where it does not exist (a directory
 * above it covered by an empty one), that of the nearest parent that does.
 * `p` is cut to that name.
 */
static int shown(char *p, uint64_t *id)
{
	int rc;

	while ((rc = sg_mount_id(p, id)) == -ENOENT || rc == -ENOTDIR)
		if (!parent(p))
			break;
	return rc;
}

int sg_mount_view_record(struct sg_mount_view *v, const char *path)
{
	char p[PATH_MAX];
	uint64_t id = 0;
	unsigned i;
	int rc;

	memset(v, 0, sizeof(*v));
	rc = absolute(path, p, sizeof(p));
	if (!rc)
		rc = sg_mount_id(p, &v->mnt_id);
	if (rc)
		return rc;
	while (parent(p) && sg_mount_id(p, &id) == 0) {
		for (i = 0; i < v->nanc && v->anc[i] != id; i++)
			;
		if (i == v->nanc && v->nanc < SG_MOUNT_ANC_MAX)
			v->anc[v->nanc++] = id;
	}
	v->known = true;
	return 0;
}

bool sg_mount_view_same(const struct sg_mount_view *v, const char *path)
{
	char p[PATH_MAX];
	uint64_t cur = 0;

	if (!v->known)
		return true;
	if (absolute(path, p, sizeof(p)) || shown(p, &cur))
		return false;
	return cur == v->mnt_id;
}

static bool was_there(const struct sg_mount_view *v, uint64_t id)
{
	unsigned i;

	for (i = 0; i < v->nanc; i++)
		if (v->anc[i] == id)
			return true;
	return false;
}

int sg_mount_view_restore(const struct sg_mount_view *v, const char *path, sg_unmount_fn fn,
			  void *ctx)
{
	char p[PATH_MAX], up[PATH_MAX];
	uint64_t cur = 0, id = 0;
	int round, rc;

	if (!v->known)
		return 0;
	for (round = 0; round < SG_MOUNT_ROUNDS; round++) {
		rc = absolute(path, p, sizeof(p));
		if (!rc)
			rc = shown(p, &cur);
		if (rc)
			return rc;
		if (cur == v->mnt_id)
			return 0;
		/* Walk up to the root of the mount that covers it. */
		snprintf(up, sizeof(up), "%s", p);
		while (parent(up) && sg_mount_id(up, &id) == 0 && id == cur)
			snprintf(p, sizeof(p), "%s", up);
		if (was_there(v, cur) || !strcmp(p, "/")) {
			/* Not a mount put over the file: its own mount went away. */
			fn(ctx, p, cur, -EPERM);
			return -EPERM;
		}
		rc = umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) ? -errno : 0;
		fn(ctx, p, cur, rc);
		if (rc)
			return rc;
	}
	return -ELOOP;
}

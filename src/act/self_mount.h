/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which mount a path shows (FILE-3). A mount over one of the daemon's files,
 * or over a directory above it, shows every reader another file while the
 * protected inode stays untouched: the view recorded at start tells the
 * daemon's own file from what a later mount put at the same path, and which
 * mounts are the later ones, to detach.
 */
#ifndef SG_SELF_MOUNT_H
#define SG_SELF_MOUNT_H

#include <stdbool.h>
#include <stdint.h>

#define SG_MOUNT_ANC_MAX 16

struct sg_mount_view {
	bool known;				/* false: no STATX_MNT_ID, nothing is checked */
	uint64_t mnt_id;			/* the mount the file was on */
	uint64_t anc[SG_MOUNT_ANC_MAX];		/* the mounts of its parent directories */
	unsigned nanc;
};

/* Mount id of what `path` shows, a final symlink not followed. 0 or -errno. */
int sg_mount_id(const char *path, uint64_t *id);

/* Mount id of an open file. 0 or -errno. */
int sg_mount_id_fd(int fd, uint64_t *id);

/* Record the mount of `path` and of each of its parents. 0 or -errno. */
int sg_mount_view_record(struct sg_mount_view *v, const char *path);

/* True when `path` shows the mount recorded (or nothing was recorded). */
bool sg_mount_view_same(const struct sg_mount_view *v, const char *path);

typedef void (*sg_unmount_fn)(void *ctx, const char *mountpoint, uint64_t mnt_id, int err);

/*
 * Detach (MNT_DETACH) the mounts put on `path` or on one of its parents
 * since the view was recorded, topmost first, until the path shows the
 * recorded mount again. A mount that was on the path's parents when
 * recorded is never detached (-EPERM: the file's own mount is gone). `fn`
 * is told of every attempt. 0 when the path shows its mount again.
 */
int sg_mount_view_restore(const struct sg_mount_view *v, const char *path, sg_unmount_fn fn,
			  void *ctx);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's own mount table: the host's view of every filesystem. A
 * process in another mount namespace names its files as its mounts say
 * (a user namespace can bind anything over /usr/bin); policy names are the
 * host's, so such a path is mapped back through this table, or is unknown.
 */
#ifndef SG_HOST_MOUNTS_H
#define SG_HOST_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sg_host_mount {
	uint64_t id;		/* mount id, as statx(STATX_MNT_ID) reports it */
	dev_t dev;		/* st_dev of files on it */
	char *root;		/* the directory of its filesystem mounted here ("/" for all of it) */
	char *point;		/* where the host sees it */
};

struct sg_host_mounts {
	struct sg_host_mount *v;
	size_t n;
	int fd;			/* /proc/self/mountinfo, polled for changes; -1 before the first load */
};

/* Parse mountinfo text (octal escapes undone). 0 or -errno; *m is replaced. */
int sg_host_mounts_parse(struct sg_host_mounts *m, const char *buf, size_t len);

/* Read /proc/self/mountinfo again if it changed since the last call. 0 or -errno. */
int sg_host_mounts_refresh(struct sg_host_mounts *m);

void sg_host_mounts_free(struct sg_host_mounts *m);

/* Undo mountinfo's \ooo escapes (of space, tab, newline, backslash) in place. */
void sg_mountinfo_unescape(char *s);

bool sg_host_mounts_has_id(const struct sg_host_mounts *m, uint64_t id);

/*
 * The host's path of the file at `fsrel` (its path within the filesystem
 * on `dev`), through a mount of the directory holding it. 0 and out
 * filled, -ENOENT when the host has that part of the filesystem nowhere,
 * -ENAMETOOLONG when it does not fit.
 */
int sg_host_path_of(const struct sg_host_mounts *m, dev_t dev, const char *fsrel, char *out,
		    size_t len);

#endif

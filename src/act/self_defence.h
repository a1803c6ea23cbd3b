/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Self-defence (FILE-3): the daemon keeps a verified copy of its executable,
 * its config and its policy in memory. Where the kernel could not stop a
 * change (a cleared immutable flag, a backend that only detects), the change
 * is found by content, reported, and undone from that copy.
 */
#ifndef SG_SELF_DEFENCE_H
#define SG_SELF_DEFENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "act/self_mount.h"

#define SG_SELF_FILES 8

/* What differs between what a path shows and the protected file. */
#define SG_SELF_DIFF_MOUNT	1u	/* another mount: over the file or a directory above */
#define SG_SELF_DIFF_INODE	2u
#define SG_SELF_DIFF_CONTENT	4u
#define SG_SELF_DIFF_MISSING	8u	/* nothing to open there */

struct sg_file_guard;

struct sg_self_file {
	char *path;
	const char *what;		/* "binary", "config", "policy" */
	unsigned char *data;		/* the verified content */
	size_t len;
	mode_t mode;
	struct stat seen;		/* when it last matched: a cheap first check */
	struct sg_mount_view mnt;	/* the mounts it was on at start */
	bool foreign;			/* covered by a mount that could not be detached */
};

struct sg_self_defence {
	struct sg_self_file f[SG_SELF_FILES];
	size_t n;
	uint64_t restored;
};

/*
 * Keep `data` (or, when NULL, the file's current content) as the verified
 * copy of `path`, replacing an earlier one. 0 or -errno.
 */
int sg_self_defence_keep(struct sg_self_defence *s, const char *path, const char *what,
			 const void *data, size_t len);
bool sg_self_defence_has(const struct sg_self_defence *s, const char *path);

typedef void (*sg_self_restored_fn)(void *ctx, const struct sg_self_file *f, const char *what_changed,
				    int err);

/*
 * Compare each file with its copy (stat first, content when stat differs)
 * and restore what changed through the guard (or a plain atomic write when
 * guard is NULL). Calls `fn` for each restore. Returns how many. A file
 * still covered by a foreign mount is left alone: a restore would write
 * beside the mount, or into the file mounted there.
 */
unsigned sg_self_defence_check(struct sg_self_defence *s, struct sg_file_guard *guard,
			       sg_self_restored_fn fn, void *ctx);

/*
 * What differs between what `f->path` shows now and the protected file:
 * SG_SELF_DIFF_* bits, 0 when it is the protected file. `content` compares
 * the bytes with the verified copy too.
 */
unsigned sg_self_file_differs(const struct sg_self_file *f, bool content);

/* The verified copy kept as `what` ("policy", ...), or NULL. */
const struct sg_self_file *sg_self_defence_find(const struct sg_self_defence *s, const char *what);

void sg_self_defence_free(struct sg_self_defence *s);

#endif

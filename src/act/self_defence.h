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

#define SG_SELF_FILES 8

struct sg_file_guard;

struct sg_self_file {
	char *path;
	const char *what;		/* "binary", "config", "policy" */
	unsigned char *data;		/* the verified content */
	size_t len;
	mode_t mode;
	struct stat seen;		/* when it last matched: a cheap first check */
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
 * guard is NULL). Calls `fn` for each restore. Returns how many.
 */
unsigned sg_self_defence_check(struct sg_self_defence *s, struct sg_file_guard *guard,
			       sg_self_restored_fn fn, void *ctx);

void sg_self_defence_free(struct sg_self_defence *s);

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * Container drift: was the file a container runs in its image? A file of
 * an overlay root that no write touched is its image layer's file, and
 * overlayfs shows it with that file's times and size. Anything written
 * since (a new file, a copy, a chmod, which copies it up) has a change
 * time of its own that no one can set back. So a file is the image's when
 * the topmost lower layer holding its path has a regular file there with
 * the same change and modification times, size and mode; otherwise it is
 * drift, and so is anything we cannot check (a root that is not overlayfs,
 * a path we cannot name): deny rules fail closed.
 */
#include "decide/drift.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool same_times(const struct stat *a, const struct stat *b)
{
	return a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_size == b->st_size && a->st_mode == b->st_mode;
}

int sg_drift_check(const struct sg_workload_info *wl, const char *container_path,
		   const struct stat *file, const char **why)
{
	const char *dir = wl->layers + wl->upper_len, *end = wl->layers + wl->layers_len;
	char path[PATH_MAX * 2];

	*why = NULL;
	if (!container_path || container_path[0] != '/') {
		*why = "container_path_unknown";
		return 1;
	}
	if (!wl->overlay) {
		*why = "root_not_overlay";
		return 1;
	}
	/* Topmost lower first: the first layer with the path is the image's version of it. */
	for (; dir < end; dir += strlen(dir) + 1) {
		struct stat st;

		if (snprintf(path, sizeof(path), "%s%s", dir, container_path) >= (int)sizeof(path))
			break;
		if (lstat(path, &st))
			continue;
		if (S_ISREG(st.st_mode) && same_times(&st, file))
			return 0;
		*why = "modified_after_start";
		return 1;
	}
	*why = "not_in_image";
	return 1;
}

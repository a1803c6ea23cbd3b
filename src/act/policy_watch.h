/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reload the policy when its file changes, without SIGHUP: an inotify watch
 * on the directory holding it. Watching the directory (not the file) sees
 * editors that rename a new file into place and Kubernetes ConfigMap volumes,
 * where the kubelet swaps the "..data" symlink and the policy file itself
 * (a symlink through "..data") never changes.
 */
#ifndef SG_POLICY_WATCH_H
#define SG_POLICY_WATCH_H

#include <limits.h>
#include <stdbool.h>

struct sg_policy_watch {
	int fd;				/* inotify, non-blocking, close-on-exec; -1 when closed */
	char name[NAME_MAX + 1];	/* the policy file's name in the watched directory */
	int file_wd;			/* the policy file's directory */
	int dir_wd;			/* the policy fragment directory (policy.d); -1: none */
	int parent_wd;			/* its parent, to see it made or removed; -1: none */
	char dir_path[PATH_MAX];
	char dir_name[NAME_MAX + 1];
};

/* Start watching the directory of policy_path. 0 or -errno (w->fd is then -1). */
int sg_policy_watch_init(struct sg_policy_watch *w, const char *policy_path);

/*
 * Also watch the policy fragment directory: a fragment ("*.yaml", "*.yml")
 * written, renamed, created or removed, or "..data" swapped (a ConfigMap
 * projected there), is a change. So is the directory itself made, removed
 * or renamed in its parent: one made after the start is watched from then
 * on. 0 when the directory or its parent is watched, else -errno.
 */
int sg_policy_watch_add_dir(struct sg_policy_watch *w, const char *dir);

/* Pollable descriptor: readable when events are waiting. */
int sg_policy_watch_fd(const struct sg_policy_watch *w);

/*
 * Drain every waiting event; true when one of them may have changed the
 * policy (the file written, replaced or created; "..data" swapped; the
 * event queue overflowed). Never blocks.
 */
bool sg_policy_watch_changed(struct sg_policy_watch *w);

void sg_policy_watch_close(struct sg_policy_watch *w);

#endif

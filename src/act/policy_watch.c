// SPDX-License-Identifier: Apache-2.0
#include "act/policy_watch.h"
#include "store/policy_dir.h"

#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* The name the kubelet renames into place when a ConfigMap volume changes. */
#define SG_CONFIGMAP_DATA "..data"

int sg_policy_watch_init(struct sg_policy_watch *w, const char *policy_path)
{
	char dir_buf[PATH_MAX], name_buf[PATH_MAX];
	int err;

	w->fd = -1;
	w->name[0] = '\0';
	w->file_wd = w->dir_wd = w->parent_wd = -1;
	w->dir_path[0] = w->dir_name[0] = '\0';
	if (!policy_path || snprintf(dir_buf, sizeof(dir_buf), "%s", policy_path) >= (int)sizeof(dir_buf))
		return -ENAMETOOLONG;
	snprintf(name_buf, sizeof(name_buf), "%s", policy_path);
	if (snprintf(w->name, sizeof(w->name), "%s", basename(name_buf)) >= (int)sizeof(w->name))
		return -ENAMETOOLONG;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	w->file_wd = inotify_add_watch(w->fd, dirname(dir_buf),
				       IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF |
				       IN_MOVE_SELF);
	if (w->file_wd < 0) {
		err = -errno;
		sg_policy_watch_close(w);
		return err;
	}
	return 0;
}

/* A fragment removed (DELETE, MOVED_FROM) changes the policy as much as one added. */
static void watch_dir(struct sg_policy_watch *w)
{
	w->dir_wd = inotify_add_watch(w->fd, w->dir_path,
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
				      IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_MASK_ADD);
}

int sg_policy_watch_add_dir(struct sg_policy_watch *w, const char *dir)
{
	char parent[PATH_MAX], name[PATH_MAX];
	int err;

	if (w->fd < 0 || !dir)
		return -EBADF;
	if (snprintf(w->dir_path, sizeof(w->dir_path), "%s", dir) >= (int)sizeof(w->dir_path))
		return -ENAMETOOLONG;
	snprintf(parent, sizeof(parent), "%s", dir);
	snprintf(name, sizeof(name), "%s", dir);
	if (snprintf(w->dir_name, sizeof(w->dir_name), "%s", basename(name)) >= (int)sizeof(w->dir_name))
		return -ENAMETOOLONG;
	watch_dir(w);
	err = w->dir_wd < 0 ? -errno : 0;
	/* The parent may be the policy file's directory: IN_MASK_ADD keeps what that watch asks. */
	w->parent_wd = inotify_add_watch(w->fd, dirname(parent),
					 IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
					 IN_ONLYDIR | IN_MASK_ADD);
	return w->dir_wd >= 0 || w->parent_wd >= 0 ? 0 : err;
}

int sg_policy_watch_fd(const struct sg_policy_watch *w)
{
	return w->fd;
}

static bool relevant(struct sg_policy_watch *w, const struct inotify_event *ev)
{
	if (w->dir_wd >= 0 && ev->wd == w->dir_wd && (ev->mask & IN_IGNORED))
		w->dir_wd = -1;		/* the directory went: its watch with it */
	if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF))
		return true;
	if (!ev->len)
		return false;
	if (w->parent_wd >= 0 && ev->wd == w->parent_wd && !strcmp(ev->name, w->dir_name)) {
		/* The fragment directory made (or renamed into place): watch it from now on. */
		if (ev->mask & (IN_CREATE | IN_MOVED_TO))
			watch_dir(w);
		return true;
	}
	if (w->dir_wd >= 0 && ev->wd == w->dir_wd &&
	    (sg_policy_dir_wants(ev->name) || !strcmp(ev->name, SG_CONFIGMAP_DATA)))
		return true;
	/*
	 * The parent's watch may be this one (IN_MASK_ADD): a policy file moved
	 * away or removed is not a new policy (an editor is about to put one in).
	 */
	if (ev->wd != w->file_wd || (ev->mask & (IN_DELETE | IN_MOVED_FROM)))
		return false;
	return !strcmp(ev->name, w->name) || !strcmp(ev->name, SG_CONFIGMAP_DATA);
}

bool sg_policy_watch_changed(struct sg_policy_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t n;

	if (w->fd < 0)
		return false;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			changed |= relevant(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
	return changed;
}

void sg_policy_watch_close(struct sg_policy_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

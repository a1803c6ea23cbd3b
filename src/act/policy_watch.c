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
	w->file_wd = w->dir_wd = -1;
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

int sg_policy_watch_add_dir(struct sg_policy_watch *w, const char *dir)
{
	if (w->fd < 0 || !dir)
		return -EBADF;
	/* A fragment removed (DELETE, MOVED_FROM) changes the policy as much as one added. */
	w->dir_wd = inotify_add_watch(w->fd, dir,
				      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
				      IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_MASK_ADD);
	return w->dir_wd < 0 ? -errno : 0;
}

int sg_policy_watch_fd(const struct sg_policy_watch *w)
{
	return w->fd;
}

static bool relevant(const struct sg_policy_watch *w, const struct inotify_event *ev)
{
	if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF))
		return true;
	if (!ev->len)
		return false;
	if (!strcmp(ev->name, SG_CONFIGMAP_DATA))
		return true;
	if (w->dir_wd >= 0 && ev->wd == w->dir_wd && sg_policy_dir_wants(ev->name))
		return true;
	return ev->wd == w->file_wd && !strcmp(ev->name, w->name);
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

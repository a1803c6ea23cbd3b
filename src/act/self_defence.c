// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "act/file_guard.h"
#include "act/self_defence.h"
#include "store/bundle_files.h"

static int read_fd(int fd, unsigned char **out, size_t *len, struct stat *st)
{
	unsigned char *buf;
	size_t off = 0;

	if (fstat(fd, st) || !S_ISREG(st->st_mode))
		return -EINVAL;
	buf = malloc(st->st_size ? st->st_size : 1);
	if (!buf)
		return -ENOMEM;
	while (off < (size_t)st->st_size) {
		ssize_t n = read(fd, buf + off, st->st_size - off);

		if (n <= 0)
			break;
		off += n;
	}
	if (off != (size_t)st->st_size) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*len = off;
	return 0;
}

static int read_all(const char *path, unsigned char **out, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc;

	if (fd < 0)
		return -errno;
	rc = read_fd(fd, out, len, st);
	close(fd);
	return rc;
}

static struct sg_self_file *find(struct sg_self_defence *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].path, path))
			return &s->f[i];
	return NULL;
}

bool sg_self_defence_has(const struct sg_self_defence *s, const char *path)
{
	return find((struct sg_self_defence *)s, path) != NULL;
}

const struct sg_self_file *sg_self_defence_find(const struct sg_self_defence *s, const char *what)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].what, what))
			return &s->f[i];
	return NULL;
}

int sg_self_defence_keep(struct sg_self_defence *s, const char *path, const char *what,
			 const void *data, size_t len)
{
	struct sg_self_file *f = find(s, path);
	unsigned char *copy = NULL;
	struct stat st;
	int rc;

	if (!f && s->n == SG_SELF_FILES)
		return -ENOSPC;
	if (data) {
		copy = malloc(len ? len : 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
		if (stat(path, &st))
			memset(&st, 0, sizeof(st));
		st.st_mode = st.st_mode ? st.st_mode : 0600;
	} else {
		rc = read_all(path, &copy, &len, &st);
		if (rc)
			return rc;
	}
	if (!f) {
		f = &s->f[s->n];
		memset(f, 0, sizeof(*f));
		f->path = strdup(path);
		if (!f->path) {
			free(copy);
			return -ENOMEM;
		}
		/*
		 * The mounts are those of the first copy, at start: the daemon's
		 * own updates rename within the same directory and keep them.
		 */
		sg_mount_view_record(&f->mnt, path);
		s->n++;
	}
	free(f->data);
	f->data = copy;
	f->len = len;
	f->what = what;
	f->mode = st.st_mode & 07777;
	f->seen = st;
	return 0;
}

unsigned sg_self_file_differs(const struct sg_self_file *f, bool content)
{
	unsigned char *now = NULL;
	unsigned diff = 0;
	struct stat st;
	uint64_t mnt;
	size_t len = 0;
	int fd;

	if (!sg_mount_view_same(&f->mnt, f->path))
		diff |= SG_SELF_DIFF_MOUNT;
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return diff | SG_SELF_DIFF_MISSING;
	/* The file opened, not the name looked up again: a mount between the two. */
	if (f->mnt.known && sg_mount_id_fd(fd, &mnt) == 0 && mnt != f->mnt.mnt_id)
		diff |= SG_SELF_DIFF_MOUNT;
	if (fstat(fd, &st) || st.st_dev != f->seen.st_dev || st.st_ino != f->seen.st_ino)
		diff |= SG_SELF_DIFF_INODE;
	if (content) {
		if (read_fd(fd, &now, &len, &st) || len != f->len || memcmp(now, f->data, len))
			diff |= SG_SELF_DIFF_CONTENT;
		free(now);
	}
	close(fd);
	return diff;
}

static bool same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	       (a->st_mode & 07777) == (b->st_mode & 07777);
}


unsigned sg_self_defence_check(struct sg_self_defence *s, struct sg_file_guard *guard,
			       sg_self_restored_fn fn, void *ctx)
{
	unsigned restored = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct sg_self_file *f = &s->f[i];
		unsigned char *now = NULL;
		const char *what = NULL;
		struct stat st;
		size_t len = 0;
		char err[256];
		int rc;

		if (f->foreign)
			continue;
		if (lstat(f->path, &st)) {
			what = "deleted";
		} else if (same_stat(&st, &f->seen)) {
			continue;
		} else if (!S_ISREG(st.st_mode)) {
			what = "replaced";
		} else if (read_all(f->path, &now, &len, &st)) {
			what = "unreadable";
		} else if (len != f->len || memcmp(now, f->data, len)) {
			what = "modified";
		} else if ((st.st_mode & 07777) != f->mode) {
			what = "mode_changed";
		}
		free(now);
		if (!what) {
			f->seen = st;	/* touched, same content: nothing to undo */
			continue;
		}
		rc = guard ? sg_file_guard_write(guard, f->path, f->data, f->len, f->mode, err,
						 sizeof(err))
			   : sg_file_replace(f->path, f->data, f->len, f->mode, err, sizeof(err));
		if (!rc && stat(f->path, &st) == 0)
			f->seen = st;
		if (!rc) {
			restored++;
			s->restored++;
		}
		fn(ctx, f, what, rc);
	}
	return restored;
}

void sg_self_defence_free(struct sg_self_defence *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->f[i].path);
		free(s->f[i].data);
	}
	s->n = 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Reading a policy fragment directory: names sorted, ConfigMap artefacts skipped, files read whole. */
#include "store/policy_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FRAGMENT_MAX_BYTES (16u << 20)

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && !strcmp(s + n - t, tail);
}

bool sg_policy_dir_wants(const char *name)
{
	return name[0] != '.' && (ends_with(name, ".yaml") || ends_with(name, ".yml"));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Root's own and not writable by others: else anyone who could write it could change the policy. */
static int check_owner(const char *what, const struct stat *st, char *err, size_t errlen)
{
	if (st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	snprintf(err, errlen,
		 "%s: refused: %s (a policy fragment must be root's and writable by root only)",
		 what, st->st_uid ? "not owned by root" : "writable by group or others");
	return -EPERM;
}

static int read_one(const char *path, bool root_only, char **out, size_t *len, char *err,
		    size_t errlen)
{
	struct stat st;
	size_t off = 0;
	char *buf;
	ssize_t r;
	/* O_NONBLOCK: a FIFO named x.yaml must not hang the daemon; it is refused below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), e;

	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-e));
		return e;
	}
	if (fstat(fd, &st)) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (root_only && (e = check_owner(path, &st, err, errlen))) {
		close(fd);
		return e;
	}
	if ((size_t)st.st_size > FRAGMENT_MAX_BYTES) {
		snprintf(err, errlen, "%s: over the 16 MiB limit", path);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size && (r = read(fd, buf + off, (size_t)st.st_size - off)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-e));
			free(buf);
			close(fd);
			return e;
		}
		off += (size_t)r;
	}
	close(fd);
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

int sg_policy_dir_read(const char *dir, bool root_only, struct sg_policy_dir *out, char *err,
		       size_t errlen)
{
	char **names = NULL;
	size_t n = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		if (rc == -ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot read the policy fragment directory: %s", dir,
			 strerror(-rc));
		return rc;
	}
	if (root_only) {
		if (fstat(dirfd(d), &st)) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		} else {
			rc = check_owner(dir, &st, err, errlen);
		}
		if (rc) {
			closedir(d);
			return rc;
		}
	}
	while ((de = readdir(d))) {
		char **nn;

		if (!sg_policy_dir_wants(de->d_name))
			continue;
		if (n == SG_POLICY_DIR_MAX_FILES) {
			snprintf(err, errlen, "%s: more than %d policy fragments", dir,
				 SG_POLICY_DIR_MAX_FILES);
			rc = -E2BIG;
			break;
		}
		nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			snprintf(err, errlen, "%s: out of memory", dir);
			rc = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (!rc && n)
		qsort(names, n, sizeof(*names), cmp_names);
	if (!rc && n && !(out->files = calloc(n, sizeof(*out->files)))) {
		snprintf(err, errlen, "%s: out of memory", dir);
		rc = -ENOMEM;
	}
	for (i = 0; !rc && i < n; i++) {
		struct sg_policy_file *f = &out->files[out->n];
		char *path = malloc(strlen(dir) + strlen(names[i]) + 2), *buf = NULL;
		size_t len = 0;

		if (!path) {
			snprintf(err, errlen, "%s: out of memory", dir);
			rc = -ENOMEM;
			break;
		}
		sprintf(path, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		rc = read_one(path, root_only, &buf, &len, err, errlen);
		if (rc) {
			free(path);
			break;
		}
		f->source = path;
		f->buf = buf;
		f->len = len;
		out->n++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc)
		sg_policy_dir_free(out);
	return rc;
}

void sg_policy_dir_free(struct sg_policy_dir *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free((char *)d->files[i].source);
		free((char *)d->files[i].buf);
	}
	free(d->files);
	memset(d, 0, sizeof(*d));
}

// SPDX-License-Identifier: Apache-2.0
#include "sense/host_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define SG_MOUNTINFO_MAX (16u << 20)

/* One space-separated field, with mountinfo's \ooo escapes undone. */
static char *field(const char **p, const char *end)
{
	const char *s = *p, *e;
	char *out;

	while (s < end && *s == ' ')
		s++;
	for (e = s; e < end && *e != ' '; e++)
		;
	out = strndup(s, (size_t)(e - s));
	if (!out)
		return NULL;
	/* An escape never holds a space, so undoing it after the split is the same. */
	sg_mountinfo_unescape(out);
	*p = e;
	return out;
}

static void free_entries(struct sg_host_mount *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].root);
		free(v[i].point);
	}
	free(v);
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw" */
static int parse_line(const char *s, const char *end, struct sg_host_mount *out)
{
	unsigned long long id;
	unsigned maj, min;
	char *ids, *pair;
	int ok;

	ids = field(&s, end);
	free(field(&s, end));	/* parent id */
	pair = field(&s, end);
	if (!ids || !pair) {
		free(ids);
		free(pair);
		return -ENOMEM;
	}
	ok = sscanf(ids, "%llu", &id) == 1 && sscanf(pair, "%u:%u", &maj, &min) == 2;
	free(ids);
	free(pair);
	if (!ok)
		return -EINVAL;
	out->id = id;
	out->dev = makedev(maj, min);
	out->root = field(&s, end);
	out->point = field(&s, end);
	if (!out->root || !out->point || out->root[0] != '/' || out->point[0] != '/') {
		free(out->root);
		free(out->point);
		return -EINVAL;
	}
	return 0;
}

int sg_host_mounts_parse(struct sg_host_mounts *m, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	struct sg_host_mount *v = NULL;
	size_t n = 0, cap = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if (eol > p) {
			if (n == cap) {
				struct sg_host_mount *nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));

				if (!nv) {
					free_entries(v, n);
					return -ENOMEM;
				}
				v = nv;
				cap = cap ? cap * 2 : 64;
			}
			if (parse_line(p, eol, &v[n]) == 0)
				n++;
		}
		p = eol + 1;
	}
	free_entries(m->v, m->n);
	m->v = v;
	m->n = n;
	return 0;
}

int sg_host_mounts_refresh(struct sg_host_mounts *m)
{
	struct pollfd pfd;
	size_t len = 0, cap = 1 << 16;
	char *buf;
	ssize_t r;
	int err;

	if (m->fd < 0) {
		m->fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
		if (m->fd < 0)
			return -errno;
	} else {
		/* The kernel flags the file when the table changes; reading it again clears that. */
		pfd.fd = m->fd;
		pfd.events = POLLPRI;
		pfd.revents = 0;
		if ((poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLPRI)) && m->v)
			return 0;
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	if (lseek(m->fd, 0, SEEK_SET) < 0) {
		free(buf);
		return -errno;
	}
	while ((r = read(m->fd, buf + len, cap - len)) > 0) {
		len += (size_t)r;
		if (len == cap) {
			char *nb = cap < SG_MOUNTINFO_MAX ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				return -E2BIG;
			}
			buf = nb;
			cap *= 2;
		}
	}
	err = r < 0 ? -errno : sg_host_mounts_parse(m, buf, len);
	free(buf);
	return err;
}

void sg_host_mounts_free(struct sg_host_mounts *m)
{
	free_entries(m->v, m->n);
	if (m->fd >= 0)
		close(m->fd);
	m->v = NULL;
	m->n = 0;
	m->fd = -1;
}

bool sg_host_mounts_has_id(const struct sg_host_mounts *m, uint64_t id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].id == id)
			return true;
	return false;
}

/* fsrel below root ("/" holds everything): the rest of fsrel after it, or NULL. */
static const char *below(const char *root, const char *fsrel)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return fsrel;
	if (strncmp(root, fsrel, n) || (fsrel[n] != '/' && fsrel[n] != '\0'))
		return NULL;
	return fsrel + n;
}

int sg_host_path_of(const struct sg_host_mounts *m, dev_t dev, const char *fsrel, char *out,
		    size_t len)
{
	const struct sg_host_mount *best = NULL;
	const char *rest = NULL;
	size_t i;
	int n;

	/* The mount of the widest part of the filesystem: its name is the least made up. */
	for (i = 0; i < m->n; i++) {
		const char *r;

		if (m->v[i].dev != dev || !(r = below(m->v[i].root, fsrel)))
			continue;
		if (!best || strlen(m->v[i].root) < strlen(best->root)) {
			best = &m->v[i];
			rest = r;
		}
	}
	if (!best)
		return -ENOENT;
	if (!strcmp(best->point, "/"))
		n = snprintf(out, len, "%s", rest[0] ? rest : "/");
	else
		n = snprintf(out, len, "%s%s", best->point, rest);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void sg_mountinfo_unescape(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

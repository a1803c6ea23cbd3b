// SPDX-License-Identifier: Apache-2.0
/* Key files and the last accepted bundle version on disk. */
#include "store/bundle_files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE_MAX 256

int sg_file_read_all(const char *path, size_t max, char **out, size_t *len, char *err,
		     size_t errlen)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	int fd, e = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		return e;
	}
	for (;;) {
		ssize_t r;

		if (!buf || n == cap) {
			char *nb;

			if (buf)
				cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				e = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			e = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-e));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			e = -EFBIG;
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return e;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int sg_file_create(const char *path, const void *buf, size_t len, mode_t mode, char *err,
		   size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int e;

	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		return e;
	}
	/* The umask may have narrowed the mode; set it exactly. */
	e = fchmod(fd, mode) ? -errno : 0;
	if (!e)
		e = write_all(fd, buf, len);
	if (!e && fsync(fd))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	if (e) {
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		unlink(path);
	}
	return e;
}

int sg_key_read_secret(const char *path, uint8_t sk[crypto_sign_SECRETKEYBYTES], char *err,
		       size_t errlen)
{
	char msg[160], *buf = NULL;
	struct stat st;
	size_t len;
	int e;

	if (stat(path, &st)) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		return e;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: secret key is accessible by group or others (mode %04o); chmod 600 it",
			 path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	e = sg_file_read_all(path, KEY_FILE_MAX, &buf, &len, err, errlen);
	if (e)
		return e;
	e = sg_key_parse_secret(buf, len, sk, msg, sizeof(msg));
	if (e)
		snprintf(err, errlen, "%s: %s", path, msg);
	sodium_memzero(buf, len);
	free(buf);
	return e;
}

int sg_key_read_public(const char *path, uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *err,
		       size_t errlen)
{
	char msg[160], *buf = NULL;
	size_t len;
	int e = sg_file_read_all(path, KEY_FILE_MAX, &buf, &len, err, errlen);

	if (e)
		return e;
	e = sg_key_parse_public(buf, len, pk, msg, sizeof(msg));
	if (e)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(buf);
	return e;
}

int sg_bundle_version_read(const char *path, uint64_t *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len;
	int e = sg_file_read_all(path, 32, &buf, &len, err, errlen);

	if (e == -ENOENT) {
		*out = 0;
		return 0;
	}
	if (e)
		return e;
	if (len < 2 || buf[len - 1] != '\n' || sg_parse_u64(buf, len - 1, out)) {
		snprintf(err, errlen, "%s: not a version file (one decimal number and a newline)", path);
		e = -EINVAL;
	}
	free(buf);
	return e;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, e = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		e = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return e;
}

int sg_file_replace(const char *path, const void *buf, size_t len, mode_t mode, char *err,
		    size_t errlen)
{
	char tmp[4096];
	int fd, e, n;

	n = snprintf(tmp, sizeof(tmp), "%s.sysguard-tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(-e));
		return e;
	}
	e = write_all(fd, buf, len);
	/* The mode asked for, whatever the umask did to it. */
	if (!e && fchmod(fd, mode))
		e = -errno;
	if (!e && fsync(fd))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	if (!e && rename(tmp, path))
		e = -errno;
	if (e) {
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
		unlink(tmp);
		return e;
	}
	e = fsync_dir_of(path);
	if (e)
		snprintf(err, errlen, "%s: fsync of its directory: %s", path, strerror(-e));
	return e;
}

int sg_bundle_version_write(const char *path, uint64_t version, char *err, size_t errlen)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)version);

	return sg_file_replace(path, line, (size_t)n, 0600, err, errlen);
}

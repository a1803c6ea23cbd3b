// SPDX-License-Identifier: Apache-2.0
#include "sense/bpf_pins.h"

#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sg_pins_set_maps(struct bpf_object *obj, const char *dir)
{
	struct bpf_map *m;
	char path[512];
	int e;

	/* libbpf makes only the last directory of a pin path. */
	if ((mkdir(SG_PIN_ROOT, 0700) && errno != EEXIST) || (mkdir(dir, 0700) && errno != EEXIST))
		return -errno;
	bpf_object__for_each_map(m, obj) {
		if (bpf_map__is_internal(m))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m)) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		e = bpf_map__set_pin_path(m, path);
		if (e)
			return e;
	}
	return 0;
}

int sg_pins_link(struct bpf_link *link, const char *dir, const char *name)
{
	char path[512];
	int replaced = 0, e;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path) == 0)
		replaced = 1;
	else if (errno != ENOENT)
		return -errno;
	e = bpf_link__pin(link, path);
	return e ? e : replaced;
}

/*
 * A pinned link's program is detached when its last reference goes, but
 * the kernel drops the pin's reference later, from a work queue: right
 * after an unlink the program may still act (a connect refused after
 * `sysguardctl reset` said it removed the egress rules). Detaching first
 * is immediate; hooks that cannot be detached this way go at the unlink.
 */
static void detach_link(const char *path, const char *name)
{
	int fd;

	if (strncmp(name, "link_", 5))
		return;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	bpf_link_detach(fd);
	close(fd);
}

int sg_pins_remove(const char *dir, void (*each)(const char *path, void *ctx), void *ctx)
{
	char path[512];
	struct dirent *d;
	DIR *dd = opendir(dir);
	int rc = 0;

	if (!dd)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dd))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		detach_link(path, d->d_name);
		if (unlink(path)) {
			if (!rc)
				rc = -errno;
			continue;
		}
		if (each)
			each(path, ctx);
	}
	closedir(dd);
	if (rmdir(dir) && !rc && errno != ENOENT)
		rc = -errno;
	rmdir(SG_PIN_ROOT);	/* only succeeds once nothing else is pinned */
	return rc;
}

bool sg_pins_exist(const char *dir)
{
	struct dirent *d;
	DIR *dd = opendir(dir);
	bool any = false;

	if (!dd)
		return false;
	while (!any && (d = readdir(dd)))
		any = d->d_name[0] != '.';
	closedir(dd);
	return any;
}

void sg_pins_drop_links_except(const char *dir, const char *const *keep, size_t n)
{
	char path[512];
	struct dirent *d;
	DIR *dd = opendir(dir);
	size_t i;

	if (!dd)
		return;
	while ((d = readdir(dd))) {
		if (strncmp(d->d_name, "link_", 5))
			continue;
		for (i = 0; i < n && strcmp(keep[i], d->d_name); i++)
			;
		if (i < n)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		detach_link(path, d->d_name);
		unlink(path);
	}
	closedir(dd);
}

size_t sg_pins_prog_ids(const char *dir, uint32_t *ids, size_t max)
{
	struct bpf_link_info info;
	char path[512];
	struct dirent *d;
	DIR *dd = opendir(dir);
	size_t n = 0;
	__u32 len;
	int fd;

	if (!dd)
		return 0;
	while (n < max && (d = readdir(dd))) {
		if (strncmp(d->d_name, "link_", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.prog_id)
			ids[n++] = info.prog_id;
		close(fd);
	}
	closedir(dd);
	return n;
}

bool sg_pins_wait_gone(const uint32_t *ids, size_t n, unsigned ms)
{
	unsigned waited = 0;
	size_t i;
	int fd;

	for (;;) {
		for (i = 0; i < n; i++) {
			fd = bpf_prog_get_fd_by_id(ids[i]);
			if (fd >= 0) {
				close(fd);
				break;
			}
		}
		if (i == n)
			return true;
		if (waited >= ms)
			return false;
		usleep(10 * 1000);
		waited += 10;
	}
}

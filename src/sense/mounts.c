// SPDX-License-Identifier: Apache-2.0
#include "sense/mounts.h"

#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static bool find_mount(const char *dir, const char *fstype, char *out, size_t len)
{
	struct mntent ent;
	char buf[4096];
	bool found = false;
	FILE *f = setmntent("/proc/self/mounts", "re");

	if (!f)
		return false;
	while (getmntent_r(f, &ent, buf, sizeof(buf))) {
		if (strcmp(ent.mnt_type, fstype))
			continue;
		if (dir && strcmp(ent.mnt_dir, dir))
			continue;
		if (out)
			snprintf(out, len, "%s", ent.mnt_dir);
		found = true;
		break;
	}
	endmntent(f);
	return found;
}

bool sg_is_mounted(const char *dir, const char *fstype)
{
	return find_mount(dir, fstype, NULL, 0);
}

int sg_ensure_mounted(const char *dir, const char *fstype)
{
	if (sg_is_mounted(dir, fstype))
		return 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (mount(fstype, dir, fstype, MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return 1;
}

int sg_find_cgroup2(char *buf, size_t len)
{
	return find_mount(NULL, "cgroup2", buf, len) ? 0 : -ENOENT;
}

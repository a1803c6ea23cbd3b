// SPDX-License-Identifier: Apache-2.0
#include "sense/open_event.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* glibc defines O_LARGEFILE as 0 on 64-bit; the kernel still sets its bit in f_flags. */
#if defined(__x86_64__)
#define SG_O_LARGEFILE 0100000
#elif defined(__aarch64__)
#define SG_O_LARGEFILE 0400000
#else
#error "open_event: O_LARGEFILE for this architecture is missing"
#endif

int sg_decode_open(const void *data, size_t size, struct sg_open_event *out, size_t *name_len)
{
	const char *nul;

	if (size < sizeof(*out))
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	if (out->hdr.type != SG_EV_FILE_OPEN || !(out->rule_id & ~SG_OPEN_RULE_GEN) ||
	    out->path_len > SG_PATH_BUF || out->path_depth > SG_PATH_DEPTH)
		return -EINVAL;
	nul = memchr(out->name, '\0', sizeof(out->name));
	if (!nul)
		return -EINVAL;
	*name_len = (size_t)(nul - out->name);
	out->hdr.comm[sizeof(out->hdr.comm) - 1] = '\0';
	return 0;
}

enum sg_open_access sg_open_access_of(uint32_t fmode, uint32_t flags)
{
	switch (fmode & 3) {
	case 1:
		return SG_ACCESS_READ;
	case 2:
		return SG_ACCESS_WRITE;
	case 3:
		return SG_ACCESS_READ_WRITE;
	}
	return flags & O_PATH ? SG_ACCESS_PATH : SG_ACCESS_NONE;
}

const char *sg_open_access_name(enum sg_open_access a)
{
	switch (a) {
	case SG_ACCESS_READ:
		return "read";
	case SG_ACCESS_WRITE:
		return "write";
	case SG_ACCESS_READ_WRITE:
		return "read_write";
	case SG_ACCESS_PATH:
		return "path";
	case SG_ACCESS_NONE:
		break;
	}
	return "none";
}

const char *sg_file_type_name(uint32_t imode)
{
	switch (imode & S_IFMT) {
	case S_IFREG:
		return "regular";
	case S_IFDIR:
		return "directory";
	case S_IFCHR:
		return "char_device";
	case S_IFBLK:
		return "block_device";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFLNK:
		return "symlink";
	}
	return "unknown";
}

static const struct {
	uint32_t bit;
	const char *name;
} flag_names[] = {
	{ O_CREAT, "O_CREAT" },
	{ O_EXCL, "O_EXCL" },
	{ O_NOCTTY, "O_NOCTTY" },
	{ O_TRUNC, "O_TRUNC" },
	{ O_APPEND, "O_APPEND" },
	{ O_NONBLOCK, "O_NONBLOCK" },
	{ O_DSYNC, "O_DSYNC" },
	{ O_ASYNC, "O_ASYNC" },
	{ O_DIRECT, "O_DIRECT" },
	{ SG_O_LARGEFILE, "O_LARGEFILE" },
	{ O_DIRECTORY, "O_DIRECTORY" },
	{ O_NOFOLLOW, "O_NOFOLLOW" },
	{ O_NOATIME, "O_NOATIME" },
	{ O_CLOEXEC, "O_CLOEXEC" },
	{ O_SYNC & ~O_DSYNC, "O_SYNC" },
	{ O_PATH, "O_PATH" },
	{ O_TMPFILE & ~O_DIRECTORY, "O_TMPFILE" },
};

size_t sg_open_flag_names(uint32_t flags, const char **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if (!(flags & flag_names[i].bit))
			continue;
		if (n < max)
			out[n] = flag_names[i].name;
		n++;
	}
	return n;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host's name for an open file, whichever mount namespace opened it:
 * its own name when the mount is one of the host's; else the same file
 * reopened through a host mount of its filesystem (file handle); else its
 * path within the filesystem, from the opener's mount table, mapped back.
 */
#ifndef SG_HOST_PATH_H
#define SG_HOST_PATH_H

#include <stddef.h>
#include <sys/types.h>

#include "sense/host_mounts.h"

/* 0 and out filled, or -errno when the host has no name for it (or it is too long). */
int sg_host_path_of_fd(struct sg_host_mounts *m, pid_t opener, int fd, char *out, size_t len);

#endif

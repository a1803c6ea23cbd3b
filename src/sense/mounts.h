/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel filesystems the daemon needs, mounted when a fresh machine lacks them. */
#ifndef SG_MOUNTS_H
#define SG_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#define SG_BPFFS_PATH "/sys/fs/bpf"
#define SG_SECURITYFS_PATH "/sys/kernel/security"
#define SG_TRACEFS_PATH "/sys/kernel/tracing"

/* True when a filesystem of `fstype` is mounted exactly at `dir`. */
bool sg_is_mounted(const char *dir, const char *fstype);

/*
 * Mount `fstype` at `dir` unless already there. Returns 1 if it mounted,
 * 0 if it was already mounted, negative errno on failure.
 */
int sg_ensure_mounted(const char *dir, const char *fstype);

/* Find the cgroup2 mount point (e.g. /sys/fs/cgroup/unified); -ENOENT if none. */
int sg_find_cgroup2(char *buf, size_t len);

#endif

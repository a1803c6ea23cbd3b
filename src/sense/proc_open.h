/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Open a file as another process names it: through its root and its
 * working directory, in its mount namespace, so a chroot, a bind mount or
 * an absolute symlink of its world means what it means to that process.
 */
#ifndef SG_PROC_OPEN_H
#define SG_PROC_OPEN_H

#include <sys/types.h>

/*
 * Open `path` read-only as pid would resolve it. The open runs in a short-
 * lived child (chroot to pid's root, chdir to its cwd), bounded in time so
 * a hung filesystem cannot stall the caller. The fd, or -errno
 * (-ETIMEDOUT when the child did not answer in time).
 */
int sg_open_in_process(pid_t pid, const char *path);

#endif

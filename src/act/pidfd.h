/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signals from user space through a pidfd, never a bare pid: the pidfd is
 * opened first and the process is then checked to still run the executable
 * the event named, so a recycled pid is never hit.
 */
#ifndef SG_PIDFD_H
#define SG_PIDFD_H

#include <stdbool.h>
#include <sys/types.h>

#include "policy/policy.h"

/*
 * Send sig to pid if it still runs the file `expect` (skip the check when
 * NULL). 0 on success, -ESRCH if it is gone or runs something else, -errno.
 */
int sg_pidfd_signal(pid_t pid, int sig, const struct sg_file_id *expect);

/*
 * SIGKILL every descendant of pid, deepest last found first, each through a
 * pidfd. `doom` (may be NULL) is told each one before it is read, so a
 * child it forks after that is stopped by the kernel. Returns how many
 * were signalled.
 */
int sg_pidfd_kill_descendants(pid_t pid, void (*doom)(void *ctx, pid_t pid), void *ctx);

#endif

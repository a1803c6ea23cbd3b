/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Backend "fanotify": a synchronous exec deny through FAN_OPEN_EXEC_PERM on
 * filesystem marks. Files whose allow verdict depends only on the file get
 * an ignore mark (placed through sg_fanotify_exec_ignore once the kernel
 * holds renamed copies), which the kernel clears when the file is modified,
 * so allowed binaries cost nothing after their first exec.
 */
#ifndef SG_FANOTIFY_EXEC_H
#define SG_FANOTIFY_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "decide/engine.h"

#define SG_FAN_MAX_SB 256

struct sg_fanotify_stats {
	uint64_t events;
	uint64_t allowed;
	uint64_t denied;
	uint64_t ignore_marks;
	uint64_t response_errors;
	uint64_t filesystems;		/* filesystems marked */
	uint64_t mark_errors;
	uint64_t late_marks;		/* ...found by an exec the kernel held, not the mount table */
};

struct sg_fanotify_exec {
	int fd;
	int mountinfo_fd;		/* POLLPRI when the mount table changes */
	bool use_ignore;
	struct sg_engine *engine;
	dev_t marked[SG_FAN_MAX_SB];
	unsigned nmarked;
	struct sg_fanotify_stats stats;
};

int sg_fanotify_exec_start(struct sg_fanotify_exec *fx, struct sg_engine *engine,
			   bool use_ignore, char *err, size_t errlen);
void sg_fanotify_exec_stop(struct sg_fanotify_exec *fx);

/* Answer every pending permission event. */
void sg_fanotify_exec_handle(struct sg_fanotify_exec *fx);

/* Mark filesystems mounted since the last scan. Returns how many were added. */
int sg_fanotify_exec_scan_mounts(struct sg_fanotify_exec *fx);

/*
 * Let the file behind fd run without asking until it is modified (an ignore
 * mark). The caller has made the kernel hold the file under any other name.
 */
void sg_fanotify_exec_ignore(void *fx, int fd);

/*
 * Mark the filesystem of the file behind fd for exec permission events:
 * one the mount table never showed us (another namespace mounted it).
 * 0 or -errno.
 */
int sg_fanotify_exec_mark_fs(void *fx, int fd);

/* Drop every ignore mark (the policy changed, cached allows may be wrong). */
int sg_fanotify_exec_flush_cache(struct sg_fanotify_exec *fx);


#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Refusals by FS_IMMUTABLE_FL, which the kernel makes before any hook of
 * ours (fanotify backend): bpf/file_refusal.bpf.c reports system calls that
 * failed with EPERM, with their path arguments as given; this file loads it
 * (helper audit first, BPF-2), keeps its map of protected inodes, attaches
 * it only while that map is not empty, and turns each record into a view
 * with the paths made absolute. Which file was meant, and whether it is
 * ours, is the caller's question (src/act/file_guard.c).
 */
#ifndef SG_SENSE_FILE_REFUSAL_H
#define SG_SENSE_FILE_REFUSAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "sysguard.h"

struct sg_file_refusal;

struct sg_refusal_path {
	char path[PATH_MAX];	/* absolute when `absolute`, else as the caller gave it */
	bool absolute;
	bool nofollow;		/* the call does not follow a final symlink */
};

struct sg_refusal_view {
	const struct sg_refusal_event *ev;
	const char *op;		/* open_write, truncate, unlink, rename, link, chmod, chown, utimes, xattr */
	const char *syscall;	/* its name, e.g. unlinkat */
	bool write_open;	/* an open that asked for write access or O_TRUNC */
	unsigned npaths;
	struct sg_refusal_path paths[2];
	char exe[SG_PATH_BUF + 2];	/* the caller's executable, "" if unknown */
};

typedef void (*sg_refusal_fn)(void *ctx, const struct sg_refusal_view *v);

/* Load (not attach). 0 or -errno with err set; *out is NULL on failure. */
int sg_file_refusal_load(struct sg_file_refusal **out, sg_refusal_fn fn, void *ctx, char *err,
			 size_t errlen);
void sg_file_refusal_stop(struct sg_file_refusal *r);

/*
 * Make `keys` the protected inodes (kernel s_dev, i_ino); attached exactly
 * while n > 0. 0 or -errno with err set.
 */
int sg_file_refusal_set(struct sg_file_refusal *r, const struct sg_inode_key *keys, size_t n,
			char *err, size_t errlen);
bool sg_file_refusal_attached(const struct sg_file_refusal *r);

int sg_file_refusal_fd(struct sg_file_refusal *r);
int sg_file_refusal_consume(struct sg_file_refusal *r);
/* Sums of the per-CPU counters (enum sg_refusal_counter). 0 or -errno. */
int sg_file_refusal_counters(struct sg_file_refusal *r, uint64_t out[SG_RCNT_MAX]);

/* Pure: decode a record into a view. 0, or -EINVAL when it is malformed. */
int sg_refusal_decode(const void *data, size_t size, struct sg_refusal_view *v);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File integrity monitoring (FILE-2): fanotify with file handles and
 * directory-entry names (FAN_REPORT_FID | FAN_REPORT_DFID_NAME), inode marks
 * on each watched file and on every directory of each watched tree. Every
 * event carries the pid that caused it. No per-syscall hooks: only changes
 * to watched objects reach us.
 */
#ifndef SG_FIM_H
#define SG_FIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SG_FIM_MAX_DIRS 16384	/* directories marked across all trees */
/* A directory that arrives in a tree is walked this deep and this far. */
#define SG_FIM_WALK_DEPTH 64
#define SG_FIM_WALK_ENTRIES 16384

struct sg_fim;

struct sg_fim_event {
	const char *op;		/* write, close_write, create, unlink, rename_from, rename_to,
				   moved_in, attrib, delete_self, move_self, overflow */
	uint64_t mask;
	pid_t pid;
	const char *path;	/* NULL when it could not be resolved */
	bool is_dir;
	/* attrib only: the mode before (when known) and now, and what appeared */
	bool has_mode, old_known;
	unsigned int old_mode, new_mode;
	bool file_caps;		/* a security.capability xattr is present now */
};

typedef void (*sg_fim_fn)(void *ctx, const struct sg_fim_event *ev);
typedef void (*sg_fim_error_fn)(void *ctx, const char *path, const char *what, int err);

int sg_fim_start(struct sg_fim **out, char *err, size_t errlen);
void sg_fim_stop(struct sg_fim *f);
int sg_fim_fd(const struct sg_fim *f);

/*
 * Watch exactly these paths (files, or directory trees); errors go to
 * `on_error`, now and for directories walked later as they arrive.
 */
void sg_fim_set(struct sg_fim *f, const char *const *paths, size_t n, sg_fim_error_fn on_error,
		void *ctx);
size_t sg_fim_marks(const struct sg_fim *f);

/* Read what is queued and report each event; returns how many. */
unsigned sg_fim_read(struct sg_fim *f, sg_fim_fn fn, void *ctx);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Scripts read by a running interpreter (`. FILE`, `source FILE`, an
 * import): fanotify open-permission marks on the files the exec rules deny
 * by path or identity, and on the directories of deny globs (every one
 * below, for a glob that reaches deeper), so only opens of those cost a
 * round trip. An interpreter (scripts:) opening a denied
 * one is refused; anyone else is let through.
 *
 * Its own fanotify group and thread: the daemon itself opens such files
 * (to judge a held interpreter's script, to hash), and an open waiting for
 * an answer from the thread that made it would never end. The thread keeps
 * its own copy of what it needs (identities, globs, rule names), so it
 * never reads the engine's policy, which the event loop may swap.
 */
#ifndef SG_SCRIPT_GUARD_H
#define SG_SCRIPT_GUARD_H

#include "decide/engine.h"
#include "report/alert.h"
#include "report/audit.h"

struct sg_script_guard;

/* Start the group and its thread. 0, or -errno with err set. */
int sg_script_guard_start(struct sg_script_guard **out, struct sg_audit *audit,
			  struct sg_alerts *alerts, char *err, size_t errlen);
void sg_script_guard_stop(struct sg_script_guard *g);

/*
 * Mark what `p` denies and take the engine's interpreters (resolved
 * already). Returns how many files and directories are watched.
 */
int sg_script_guard_apply(struct sg_script_guard *g, const struct sg_policy *p,
			  const struct sg_engine *e);

/* One more interpreter whose opens of denied files are refused (a copy, a container's). */
int sg_script_guard_add_interpreter(struct sg_script_guard *g, const struct sg_file_id *id);

/*
 * Directories under deep globs are watched for new subdirectories: the
 * event loop polls this descriptor and calls sg_script_guard_on_dirs, which
 * marks them. -1 without a guard.
 */
int sg_script_guard_dirs_fd(const struct sg_script_guard *g);
void sg_script_guard_on_dirs(struct sg_script_guard *g);

/* Directories under deep globs left unwatched (too many, too deep, names too long). */
size_t sg_script_guard_dirs_skipped(const struct sg_script_guard *g);

/* Opens refused so far. */
uint64_t sg_script_guard_denied(const struct sg_script_guard *g);

#endif

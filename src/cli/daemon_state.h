/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The running daemon as sysguardctl sees it through --state-dir: its ready
 * file (pid, mode, policy, written again after each successful reload) and
 * its other state files.
 */
#ifndef SG_CLI_DAEMON_STATE_H
#define SG_CLI_DAEMON_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "cli/cli.h"

/* The pid in the ready file, if /proc says it is a sysguardd (never a recycled pid); else -1. */
pid_t sg_daemon_pid(const char *state_dir);

/* path's first len-1 bytes, NUL-terminated; 0 or -errno. */
int sg_read_small(const char *path, char *buf, size_t len);

/* <state_dir>/name, whole and NUL-terminated (malloc'd); 0 or -errno. */
int sg_state_read(const char *state_dir, const char *name, char **buf, size_t *len);

/* A string field of the running daemon's ready file; -1 when there is none. */
int sg_ready_field(const char *state_dir, const char *key, char *out, size_t len);

/* Which state file (ready, reload.result) is there now: the daemon replaces it (new inode, new mtime) on each write. */
struct sg_state_stamp {
	struct timespec mtim;
	ino_t ino;
	bool ok;
};
void sg_state_stamp(const char *state_dir, const char *name, struct sg_state_stamp *st);
bool sg_state_changed(const char *state_dir, const char *name, const struct sg_state_stamp *before);

/*
 * SIGHUP to the daemon, then wait up to timeout_ms for its answer in
 * reload.result (applied, unchanged, or refused and why); mode_only: for
 * its new ready file (break-glass, which does not need a good policy). SG_EXIT_OK;
 * SG_EXIT_FAILED when it kept its old policy (said on stderr);
 * SG_EXIT_NO_DAEMON when none runs.
 */
int sg_daemon_reload(const struct sg_cli *cli, unsigned timeout_ms, bool mode_only);

/* --timeout's value in seconds (0 < s <= 3600, fractions allowed) as ms; false on a bad one. */
bool sg_parse_timeout(const char *s, unsigned *ms);

/* How long the process pid has run, from /proc; -1 when that cannot be read. */
long long sg_process_uptime_s(pid_t pid);

#endif

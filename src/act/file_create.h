/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FILE-1 for names that do not exist yet: a directory no new entry may
 * enter (deny: [create]) and a protected path that is absent (the
 * /etc/ld.so.preload a loader rootkit creates).
 *
 *   directory  FS_IMMUTABLE_FL on it: the kernel refuses create, mkdir,
 *              mknod, symlink, link into, rename into and out of, and
 *              unlink in it, for root too. An fanotify FAN_CREATE |
 *              FAN_MOVED_TO mark on it finds what gets in anyway (the flag
 *              cleared by root) and removes it.
 *   absent     the same mark on its parent, or on the nearest ancestor that
 *              exists: the name is unlinked as soon as it appears. On the
 *              fanotify backend nothing refuses the creation itself; the
 *              window is the event's trip to the daemon.
 *
 * On the bpf_lsm backend the file guard also puts these rules in its maps
 * (sg_file_guard_set_creates): the kernel refuses the creation outright,
 * and a directory gets no immutable flag.
 *
 * Independent of the file guard's backend: notification marks load on
 * every kernel the daemon supports.
 */
#ifndef SG_FILE_CREATE_H
#define SG_FILE_CREATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/policy.h"

struct sg_audit;
struct sg_alerts;
struct sg_create_guard;

struct sg_create_rule {
	const char *path;
	uint32_t deny;			/* SG_FDENY_* */
	const char *source;		/* "policy" */
	const char *rule;
	const char *lsm;		/* bpf_lsm: "refused", or why not; NULL: no bpf_lsm */
};

struct sg_create_guard_opts {
	struct sg_audit *audit;
	struct sg_alerts *alerts;	/* may be NULL */
	void (*identify)(void *ctx, pid_t pid, char *exe, size_t exelen, char *comm,
			 size_t commlen);
	void *identify_ctx;
};

/* True when this guard, not the file guard, owns the rule: a create rule or an absent path. */
bool sg_create_guard_wants(const char *path, uint32_t deny);

/* 0 or -errno with err set. */
int sg_create_guard_start(struct sg_create_guard **out, const struct sg_create_guard_opts *o,
			  char *err, size_t errlen);
/* Remove every mark and every flag we set. */
void sg_create_guard_stop(struct sg_create_guard *g);

/*
 * Replace the rules. `enforce` false (monitor mode): no flag, nothing
 * removed, only recorded. Each rule gets a file_protect record (or
 * file_protect_error); anything already at an absent path is removed.
 */
void sg_create_guard_set(struct sg_create_guard *g, const struct sg_create_rule *r, size_t n,
			 bool enforce);

int sg_create_guard_fd(const struct sg_create_guard *g);
/* Handle the queued events: undo what was created, record it. */
void sg_create_guard_read(struct sg_create_guard *g);
/* Once a second: flags put back, absent paths looked at again (lost events, new parents). */
void sg_create_guard_tick(struct sg_create_guard *g);

void sg_create_guard_stats(const struct sg_create_guard *g, uint64_t *watched,
			   uint64_t *undone);

#endif

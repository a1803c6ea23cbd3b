/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File protection's insides, shared by its files: file_guard.c (the
 * protected set, marks and map entries, start and stop), file_guard_perm.c
 * (the records and the fanotify permission thread) and file_guard_flags.c
 * (the immutable flags, the list a killed daemon leaves, and refusals by the
 * flag). act/file_guard.h is the interface.
 */
#ifndef SG_FILE_GUARD_INT_H
#define SG_FILE_GUARD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "act/file_guard.h"
#include "act/file_lsm.h"
#include "sense/file_refusal.h"

/* In the state directory: the files that carry our immutable flag. */
#define FG_IMMUTABLE_LIST "immutable.list"

struct entry {
	char *path;
	char *rule;
	char *fragment;			/* the rule's policy fragment, NULL in the main policy */
	const char *source;		/* static string */
	uint32_t deny;
	dev_t dev;
	ino_t ino;
	int opath;			/* O_PATH fd on the protected inode */
	bool ours_immutable;		/* we set FS_IMMUTABLE_FL and must clear it */
	bool marked;			/* fanotify mark or LSM map entry in place */
};

struct sg_file_guard {
	struct sg_file_guard_opts o;
	char state_dir[4096];
	struct sg_file_lsm *lsm;
	/* bpf_lsm: create rules in the maps (rule_id SG_CREATE_RULE_ID | index + 1). */
	struct lsm_create {
		char *rule, *path;
		struct sg_inode_key dir;	/* a deny: [create] directory's entry, ino 0 none */
	} *creates;
	size_t ncreates;
	struct sg_file_refusal *refusal;	/* fanotify backend: refusals by our immutable flag */
	int fan;			/* FAN_OPEN_PERM group, -1 with bpf_lsm */
	int stop_fd;
	pthread_t thread;
	bool thread_up;
	struct stat self_exe;

	pthread_rwlock_t lock;		/* entries and index; the permission thread reads */
	struct entry *entries;
	size_t n;
	uint32_t *index;		/* open addressing on (dev, ino): entry + 1, 0 empty */
	size_t index_cap;
	bool enforce, enforce_self;
	/* Files a killed daemon left immutable: ours to keep or clear at the first set. */
	struct entry *left;
	size_t nleft;
	uint32_t *left_index;
	size_t left_cap;
	size_t cursor;			/* sg_file_guard_refresh's round robin */

	/* Counters, written by either thread. */
	uint64_t denied, allowed_reads, errors;
};

/* What the permission thread knows about a refused (or would-be refused) open. */
struct access {
	pid_t tid, tgid;
	uint64_t uid;
	const char *op;
	const char *intent;		/* NULL: no open intent to report */
	const char *backend;		/* "fanotify", or "immutable": the kernel refused by the flag */
	const char *syscall;		/* the refused system call, when known */
	uint32_t deny;
	char rule[SG_RULE_NAME_MAX];
	char fragment[SG_FRAGMENT_NAME_MAX];	/* "" in the main policy */
	const char *source;
	char path[4096];
	char exe[4096];
	char comm[64];
	char cgroups[4096];	/* /proc/PID/cgroup as it was: its container, after it exited */
	dev_t dev;
	ino_t ino;
	bool blocked;
};

/* file_guard.c; the caller holds the lock (either mode). */
struct entry *fg_find(const struct sg_file_guard *g, dev_t dev, ino_t ino);

/* file_guard_perm.c */
void fg_protect_record(struct sg_file_guard *g, const char *action, const struct entry *e);
void fg_tamper_record(struct sg_file_guard *g, const struct entry *e);
void fg_protect_error(struct sg_file_guard *g, const struct sg_guard_file *f, const char *what, int err);
void fg_access_record(struct sg_file_guard *g, const struct access *a);
void *fg_perm_thread(void *arg);

/* file_guard_flags.c */
int fg_set_immutable(int opath, bool on);
bool fg_immutable_is_set(int opath);
void fg_save_immutable_list(struct sg_file_guard *g);
void fg_for_each_listed(const char *state_dir, void (*fn)(int opath, void *ctx), void *ctx);
void fg_refusal_sync(struct sg_file_guard *g);
void fg_on_refusal(void *ctx, const struct sg_refusal_view *v);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File protection (FILE-1, FILE-3): a set of protected inodes, the rules
 * that put them there, and the backend that refuses changes to them.
 *
 *   bpf_lsm   (src/act/file_lsm.c) every operation refused in kernel, each
 *             refusal recorded; chosen when its hooks load.
 *   fanotify  FAN_OPEN_PERM inode marks on the protected files only (opens
 *             of other files never reach us), decided from the opener's
 *             system call; plus FS_IMMUTABLE_FL on files whose rule denies
 *             both write and delete, which the kernel itself enforces for
 *             truncate, unlink, rename, link and setattr.
 *
 * The daemon's own executable (dev + inode) is never refused; the daemon
 * changes a protected file only through sg_file_guard_write().
 */
#ifndef SG_FILE_GUARD_H
#define SG_FILE_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct sg_audit;
struct sg_alerts;
struct sg_file_guard;

/* One protected file, as the policy, the block list or self-defence names it. */
struct sg_guard_file {
	const char *path;
	uint32_t deny;			/* SG_FDENY_* */
	const char *source;		/* "policy", "blocklist" or "self_defence" */
	const char *rule;		/* rule name, or the path for the block list */
	const char *fragment;		/* the rule's policy fragment (policy.d), or NULL */
};

struct sg_file_guard_opts {
	struct sg_audit *audit;
	struct sg_alerts *alerts;	/* may be NULL */
	bool enforce;
	bool use_lsm;			/* try the BPF LSM backend first */
	bool use_immutable;		/* fanotify backend: also set FS_IMMUTABLE_FL */
	bool record_refusals;		/* ...and record what the flag refuses (bpf/file_refusal.bpf.c) */
	const char *state_dir;		/* remembers which files we made immutable */
};

struct sg_file_guard_stats {
	uint64_t protected_files;
	uint64_t denied;		/* operations refused (or that would be, in monitor mode) */
	uint64_t allowed_reads;		/* fanotify: opens for reading let through */
	uint64_t immutable;		/* files carrying our immutable flag */
	uint64_t errors;		/* files that could not be protected */
};

/* 0 or -errno with err set; nothing is left running on failure. */
int sg_file_guard_start(struct sg_file_guard **out, const struct sg_file_guard_opts *o,
			char *err, size_t errlen);
/* Remove every mark and every immutable flag we set. */
void sg_file_guard_stop(struct sg_file_guard *g);

const char *sg_file_guard_backend(const struct sg_file_guard *g);
/* The fd to poll for kernel refusals (bpf_lsm), or -1. */
int sg_file_guard_fd(const struct sg_file_guard *g);
void sg_file_guard_poll(struct sg_file_guard *g);

/*
 * Replace the protected set. Paths are resolved here (symlinks followed: the
 * file itself is protected); a file that cannot be protected gets a
 * file_protect_error record and the rest still apply. Every file that
 * enters or leaves the set gets a file_protect record.
 */
void sg_file_guard_set(struct sg_file_guard *g, const struct sg_guard_file *files, size_t n);
/*
 * `enforce`: refuse for policy and block-list files (else only record);
 * `enforce_self`: the same for self-defence files. BPF LSM has one switch:
 * it enforces when either is set.
 */
void sg_file_guard_set_enforce(struct sg_file_guard *g, bool enforce, bool enforce_self);

/*
 * The daemon's own change of a protected file: lift the protection, write
 * `data` to a temporary file beside it, rename it over `path`, and protect
 * the new inode. 0 or -errno with err set.
 */
int sg_file_guard_write(struct sg_file_guard *g, const char *path, const void *data,
			size_t len, mode_t mode, char *err, size_t errlen);

/*
 * Check that protected paths still name the inode we protect, with our
 * immutable flag; protect what changed (a replaced file, a cleared flag).
 * Every self-defence file is checked, and `budget` of the others, round
 * robin (SIZE_MAX: all). Returns how many were re-protected.
 */
unsigned sg_file_guard_refresh(struct sg_file_guard *g, size_t budget);

/*
 * BPF-7, BPF LSM only: no other executable may get an fd to this map.
 * -EOPNOTSUPP with the fanotify backend.
 */
int sg_file_guard_protect_map(struct sg_file_guard *g, int map_fd);

/*
 * bpf_lsm only: the create guard's rules (deny: [create] directories,
 * absent paths) into the LSM maps, so the kernel refuses the creation.
 * Sets each rule's `lsm` to what came of it. Replaces the previous set.
 */
#define SG_CREATE_RULE_ID 0x40000000u
struct sg_create_rule;
void sg_file_guard_set_creates(struct sg_file_guard *g, struct sg_create_rule *r, size_t n);
int sg_file_guard_unprotect_map(struct sg_file_guard *g, int map_fd);

void sg_file_guard_stats(struct sg_file_guard *g, struct sg_file_guard_stats *s);

/* Clear the immutable flags a killed daemon left (sysguardctl reset). */
int sg_file_guard_release_leftovers(const char *state_dir, char *msg, size_t msglen);

#endif

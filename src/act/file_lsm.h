/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File guard on BPF LSM (FILE-1, FILE-3, BPF-7): owner of bpf/file_guard.bpf.c.
 * Protected inodes are denied in kernel (file_open, inode_unlink,
 * inode_rename, inode_link, inode_setattr, which every truncation reaches)
 * for every process whose executable is not the daemon's; new fds to the
 * daemon's guarded maps (bpf_map hook) likewise. Every refusal (or would-be
 * refusal in monitor mode) arrives as a struct sg_file_event through the
 * ring buffer. See docs/file-protection.md.
 */
#ifndef SG_FILE_LSM_H
#define SG_FILE_LSM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "sysguard.h"

struct sg_file_lsm;

typedef void (*sg_file_event_fn)(void *ctx, const struct sg_file_event *ev);

/*
 * Audit (BPF-2), load and attach every hook, or fail with -errno and err set
 * (EPERM where BPF LSM is compiled in but not active); nothing stays loaded
 * on failure.
 */
int sg_file_lsm_start(struct sg_file_lsm **out, const struct sg_file_guard_config *cfg,
		      sg_file_event_fn on_event, void *ctx, char *err, size_t errlen);
void sg_file_lsm_stop(struct sg_file_lsm *g);

/* The ring buffer's epoll fd, and draining it (calls on_event per record). */
int sg_file_lsm_fd(const struct sg_file_lsm *g);
int sg_file_lsm_poll(struct sg_file_lsm *g);

void sg_file_lsm_configure(struct sg_file_lsm *g, const struct sg_file_guard_config *cfg);

/* Add or replace one protected inode; remove one. 0 or -errno. */
int sg_file_lsm_protect(struct sg_file_lsm *g, const struct sg_inode_key *key,
			const struct sg_file_rule *rule);
int sg_file_lsm_unprotect(struct sg_file_lsm *g, const struct sg_inode_key *key);

/*
 * BPF-7: refuse new fds to the map behind `map_fd` (by its id) to every
 * executable but the daemon's: write-mode fds if rule->deny has
 * SG_FILE_DENY_WRITE, every fd if it has SG_FILE_DENY_READ (a read-only fd
 * is enough to load a program that writes the map). The guard's own maps
 * are guarded (both bits) from the start. 0 or -errno.
 */
int sg_file_lsm_guard_map(struct sg_file_lsm *g, int map_fd, const struct sg_file_rule *rule);
int sg_file_lsm_unguard_map(struct sg_file_lsm *g, int map_fd);

/*
 * An absent protected path: `name` (shorter than SG_ABSENT_NAME_LEN, else
 * -ENAMETOOLONG) may not be created in the directory `dir`. 0 or -errno.
 */
int sg_file_lsm_protect_absent(struct sg_file_lsm *g, const struct sg_inode_key *dir,
			       const char *name, const struct sg_file_rule *rule);
/* Forget every absent path. */
void sg_file_lsm_clear_absent(struct sg_file_lsm *g);

/* The per-CPU counters summed, indexed by enum sg_file_counter. 0 or -errno. */
int sg_file_lsm_counters(struct sg_file_lsm *g, uint64_t out[SG_FCNT_MAX]);

#endif

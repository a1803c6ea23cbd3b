/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file stage of the daemon (FILE-1..3): what is protected (the policy's
 * files: rules, the block list, and with self-defence the daemon's own
 * binary, config and policy), what is watched (integrity: rules and every
 * protected file), and undoing tampering with the daemon's own files.
 */
#ifndef SG_FILES_H
#define SG_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "report/counters.h"

struct sg_audit;
struct sg_alerts;
struct sg_json;
struct sg_files;

struct sg_files_opts {
	struct sg_audit *audit;
	struct sg_alerts *alerts;	/* may be NULL */
	const char *state_dir;
	const char *blocklist;		/* sysguardctl block add|del: one path per line */
	bool self_defence;
	bool use_lsm;
	bool record_refusals;		/* fanotify: record refusals by the immutable flag */
	const char *config_path;	/* may be NULL */
	const char *policy_path;
	const char *const *extra_self;	/* more files to defend (trusted keys), NULL-terminated */
	/*
	 * Who a pid is or was (executable, comm), for records of processes
	 * that may have exited already; NULL: /proc only.
	 */
	void (*identify)(void *ctx, pid_t pid, char *exe, size_t exelen, char *comm,
			 size_t commlen);
	void *identify_ctx;
};

int sg_files_start(struct sg_files **out, const struct sg_files_opts *o, char *err, size_t errlen);
void sg_files_stop(struct sg_files *f);

/*
 * Protect and watch what the policy, the block list and self-defence name.
 * `enforce`: the policy's mode; self-defence is enforced unless `break_glass`.
 */
void sg_files_apply(struct sg_files *f, const struct sg_policy *p, bool enforce, bool break_glass);

/*
 * Self-defence before a policy reload: undo any change to the daemon's files
 * that the daemon did not make. True when something was restored.
 */
bool sg_files_defend(struct sg_files *f);

/*
 * Self-defence at a reload (FILE-3): each of the daemon's files must be the
 * one protected (same mount as at start, same inode, the verified content).
 * Mounts put over them are detached and tampering undone first; what still
 * differs is recorded (foreign_file_refused). 0, or -EPERM: refuse the reload.
 */
int sg_files_verify_own(struct sg_files *f);

/*
 * The verified copy of the policy, NUL-terminated, for the caller to free:
 * with self-defence active the daemon parses this, never what is at the
 * path. -ENOENT when there is none (self-defence off or break-glass).
 */
int sg_files_policy_copy(const struct sg_files *f, char **buf, size_t *len);

/* The daemon's own policy update (from sysguardctl policy apply). 0 or -errno. */
int sg_files_write_policy(struct sg_files *f, const void *buf, size_t len, char *err,
			  size_t errlen);

/* fds for the event loop (-1 when none), and their handlers. */
int sg_files_fim_fd(const struct sg_files *f);
int sg_files_guard_fd(const struct sg_files *f);
void sg_files_on_fim(struct sg_files *f);
void sg_files_on_guard(struct sg_files *f);
int sg_files_create_fd(const struct sg_files *f);
void sg_files_on_create(struct sg_files *f);
/* Once a second: a cheap stat check of the defended files, immutable flags. */
void sg_files_tick(struct sg_files *f);

/*
 * BPF-7: where BPF LSM runs, only the daemon's executable may open the maps
 * of this object. Returns how many maps are guarded (0 without BPF LSM).
 */
struct bpf_object;
unsigned sg_files_guard_maps(struct sg_files *f, struct bpf_object *obj, const char *what);
/*
 * The same for maps given by fd (the Shield's pins); on false the guard on
 * them is lifted instead (before they go away). A bpf_map_guard record either way.
 */
unsigned sg_files_guard_fds(struct sg_files *f, const int *fds, size_t n, bool on, const char *what);

const char *sg_files_backend(const struct sg_files *f);
/* The "files" counters of stats.json and /metrics. */
void sg_files_counters(struct sg_files *f, struct sg_counters_files *c);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exec decision point: turns sensed facts into a verdict with the
 * policy, gathers what the policy needs (content hash, parent), and hands
 * the outcome to the mitigation and report stages.
 */
#ifndef SG_ENGINE_H
#define SG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/hash_cache.h"
#include "policy/policy.h"
#include "report/alert.h"
#include "report/audit.h"
#include "sense/exec_bpf.h"
#include "sense/facts.h"
#include "sense/host_mounts.h"
#include "sense/proc.h"

struct sg_engine_stats {
	uint64_t events;		/* ring-buffer records handled */
	uint64_t decode_errors;
	uint64_t allowed;
	uint64_t denied;
	uint64_t audited;		/* allowed, but an action: audit rule would have denied */
	uint64_t mitigations;
	uint64_t mitigation_failures;
	uint64_t hash_errors;
	uint64_t held;			/* execs held in the kernel for a user-space verdict */
	uint64_t resumed;		/* held ones the daemon let go on... */
	uint64_t resume_wait_ns;	/* ...and how long they waited, from exec to SIGCONT */
};

/* An interpreter of scripts: control, by identity, and how its argv reads. */
struct sg_interp_entry {
	struct sg_file_id id;
	int kind;			/* enum sg_interp_kind */
	bool multicall;			/* busybox and the like: argv[0] says which program runs */
	bool hashed;			/* sha256 below is the file's */
	off_t size;
	uint8_t sha256[SG_SHA256_LEN];
	char *path;			/* a listed one's: hashed when a file of its size first runs */
};

struct sg_engine {
	struct sg_policy *policy;
	struct sg_interp_entry *interps;	/* the policy's interpreters, resolved, then copies */
	size_t ninterps, interps_cap;
	/*
	 * A copy of an interpreter, or a container's own, was found: have its
	 * runs held like the listed ones' (the kernel's map, the sourced-file
	 * guard). 0, or -errno when it cannot be (then it may not run).
	 */
	int (*interp_found)(void *ctx, const struct sg_file_id *id);
	void *interp_ctx;
	struct sg_hash_cache *hashes;
	struct sg_proc_table procs;
	struct sg_host_mounts mounts;	/* the host's names for other namespaces' paths */
	struct sg_workloads *workloads;	/* containers from the runtimes' state; NULL: not looked up */
	/* Called (on the deciding thread) when the set of containers changed, before a decision. */
	void (*workloads_changed)(void *ctx);
	void *workloads_ctx;
	struct sg_audit *audit;
	struct sg_alerts *alerts;	/* NULL unless --alert-enabled */
	struct sg_exec_bpf *kern;	/* NULL when the exec object did not load */
	char cgroup2_root[256];		/* where cgroup ids of /proc facts are looked up */
	int mode_override;
	bool no_pidfd_kill;		/* --disable-backend pidfd_kill: report only */
	bool record_hashes;		/* --record-hashes: every exec record carries its sha256 (policy learn) */
	/* Set while fanotify can cache allows: put an ignore mark on the file behind fd. */
	void (*cache_allowed)(void *ctx, int fd);
	void *cache_ctx;		/* -1, or an enum sg_mode forced by --mode */
	/* Set while fanotify enforces: mark the filesystem of the file behind fd. */
	int (*mark_fs)(void *ctx, int fd);
	void *mark_ctx;
	struct sg_engine_stats stats;
};

int sg_engine_init(struct sg_engine *e, struct sg_audit *audit);
void sg_engine_free(struct sg_engine *e);

/* Take ownership of a compiled policy; the previous one is freed. */
void sg_engine_set_policy(struct sg_engine *e, struct sg_policy *p);

enum sg_mode sg_engine_mode(const struct sg_engine *e);

/*
 * The host's path of the executable behind fd: 0 and f->path set; else
 * f->path_unknown. A path on a mount of another namespace is mapped
 * through the host's mounts of its filesystem (never taken as it reads).
 */
void sg_engine_path_of_fd(struct sg_engine *e, struct sg_exec_facts *f, int fd);

/* The container f->pid runs in, and f->path as it sees it (engine_container.c). */
void sg_engine_workload(struct sg_engine *e, struct sg_exec_facts *f);

/*
 * f->path for the file behind fd when it is on f's container's root: the
 * container's name of it under the root, checked to be that very file.
 * False (f untouched) otherwise: then the general way.
 */
bool sg_engine_container_host_path(struct sg_exec_facts *f, int fd);

/* f->container_path from f->path and the container's root. */
void sg_engine_container_path(struct sg_exec_facts *f);

/*
 * Decide on an exec. `fd` is an open descriptor of the executable to hash
 * when the policy needs its content, or -1 (then /proc/pid/exe is tried).
 */
void sg_engine_decide(struct sg_engine *e, struct sg_exec_facts *f, int fd,
		      struct sg_verdict *v);

/* Ring-buffer callback (libbpf ring_buffer_sample_fn); ctx is the engine. */
int sg_engine_on_record(void *ctx, void *data, size_t size);

/* Ring-buffer callback for the egress object: one record per matched connect or sendto. */
int sg_engine_on_net_record(void *ctx, void *data, size_t size);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owner of the exec BPF object: loads it (with the BPF LSM hooks only when
 * the probe found them loadable), attaches it, and gives the other stages
 * the ring buffer, the kernel deny set and the run-time switches.
 */
#ifndef SG_EXEC_BPF_H
#define SG_EXEC_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include <bpf/libbpf.h>

#include "sysguard.h"

struct exec_bpf;

struct sg_exec_bpf {
	struct exec_bpf *skel;
	struct bpf_link *links[7];
	const char *link_names[7];	/* their pin names */
	unsigned nlinks;
	bool lsm_attached;
	/*
	 * The page-fault gate that makes holds safe. Every user page fault of
	 * the host pays for it while attached, so it is attached only while
	 * holds can be taken (enforce mode) and never pinned: without the
	 * daemon nobody answers a hold anyway. Without it, holds become kills.
	 */
	struct bpf_link *gate_link;
	bool gate;
	/* libraries: the instruction-fault check, attached only while the policy has library rules. */
	struct bpf_link *lib_links[3];
	bool lib_fault_tps;		/* the page cache's fault tracepoints exist here */
	char lib_error[256];
	char gate_error[256];		/* why the gate cannot attach */
	bool adopted;			/* pins of an earlier daemon were there (BPF-5) */
	unsigned replaced_links;	/* ...and this many of its links were taken over */
	struct ring_buffer *rb;
	size_t deny_count;
};

/*
 * Load and attach. With `with_lsm`, the lsm/ programs are loaded too and
 * must attach, or the call fails (the caller retries without them).
 * `cb` receives every ring-buffer record.
 */
int sg_exec_bpf_start(struct sg_exec_bpf *x, bool with_lsm, ring_buffer_sample_fn cb,
		      void *ctx, char *err, size_t errlen);
void sg_exec_bpf_stop(struct sg_exec_bpf *x);

/* The loaded object (BPF-7 guards its maps). */
struct bpf_object *sg_exec_bpf_object(struct sg_exec_bpf *x);

/* Tell the pinned programs the daemon is alive: holds need an answer (call every tick). */
void sg_exec_bpf_heartbeat(struct sg_exec_bpf *x);

/* Apply the run-time switches; effective for the next exec. */
void sg_exec_bpf_configure(struct sg_exec_bpf *x, const struct sg_exec_config *cfg);

/*
 * Replace the kernel deny set with keys[0..n): new entries are added before
 * stale ones go, so no exec slips through between two sets. 0 or -errno.
 */
int sg_exec_bpf_set_denies(struct sg_exec_bpf *x, const struct sg_inode_key *keys,
			   const struct sg_deny_value *vals, size_t n);

/*
 * Remember that `key` was allowed under the path whose kernel hash is
 * `path_hash`; an exec of it under another name is then held (name cache).
 */
int sg_exec_bpf_cache_name(struct sg_exec_bpf *x, const struct sg_inode_key *key, __u64 path_hash);
void sg_exec_bpf_clear_names(struct sg_exec_bpf *x);
void sg_exec_bpf_forget_name(struct sg_exec_bpf *x, const struct sg_inode_key *key);

/*
 * libraries: attach (on) or detach the instruction-fault check, install the
 * identities it kills at (path and identity deny rules) and whether files
 * in neither set are held for user space (ask). Allowed files cached by
 * the kernel are forgotten. 0 or -errno (lib_error says why).
 */
int sg_exec_bpf_set_libraries(struct sg_exec_bpf *x, bool on, bool ask,
			      const struct sg_inode_key *keys, const struct sg_deny_value *vals,
			      size_t n);
/* A library user space allowed: its code runs without asking again while its ctime holds. */
int sg_exec_bpf_library_ok(struct sg_exec_bpf *x, const struct sg_inode_key *key, __u64 ctime_ns);

/* The interpreters whose runs are held for their script's verdict (replaces the set). */
int sg_exec_bpf_set_interpreters(struct sg_exec_bpf *x, const struct sg_inode_key *keys, size_t n);

/* One more interpreter (a copy, a container's): -ENOSPC when the map is full. */
int sg_exec_bpf_add_interpreter(struct sg_exec_bpf *x, const struct sg_inode_key *key);

/* A loader-shaped file that is not a loader (static-pie), valid while its ctime holds. */
int sg_exec_bpf_not_loader(struct sg_exec_bpf *x, const struct sg_inode_key *key, __u64 ctime_ns);

/*
 * Tell the kernel which fanotify group is ours (fd is its descriptor in
 * this process), so an exec from a filesystem without our mark is held;
 * fd < 0 forgets it. 0 or -errno.
 */
int sg_exec_bpf_set_fanotify(struct sg_exec_bpf *x, int fd);

/*
 * The daemon is stopping: take no new hold from now on (nobody would answer
 * it); kills at exec go on until the programs are detached.
 */
void sg_exec_bpf_quiesce(struct sg_exec_bpf *x);

/*
 * At a clean stop, once every record was read: let go of whatever is still
 * held (a hold nobody will answer must not stop a process for ever).
 * Returns how many were resumed.
 */
int sg_exec_bpf_release_all(struct sg_exec_bpf *x);

/* Attach (enforce mode) or detach the gate. 0 or -errno (then holds are kills). */
int sg_exec_bpf_set_gate(struct sg_exec_bpf *x, bool on);

/* A held process may run: the gate lets it pass (before the daemon's SIGCONT). */
int sg_exec_bpf_release(struct sg_exec_bpf *x, __u32 tgid);
/* Doomed: it and every child it forks from now on die at their next page fault. */
int sg_exec_bpf_doom(struct sg_exec_bpf *x, __u32 tgid, __u64 start_ns);

int sg_exec_bpf_ringbuf_fd(struct sg_exec_bpf *x);
/* Drain the ring buffer; returns records consumed or -errno. */
int sg_exec_bpf_consume(struct sg_exec_bpf *x);

/* Sum the per-CPU counters into out[SG_CNT_MAX]. */
int sg_exec_bpf_counters(struct sg_exec_bpf *x, uint64_t *out);

#endif

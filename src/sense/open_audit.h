/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Owner of bpf/file_audit.bpf.c (FILE-4, observe-only file-open audit):
 * loads it (after the BPF-2 helper audit), keeps its selection maps in step
 * with the policy's file_audit: rules, attaches its tracepoints only while
 * at least one rule is in force, and turns its ring-buffer records into
 * "file_open" audit records. Not pinned: it enforces nothing, so nothing of
 * it must outlive the daemon.
 */
#ifndef SG_OPEN_AUDIT_H
#define SG_OPEN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include <bpf/libbpf.h>

#include "policy/policy.h"
#include "report/alert.h"
#include "report/audit.h"
#include "report/counters.h"
#include "report/json.h"
#include "sense/open_select.h"
#include "sense/proc.h"
#include "sysguard.h"

#define SG_OPEN_PROGS 5

struct file_audit_bpf;

/* Where records go, and what fills in the process fields. */
struct sg_open_sink {
	struct sg_audit *audit;
	struct sg_alerts *alerts;	/* NULL when alerts are off */
	struct sg_proc_table *procs;	/* executable paths, container identity */
	const char *cgroup2_root;
};

struct sg_open_audit {
	struct file_audit_bpf *skel;
	struct bpf_link *links[SG_OPEN_PROGS];
	unsigned nlinks;
	bool attached;
	char attached_to[160];		/* the tracepoints, for the backend record */
	struct ring_buffer *rb;
	/* Two selection tables: records name their rule by (table parity, index). */
	struct sg_open_selection sel[2];
	unsigned cur;			/* the table in force */
	uint32_t dedup_gen;
	struct sg_open_sink sink;
	uint64_t decode_errors;
	uint64_t drops_seen;
};

/* What sg_open_audit_apply() did. */
struct sg_open_apply {
	size_t active;			/* selectors in force */
	size_t inactive;		/* rules reported and left out */
	bool targets_changed;		/* other processes are selected than before */
	bool dedup_cleared;
};

/*
 * Open, audit (BPF-2) and load the object; nothing is attached yet.
 * 0 or -errno with err set (nothing to stop then).
 */
int sg_open_audit_load(struct sg_open_audit *o, const struct sg_open_sink *sink, char *err,
		       size_t errlen);
void sg_open_audit_stop(struct sg_open_audit *o);

/*
 * Put `p`'s file_audit: rules in force. Each rule is resolved (exe: stat;
 * cgroup: a cgroup v2 directory, its id and depth); one that cannot be is
 * written as a "file_audit_rule_inactive" record and left out. The maps get
 * the new selection (new entries before stale ones go), the tracepoints are
 * attached when at least one selector is in force and detached when none
 * is. The dedup table is cleared when the selected targets changed, kept
 * otherwise. 0, or -errno with err set (the previous selection may be
 * partly replaced; the tracepoints stay as they were).
 */
/*
 * A file_audit rule scoped with `container:` selects the cgroups of the
 * containers it matches: one of these per (rule, container), from the
 * caller, who knows the containers.
 */
struct sg_open_container {
	const struct sg_file_rule_spec *rule;
	const char *cgroup;		/* the container's cgroup v2 directory */
};

int sg_open_audit_apply(struct sg_open_audit *o, const struct sg_policy *p,
			const struct sg_open_container *containers, size_t ncontainers,
			struct sg_open_apply *res, char *err, size_t errlen);

int sg_open_audit_ringbuf_fd(struct sg_open_audit *o);
/* Drain the ring buffer into records; records consumed or -errno. */
int sg_open_audit_consume(struct sg_open_audit *o);

/* Sum of the per-CPU counters, indexed by enum sg_open_counter. */
int sg_open_audit_counters(struct sg_open_audit *o, uint64_t out[SG_OCNT_MAX]);

/*
 * Once a stats tick: the "file_audit" counters and, when the ring buffer
 * lost records since the last call, a "ringbuf_drops" record (LOG-4).
 */
void sg_open_audit_stats(struct sg_open_audit *o, struct sg_counters_file_audit *c);

#endif

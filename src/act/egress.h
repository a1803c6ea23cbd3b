/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Egress policy backend (NET-1): owns bpf/egress.bpf.c, attached at the
 * cgroup2 root with cgroup/connect4|6 and sendmsg4|6 (so unconnected UDP
 * sendto is covered too), and keeps its tables in step with the policy.
 */
#ifndef SG_ACT_EGRESS_H
#define SG_ACT_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include <bpf/libbpf.h>

#include "policy/policy.h"
#include "sysguard.h"

struct egress_bpf;

struct sg_egress {
	struct egress_bpf *skel;
	struct bpf_link *links[5];
	unsigned nlinks;
	bool lsm_attached;		/* lsm/socket_connect decides connects */
	struct ring_buffer *rb;
	int cgroup_fd;
	unsigned generation;		/* which half of egress_lists the tries point at */
	size_t prefixes;		/* LPM entries in place */
};

/*
 * Load and attach at the cgroup2 mount `cgroup2`. With `with_lsm`, connects
 * go through lsm/socket_connect instead of cgroup/connect4|6, and the call
 * fails if that hook does not attach (the caller retries without it); UDP
 * sends are always the sendmsg4|6 hooks'. 0 or -errno with err set.
 */
int sg_egress_start(struct sg_egress *g, const char *cgroup2, bool with_lsm,
		    ring_buffer_sample_fn cb, void *ctx, char *err, size_t errlen);
void sg_egress_stop(struct sg_egress *g);

/*
 * Make the kernel enforce `p`'s egress rules: lists are written into the
 * unused half of the list array, then each prefix is pointed at its new
 * list and stale prefixes are removed, so a connect sees either the old or
 * the new rules for its prefix, never a mix. Rules whose `exe` cannot be
 * resolved are left out and passed to `skipped`. 0 or -errno with err set
 * (the previous rules stay in force).
 */
typedef void (*sg_egress_skip_fn)(const struct sg_net_rule *r, int err, void *ctx);
int sg_egress_apply(struct sg_egress *g, const struct sg_policy *p, bool enforce,
		    sg_egress_skip_fn skipped, void *ctx, char *err, size_t errlen);

int sg_egress_ringbuf_fd(struct sg_egress *g);
int sg_egress_consume(struct sg_egress *g);

/*
 * The scoped egress rules that apply in the container whose cgroup v2 id
 * this is (a mask of scope bits; 0 removes the entry). 0 or -errno.
 */
int sg_egress_set_scope(struct sg_egress *g, uint64_t cgroup_id, uint64_t mask);

/* Sum of the per-CPU counters, indexed by enum sg_net_counter. */
int sg_egress_counters(struct sg_egress *g, uint64_t out[SG_NCNT_MAX]);

/* The loaded object (BPF-7 guards its maps). */
struct bpf_object *sg_egress_object(struct sg_egress *g);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Shield internals shared by shield.c (load, pin, attach) and shield_list.c (the rule list). */
#ifndef SG_ACT_SHIELD_INT_H
#define SG_ACT_SHIELD_INT_H

#include <bpf/bpf.h>

#include "net/shield_build.h"

enum { M_V4IDX, M_V4LIST, M_V6IDX, M_V6LIST, M_HITS, M_STATS, M_CFG, M_MAX };

struct shield_bpf;

struct sg_shield {
	struct shield_bpf *skel;	/* set when this process loaded the program */
	int prog_fd;
	int fd[M_MAX];
	void *mm[M_MAX];
	size_t mmlen[M_MAX];
	struct bpf_map_info info[M_MAX];
	int lock_fd;
	char pin_dir[256];
	struct sg_shield_cfg *cfg;
};

/* The memory-mapped tables of s as the builder sees them. */
void sg_shield_tables(const struct sg_shield *s, struct sg_sh_tables *t);
/* Per-rule counters: u64 [SG_SH_SETS][cfg->max_rules], IPv4 ids first, then IPv6. */
uint64_t *sg_shield_hits(const struct sg_shield *s, uint32_t set);

#endif

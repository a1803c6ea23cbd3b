/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Egress rules -> the kernel's tables (bpf/egress.bpf.c): one LPM entry per
 * distinct rule prefix, each pointing at the list of every rule whose prefix
 * contains it, most specific first and in file order among equals. The
 * kernel then needs only the longest match: a destination's longest
 * matching prefix Q has in its list exactly the rules that contain the
 * destination, and the first whose port, protocol and executable fit
 * decides. Pure code, no I/O.
 */
#ifndef SG_NET_EGRESS_LISTS_H
#define SG_NET_EGRESS_LISTS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "policy/policy.h"
#include "sysguard.h"

struct sg_egress_entry {
	uint8_t family;			/* 4 or 6 */
	uint8_t prefix_len;
	uint8_t addr[16];
	struct sg_egress_list list;
};

/*
 * Build the entries for rules[0..n); exe[i] is rule i's executable as the
 * kernel names it (ino 0: any, or not resolvable -- see sg_egress_build's
 * caller). On success *out (malloc'd) holds *nout entries. -E2BIG when a
 * prefix is covered by more than SG_EGRESS_LIST_LEN rules (err names it),
 * -ENOMEM.
 */
int sg_egress_build(const struct sg_net_rule *rules, const struct sg_inode_key *exe, size_t n,
		    struct sg_egress_entry **out, size_t *nout, char *err, size_t errlen);

#endif

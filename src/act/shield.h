/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shield (NET-2..6) user space: loads the XDP program, pins it and its maps
 * under a directory of bpffs so that separate sysguardctl runs can edit the
 * rules, attaches it to interfaces, rebuilds the inactive rule set and flips
 * the active index. All functions return 0 or a negative errno and leave a
 * message for the operator in err.
 */
#ifndef SG_ACT_SHIELD_H
#define SG_ACT_SHIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "net/cidr.h"
#include "shield_abi.h"

#define SG_SHIELD_PIN_DIR "/sys/fs/bpf/sysguard/shield"

/*
 * Sizes of one list; the maps hold two (the live one and its replacement),
 * so any list that fits can replace any other at once.
 */
struct sg_shield_opts {
	const char *pin_dir;		/* NULL: do not pin (benchmarks) */
	uint32_t max_rules;		/* CIDRs of a list, IPv4 and IPv6 together */
	uint32_t v6_entries;		/* of which IPv6 at most */
	uint32_t v4_bits, v6_bits;	/* index bits; 0: chosen from the sizes */
	uint64_t max_bytes;		/* refuse sizes whose maps would take more; 0: no limit */
};

#define SG_SHIELD_DEF_RULES	1000000
#define SG_SHIELD_DEF_V6_ENTRIES	250000
#define SG_SHIELD_DEF_MAX_BYTES	(64ull << 20)

struct sg_shield;

struct sg_shield_rule_stat {
	struct sg_cidr cidr;
	uint32_t id;
	uint64_t hits;			/* drops, or would-be drops in dry run */
};

struct sg_shield_status {
	uint32_t active, dry_run, nrules, max_rules, max_v6, v4_bits, v6_bits;
	struct sg_shield_gw gw;
	uint64_t cnt[SG_SH_CNT_MAX];
	uint64_t map_bytes;		/* sum of the maps' memlock */
};

/*
 * Read and parse a deny-list file (one CIDR a line, see sg_cidr_parse_list).
 * 0 with *out (malloc'd) and *n, or -errno with err naming the file or line.
 */
int sg_shield_read_list(const char *path, struct sg_cidr **out, size_t *n, char *err,
			size_t errlen);

/* Kernel memory the maps of these sizes take. */
uint64_t sg_shield_opts_bytes(const struct sg_shield_opts *o);
/* Loads the program with these sizes and pins it (replacing nothing: fails if pinned). */
int sg_shield_create(const struct sg_shield_opts *o, struct sg_shield **out, char *err, size_t errlen);
/* The kernel's memlock figure for a map fd (fdinfo), 0 when unknown. */
uint64_t sg_bpf_map_memlock(int fd);

/* Opens the pinned Shield in pin_dir. -ENOENT when none is loaded. */
int sg_shield_open(const char *pin_dir, struct sg_shield **out, char *err, size_t errlen);
/* The same, but -EWOULDBLOCK instead of waiting while an editor holds the lock (event loops). */
int sg_shield_try_open(const char *pin_dir, struct sg_shield **out, char *err, size_t errlen);
void sg_shield_close(struct sg_shield *s);
/*
 * Detaches a Shield pinned by an older version (sg_shield_open said -ESTALE)
 * from this namespace's interfaces and removes its pins.
 */
int sg_shield_remove_stale(const char *pin_dir, char *err, size_t errlen);
/* Removes the pins; interfaces still attached keep the program (and its maps). */
int sg_shield_unpin(const char *pin_dir);

int sg_shield_prog_fd(const struct sg_shield *s);
/* Up to max fds of the Shield's maps (owned by s, valid until sg_shield_close). The count. */
size_t sg_shield_map_fds(const struct sg_shield *s, int *fds, size_t max);

/* Attaches to ifname: native XDP, or generic when asked or native fails. *mode names which. */
int sg_shield_attach(struct sg_shield *s, const char *ifname, bool generic, const char **mode,
		     char *err, size_t errlen);
/* Detaches from ifname, only if our program is what runs there. */
int sg_shield_detach(struct sg_shield *s, const char *ifname, char *err, size_t errlen);
/* Interfaces of this network namespace running the Shield (at most max names). */
int sg_shield_attached(struct sg_shield *s, char (*names)[IF_NAMESIZE], size_t max, size_t *n);

/*
 * Edits the rule list (replace: the list becomes exactly `add`), rebuilds the
 * inactive set and flips the active index in one aligned store. On error the
 * live set is unchanged.
 */
int sg_shield_update(struct sg_shield *s, const struct sg_cidr *add, size_t nadd,
		     const struct sg_cidr *del, size_t ndel, bool replace, char *err, size_t errlen);

int sg_shield_set_dry_run(struct sg_shield *s, bool on);
/* gw NULL: no gateway. The new address becomes live in one aligned store. */
int sg_shield_set_gateway(struct sg_shield *s, const struct sg_cidr *gw);

int sg_shield_status(struct sg_shield *s, struct sg_shield_status *st);
/* The live rules in address order (IPv4 first) with their hits; caller frees *out. */
int sg_shield_rules(struct sg_shield *s, struct sg_shield_rule_stat **out, size_t *n);

#endif

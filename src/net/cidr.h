/* SPDX-License-Identifier: Apache-2.0 */
/* CIDR text <-> prefix, and deny-list files (one CIDR a line). Pure code. */
#ifndef SG_NET_CIDR_H
#define SG_NET_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_cidr {
	uint8_t family;			/* 4 or 6 */
	uint8_t len;			/* prefix length */
	uint32_t addr[4];		/* network byte order, host bits zero; v4 in addr[0] */
};

#define SG_CIDR_STRLEN 64

/* Parses "ADDR[/LEN]" (surrounding blanks ignored); 0, or -EINVAL with a reason in err. */
int sg_cidr_parse(const char *text, struct sg_cidr *out, char *err, size_t errlen);

/* Writes the canonical text ("10.0.0.0/8", "fd00::/8") into buf (SG_CIDR_STRLEN). */
void sg_cidr_format(const struct sg_cidr *c, char *buf, size_t len);

/* Same family, length and address. */
int sg_cidr_equal(const struct sg_cidr *a, const struct sg_cidr *b);

/*
 * A prefix inside ::ffff:0:0/96 (IPv4-mapped IPv6) becomes the IPv4 prefix
 * it names (::ffff:10.0.0.0/104 -> 10.0.0.0/8); true when it did.
 */
bool sg_cidr_unmap_v4(struct sg_cidr *c);

/*
 * Parses a deny list: one CIDR a line, '#' starts a comment, blank lines
 * ignored. On success *out (malloc'd, caller frees) holds *n prefixes in file
 * order; on error returns -EINVAL (or -ENOMEM) and err says "line N: ...".
 */
int sg_cidr_parse_list(const char *text, size_t len, struct sg_cidr **out, size_t *n,
		       char *err, size_t errlen);

#endif

// SPDX-License-Identifier: Apache-2.0
#include "net/egress_lists.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/cidr.h"

_Static_assert((int)SG_NET_DENY == (int)SG_EGRESS_DENY &&
		       (int)SG_NET_AUDIT == (int)SG_EGRESS_AUDIT &&
		       (int)SG_NET_ALLOW == (int)SG_EGRESS_ALLOW,
	       "policy and kernel egress actions are copied as numbers");

/* Does prefix (a, alen) contain prefix (b, blen)? Same family assumed. */
static bool contains(const uint8_t *a, unsigned alen, const uint8_t *b, unsigned blen)
{
	unsigned full = alen / 8, rest = alen % 8;

	if (alen > blen)
		return false;
	if (memcmp(a, b, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((a[full] & mask) != (b[full] & mask))
			return false;
	}
	return true;
}

static bool same_prefix(const struct sg_net_rule *a, const struct sg_net_rule *b)
{
	return a->family == b->family && a->prefix_len == b->prefix_len &&
	       !memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
}

static void too_many(const struct sg_net_rule *q, const struct sg_net_rule *r, char *err,
		     size_t errlen)
{
	struct sg_cidr c = { .family = q->family, .len = q->prefix_len };
	char text[SG_CIDR_STRLEN];

	memcpy(c.addr, q->addr, q->family == 4 ? 4 : 16);
	sg_cidr_format(&c, text, sizeof(text));
	snprintf(err, errlen,
		 "more than %d egress rules cover %s (rule \"%s\" is one too many); merge rules or use fewer overlapping prefixes",
		 SG_EGRESS_LIST_LEN, text, r->name);
}

int sg_egress_build(const struct sg_net_rule *rules, const struct sg_inode_key *exe, size_t n,
		    struct sg_egress_entry **out, size_t *nout, char *err, size_t errlen)
{
	struct sg_egress_entry *ents = calloc(n ? n : 1, sizeof(*ents));
	size_t i, j, m = 0;

	if (!ents)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct sg_net_rule *q = &rules[i];
		struct sg_egress_entry *e;
		size_t idx[SG_EGRESS_LIST_LEN];
		unsigned len = 0;

		for (j = 0; j < i && !same_prefix(&rules[j], q); j++)
			;
		if (j < i)
			continue;	/* that prefix has its entry already */
		e = &ents[m++];
		e->family = q->family;
		e->prefix_len = q->prefix_len;
		memcpy(e->addr, q->addr, sizeof(e->addr));
		for (j = 0; j < n; j++) {
			const struct sg_net_rule *r = &rules[j];
			size_t at;

			if (r->family != q->family ||
			    !contains(r->addr, r->prefix_len, q->addr, q->prefix_len))
				continue;
			if (len == SG_EGRESS_LIST_LEN) {
				too_many(q, r, err, errlen);
				free(ents);
				return -E2BIG;
			}
			/* Most specific prefix first, file order among equals: the longest match wins. */
			for (at = len; at > 0 && rules[idx[at - 1]].prefix_len < r->prefix_len; at--)
				idx[at] = idx[at - 1];
			idx[at] = j;
			len++;
		}
		for (j = 0; j < len; j++) {
			const struct sg_net_rule *r = &rules[idx[j]];
			struct sg_egress_rule *k = &e->list.r[j];

			k->rule_id = r->id;
			k->action = (__u8)r->action;
			k->proto = r->proto;
			k->port_lo = r->port_lo;
			k->port_hi = r->port_hi;
			k->exe = exe[idx[j]];
			k->scope_bit = r->scope_bit;
		}
	}
	*out = ents;
	*nout = m;
	return 0;
}

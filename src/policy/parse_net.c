// SPDX-License-Identifier: Apache-2.0
/*
 * Egress rules (the "egress:" list): action, cidr and optionally port,
 * protocol and the executable they apply to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/cidr.h"
#include "parse_internal.h"

enum net_key { N_NAME, N_ACTION, N_CIDR, N_PORT, N_PROTOCOL, N_EXE, N_CONTAINER };

static const char *const net_keys[] = { "name", "action", "cidr", "port", "protocol", "exe",
					 "container" };

/* "443" or "8000-8100". */
static int take_ports(struct parser *ps, const char *what, struct sg_net_rule *r)
{
	unsigned long lo, hi;
	char *end;
	const char *s = sval(ps);

	errno = 0;
	lo = strtoul(s, &end, 10);
	hi = lo;
	if (end != s && *end == '-') {
		const char *h = end + 1;

		hi = strtoul(h, &end, 10);
		if (end == h)
			goto bad;
	}
	if (end == s || *end || errno || lo > 65535 || hi > 65535 || lo > hi || s[0] == '-' ||
	    s[0] == '+' || s[0] == ' ')
		goto bad;
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return 0;
bad:
	return fail(ps, ps->ev.start_mark,
		    "%s must be a port (443) or a range (8000-8100) within 0-65535", what);
}

/* deny, audit or allow. */
static int take_net_action(struct parser *ps, const char *what, struct sg_net_rule *r)
{
	const char *s = sval(ps);

	if (!strcmp(s, "deny"))
		r->action = SG_NET_DENY;
	else if (!strcmp(s, "audit"))
		r->action = SG_NET_AUDIT;
	else if (!strcmp(s, "allow"))
		r->action = SG_NET_ALLOW;
	else
		return fail(ps, ps->ev.start_mark, "%s must be \"deny\", \"audit\" or \"allow\"",
			    what);
	return 0;
}

/*
 * The kernel tells a container's connects apart by the bits its cgroup
 * carries, one per scoped egress rule: 64 at most.
 */
static int take_net_scope(struct parser *ps, struct sg_net_rule *r)
{
	struct sg_policy *p = ps->p;
	yaml_mark_t at = ps->ev.start_mark;
	size_t i;
	unsigned bits = 0;

	for (i = 0; i + 1 < p->nnet; i++)
		bits += p->net[i].scope_bit != 0;
	if (bits >= SG_NET_SCOPE_BITS)
		return fail(ps, at, "egress rule %u: at most %d egress rules may carry \"container\"",
			    r->id, SG_NET_SCOPE_BITS);
	r->scope_bit = (uint8_t)(bits + 1);
	return sg_pp_take_selector(ps, &r->scope);
}

static int take_net_value(struct parser *ps, size_t k, struct sg_net_rule *r)
{
	static const char *const protos[] = { "tcp", "udp" };
	struct sg_rule tmp_rule = { 0 };
	struct sg_rule_ext tmp_ext = { 0 };
	struct sg_cidr c;
	char what[64], why[128];
	int rc, v;

	snprintf(what, sizeof(what), "egress rule %u: \"%s\"", r->id, net_keys[k]);
	if (k == N_CONTAINER)
		return take_net_scope(ps, r);
	rc = sg_pp_want_scalar(ps, what);
	if (rc)
		return rc;
	switch (k) {
	case N_NAME:
		rc = sg_pp_take_name(ps, what, &tmp_rule, &tmp_ext);
		if (!rc)
			memcpy(r->name, tmp_rule.name, sizeof(r->name));
		return rc;
	case N_ACTION:
		return take_net_action(ps, what, r);
	case N_CIDR:
		if (sg_cidr_parse(sval(ps), &c, why, sizeof(why)))
			return fail(ps, ps->ev.start_mark, "%s: %s", what, why);
		/* The kernel sends ::ffff:a.b.c.d as IPv4, so the IPv4 rules decide it. */
		sg_cidr_unmap_v4(&c);
		r->family = c.family;
		r->prefix_len = c.len;
		memcpy(r->addr, c.addr, c.family == 4 ? 4 : 16);
		return 0;
	case N_PORT:
		return take_ports(ps, what, r);
	case N_PROTOCOL:
		rc = sg_pp_take_enum(ps, what, protos, &v);
		r->proto = v ? 17 : 6;
		return rc;
	case N_EXE:
		rc = sg_pp_check_path(ps, what, true);
		return rc ? rc : sg_pp_dup_value(ps, &r->exe);
	}
	return 0;
}

static int take_net_item(struct parser *ps, size_t k, void *item)
{
	return take_net_value(ps, k, item);
}

/* One egress rule; the current event is its MAPPING_START. */
static int parse_net_rule(struct parser *ps)
{
	yaml_mark_t start = ps->ev.start_mark;
	struct sg_policy *p = ps->p;
	struct sg_net_rule *r;
	char where[40];
	unsigned seen = 0;
	int rc;

	if (p->nnet == p->net_cap) {
		size_t cap = p->net_cap ? p->net_cap * 2 : 16;
		struct sg_net_rule *n = realloc(p->net, cap * sizeof(*n));

		if (!n)
			return fail_nomem(ps);
		p->net = n;
		p->net_cap = cap;
	}
	r = &p->net[p->nnet++];
	memset(r, 0, sizeof(*r));
	r->id = (uint32_t)p->nnet;
	r->line = (unsigned)start.line + 1;
	r->source = sg_pp_source(ps);
	r->port_hi = 65535;
	snprintf(where, sizeof(where), "egress rule %u", r->id);
	rc = sg_pp_parse_mapping(ps, where, net_keys, sizeof(net_keys) / sizeof(net_keys[0]), &seen,
				 take_net_item, r);
	if (rc)
		return rc;
	if (!(seen & (1u << N_ACTION)))
		return fail(ps, start,
			    "egress rule %u: missing \"action\"; add action: deny, audit or allow",
			    r->id);
	if (!(seen & (1u << N_CIDR)))
		return fail(ps, start,
			    "egress rule %u: missing \"cidr\"; add e.g. cidr: 169.254.169.254/32 (0.0.0.0/0 or ::/0 for any address)",
			    r->id);
	if (!(seen & (1u << N_NAME)) && !ps->fragment)
		snprintf(r->name, sizeof(r->name), "egress-%u", r->id);
	return 0;
}

static size_t count_net_rules(const struct sg_policy *p)
{
	return p->nnet;
}

const struct list_kind sg_pp_net_rules = {
	"egress", "egress rule", "action: and cidr:", parse_net_rule, count_net_rules,
};

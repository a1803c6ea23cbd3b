// SPDX-License-Identifier: Apache-2.0
/* Egress rules: parsing (policy "egress:" list) and the kernel tables built from them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/egress_lists.h"
#include "policy/policy.h"
#include "sense/decode.h"

static struct sg_policy *parse(const char *doc, struct sg_policy_error *err)
{
	struct sg_policy *p = NULL;

	memset(err, 0, sizeof(*err));
	if (sg_policy_parse(doc, strlen(doc), "t.yaml", &p, err))
		return NULL;
	return p;
}

static void test_parses_every_field(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = parse("version: v\negress:\n"
				    "  - {name: a, action: deny, cidr: 10.1.2.0/24, port: 443, protocol: tcp, exe: /usr/bin/curl}\n"
				    "  - {action: audit, cidr: \"fd00::/8\", port: 8000-8100}\n"
				    "  - {action: deny, cidr: 192.0.2.7}\n", &err);
	const struct sg_net_rule *r;

	assert_non_null(p);
	assert_int_equal(sg_policy_net_rule_count(p), 3);
	r = sg_policy_net_rule(p, 0);
	assert_string_equal(r->name, "a");
	assert_int_equal(r->action, SG_NET_DENY);
	assert_int_equal(r->family, 4);
	assert_int_equal(r->prefix_len, 24);
	assert_memory_equal(r->addr, "\x0a\x01\x02\x00", 4);
	assert_int_equal(r->port_lo, 443);
	assert_int_equal(r->port_hi, 443);
	assert_int_equal(r->proto, 6);
	assert_string_equal(r->exe, "/usr/bin/curl");
	r = sg_policy_net_rule(p, 1);
	assert_string_equal(r->name, "egress-2");
	assert_int_equal(r->action, SG_NET_AUDIT);
	assert_int_equal(r->family, 6);
	assert_int_equal(r->prefix_len, 8);
	assert_int_equal(r->addr[0], 0xfd);
	assert_int_equal(r->port_lo, 8000);
	assert_int_equal(r->port_hi, 8100);
	assert_int_equal(r->proto, 0);
	assert_null(r->exe);
	r = sg_policy_net_rule(p, 2);
	assert_int_equal(r->prefix_len, 32);	/* a bare address is a host route */
	assert_int_equal(r->port_lo, 0);
	assert_int_equal(r->port_hi, 65535);
	assert_null(sg_policy_net_rule(p, 3));
	sg_policy_free(p);
}

static void test_parses_allow(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = parse("version: v\negress:\n"
				    "  - {name: ok, action: allow, cidr: 127.0.0.1, port: 8080}\n"
				    "  - {action: deny, cidr: 0.0.0.0/0}\n", &err);
	const struct sg_net_rule *r;

	assert_non_null(p);
	r = sg_policy_net_rule(p, 0);
	assert_int_equal(r->action, SG_NET_ALLOW);
	assert_string_equal(sg_net_action_name(r->action), "allow");
	assert_int_equal(r->port_lo, 8080);
	r = sg_policy_net_rule(p, 1);
	assert_int_equal(r->action, SG_NET_DENY);
	assert_string_equal(sg_net_action_name(r->action), "deny");
	assert_string_equal(sg_net_action_name(SG_NET_AUDIT), "audit");
	sg_policy_free(p);
}

static void test_v4_mapped_cidr_is_an_ipv4_rule(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = parse("version: v\negress:\n"
				    "  - {action: deny, cidr: \"::ffff:169.254.169.254\"}\n"
				    "  - {action: deny, cidr: \"::ffff:10.0.0.0/104\"}\n"
				    "  - {action: deny, cidr: \"::ffff:0:0/96\"}\n"
				    "  - {action: deny, cidr: \"::/0\"}\n", &err);
	const struct sg_net_rule *r;

	assert_non_null(p);
	r = sg_policy_net_rule(p, 0);
	assert_int_equal(r->family, 4);
	assert_int_equal(r->prefix_len, 32);
	assert_memory_equal(r->addr, "\xa9\xfe\xa9\xfe", 4);
	r = sg_policy_net_rule(p, 1);
	assert_int_equal(r->family, 4);
	assert_int_equal(r->prefix_len, 8);
	assert_memory_equal(r->addr, "\x0a\x00\x00\x00", 4);
	r = sg_policy_net_rule(p, 2);		/* every mapped address: IPv4 any */
	assert_int_equal(r->family, 4);
	assert_int_equal(r->prefix_len, 0);
	r = sg_policy_net_rule(p, 3);		/* wider than ::ffff:0:0/96: stays IPv6 */
	assert_int_equal(r->family, 6);
	assert_int_equal(r->prefix_len, 0);
	sg_policy_free(p);
}

static void test_rejects_bad_rules_with_line(void **state)
{
	static const struct {
		const char *rule, *says;
	} bad[] = {
		{ "{action: deny, cidr: 10.0.0.0/33}", "cidr" },
		{ "{action: deny, cidr: 10.0.0.256/8}", "cidr" },
		{ "{action: deny, cidr: \"\"}", "cidr" },
		{ "{action: deny, cidr: 10.0.0.0/8, port: 65536}", "port" },
		{ "{action: deny, cidr: 10.0.0.0/8, port: 9-8}", "port" },
		{ "{action: deny, cidr: 10.0.0.0/8, port: -1}", "port" },
		{ "{action: deny, cidr: 10.0.0.0/8, port: 1-}", "port" },
		{ "{action: deny, cidr: 10.0.0.0/8, port: 0x50}", "port" },
		{ "{action: deny, cidr: 10.0.0.0/8, protocol: sctp}", "protocol" },
		{ "{action: block, cidr: 10.0.0.0/8}", "action" },
		{ "{action: Allow, cidr: 10.0.0.0/8}", "action" },
		{ "{cidr: 10.0.0.0/8}", "action" },
		{ "{action: deny}", "cidr" },
		{ "{action: deny, cidr: 10.0.0.0/8, exe: bin/curl}", "exe" },
		{ "{action: deny, cidr: 10.0.0.0/8, host: x}", "unknown key" },
		{ "{action: deny, cidr: 10.0.0.0/8, cidr: 10.0.0.0/9}", "duplicate" },
		{ "[deny]", "mapping" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char doc[256];
		struct sg_policy_error err;

		snprintf(doc, sizeof(doc), "version: v\negress:\n  - %s\n", bad[i].rule);
		assert_null(parse(doc, &err));
		if (!strstr(err.message, bad[i].says) || err.line != 3)
			fail_msg("%s: line %u: %s", bad[i].rule, err.line, err.message);
	}
}

static struct sg_net_rule rule(uint32_t id, int family, const char *addr, unsigned len,
			       enum sg_net_action a)
{
	struct sg_net_rule r = { .id = id, .action = a, .family = (uint8_t)family,
				 .prefix_len = (uint8_t)len, .port_hi = 65535 };

	memcpy(r.addr, addr, family == 4 ? 4 : 16);
	snprintf(r.name, sizeof(r.name), "r%u", id);
	return r;
}

static const struct sg_egress_entry *find(const struct sg_egress_entry *e, size_t n,
					  const char *addr, unsigned len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (e[i].prefix_len == len && !memcmp(e[i].addr, addr, e[i].family == 4 ? 4 : 16))
			return &e[i];
	return NULL;
}

static void test_lists_hold_every_covering_rule_most_specific_first(void **state)
{
	struct sg_net_rule r[] = {
		rule(1, 4, "\x7f\x00\x00\x00", 8, SG_NET_AUDIT),
		rule(2, 4, "\x7f\x00\x00\x50", 30, SG_NET_DENY),
		rule(3, 4, "\x7f\x00\x00\x00", 8, SG_NET_DENY),	/* same prefix as rule 1 */
		rule(4, 4, "\x0a\x00\x00\x00", 8, SG_NET_DENY),	/* disjoint */
		rule(5, 6, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 0,
		     SG_NET_AUDIT),				/* v6 any: not in v4 lists */
	};
	struct sg_inode_key exe[5] = { { 0 } };
	struct sg_egress_entry *e;
	const struct sg_egress_entry *x;
	char err[256];
	size_t n;

	exe[1].ino = 42;
	exe[1].dev = 7;
	assert_int_equal(sg_egress_build(r, exe, 5, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);		/* distinct prefixes: /8 loopback, /30, 10/8, ::/0 */
	x = find(e, n, "\x7f\x00\x00\x50", 30);
	assert_non_null(x);
	assert_int_equal(x->list.r[0].rule_id, 2);	/* most specific first */
	assert_int_equal(x->list.r[0].exe.ino, 42);
	assert_int_equal(x->list.r[0].exe.dev, 7);
	assert_int_equal(x->list.r[1].rule_id, 1);	/* then file order */
	assert_int_equal(x->list.r[2].rule_id, 3);
	assert_int_equal(x->list.r[3].rule_id, 0);	/* end of list */
	x = find(e, n, "\x7f\x00\x00\x00", 8);
	assert_int_equal(x->list.r[0].rule_id, 1);
	assert_int_equal(x->list.r[1].rule_id, 3);
	assert_int_equal(x->list.r[2].rule_id, 0);
	x = find(e, n, "\x0a\x00\x00\x00", 8);
	assert_int_equal(x->list.r[0].rule_id, 4);
	assert_int_equal(x->list.r[1].rule_id, 0);
	x = find(e, n, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 0);
	assert_int_equal(x->family, 6);
	assert_int_equal(x->list.r[0].rule_id, 5);
	assert_int_equal(x->list.r[1].rule_id, 0);
	free(e);
}

/* Longest prefix first, whatever the action and file order: allow carves out of deny and back. */
static void test_allow_and_deny_fold_by_prefix_length(void **state)
{
	struct sg_net_rule r[] = {
		rule(1, 4, "\x00\x00\x00\x00", 0, SG_NET_DENY),		/* deny all */
		rule(2, 4, "\x7f\x00\x00\x07", 32, SG_NET_DENY),	/* back to deny */
		rule(3, 4, "\x7f\x00\x00\x00", 8, SG_NET_ALLOW),	/* except loopback */
		rule(4, 4, "\x7f\x00\x00\x00", 8, SG_NET_DENY),	/* same prefix: after 3 */
	};
	struct sg_inode_key exe[4] = { { 0 } };
	struct sg_egress_entry *e;
	const struct sg_egress_entry *x;
	char err[256];
	size_t n;

	r[2].port_lo = r[2].port_hi = 8080;
	assert_int_equal(sg_egress_build(r, exe, 4, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	x = find(e, n, "\x7f\x00\x00\x07", 32);
	assert_int_equal(x->list.r[0].rule_id, 2);
	assert_int_equal(x->list.r[0].action, SG_EGRESS_DENY);
	assert_int_equal(x->list.r[1].rule_id, 3);
	assert_int_equal(x->list.r[1].action, SG_EGRESS_ALLOW);
	assert_int_equal(x->list.r[2].rule_id, 4);
	assert_int_equal(x->list.r[3].rule_id, 1);
	assert_int_equal(x->list.r[4].rule_id, 0);
	x = find(e, n, "\x7f\x00\x00\x00", 8);
	assert_int_equal(x->list.r[0].rule_id, 3);
	assert_int_equal(x->list.r[0].action, SG_EGRESS_ALLOW);
	assert_int_equal(x->list.r[0].port_lo, 8080);
	assert_int_equal(x->list.r[0].port_hi, 8080);
	assert_int_equal(x->list.r[1].rule_id, 4);
	assert_int_equal(x->list.r[2].rule_id, 1);
	assert_int_equal(x->list.r[3].rule_id, 0);
	x = find(e, n, "\x00\x00\x00\x00", 0);
	assert_int_equal(x->list.r[0].rule_id, 1);
	assert_int_equal(x->list.r[1].rule_id, 0);
	free(e);
}

static void test_decode_takes_every_action_and_the_mapped_flag(void **state)
{
	struct sg_net_event in = { 0 }, out;

	in.hdr.type = SG_EV_NET;
	in.rule_id = 1;
	in.family = 4;
	in.op = SG_NET_CONNECT;
	in.mapped = 1;
	in.action = SG_EGRESS_ALLOW;
	assert_int_equal(sg_decode_net(&in, sizeof(in), &out), 0);
	assert_int_equal(out.action, SG_EGRESS_ALLOW);
	assert_int_equal(out.mapped, 1);
	in.action = SG_EGRESS_AUDIT;
	assert_int_equal(sg_decode_net(&in, sizeof(in), &out), 0);
	in.action = SG_EGRESS_DENY;
	assert_int_equal(sg_decode_net(&in, sizeof(in), &out), 0);
	in.action = SG_EGRESS_ALLOW + 1;
	assert_int_equal(sg_decode_net(&in, sizeof(in), &out), -EINVAL);
}

static void test_too_many_covering_rules_is_an_error(void **state)
{
	struct sg_net_rule r[SG_EGRESS_LIST_LEN + 1];
	struct sg_inode_key exe[SG_EGRESS_LIST_LEN + 1] = { { 0 } };
	struct sg_egress_entry *e = NULL;
	char err[256] = "";
	size_t n, i;

	for (i = 0; i <= SG_EGRESS_LIST_LEN; i++)
		r[i] = rule((uint32_t)i + 1, 4, "\xc0\x00\x02\x00", (unsigned)(24 + i % 2),
			    SG_NET_DENY);
	assert_int_equal(sg_egress_build(r, exe, SG_EGRESS_LIST_LEN + 1, &e, &n, err, sizeof(err)),
			 -E2BIG);
	assert_non_null(strstr(err, "192.0.2.0/2"));
	assert_null(e);
	assert_int_equal(sg_egress_build(r, exe, SG_EGRESS_LIST_LEN, &e, &n, err, sizeof(err)), 0);
	free(e);
}

static void test_no_rules_builds_nothing(void **state)
{
	struct sg_egress_entry *e = NULL;
	char err[64];
	size_t n = 99;

	assert_int_equal(sg_egress_build(NULL, NULL, 0, &e, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_every_field),
		cmocka_unit_test(test_parses_allow),
		cmocka_unit_test(test_v4_mapped_cidr_is_an_ipv4_rule),
		cmocka_unit_test(test_rejects_bad_rules_with_line),
		cmocka_unit_test(test_lists_hold_every_covering_rule_most_specific_first),
		cmocka_unit_test(test_allow_and_deny_fold_by_prefix_length),
		cmocka_unit_test(test_decode_takes_every_action_and_the_mapped_flag),
		cmocka_unit_test(test_too_many_covering_rules_is_an_error),
		cmocka_unit_test(test_no_rules_builds_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

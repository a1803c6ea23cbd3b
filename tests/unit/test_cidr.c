// SPDX-License-Identifier: Apache-2.0
/* CIDR text -> prefix: both families, canonical form, and clear refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/cidr.h"

static char err[256];

static struct sg_cidr ok(const char *text)
{
	struct sg_cidr c;

	err[0] = '\0';
	if (sg_cidr_parse(text, &c, err, sizeof(err)))
		fail_msg("'%s' refused: %s", text, err);
	return c;
}

static const char *refused(const char *text)
{
	struct sg_cidr c;

	err[0] = '\0';
	assert_int_equal(sg_cidr_parse(text, &c, err, sizeof(err)), -EINVAL);
	assert_true(err[0] != '\0');
	return err;
}

static void roundtrip(const char *in, const char *want)
{
	struct sg_cidr c = ok(in);
	char buf[SG_CIDR_STRLEN];

	sg_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_ipv4_prefix_parses_in_network_order(void **state)
{
	struct sg_cidr c = ok("10.1.2.0/24");

	assert_int_equal(c.family, 4);
	assert_int_equal(c.len, 24);
	assert_int_equal(c.addr[0], htonl(0x0a010200));
	assert_int_equal(c.addr[1] | c.addr[2] | c.addr[3], 0);
}

static void test_ipv6_prefix_parses(void **state)
{
	struct sg_cidr c = ok("2001:db8::/32");

	assert_int_equal(c.family, 6);
	assert_int_equal(c.len, 32);
	assert_int_equal(c.addr[0], htonl(0x20010db8));
	assert_int_equal(c.addr[1] | c.addr[2] | c.addr[3], 0);
}

static void test_bare_address_is_a_host_prefix(void **state)
{
	assert_int_equal(ok("192.0.2.7").len, 32);
	assert_int_equal(ok("fd00::1").len, 128);
}

static void test_blanks_around_are_ignored(void **state)
{
	roundtrip("  \t10.0.0.0/8 \r", "10.0.0.0/8");
}

static void test_zero_length_prefixes_match_everything(void **state)
{
	roundtrip("0.0.0.0/0", "0.0.0.0/0");
	roundtrip("::/0", "::/0");
}

static void test_format_is_canonical(void **state)
{
	roundtrip("2001:0db8:0000::/48", "2001:db8::/48");
	roundtrip("203.0.113.255/32", "203.0.113.255/32");
}

static void test_host_bits_set_refused_with_suggestion(void **state)
{
	const char *e = refused("10.1.2.3/24");

	assert_non_null(strstr(e, "host bits"));
	assert_non_null(strstr(e, "10.1.2.0/24"));
	assert_non_null(strstr(refused("2001:db8::1/64"), "2001:db8::/64"));
}

static void test_bad_lengths_refused(void **state)
{
	assert_non_null(strstr(refused("10.0.0.0/33"), "0-32"));
	assert_non_null(strstr(refused("::/129"), "0-128"));
	refused("10.0.0.0/");
	refused("10.0.0.0/-1");
	refused("10.0.0.0/8x");
	refused("10.0.0.0/ 8");
	refused("10.0.0.0/99999999999999999999");
}

static void test_bad_addresses_refused(void **state)
{
	assert_non_null(strstr(refused("10.0.0.256/32"), "not an IPv4 or IPv6 address"));
	refused("");
	refused("   ");
	refused("example.com/24");
	refused("10.0.0/24");
	refused("1:2:3:4:5:6:7:8:9/64");
	refused("/24");
	assert_non_null(strstr(refused("10.0.0.0/8/8"), "prefix length"));
}

static void test_overlong_input_refused(void **state)
{
	char big[300];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_non_null(strstr(refused(big), "too long"));
}

static void test_equal_compares_family_length_address(void **state)
{
	struct sg_cidr a = ok("10.0.0.0/8"), b = ok("10.0.0.0/8"), c = ok("10.0.0.0/16");

	assert_true(sg_cidr_equal(&a, &b));
	assert_false(sg_cidr_equal(&a, &c));
}

static void test_list_skips_comments_and_blank_lines(void **state)
{
	const char *t = "# deny list\n\n10.0.0.0/8  # private\n  2001:db8::/32\r\n192.0.2.1\n#end";
	struct sg_cidr *v = NULL;
	size_t n = 0;

	assert_int_equal(sg_cidr_parse_list(t, strlen(t), &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].len, 8);
	assert_int_equal(v[1].family, 6);
	assert_int_equal(v[2].len, 32);
	free(v);
}

static void test_list_error_names_the_line(void **state)
{
	const char *t = "10.0.0.0/8\n# fine\n\n10.0.0.1/8\n";
	struct sg_cidr *v = NULL;
	size_t n = 0;

	assert_int_equal(sg_cidr_parse_list(t, strlen(t), &v, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 4:"));
	assert_non_null(strstr(err, "host bits"));
	assert_null(v);
}

static void test_list_refuses_binary_data(void **state)
{
	const char t[] = "10.0.0.0/8\n1.2.3.4\0junk\n";
	struct sg_cidr *v = NULL;
	size_t n = 0;

	assert_int_equal(sg_cidr_parse_list(t, sizeof(t) - 1, &v, &n, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "line 2:"));
}

static void test_empty_list_is_valid(void **state)
{
	struct sg_cidr *v = NULL;
	size_t n = 1;

	assert_int_equal(sg_cidr_parse_list("", 0, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(v);
}

static void test_large_list_parses(void **state)
{
	size_t i, n = 0, cap = 200000 * 20, len = 0;
	char *t = malloc(cap);
	struct sg_cidr *v = NULL;

	assert_non_null(t);
	for (i = 0; i < 200000; i++)
		len += snprintf(t + len, cap - len, "10.%zu.%zu.0/24\n", (i >> 8) & 255, i & 255);
	assert_int_equal(sg_cidr_parse_list(t, len, &v, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 200000);
	free(v);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_prefix_parses_in_network_order),
		cmocka_unit_test(test_ipv6_prefix_parses),
		cmocka_unit_test(test_bare_address_is_a_host_prefix),
		cmocka_unit_test(test_blanks_around_are_ignored),
		cmocka_unit_test(test_zero_length_prefixes_match_everything),
		cmocka_unit_test(test_format_is_canonical),
		cmocka_unit_test(test_host_bits_set_refused_with_suggestion),
		cmocka_unit_test(test_bad_lengths_refused),
		cmocka_unit_test(test_bad_addresses_refused),
		cmocka_unit_test(test_overlong_input_refused),
		cmocka_unit_test(test_equal_compares_family_length_address),
		cmocka_unit_test(test_list_skips_comments_and_blank_lines),
		cmocka_unit_test(test_list_error_names_the_line),
		cmocka_unit_test(test_list_refuses_binary_data),
		cmocka_unit_test(test_empty_list_is_valid),
		cmocka_unit_test(test_large_list_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

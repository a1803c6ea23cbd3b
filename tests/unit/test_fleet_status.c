// SPDX-License-Identifier: Apache-2.0
/*
 * The fleet status entry and the fleet's names (docs/fleet.md): the entry's
 * JSON reads back as written, with null for no error; names that would
 * split or widen a key are refused; a node id becomes one key token; a
 * bundle's version is read from its header, and nothing else has one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/bundle.h"
#include "report/fleet_status.h"

static void test_status_entry_reads_back_as_written(void **state)
{
	struct sg_fleet_status s = {
		.node_id = "web-1", .group = "prod", .policy_version = 7, .policy_name = "p-7",
		.backends = "bpf_lsm,fanotify", .fleet_dropped = 3, .last_seen = 1764694800,
		.started = 1764690000, .denies = 12, .kills = 1,
	}, back;
	struct sg_json j;

	sg_json_init(&j);
	sg_fleet_status_json(&s, &j);
	assert_false(j.oom);
	assert_non_null(strstr(j.buf, "\"backends\":[\"bpf_lsm\",\"fanotify\"]"));
	assert_non_null(strstr(j.buf, "\"last_error\":null"));
	assert_null(memchr(j.buf, '\n', j.len));
	assert_int_equal(sg_fleet_status_parse(j.buf, j.len, &back), 0);
	assert_string_equal(back.node_id, "web-1");
	assert_string_equal(back.group, "prod");
	assert_int_equal(back.policy_version, 7);
	assert_string_equal(back.policy_name, "p-7");
	assert_string_equal(back.backends, "bpf_lsm,fanotify");
	assert_int_equal(back.fleet_dropped, 3);
	assert_string_equal(back.last_error, "");
	assert_int_equal(back.last_seen, 1764694800);
	assert_int_equal(back.started, 1764690000);
	assert_int_equal(back.denies, 12);
	assert_int_equal(back.kills, 1);
	sg_json_free(&j);
}

static void test_status_entry_keeps_the_last_error(void **state)
{
	struct sg_fleet_status s = { .node_id = "n", .group = "g", .last_error = "publish: \"x\"" }, back;
	struct sg_json j;

	sg_json_init(&j);
	sg_fleet_status_json(&s, &j);
	assert_int_equal(sg_fleet_status_parse(j.buf, j.len, &back), 0);
	assert_string_equal(back.last_error, "publish: \"x\"");
	assert_string_equal(back.backends, "");
	sg_json_free(&j);
}

static void test_what_is_not_a_status_entry_is_refused(void **state)
{
	struct sg_fleet_status back;

	assert_int_equal(sg_fleet_status_parse("[]", 2, &back), -EINVAL);
	assert_int_equal(sg_fleet_status_parse("{\"group\":\"g\"}", 13, &back), -EINVAL);
	assert_int_equal(sg_fleet_status_parse("{\"node_id\":", 11, &back), -EINVAL);
}

static void test_names_that_split_or_widen_a_key_are_refused(void **state)
{
	char big[SG_FLEET_NAME_MAX + 2];

	assert_true(sg_fleet_name_ok("default"));
	assert_true(sg_fleet_name_ok("prod-eu_1"));
	assert_false(sg_fleet_name_ok(""));
	assert_false(sg_fleet_name_ok(NULL));
	assert_false(sg_fleet_name_ok("a.b"));
	assert_false(sg_fleet_name_ok("*"));
	assert_false(sg_fleet_name_ok(">"));
	assert_false(sg_fleet_name_ok("a b"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(sg_fleet_name_ok(big));
	big[SG_FLEET_NAME_MAX] = '\0';
	assert_true(sg_fleet_name_ok(big));
}

static void test_keys_are_one_token_each(void **state)
{
	char key[64];

	assert_int_equal(sg_fleet_policy_key("prod", key, sizeof(key)), 0);
	assert_string_equal(key, "policy.prod");
	assert_int_equal(sg_fleet_status_key("web-1.example.com", key, sizeof(key)), 0);
	assert_string_equal(key, "node.web-1_example_com");
	assert_int_equal(sg_fleet_policy_key("prod", key, 8), -ENAMETOOLONG);
}

static void test_bundle_version_comes_from_the_header(void **state)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], *b = NULL;
	size_t len = 0;

	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	assert_int_equal(sg_bundle_sign(sk, "version: 9\n", 11, 42, 1, &b, &len), 0);
	assert_int_equal(sg_fleet_bundle_version((char *)b, len), 42);
	free(b);
	assert_int_equal(sg_fleet_bundle_version("version: 3\n", 11), 0);
	assert_int_equal(sg_fleet_bundle_version(SG_BUNDLE_MAGIC "\nversion: x\n", 37), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_entry_reads_back_as_written),
		cmocka_unit_test(test_status_entry_keeps_the_last_error),
		cmocka_unit_test(test_what_is_not_a_status_entry_is_refused),
		cmocka_unit_test(test_names_that_split_or_widen_a_key_are_refused),
		cmocka_unit_test(test_keys_are_one_token_each),
		cmocka_unit_test(test_bundle_version_comes_from_the_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

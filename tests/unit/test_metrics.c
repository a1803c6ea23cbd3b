// SPDX-License-Identifier: Apache-2.0
/* Prometheus text from the stats JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/metrics.h"

static char *conv(const char *json, int *rc)
{
	char *out = NULL;
	size_t len = 0;

	*rc = sg_metrics_from_stats(json, strlen(json), &out, &len);
	if (!*rc)
		assert_int_equal(strlen(out), len);
	return out;
}

static void test_numbers_and_booleans_at_any_depth(void **state)
{
	int rc;
	char *out = conv("{\"uptime_s\":5,\"policy_version\":\"a,b}\\\"c\",\"decisions\":{\"events\":10,"
			 "\"denied\":2},\"fanotify\":{\"active\":true,\"x\":false,\"names\":[1,{\"a\":2}],"
			 "\"n\":null},\"shield\":{\"counters\":{\"dropped\":300}},\"Odd-Key\":-1.5e3}", &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "sysguard_uptime_s 5\n"
				 "sysguard_decisions_events 10\n"
				 "sysguard_decisions_denied 2\n"
				 "sysguard_fanotify_active 1\n"
				 "sysguard_fanotify_x 0\n"
				 "sysguard_shield_counters_dropped 300\n"
				 "sysguard_odd_key -1.5e3\n");
	free(out);
}

static void test_refuses_what_is_not_an_object(void **state)
{
	static const char *const bad[] = { "", "[]", "\"x\"", "{\"a\":1", "{1:2}", "{\"a\"" };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = conv(bad[i], &rc);

		if (!strcmp(bad[i], "{\"a\":1")) {
			/* A truncated object still yields what it had: nothing is invented. */
			if (!rc) {
				assert_string_equal(out, "sysguard_a 1\n");
				free(out);
			}
			continue;
		}
		assert_int_equal(rc, -EINVAL);
	}
}

static void test_empty_object(void **state)
{
	int rc;
	char *out = conv("{}", &rc);

	assert_int_equal(rc, 0);
	assert_string_equal(out, "");
	free(out);
}

/*
 * A key path longer than the name buffer: with a prefix that fills it, the
 * next key's "_" separator used to land one byte past path[256]. A name that
 * does not fit is left out, with everything under it; its neighbours stay.
 */
static void test_key_path_too_long_is_left_out(void **state)
{
	char key[300], json[1024];
	int rc;
	char *out;

	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(json, sizeof(json), "{\"x\":1,\"%s\":{\"b\":{\"c\":2},\"d\":true},\"y\":3}", key);
	out = conv(json, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "sysguard_x 1\nsysguard_y 3\n");
	free(out);
}

/* A path exactly as long as the buffer allows is still exported, whole. */
static void test_key_path_at_the_limit_is_kept(void **state)
{
	/* "sysguard_" + key = 255 characters, the most path[256] holds. */
	char key[255 - 9 + 1], json[512], want[512];
	int rc;
	char *out;

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(json, sizeof(json), "{\"%s\":7,\"%s\":{\"z\":1}}", key, key);
	out = conv(json, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want), "sysguard_%s 7\n", key);
	assert_string_equal(out, want);
	free(out);
}

/* A long number is written whole, with its newline (no fixed-size line buffer). */
static void test_long_number_keeps_its_line(void **state)
{
	char num[301], json[512], want[512];
	int rc;
	char *out;

	memset(num, '9', sizeof(num) - 1);
	num[sizeof(num) - 1] = '\0';
	snprintf(json, sizeof(json), "{\"n\":%s,\"m\":1}", num);
	out = conv(json, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want), "sysguard_n %s\nsysguard_m 1\n", num);
	assert_string_equal(out, want);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_and_booleans_at_any_depth),
		cmocka_unit_test(test_refuses_what_is_not_an_object),
		cmocka_unit_test(test_empty_object),
		cmocka_unit_test(test_key_path_too_long_is_left_out),
		cmocka_unit_test(test_key_path_at_the_limit_is_kept),
		cmocka_unit_test(test_long_number_keeps_its_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

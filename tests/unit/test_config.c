// SPDX-License-Identifier: Apache-2.0
/* The daemon configuration file reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "config/config.h"

#define PARSE(doc, c, err) sg_config_parse((doc), strlen(doc), "sg.yaml", (c), (err), sizeof(err))

static void test_sections_flatten_to_dotted_keys(void **state)
{
	struct sg_config c;
	char err[256];

	assert_int_equal(PARSE("node_id: n1\nalerts:\n  enabled: true\n  url: http://127.0.0.1:9/x\n",
			       &c, err), 0);
	assert_string_equal(sg_config_get(&c, "node_id"), "n1");
	assert_string_equal(sg_config_get(&c, "alerts.enabled"), "true");
	assert_string_equal(sg_config_get(&c, "alerts.url"), "http://127.0.0.1:9/x");
	assert_null(sg_config_get(&c, "alerts"));
	assert_null(sg_config_get(&c, "url"));
	sg_config_free(&c);
}

static void test_empty_document_is_empty_config(void **state)
{
	struct sg_config c;
	char err[256];

	assert_int_equal(PARSE("", &c, err), 0);
	assert_int_equal(c.n, 0);
	sg_config_free(&c);
}

static void test_errors_name_file_line_and_column(void **state)
{
	struct sg_config c;
	char err[256];

	assert_int_equal(PARSE("alerts:\n  url: [a, b]\n", &c, err), -EINVAL);
	assert_string_equal(err, "sg.yaml:2:8: lists are not settings here");
	assert_int_equal(PARSE("alerts:\n  url: a\n  url: b\n", &c, err), -EINVAL);
	assert_string_equal(err, "sg.yaml:3:8: duplicate key");
	assert_int_equal(PARSE("a:\n  b:\n    c: d\n", &c, err), -EINVAL);
	assert_non_null(strstr(err, "nested too deep"));
	assert_int_equal(PARSE("x: &a 1\ny: *a\n", &c, err), -EINVAL);
	assert_int_equal(PARSE("just a string", &c, err), -EINVAL);
	assert_int_equal(PARSE("a: \"unterminated\n", &c, err), -EINVAL);
	assert_non_null(strstr(err, "sg.yaml:"));
}

static void test_unknown_key_is_an_error(void **state)
{
	static const char *const known[] = { "alerts.url", "alerts.enabled", NULL };
	struct sg_config c;
	char err[256];

	assert_int_equal(PARSE("alerts:\n  url: u\n  enabeld: true\n", &c, err), 0);
	assert_int_equal(sg_config_check_keys(&c, known, "sg.yaml", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "sg.yaml:3: unknown setting \"alerts.enabeld\"");
	sg_config_free(&c);
}

static void test_value_parsers(void **state)
{
	unsigned u;
	bool b;

	assert_int_equal(sg_config_bool("yes", &b), 0);
	assert_true(b);
	assert_int_equal(sg_config_bool("0", &b), 0);
	assert_false(b);
	assert_int_equal(sg_config_bool("maybe", &b), -EINVAL);
	assert_int_equal(sg_config_uint("60", 1, 3600, &u), 0);
	assert_int_equal(u, 60);
	assert_int_equal(sg_config_uint("0", 1, 3600, &u), -EINVAL);
	assert_int_equal(sg_config_uint("-1", 0, 3600, &u), -EINVAL);
	assert_int_equal(sg_config_uint("12x", 0, 3600, &u), -EINVAL);
	assert_int_equal(sg_config_uint("", 0, 3600, &u), -EINVAL);
	assert_int_equal(sg_config_uint("99999999999999999999", 0, 3600, &u), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_flatten_to_dotted_keys),
		cmocka_unit_test(test_empty_document_is_empty_config),
		cmocka_unit_test(test_errors_name_file_line_and_column),
		cmocka_unit_test(test_unknown_key_is_an_error),
		cmocka_unit_test(test_value_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

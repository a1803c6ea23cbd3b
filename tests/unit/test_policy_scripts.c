// SPDX-License-Identifier: Apache-2.0
/*
 * scripts: parsing (defaults, an operator's interpreter list, inline code,
 * the errors) and libraries: rules (their own rule set, allow-list mode).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policy/policy.h"

#define HDR "version: \"t1\"\n"

static struct sg_policy *load(const char *yaml)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	if (sg_policy_parse(yaml, strlen(yaml), "test.yaml", &p, &err))
		fail_msg("parse failed: %s", err.message);
	return p;
}

static void expect_error(const char *yaml, unsigned line, const char *needle)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	assert_int_equal(sg_policy_parse(yaml, strlen(yaml), "test.yaml", &p, &err), -EINVAL);
	if (err.line != line || !strstr(err.message, needle))
		fail_msg("want line %u containing '%s', got line %u: %s", line, needle, err.line,
			 err.message);
}

static void test_off_unless_asked(void **state)
{
	struct sg_policy *p = load(HDR "rules: []\n");

	(void)state;
	assert_false(sg_policy_scripts(p)->on);
	sg_policy_free(p);
}

static void test_empty_mapping_takes_the_defaults(void **state)
{
	struct sg_policy *p = load(HDR "scripts: {}\n");
	const struct sg_scripts *s = sg_policy_scripts(p);
	size_t i;
	bool bash = false, python = false;

	(void)state;
	assert_true(s->on);
	assert_int_equal(s->inline_code, SG_INLINE_ALLOW);
	assert_int_equal(s->line, 2);
	for (i = 0; i < s->ninterpreters; i++) {
		bash |= !strcmp(s->interpreters[i], "/usr/bin/bash");
		python |= !strcmp(s->interpreters[i], "/usr/bin/python3");
	}
	assert_true(bash && python);
	sg_policy_free(p);
}

static void test_operator_list_replaces_the_defaults(void **state)
{
	struct sg_policy *p = load(HDR "scripts:\n  inline: deny\n"
				   "  interpreters: [/opt/py/bin/python3.12, /usr/bin/bash]\n");
	const struct sg_scripts *s = sg_policy_scripts(p);

	(void)state;
	assert_int_equal(s->inline_code, SG_INLINE_DENY);
	assert_int_equal(s->ninterpreters, 2);
	assert_string_equal(s->interpreters[0], "/opt/py/bin/python3.12");
	sg_policy_free(p);
}

static void test_errors_say_what_is_expected(void **state)
{
	(void)state;
	expect_error(HDR "scripts: on\n", 2, "\"scripts\" must be a mapping");
	expect_error(HDR "scripts: {inline: maybe}\n", 2, "must be allow, audit or deny");
	expect_error(HDR "scripts: {interpreters: /usr/bin/bash}\n", 2, "must be a list of paths");
	expect_error(HDR "scripts: {interpreters: [bash]}\n", 2, "absolute path");
	expect_error(HDR "scripts: {interpreter: []}\n", 2, "interpreter");
}

static enum sg_action lib_verdict(const struct sg_policy *p, const char *path)
{
	struct sg_exec_subject sub = { .path = path };
	struct sg_verdict v;

	assert_int_equal(sg_policy_eval(sg_policy_libraries(p), &sub, &v), SG_EVAL_DONE);
	return v.action;
}

static void test_library_rules_are_a_set_of_their_own(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n  - {name: x, action: deny, path: /usr/bin/nc}\n"
				   "libraries:\n  - {name: no-evil, action: deny, path: /tmp/evil.so}\n"
				   "  - {name: no-tmp, action: deny, glob: \"/tmp/**\"}\n");
	const struct sg_policy *libs = sg_policy_libraries(p);

	(void)state;
	assert_non_null(libs);
	assert_int_equal(sg_policy_rule_count(libs), 2);
	assert_int_equal(sg_policy_rule_count(p), 1);
	assert_string_equal(sg_policy_rule(libs, 0)->name, "no-evil");
	assert_string_equal(sg_policy_rule(libs, 0)->source, "test.yaml");
	assert_int_equal(lib_verdict(p, "/tmp/evil.so"), SG_ACTION_DENY);
	assert_int_equal(lib_verdict(p, "/tmp/x/y.so"), SG_ACTION_DENY);
	assert_int_equal(lib_verdict(p, "/usr/lib/libc.so.6"), SG_ACTION_ALLOW);
	/* An exec rule says nothing about libraries, and the other way round. */
	assert_int_equal(lib_verdict(p, "/usr/bin/nc"), SG_ACTION_ALLOW);
	sg_policy_free(p);
	p = load(HDR "rules: []\n");
	assert_null(sg_policy_libraries(p));
	sg_policy_free(p);
}

static void test_library_allow_list_follows_the_default(void **state)
{
	struct sg_policy *p = load(HDR "default: deny\nlibraries:\n"
				   "  - {name: system, action: allow, glob: \"/usr/lib/**\"}\n");

	(void)state;
	assert_int_equal(lib_verdict(p, "/usr/lib/x86_64-linux-gnu/libc.so.6"), SG_ACTION_ALLOW);
	assert_int_equal(lib_verdict(p, "/home/u/libhook.so"), SG_ACTION_DENY);
	sg_policy_free(p);
	expect_error(HDR "libraries:\n  - {name: a, action: deny}\n", 3, "nothing to match");
	expect_error(HDR "libraries: /tmp/x.so\n", 2, "\"libraries\" must be a list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_unless_asked),
		cmocka_unit_test(test_empty_mapping_takes_the_defaults),
		cmocka_unit_test(test_operator_list_replaces_the_defaults),
		cmocka_unit_test(test_errors_say_what_is_expected),
		cmocka_unit_test(test_library_rules_are_a_set_of_their_own),
		cmocka_unit_test(test_library_allow_list_follows_the_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

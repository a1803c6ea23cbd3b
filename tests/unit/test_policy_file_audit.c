// SPDX-License-Identifier: Apache-2.0
/* The policy's file_audit: list (FILE-4): what parses, what is refused and why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static struct sg_policy *load(const char *yaml)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	int rc = sg_policy_parse(yaml, strlen(yaml), "test.yaml", &p, &err);

	if (rc)
		fail_msg("parse failed (%d): %s", rc, err.message);
	assert_non_null(p);
	return p;
}

static void expect_error(const char *yaml, unsigned line, const char *needle)
{
	struct sg_policy *p = (struct sg_policy *)0x1;
	struct sg_policy_error err;
	int rc = sg_policy_parse(yaml, strlen(yaml), "test.yaml", &p, &err);

	assert_int_equal(rc, -EINVAL);
	assert_ptr_equal(p, (struct sg_policy *)0x1);
	if (err.line != line || !strstr(err.message, needle))
		fail_msg("want line %u containing '%s', got line %u: %s", line, needle, err.line,
			 err.message);
}

static void test_exe_and_cgroup_selectors_parse_in_order_with_lines(void **state)
{
	struct sg_policy *p = load("version: \"1\"\n"
				   "file_audit:\n"
				   "  - name: trace-curl\n"
				   "    exe: /usr/bin/curl\n"
				   "  - {cgroup: /sys/fs/cgroup/system.slice/app.service}\n");
	const struct sg_file_rule_spec *a, *b;

	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_TRACE), 2);
	a = sg_policy_file_rule(p, SG_FILES_TRACE, 0);
	b = sg_policy_file_rule(p, SG_FILES_TRACE, 1);
	assert_int_equal(a->id, 1);
	assert_string_equal(a->name, "trace-curl");
	assert_string_equal(a->path, "/usr/bin/curl");
	assert_null(a->cgroup);
	assert_int_equal(a->line, 3);
	assert_int_equal(a->deny, 0);
	assert_int_equal(b->id, 2);
	assert_string_equal(b->name, "file_audit-2");		/* default name */
	assert_null(b->path);
	assert_string_equal(b->cgroup, "/sys/fs/cgroup/system.slice/app.service");
	assert_int_equal(b->line, 5);
	assert_null(sg_policy_file_rule(p, SG_FILES_TRACE, 2));
	/* file_audit: rules are in their own list. */
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_PROTECT), 0);
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_WATCH), 0);
	assert_int_equal(sg_policy_rule_count(p), 0);
	sg_policy_free(p);
}

static void test_empty_or_absent_file_audit_is_no_rule(void **state)
{
	struct sg_policy *p = load("version: \"1\"\nfile_audit:\n");

	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_TRACE), 0);
	sg_policy_free(p);
	p = load("version: \"1\"\nfile_audit: []\n");
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_TRACE), 0);
	sg_policy_free(p);
	p = load("version: \"1\"\n");
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_TRACE), 0);
	assert_null(sg_policy_file_rule(p, SG_FILES_TRACE, 0));
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_NLISTS), 0);
	sg_policy_free(p);
}

static void test_exactly_one_of_exe_and_cgroup(void **state)
{
	expect_error("version: \"1\"\nfile_audit:\n  - {name: x}\n", 3,
		     "file_audit rule 1: give exactly one of exe, cgroup and container");
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: /a}\n  - {exe: /b, cgroup: /sys/fs/cgroup/c}\n",
		     4, "file_audit rule 2: give exactly one of exe, cgroup and container");
}

static void test_keys_of_other_file_lists_are_refused(void **state)
{
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: /a, deny: write}\n", 3,
		     "file_audit rule 1: \"deny\" is not a key of file_audit rules");
	expect_error("version: \"1\"\nfile_audit:\n  - {path: /etc/passwd}\n", 3,
		     "\"path\" is not a key of file_audit rules");
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: /a, action: deny}\n", 3,
		     "unknown key \"action\"");
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: /a, exe: /b}\n", 3,
		     "duplicate key \"exe\"");
}

static void test_paths_must_be_absolute_and_canonical(void **state)
{
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: usr/bin/curl}\n", 3,
		     "must be an absolute path");
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: \"\"}\n", 3, "must not be empty");
	expect_error("version: \"1\"\nfile_audit:\n  - {cgroup: /sys/fs/cgroup/a/../b}\n", 3,
		     "must be a canonical path");
	expect_error("version: \"1\"\nfile_audit:\n  - {cgroup: /sys/fs/cgroup/app/}\n", 3,
		     "must be a canonical path");
}

static void test_list_and_item_shapes_are_checked(void **state)
{
	expect_error("version: \"1\"\nfile_audit: /usr/bin/curl\n", 2,
		     "\"file_audit\" must be a list");
	expect_error("version: \"1\"\nfile_audit:\n  - /usr/bin/curl\n", 3,
		     "file_audit rule 1 must be a mapping");
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: [/a]}\n", 3, "file_audit rule 1");
	expect_error("version: \"1\"\nfile_audit:\n  - {exe: /a, name: \"bad\\nname\"}\n", 3,
		     "must not contain control characters");
}

static void test_many_rules_parse(void **state)
{
	char *doc = malloc(64 * 2000 + 64);
	struct sg_policy *p;
	size_t off;
	int i;

	assert_non_null(doc);
	off = (size_t)sprintf(doc, "version: \"1\"\nfile_audit:\n");
	for (i = 0; i < 2000; i++)
		off += (size_t)sprintf(doc + off, "  - {name: r%d, exe: /opt/x/bin%d}\n", i, i);
	p = load(doc);
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_TRACE), 2000);
	assert_string_equal(sg_policy_file_rule(p, SG_FILES_TRACE, 1999)->path, "/opt/x/bin1999");
	assert_int_equal(sg_policy_file_rule(p, SG_FILES_TRACE, 1999)->id, 2000);
	sg_policy_free(p);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exe_and_cgroup_selectors_parse_in_order_with_lines),
		cmocka_unit_test(test_empty_or_absent_file_audit_is_no_rule),
		cmocka_unit_test(test_exactly_one_of_exe_and_cgroup),
		cmocka_unit_test(test_keys_of_other_file_lists_are_refused),
		cmocka_unit_test(test_paths_must_be_absolute_and_canonical),
		cmocka_unit_test(test_list_and_item_shapes_are_checked),
		cmocka_unit_test(test_many_rules_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

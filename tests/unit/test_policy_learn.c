// SPDX-License-Identifier: Apache-2.0
/* policy learn and diff, pure parts: deterministic output that parses back; the log reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "policy/diff.h"
#include "policy/learn.h"
#include "policy/lint.h"
#include "report/json_read.h"

static const uint8_t SHA1[SG_SHA256_LEN] = { 0x11, 0x22 };
static const uint8_t SHA2[SG_SHA256_LEN] = { 0x99 };

static char *learn(int order, bool include_denied)
{
	struct sg_learn *l = sg_learn_new();
	char *out;
	int i;

	for (i = 0; i < 3; i++) {
		int k = order ? 2 - i : i;

		if (k == 0)
			assert_int_equal(sg_learn_add(l, "/usr/bin/ls", SHA1, false), 0);
		if (k == 1)
			assert_int_equal(sg_learn_add(l, "/opt/new tool", NULL, false), 0);
		if (k == 2)
			assert_int_equal(sg_learn_add(l, "/tmp/evil", SHA2, true), 0);
	}
	assert_int_equal(sg_learn_add(l, "/usr/bin/ls", SHA1, false), 0);
	out = sg_learn_render(l, include_denied, "audit.log");
	sg_learn_free(l);
	assert_non_null(out);
	return out;
}

static void no_warning(const struct sg_lint_msg *m, void *ctx)
{
	fail_msg("unexpected warning %u:%u: %s", m->line, m->column, m->text);
}

static void test_learn_is_deterministic_and_parses(void **state)
{
	char *a = learn(0, false), *b = learn(1, false);
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	assert_string_equal(a, b);
	if (sg_policy_parse(a, strlen(a), "learned.yaml", &p, &err))
		fail_msg("%s\n%s", err.message, a);
	assert_int_equal(sg_policy_default_action(p), SG_ACTION_DENY);
	assert_int_equal(sg_policy_mode(p), SG_MODE_MONITOR);
	assert_int_equal(sg_policy_rule_count(p), 2);
	assert_int_equal(sg_policy_rule(p, 0)->kind, SG_MATCH_SHA256);
	assert_string_equal(sg_policy_rule(p, 0)->name, "ls-112200000000");
	assert_int_equal(sg_policy_rule(p, 1)->kind, SG_MATCH_PATH);
	assert_string_equal(sg_policy_rule(p, 1)->pattern, "/opt/new tool");
	assert_int_equal(sg_policy_lint(p, NULL, NULL, no_warning, NULL), 0);
	/* Denied execs are only listed in a comment. */
	assert_non_null(strstr(a, "# Denied while learning"));
	assert_non_null(strstr(a, "#   /tmp/evil sha256 99000000"));
	assert_non_null(strstr(a, "  # /usr/bin/ls (2 execs)\n  - name: ls-112200000000\n    action: allow\n"
			       "    sha256: \"1122000000000000000000000000000000000000000000000000000000000000\"\n"));
	sg_policy_free(p);
	free(a);
	free(b);
}

static void test_learn_include_denied(void **state)
{
	char *a = learn(0, true);
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	assert_int_equal(sg_policy_parse(a, strlen(a), "l.yaml", &p, &err), 0);
	assert_int_equal(sg_policy_rule_count(p), 3);
	assert_null(strstr(a, "# Denied while learning"));
	assert_non_null(strstr(a, "/tmp/evil (1 exec, denied while learning)"));
	sg_policy_free(p);
	free(a);
}

static void test_diff_counts_and_sorted_programs(void **state)
{
	struct sg_diff *d = sg_diff_new();
	uint64_t total, allowed, denied;
	char *out;

	sg_diff_add(d, "/usr/bin/b", false, true);
	sg_diff_add(d, "/usr/bin/a", false, true);
	sg_diff_add(d, "/usr/bin/b", false, true);
	sg_diff_add(d, "/usr/bin/c", true, false);
	sg_diff_add(d, "/usr/bin/same", true, true);
	sg_diff_counts(d, &total, &allowed, &denied);
	assert_int_equal(total, 5);
	assert_int_equal(allowed, 1);
	assert_int_equal(denied, 3);
	out = sg_diff_render(d);
	assert_string_equal(out, "replayed 5 execs\n"
			    "NEW allows what OLD denied: 1 exec, 1 program\n  /usr/bin/c (1)\n"
			    "NEW denies what OLD allowed: 3 execs, 2 programs\n  /usr/bin/a (1)\n"
			    "  /usr/bin/b (2)\n");
	free(out);
	sg_diff_free(d);
}

static void test_json_reader(void **state)
{
	const char *line = "{\"type\":\"exec\",\"n\":18446744073709551615,\"s\":\"a\\u00e9\\ud83d\\ude00\\n\","
			   "\"o\":{\"x\":[1,true,null]},\"neg\":-1.5}\n";
	struct sg_jv v;

	assert_int_equal(sg_jv_parse(line, strlen(line), &v), 0);
	assert_string_equal(sg_jv_str(sg_jv_get(&v, "type")), "exec");
	assert_true(sg_jv_get(&v, "n")->is_uint);
	assert_true(sg_jv_get(&v, "n")->u == UINT64_MAX);
	assert_string_equal(sg_jv_str(sg_jv_get(&v, "s")), "a\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_int_equal(sg_jv_get(sg_jv_get(&v, "o"), "x")->n, 3);
	assert_false(sg_jv_get(&v, "neg")->is_uint);
	sg_jv_free(&v);
	assert_int_equal(sg_jv_parse("{\"a\":1", 6, &v), -22);
	assert_int_equal(sg_jv_parse("{\"a\":1} x", 9, &v), -22);
	assert_int_equal(sg_jv_parse("\"\x01\"", 3, &v), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_is_deterministic_and_parses),
		cmocka_unit_test(test_learn_include_denied),
		cmocka_unit_test(test_diff_counts_and_sorted_programs),
		cmocka_unit_test(test_json_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

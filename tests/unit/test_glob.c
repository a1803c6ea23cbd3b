// SPDX-License-Identifier: Apache-2.0
/* Glob matcher: wildcard semantics, classes, escapes, refusals, and no blowup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/glob.h"

static bool match(const char *pattern, const char *s)
{
	struct sg_glob *g = NULL;
	const char *why = NULL;
	bool r;

	assert_int_equal(sg_glob_compile(pattern, &g, &why), 0);
	r = sg_glob_match(g, s);
	sg_glob_free(g);
	return r;
}

static const char *refusal(const char *pattern)
{
	struct sg_glob *g = NULL;
	const char *why = NULL;

	assert_int_equal(sg_glob_compile(pattern, &g, &why), -EINVAL);
	assert_null(g);
	assert_non_null(why);
	return why;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_literal_pattern_matches_only_itself(void **state)
{
	assert_true(match("/usr/bin/nc", "/usr/bin/nc"));
	assert_false(match("/usr/bin/nc", "/usr/bin/ncat"));
	assert_false(match("/usr/bin/nc", "/usr/bin/n"));
	assert_false(match("/usr/bin/nc", ""));
}

static void test_star_does_not_cross_slash(void **state)
{
	assert_true(match("/tmp/*", "/tmp/x"));
	assert_true(match("/tmp/*", "/tmp/"));
	assert_false(match("/tmp/*", "/tmp/a/b"));
	assert_true(match("/opt/*/bin/app", "/opt/v1/bin/app"));
	assert_false(match("/opt/*/bin/app", "/opt/v1/x/bin/app"));
	assert_true(match("/usr/bin/*.sh", "/usr/bin/run.sh"));
	assert_false(match("/usr/bin/*.sh", "/usr/bin/run.sh.bak"));
	assert_true(match("/a/*b*c", "/a/xbyc"));
	assert_false(match("/a/*b*c", "/a/xb/c"));
}

static void test_question_mark_is_one_char_but_not_slash(void **state)
{
	assert_true(match("/bin/?s", "/bin/ls"));
	assert_false(match("/bin/?s", "/bin/s"));
	assert_false(match("/bin/?s", "/bin/lls"));
	assert_false(match("/bin?ls", "/bin/ls"));
}

static void test_double_star_crosses_slash(void **state)
{
	assert_true(match("/tmp/**", "/tmp/a"));
	assert_true(match("/tmp/**", "/tmp/a/b/c"));
	assert_true(match("/tmp/**", "/tmp/"));
	assert_false(match("/tmp/**", "/tmp"));
	assert_false(match("/tmp/**", "/tmpx/a"));
	assert_true(match("/home/**.sh", "/home/u/bin/x.sh"));
	assert_true(match("/**", "/anything/at/all"));
	assert_true(match("/**/xmrig", "/xmrig"));
	assert_true(match("/**/xmrig", "/home/u/.cache/xmrig"));
	assert_false(match("/**/xmrig", "/home/u/notxmrig"));
}

static void test_double_star_dir_matches_zero_or_more_dirs(void **state)
{
	assert_true(match("/a/**/b", "/a/b"));
	assert_true(match("/a/**/b", "/a/x/b"));
	assert_true(match("/a/**/b", "/a/x/y/z/b"));
	assert_false(match("/a/**/b", "/ab"));
	assert_false(match("/a/**/b", "/a/xb"));
	assert_false(match("/a/**/b", "/a/x/yb"));
	assert_true(match("/a/**/*.so", "/a/lib.so"));
	assert_true(match("/a/**/*.so", "/a/x/y/lib.so"));
	/* More than two stars are one "**". */
	assert_true(match("/a/***/b", "/a/b"));
	assert_true(match("/a/***/b", "/a/x/y/b"));
}

static void test_class_ranges_and_negation(void **state)
{
	assert_true(match("/bin/[abc]", "/bin/b"));
	assert_false(match("/bin/[abc]", "/bin/d"));
	assert_true(match("/v[0-9]", "/v7"));
	assert_false(match("/v[0-9]", "/vx"));
	assert_true(match("/v[!0-9]", "/vx"));
	assert_false(match("/v[!0-9]", "/v7"));
	assert_true(match("/v[^0-9]", "/vx"));
	assert_false(match("/v[^0-9]", "/v7"));
	assert_true(match("/x[]]", "/x]"));
	assert_true(match("/x[!]]", "/xa"));
	assert_false(match("/x[!]]", "/x]"));
	assert_true(match("/x[a-]", "/x-"));
	assert_true(match("/x[-a]", "/x-"));
	assert_true(match("/x[\\]]", "/x]"));
	assert_true(match("/x[a-cx-z]", "/xy"));
	assert_false(match("/x[a-cx-z]", "/xm"));
}

static void test_class_never_matches_slash(void **state)
{
	assert_false(match("/a[!x]b", "/a/b"));
	assert_false(match("/a[+-0]b", "/a/b"));
	assert_true(match("/a[+-0]b", "/a.b"));
}

static void test_backslash_escapes_wildcards(void **state)
{
	assert_true(match("/a/\\*", "/a/*"));
	assert_false(match("/a/\\*", "/a/x"));
	assert_true(match("/a/\\?", "/a/?"));
	assert_false(match("/a/\\?", "/a/x"));
	assert_true(match("/a/\\[x]", "/a/[x]"));
	assert_true(match("/a/\\\\", "/a/\\"));
}

static void test_bytes_above_ascii_match_themselves(void **state)
{
	assert_true(match("/opt/\xc3\xa9*", "/opt/\xc3\xa9t\xc3\xa9"));
	assert_true(match("/opt/??", "/opt/\xc3\xa9"));
	assert_true(match("/opt/[\x80-\xff]", "/opt/\xe9"));
}

static void test_rejects_malformed_patterns(void **state)
{
	char *longp;

	assert_non_null(strstr(refusal("/a/[bc"), "unterminated"));
	assert_non_null(strstr(refusal("/a/[]"), "unterminated"));
	assert_non_null(strstr(refusal("/a/[!]"), "unterminated"));
	assert_non_null(strstr(refusal("/a/\\"), "lone"));
	assert_non_null(strstr(refusal("/a/[a\\"), "lone"));
	assert_non_null(strstr(refusal("/a/[z-a]"), "reversed"));
	assert_non_null(strstr(refusal("/a/[[:digit:]]"), "[0-9]"));

	longp = malloc(SG_GLOB_MAX_LEN + 2);
	assert_non_null(longp);
	memset(longp, 'a', SG_GLOB_MAX_LEN + 1);
	longp[SG_GLOB_MAX_LEN + 1] = '\0';
	assert_non_null(strstr(refusal(longp), "longer"));
	longp[SG_GLOB_MAX_LEN] = '\0';
	assert_true(match(longp, longp));
	free(longp);
}

static void test_pathological_pattern_is_linear(void **state)
{
	size_t n = 100000, i;
	char *s = malloc(n + 1);
	struct sg_glob *g1, *g2, *g3;
	const char *why;
	double t0;

	assert_non_null(s);
	memset(s, 'a', n);
	s[n] = '\0';
	assert_int_equal(sg_glob_compile("a*a*a*a*a*a*a*b", &g1, &why), 0);
	assert_int_equal(sg_glob_compile("**a**a**a**a**a**a**a**c", &g2, &why), 0);
	assert_int_equal(sg_glob_compile("/**/**/**/**/**/**/x", &g3, &why), 0);
	t0 = now();
	assert_false(sg_glob_match(g1, s));
	assert_false(sg_glob_match(g2, s));
	s[n - 1] = 'b';
	assert_true(sg_glob_match(g1, s));
	for (i = 0; i < n; i += 2)
		s[i] = '/';
	assert_false(sg_glob_match(g3, s));
	/* A backtracking matcher takes hours here; ours does ~1e6 steps per run. */
	assert_true(now() - t0 < 2.0);
	sg_glob_free(g1);
	sg_glob_free(g2);
	sg_glob_free(g3);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_pattern_matches_only_itself),
		cmocka_unit_test(test_star_does_not_cross_slash),
		cmocka_unit_test(test_question_mark_is_one_char_but_not_slash),
		cmocka_unit_test(test_double_star_crosses_slash),
		cmocka_unit_test(test_double_star_dir_matches_zero_or_more_dirs),
		cmocka_unit_test(test_class_ranges_and_negation),
		cmocka_unit_test(test_class_never_matches_slash),
		cmocka_unit_test(test_backslash_escapes_wildcards),
		cmocka_unit_test(test_bytes_above_ascii_match_themselves),
		cmocka_unit_test(test_rejects_malformed_patterns),
		cmocka_unit_test(test_pathological_pattern_is_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

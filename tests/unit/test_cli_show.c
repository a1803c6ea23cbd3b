// SPDX-License-Identifier: Apache-2.0
/* The JSON reader (src/report/json_read.c) and sysguardctl's tables (src/cli/show.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_read.h"
#include "cli/show.h"

/* What fn wrote, as a malloc'd string. */
#define CAPTURE(out, call)                                      \
	do {                                                    \
		size_t n_ = 0;                                  \
		FILE *f_ = open_memstream(&(out), &n_);         \
		assert_non_null(f_);                            \
		call;                                           \
		fclose(f_);                                     \
	} while (0)

static void test_reader_decodes_escapes_and_surrogates(void **state)
{
	const char *doc = "{\"a\":\"x\\n\\u00e9\\ud83d\\ude00\\ud800z\",\"b\":[1,-2.5e3,true,null],\"c\":{}}";
	struct sg_jv v;
	const struct sg_jv *a, *b;

	assert_int_equal(sg_jv_parse(doc, strlen(doc), &v), 0);
	a = sg_jv_get(&v, "a");
	assert_non_null(a);
	assert_int_equal(a->type, SG_JV_STR);
	assert_string_equal(a->s, "x\n\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdz");
	b = sg_jv_get(&v, "b");
	assert_int_equal(b->type, SG_JV_ARR);
	assert_int_equal(b->n, 4);
	assert_string_equal(b->items[0].s, "1");
	assert_string_equal(b->items[1].s, "-2.5e3");
	assert_int_equal(b->items[2].type, SG_JV_BOOL);
	assert_int_equal(b->items[3].type, SG_JV_NULL);
	assert_int_equal(sg_jv_get(&v, "c")->type, SG_JV_OBJ);
	assert_null(sg_jv_get(&v, "d"));
	sg_jv_free(&v);
}

static void test_reader_refuses_what_is_not_json(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\"}", "{\"a\":1,}", "[1 2]", "\"abc", "\"a\\q\"", "\"\\u12\"", "{} x",
		"tru", "{\"a\":\"\x01\"}",
	};
	char deep[200];
	struct sg_jv v;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sg_jv_parse(bad[i], strlen(bad[i]), &v), -EINVAL);
	/* Nesting is bounded (64), so a hostile document cannot exhaust the stack. */
	memset(deep, '[', 80);
	deep[80] = '1';
	memset(deep + 81, ']', 80);
	assert_int_equal(sg_jv_parse(deep, 161, &v), -EINVAL);
}

static void test_status_table_is_aligned_and_readable(void **state)
{
	const char *ready = "{\"pid\":42,\"mode\":\"enforce\",\"break_glass\":false,"
			    "\"policy_version\":\"v7\",\"bundle\":{\"version\":3,\"key_id\":\"ab\"},"
			    "\"backends\":[\"fanotify\",\"pidfd_kill\"],\"files\":[]}";
	char *out = NULL;

	CAPTURE(out, assert_int_equal(sg_show_status(f_, ready, strlen(ready), 3725), 0));
	assert_string_equal(out,
			    "uptime          1h 02m 05s\n"
			    "pid             42\n"
			    "mode            enforce\n"
			    "break glass     no\n"
			    "policy version  v7\n"
			    "bundle version  3\n"
			    "bundle key id   ab\n"
			    "backends        fanotify, pidfd_kill\n"
			    "files           none\n");
	free(out);
}

static void test_status_takes_the_api_uptime(void **state)
{
	const char *st = "{\"uptime_s\":59,\"mode\":\"monitor\"}";
	char *out = NULL;

	CAPTURE(out, assert_int_equal(sg_show_status(f_, st, strlen(st), -1), 0));
	assert_string_equal(out, "uptime  59s\nmode    monitor\n");
	free(out);
	CAPTURE(out, assert_int_equal(sg_show_status(f_, "[1]", 3, -1), -EINVAL));
	free(out);
}

static void test_stats_rows_are_dotted_counter_paths(void **state)
{
	const char *st = "{\"uptime_s\":5,\"decisions\":{\"allowed\":18446744073709551615,\"denied\":2},"
			 "\"fanotify\":{\"active\":true},\"shield\":{\"cidrs\":[{\"cidr\":\"10.0.0.0/8\",\"drops\":1}]}}";
	char *out = NULL;

	CAPTURE(out, assert_int_equal(sg_show_stats(f_, st, strlen(st)), 0));
	assert_string_equal(out,
			    "COUNTER                VALUE\n"
			    "uptime_s               5\n"
			    "decisions.allowed      18446744073709551615\n"
			    "decisions.denied       2\n"
			    "fanotify.active        yes\n"
			    "shield.cidrs[0].cidr   10.0.0.0/8\n"
			    "shield.cidrs[0].drops  1\n");
	free(out);
}

static void test_events_escape_hostile_names(void **state)
{
	/* A newline, an ANSI escape and a right-to-left override in an exe name. */
	const char *ev = "[{\"ts\":\"2026-11-23T16:40:01.123456789Z\",\"type\":\"exec\",\"decision\":\"deny\","
			 "\"process\":{\"pid\":1234,\"exe\":\"/tmp/a\\nb\\u001b[31m\\u202ec\"}},"
			 "{\"ts\":\"2026-11-23T16:40:02.5Z\",\"type\":\"policy_reload\"}]";
	char *out = NULL;

	CAPTURE(out, assert_int_equal(sg_show_events(f_, ev, strlen(ev)), 0));
	assert_string_equal(out,
			    "TIME                 TYPE           DECISION  PID   EXE\n"
			    "2026-11-23T16:40:01  exec           deny      1234  /tmp/a\\nb\\x1b[31m\\u202ec\n"
			    "2026-11-23T16:40:02  policy_reload  -         -     -\n");
	free(out);
	CAPTURE(out, assert_int_equal(sg_show_events(f_, "{}", 2), -EINVAL));
	free(out);
}

static void test_follow_rows_have_fixed_columns(void **state)
{
	const char *ev = "{\"ts\":\"2026-11-23T16:40:01.1Z\",\"type\":\"exec\",\"decision\":\"allow\","
			 "\"process\":{\"pid\":7,\"exe\":\"/bin/true\"}}";
	char *out = NULL;

	CAPTURE(out, sg_show_event_header(f_); assert_int_equal(sg_show_event_row(f_, ev, strlen(ev)), 0));
	assert_string_equal(out,
			    "TIME                 TYPE                    DECISION  PID      EXE\n"
			    "2026-11-23T16:40:01  exec                    allow     7        /bin/true\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_decodes_escapes_and_surrogates),
		cmocka_unit_test(test_reader_refuses_what_is_not_json),
		cmocka_unit_test(test_status_table_is_aligned_and_readable),
		cmocka_unit_test(test_status_takes_the_api_uptime),
		cmocka_unit_test(test_stats_rows_are_dotted_counter_paths),
		cmocka_unit_test(test_events_escape_hostile_names),
		cmocka_unit_test(test_follow_rows_have_fixed_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

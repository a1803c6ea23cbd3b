// SPDX-License-Identifier: Apache-2.0
/* The gRPC service's in-memory feed: positions, skips, filters (report/feed.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report/feed.h"

struct got {
	char lines[16][512];
	unsigned n;
};

static void copy(void *ctx, const char *line, size_t len)
{
	struct got *g = ctx;

	snprintf(g->lines[g->n++ % 16], sizeof(g->lines[0]), "%.*s", (int)len, line);
}

static void push_record(struct sg_feed *f, unsigned id, const char *type, const char *extra)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "{\"event_id\":\"%016x\",\"ts\":\"2026-12-02T10:00:00.000Z\",\"node_id\":\"n1\","
		 "\"type\":\"%s\",\"severity\":\"info\"%s}\n", id, type, extra);
	sg_feed_push(f, line, strlen(line));
}

static void test_live_reader_gets_what_is_pushed_after_it_started(void **state)
{
	struct sg_feed *f = sg_feed_new(8);
	uint64_t pos, skipped = 0;
	struct got g = { 0 };

	push_record(f, 1, "exec", "");
	pos = sg_feed_live(f);
	assert_int_equal(sg_feed_read(f, &pos, 10, 0, &skipped, copy, &g), 0);
	push_record(f, 2, "exec", "");
	assert_int_equal(sg_feed_read(f, &pos, 10, 100, &skipped, copy, &g), 1);
	assert_non_null(strstr(g.lines[0], "\"event_id\":\"0000000000000002\""));
	/* The line end is not part of the record. */
	assert_null(strchr(g.lines[0], '\n'));
	assert_int_equal(skipped, 0);
	sg_feed_free(f);
}

static void test_slow_reader_skips_and_is_told_how_many(void **state)
{
	struct sg_feed *f = sg_feed_new(4);
	uint64_t pos, skipped = 0;
	struct got g = { 0 };
	unsigned i;

	pos = sg_feed_live(f);
	for (i = 1; i <= 10; i++)
		push_record(f, i, "exec", "");
	assert_int_equal(sg_feed_read(f, &pos, 10, 0, &skipped, copy, &g), 4);
	assert_int_equal(skipped, 6);
	assert_non_null(strstr(g.lines[0], "0000000000000007"));
	sg_feed_free(f);
}

static void test_start_after_an_event_id_in_memory_or_out_of_range(void **state)
{
	struct sg_feed *f = sg_feed_new(4);
	uint64_t pos = 0, oldest = 0, skipped = 0;
	struct got g = { 0 };
	unsigned i;

	for (i = 1; i <= 6; i++)
		push_record(f, i, "exec", "");
	assert_int_equal(sg_feed_after_event(f, 4, &pos, &oldest), 0);
	assert_int_equal(sg_feed_read(f, &pos, 10, 0, &skipped, copy, &g), 2);
	assert_non_null(strstr(g.lines[0], "0000000000000005"));
	assert_int_equal(sg_feed_after_event(f, 2, &pos, &oldest), -ERANGE);
	assert_int_equal(oldest, 3);
	assert_int_equal(sg_feed_after_event(f, 99, &pos, &oldest), -ERANGE);
	sg_feed_free(f);
}

static void test_stop_wakes_a_waiting_reader(void **state)
{
	struct sg_feed *f = sg_feed_new(4);
	uint64_t pos = sg_feed_live(f), skipped = 0;
	struct got g = { 0 };

	sg_feed_stop(f);
	assert_int_equal(sg_feed_read(f, &pos, 10, 5000, &skipped, copy, &g), -ESHUTDOWN);
	sg_feed_free(f);
}

static void test_meta_reads_the_filtered_fields(void **state)
{
	static const char rec[] =
		"{\"event_id\":\"00000000000000ff\",\"ts\":\"t\",\"node_id\":\"web-1\",\"type\":\"exec\","
		"\"severity\":\"warning\",\"decision\":\"deny\",\"process\":{\"pid\":1,"
		"\"container\":{\"id\":\"0123456789abcdef\",\"pod_name\":\"api-7\","
		"\"pod_namespace\":\"shop\",\"verified\":true}}}";
	struct sg_feed_meta m;

	assert_int_equal(sg_feed_meta_parse(rec, strlen(rec), &m), 0);
	assert_int_equal(m.event_id, 255);
	assert_string_equal(m.type, "exec");
	assert_string_equal(m.severity, "warning");
	assert_string_equal(m.decision, "deny");
	assert_string_equal(m.node_id, "web-1");
	assert_string_equal(m.container_id, "0123456789abcdef");
	assert_string_equal(m.pod_name, "api-7");
	assert_string_equal(m.pod_namespace, "shop");
	assert_int_equal(sg_feed_meta_parse("{\"type\":\"exec\"}", 15, &m), -EINVAL);
	assert_int_equal(sg_feed_meta_parse("{\"event_id\":\"zz\"}", 17, &m), -EINVAL);
	assert_int_equal(sg_feed_meta_parse("[1]", 3, &m), -EINVAL);
}

static void test_filters_are_anded_and_empty_lets_all_by(void **state)
{
	static const char *const exec_only[] = { "exec" };
	static const char *const denies[] = { "deny" };
	struct sg_feed_filter all = { .min_severity = -1 };
	struct sg_feed_filter f = { .types = exec_only, .ntypes = 1, .decisions = denies,
				    .ndecisions = 1, .min_severity = 1 };
	struct sg_feed_meta m = { .event_id = 1 };

	strcpy(m.type, "exec");
	strcpy(m.severity, "warning");
	strcpy(m.decision, "deny");
	assert_true(sg_feed_filter_match(&all, &m));
	assert_true(sg_feed_filter_match(&f, &m));
	strcpy(m.severity, "info");
	assert_false(sg_feed_filter_match(&f, &m));
	strcpy(m.severity, "critical");
	assert_true(sg_feed_filter_match(&f, &m));
	strcpy(m.decision, "allow");
	assert_false(sg_feed_filter_match(&f, &m));
	/* A note has no decision: it never matches a decision filter. */
	m.decision[0] = '\0';
	assert_false(sg_feed_filter_match(&f, &m));
	strcpy(m.decision, "deny");
	strcpy(m.type, "file_open");
	assert_false(sg_feed_filter_match(&f, &m));
}

static void test_container_filter_takes_a_long_prefix_only(void **state)
{
	struct sg_feed_filter f = { .min_severity = -1, .container_id = "0123456789ab" };
	struct sg_feed_filter short_prefix = { .min_severity = -1, .container_id = "0123" };
	struct sg_feed_filter pod = { .min_severity = -1, .pod_name = "api-7", .pod_namespace = "shop" };
	struct sg_feed_meta m = { .event_id = 1 };

	assert_null(sg_feed_filter_check(&f));
	assert_non_null(sg_feed_filter_check(&short_prefix));
	strcpy(m.container_id, "0123456789abcdef");
	assert_true(sg_feed_filter_match(&f, &m));
	strcpy(m.container_id, "0123456789acffff");
	assert_false(sg_feed_filter_match(&f, &m));
	/* A record from the host (no container) is not a container's. */
	m.container_id[0] = '\0';
	assert_false(sg_feed_filter_match(&f, &m));
	strcpy(m.pod_name, "api-7");
	assert_false(sg_feed_filter_match(&pod, &m));
	strcpy(m.pod_namespace, "shop");
	assert_true(sg_feed_filter_match(&pod, &m));
}

static void test_status_documents_and_extent(void **state)
{
	struct sg_feed *f = sg_feed_new(4);
	uint64_t newest, held;
	char *s;

	assert_null(sg_feed_status(f));
	sg_feed_set_status(f, "{\"mode\":\"enforce\"}", 18);
	s = sg_feed_status(f);
	assert_string_equal(s, "{\"mode\":\"enforce\"}");
	free(s);
	sg_feed_extent(f, &newest, &held);
	assert_int_equal(newest, 0);
	assert_int_equal(held, 0);
	push_record(f, 7, "exec", "");
	push_record(f, 8, "exec", "");
	sg_feed_extent(f, &newest, &held);
	assert_int_equal(newest, 8);
	assert_int_equal(held, 2);
	assert_null(sg_feed_new(0));
	sg_feed_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_reader_gets_what_is_pushed_after_it_started),
		cmocka_unit_test(test_slow_reader_skips_and_is_told_how_many),
		cmocka_unit_test(test_start_after_an_event_id_in_memory_or_out_of_range),
		cmocka_unit_test(test_stop_wakes_a_waiting_reader),
		cmocka_unit_test(test_meta_reads_the_filtered_fields),
		cmocka_unit_test(test_filters_are_anded_and_empty_lets_all_by),
		cmocka_unit_test(test_container_filter_takes_a_long_prefix_only),
		cmocka_unit_test(test_status_documents_and_extent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The fleet export's spool and record fields (docs/fleet.md): records come
 * back in the order appended, across segments and across a reopen (a
 * restart); taking them off moves a cursor that a reopen honours; a torn
 * last record (a crash mid-write) is cut off and the ones before it stay;
 * the last quarter is kept for denies; subjects are safe NATS tokens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/fleet_bus.h"
#include "report/fleet_record.h"
#include "report/spool.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sg-spool-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct sg_spool *open_spool(uint64_t max)
{
	struct sg_spool *s = NULL;
	char err[256];

	assert_int_equal(sg_spool_open(&s, dir, max, err, sizeof(err)), 0);
	return s;
}

static void append_n(struct sg_spool *s, unsigned from, unsigned n, bool keep)
{
	char id[32], line[64];
	unsigned i;

	for (i = from; i < from + n; i++) {
		snprintf(id, sizeof(id), "node.run.%016x", i);
		snprintf(line, sizeof(line), "{\"n\":%u}", i);
		assert_int_equal(sg_spool_append(s, id, "sysguard.node.exec", line, strlen(line), keep), 0);
	}
}

/* Take every record off, checking they are from..from+n-1 in order; the count taken. */
static unsigned drain(struct sg_spool *s, unsigned from)
{
	struct sg_spool_rec v[64];
	unsigned n, i, got = 0;
	char line[64];

	for (;;) {
		assert_int_equal(sg_spool_peek(s, v, 64, &n), 0);
		if (!n)
			break;
		for (i = 0; i < n; i++) {
			snprintf(line, sizeof(line), "{\"n\":%u}", from + got + i);
			assert_int_equal(v[i].len, strlen(line));
			assert_memory_equal(v[i].line, line, v[i].len);
			assert_string_equal(v[i].subject, "sysguard.node.exec");
		}
		assert_int_equal(sg_spool_consume(s, n, v[n - 1].end), 0);
		sg_spool_rec_free(v, n);
		got += n;
	}
	return got;
}

static void test_records_come_back_in_order_across_segments(void **state)
{
	struct sg_spool *s = open_spool(1 << 20);	/* 128 KiB segments */

	append_n(s, 0, 5000, false);
	assert_int_equal(sg_spool_records(s), 5000);
	assert_int_equal(drain(s, 0), 5000);
	assert_int_equal(sg_spool_records(s), 0);
	assert_int_equal(sg_spool_bytes(s), 0);
	sg_spool_close(s);
}

static void test_a_reopen_resumes_at_the_cursor(void **state)
{
	struct sg_spool_rec v[10];
	struct sg_spool *s = open_spool(1 << 20);
	unsigned n;

	append_n(s, 0, 3000, false);
	assert_int_equal(sg_spool_peek(s, v, 10, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(sg_spool_consume(s, n, v[n - 1].end), 0);
	sg_spool_rec_free(v, n);
	sg_spool_close(s);

	s = open_spool(1 << 20);
	assert_int_equal(sg_spool_records(s), 2990);
	append_n(s, 3000, 10, false);
	assert_int_equal(drain(s, 10), 3000);
	sg_spool_close(s);
}

static void test_a_torn_last_record_is_cut_off(void **state)
{
	struct sg_spool *s = open_spool(1 << 20);
	struct dirent *e;
	char path[512];
	struct stat st;
	DIR *d;

	append_n(s, 0, 3, false);
	sg_spool_close(s);
	d = opendir(dir);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".seg"))
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	closedir(d);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 3), 0);
	s = open_spool(1 << 20);
	assert_int_equal(sg_spool_records(s), 2);
	append_n(s, 2, 1, false);
	assert_int_equal(drain(s, 0), 3);
	sg_spool_close(s);
}

static void test_the_last_quarter_is_kept_for_denies(void **state)
{
	struct sg_spool *s = open_spool(8192);
	unsigned low = 0, keep = 0;
	char line[100];

	memset(line, 'x', sizeof(line));
	while (sg_spool_append(s, "id", "subj", line, sizeof(line), false) == 0)
		low++;
	assert_int_equal(sg_spool_append(s, "id", "subj", line, sizeof(line), false), -ENOSPC);
	while (sg_spool_append(s, "id", "subj", line, sizeof(line), true) == 0)
		keep++;
	assert_true(low > 0 && keep > 0);
	assert_true(keep * 3 >= low / 2 && keep * 3 <= low + 3);
	assert_true(sg_spool_bytes(s) <= 8192);
	assert_int_equal(sg_spool_append(s, "id", "subj", line, 9000, true), -EFBIG);
	sg_spool_close(s);
}

static void test_record_fields_and_tokens(void **state)
{
	const char *deny = "{\"event_id\":\"00000000000000a1\",\"ts\":\"x\",\"node_id\":\"n.1\","
			   "\"policy_version\":null,\"type\":\"exec\",\"severity\":\"warning\","
			   "\"action\":\"exec\",\"decision\":\"deny\"}";
	const char *info = "{\"event_id\":\"00000000000000a2\",\"ts\":\"x\",\"node_id\":\"n\","
			   "\"policy_version\":\"v\",\"type\":\"file.open*>\",\"severity\":\"info\","
			   "\"file\":{\"type\":\"regular\"}}";
	struct sg_fleet_info fi;
	char tok[8];

	assert_int_equal(sg_fleet_record_info(deny, strlen(deny), &fi), 0);
	assert_string_equal(fi.event_id, "00000000000000a1");
	assert_string_equal(fi.type, "exec");
	assert_true(fi.keep);
	assert_int_equal(sg_fleet_record_info(info, strlen(info), &fi), 0);
	assert_string_equal(fi.type, "file_open__");
	assert_false(fi.keep);
	assert_int_equal(sg_fleet_record_info("{\"a\":1}", 7, &fi), -EINVAL);
	sg_fleet_token(tok, sizeof(tok), "web.example.com", 15);
	assert_string_equal(tok, "web_exa");
	sg_fleet_token(tok, sizeof(tok), "", 0);
	assert_string_equal(tok, "_");
}

static void test_fleet_urls_are_checked(void **state)
{
	char err[256];

	assert_int_equal(sg_fleet_bus_check_url("nats://127.0.0.1:4222", err, sizeof(err)), 0);
	assert_int_equal(sg_fleet_bus_check_url("nats://a:1,nats://b.example.com:4222", err, sizeof(err)), 0);
	assert_int_equal(sg_fleet_bus_check_url("", err, sizeof(err)), -EINVAL);
	assert_int_equal(sg_fleet_bus_check_url("tls://a:1", err, sizeof(err)), 0);
	assert_int_equal(sg_fleet_bus_check_url("nats://a", err, sizeof(err)), -EINVAL);
	assert_int_equal(sg_fleet_bus_check_url("nats://a:1,", err, sizeof(err)), 0);
	assert_int_equal(sg_fleet_bus_check_url("nats://a:x1", err, sizeof(err)), -EINVAL);
	assert_int_equal(sg_fleet_bus_check_url("nats://a:1,b:2", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'b:2'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_come_back_in_order_across_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_reopen_resumes_at_the_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_torn_last_record_is_cut_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_last_quarter_is_kept_for_denies, setup, teardown),
		cmocka_unit_test(test_record_fields_and_tokens),
		cmocka_unit_test(test_fleet_urls_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

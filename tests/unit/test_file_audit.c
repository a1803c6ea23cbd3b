// SPDX-License-Identifier: Apache-2.0
/* File-open audit (FILE-4), pure parts: record decoding, naming, the selection table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sense/open_event.h"
#include "sense/open_select.h"

static void good_event(struct sg_open_event *e)
{
	memset(e, 0, sizeof(*e));
	e->hdr.type = SG_EV_FILE_OPEN;
	e->hdr.tgid = 42;
	e->hdr.pid = 43;
	memcpy(e->hdr.comm, "opener", 7);
	e->rule_id = 2 | SG_OPEN_RULE_GEN;
	e->file.ino = 7;
	e->file.dev = 8u << 20 | 1;
	e->fmode = 1;
	memcpy(e->name, "passwd", 7);
}

static void test_decode_accepts_a_well_formed_record(void **state)
{
	struct sg_open_event in, out;
	size_t len = 99;

	good_event(&in);
	assert_int_equal(sg_decode_open(&in, sizeof(in), &out, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(out.name, "passwd");
	assert_int_equal(out.rule_id, 2 | SG_OPEN_RULE_GEN);
	assert_int_equal(out.hdr.tgid, 42);
}

static void test_decode_refuses_short_foreign_ruleless_and_unterminated_records(void **state)
{
	struct sg_open_event in, out;
	size_t len;

	good_event(&in);
	assert_int_equal(sg_decode_open(&in, sizeof(in) - 1, &out, &len), -EINVAL);
	in.hdr.type = SG_EV_NET;
	assert_int_equal(sg_decode_open(&in, sizeof(in), &out, &len), -EINVAL);
	good_event(&in);
	in.rule_id = SG_OPEN_RULE_GEN;		/* parity bit alone: no rule */
	assert_int_equal(sg_decode_open(&in, sizeof(in), &out, &len), -EINVAL);
	good_event(&in);
	memset(in.name, 'a', sizeof(in.name));	/* no NUL anywhere */
	assert_int_equal(sg_decode_open(&in, sizeof(in), &out, &len), -EINVAL);
}

static void test_decode_terminates_comm_and_keeps_hostile_name_bytes(void **state)
{
	static const char hostile[] = "a\"b\n\\\xff\xfe";
	struct sg_open_event in, out;
	size_t len;

	good_event(&in);
	memset(in.hdr.comm, 'c', sizeof(in.hdr.comm));
	memcpy(in.name, hostile, sizeof(hostile));
	assert_int_equal(sg_decode_open(&in, sizeof(in), &out, &len), 0);
	assert_int_equal(out.hdr.comm[sizeof(out.hdr.comm) - 1], '\0');
	assert_int_equal(len, sizeof(hostile) - 1);
	assert_memory_equal(out.name, hostile, sizeof(hostile));
}

static void test_access_comes_from_fmode_then_o_path(void **state)
{
	assert_string_equal(sg_open_access_name(sg_open_access_of(1, O_RDONLY)), "read");
	assert_string_equal(sg_open_access_name(sg_open_access_of(2, O_WRONLY)), "write");
	assert_string_equal(sg_open_access_name(sg_open_access_of(3, O_RDWR)), "read_write");
	assert_string_equal(sg_open_access_name(sg_open_access_of(0x4000, O_PATH)), "path");
	assert_string_equal(sg_open_access_name(sg_open_access_of(0, O_RDWR | O_WRONLY)), "none");
	/* Other f_mode bits (FMODE_LSEEK, FMODE_PREAD...) do not change the answer. */
	assert_string_equal(sg_open_access_name(sg_open_access_of(0x1d, O_RDONLY)), "read");
}

static void test_file_types_are_named(void **state)
{
	assert_string_equal(sg_file_type_name(S_IFREG | 0644), "regular");
	assert_string_equal(sg_file_type_name(S_IFDIR | 0755), "directory");
	assert_string_equal(sg_file_type_name(S_IFCHR), "char_device");
	assert_string_equal(sg_file_type_name(S_IFBLK), "block_device");
	assert_string_equal(sg_file_type_name(S_IFIFO), "fifo");
	assert_string_equal(sg_file_type_name(S_IFSOCK), "socket");
	assert_string_equal(sg_file_type_name(S_IFLNK), "symlink");
	assert_string_equal(sg_file_type_name(0), "unknown");
}

static void test_flag_names_skip_the_access_mode_and_count_beyond_max(void **state)
{
	const char *names[8];
	size_t n;

	n = sg_open_flag_names(O_RDWR, names, 8);
	assert_int_equal(n, 0);
	n = sg_open_flag_names(O_WRONLY | O_APPEND | O_NONBLOCK | O_CLOEXEC, names, 8);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "O_APPEND");
	assert_string_equal(names[1], "O_NONBLOCK");
	assert_string_equal(names[2], "O_CLOEXEC");
	n = sg_open_flag_names(O_PATH | O_DIRECTORY | O_NOFOLLOW, names, 1);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "O_DIRECTORY");
	/* O_SYNC is O_DSYNC plus its own bit: both are named. */
	n = sg_open_flag_names(O_SYNC, names, 8);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "O_DSYNC");
	assert_string_equal(names[1], "O_SYNC");
}

static struct sg_open_selector exe_sel(uint32_t id, uint64_t ino, const char *target)
{
	struct sg_open_selector s = { .rule_id = id, .exe = { .ino = ino, .dev = 1 << 20 | 2 },
				      .target = (char *)target };

	snprintf(s.name, sizeof(s.name), "rule-%u", id);
	return s;
}

static struct sg_open_selector cg_sel(uint32_t id, uint64_t cgid, int level)
{
	struct sg_open_selector s = { .rule_id = id, .is_cgroup = true, .cgroup_id = cgid,
				      .level = level, .target = "/sys/fs/cgroup/x" };

	snprintf(s.name, sizeof(s.name), "cg-%u", id);
	return s;
}

static bool bloom_has(const uint64_t *bloom, uint64_t v)
{
	uint32_t bit = sg_open_bloom_bit(v);

	return bloom[bit / 64] & (1ull << (bit % 64));
}

static int bloom_bits(const uint64_t *bloom)
{
	int i, n = 0;

	for (i = 0; i < SG_OPEN_BLOOM_WORDS; i++)
		n += __builtin_popcountll(bloom[i]);
	return n;
}

static void test_selection_keeps_policy_order_and_copies_targets(void **state)
{
	struct sg_open_selection s;
	char target[] = "/usr/bin/curl";
	struct sg_open_selector a = exe_sel(1, 100, target), c = cg_sel(2, 5000, 2);

	sg_open_selection_init(&s);
	assert_int_equal(sg_open_selection_add(&s, &a, NULL), 0);
	assert_int_equal(sg_open_selection_add(&s, &c, NULL), 0);
	target[1] = 'X';			/* the table owns its copy */
	assert_int_equal(s.n, 2);
	assert_int_equal(s.nexes, 1);
	assert_int_equal(s.ncgroups, 1);
	assert_int_equal(s.cg_levels, 1ull << 2);
	assert_string_equal(sg_open_selection_get(&s, 1)->target, "/usr/bin/curl");
	assert_int_equal(sg_open_selection_get(&s, 2)->cgroup_id, 5000);
	/* The kernel's prefilters have exactly the targets' bits. */
	assert_true(bloom_bits(s.exe_bloom) == 1 && bloom_has(s.exe_bloom, sg_open_exe_word(&a.exe)));
	assert_true(bloom_bits(s.cg_bloom) == 1 && bloom_has(s.cg_bloom, 5000));
	assert_null(sg_open_selection_get(&s, 0));
	assert_null(sg_open_selection_get(&s, 3));
	sg_open_selection_free(&s);
	assert_int_equal(s.n, 0);
	assert_null(sg_open_selection_get(&s, 1));
}

static void test_selection_refuses_a_second_rule_for_the_same_target(void **state)
{
	struct sg_open_selection s;
	struct sg_open_selector a = exe_sel(1, 100, "/a"), b = exe_sel(2, 100, "/b-hardlink");
	struct sg_open_selector c1 = cg_sel(3, 77, 1), c2 = cg_sel(4, 77, 1);
	const struct sg_open_selector *dup = NULL;

	sg_open_selection_init(&s);
	assert_int_equal(sg_open_selection_add(&s, &a, &dup), 0);
	assert_null(dup);
	assert_int_equal(sg_open_selection_add(&s, &b, &dup), -EEXIST);
	assert_non_null(dup);
	assert_string_equal(dup->name, "rule-1");
	assert_int_equal(sg_open_selection_add(&s, &c1, NULL), 0);
	assert_int_equal(sg_open_selection_add(&s, &c2, &dup), -EEXIST);
	assert_string_equal(dup->name, "cg-3");
	assert_int_equal(s.n, 2);
	sg_open_selection_free(&s);
}

static void test_selection_bounds_each_kind_and_the_cgroup_depth(void **state)
{
	struct sg_open_selection s;
	struct sg_open_selector x;
	uint64_t i;

	sg_open_selection_init(&s);
	for (i = 0; i < SG_TRACE_SELECT_MAX; i++) {
		x = exe_sel((uint32_t)i + 1, 1000 + i, NULL);
		assert_int_equal(sg_open_selection_add(&s, &x, NULL), 0);
	}
	x = exe_sel(9999, 99999, NULL);
	assert_int_equal(sg_open_selection_add(&s, &x, NULL), -E2BIG);
	x = cg_sel(10000, 12, 3);		/* cgroups have their own budget */
	assert_int_equal(sg_open_selection_add(&s, &x, NULL), 0);
	x = cg_sel(10001, 13, SG_OPEN_CGROUP_LEVELS);
	assert_int_equal(sg_open_selection_add(&s, &x, NULL), -ERANGE);
	x = cg_sel(10002, 14, -1);		/* depth unknown: itself only, no level bit */
	assert_int_equal(sg_open_selection_add(&s, &x, NULL), 0);
	assert_int_equal(s.cg_levels, 1ull << 3);
	assert_int_equal(s.nexes, SG_TRACE_SELECT_MAX);
	assert_int_equal(s.ncgroups, 2);
	sg_open_selection_free(&s);
}

static void test_same_targets_ignores_order_names_and_lines(void **state)
{
	struct sg_open_selection a, b;
	struct sg_open_selector e1 = exe_sel(1, 100, "/x"), e2 = exe_sel(2, 200, "/y");
	struct sg_open_selector c = cg_sel(3, 55, 1), renamed = exe_sel(7, 100, "/x-renamed");

	sg_open_selection_init(&a);
	sg_open_selection_init(&b);
	assert_true(sg_open_selection_same_targets(&a, &b));	/* both empty */
	sg_open_selection_add(&a, &e1, NULL);
	sg_open_selection_add(&a, &e2, NULL);
	sg_open_selection_add(&a, &c, NULL);
	sg_open_selection_add(&b, &c, NULL);
	sg_open_selection_add(&b, &e2, NULL);
	assert_false(sg_open_selection_same_targets(&a, &b));
	sg_open_selection_add(&b, &renamed, NULL);
	assert_true(sg_open_selection_same_targets(&a, &b));
	assert_true(sg_open_selection_same_targets(&b, &a));
	sg_open_selection_free(&b);
	sg_open_selection_init(&b);
	/* Same count, one exe swapped for another. */
	e2.exe.ino = 201;
	sg_open_selection_add(&b, &e1, NULL);
	sg_open_selection_add(&b, &e2, NULL);
	sg_open_selection_add(&b, &c, NULL);
	assert_false(sg_open_selection_same_targets(&a, &b));
	sg_open_selection_free(&a);
	sg_open_selection_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_accepts_a_well_formed_record),
		cmocka_unit_test(test_decode_refuses_short_foreign_ruleless_and_unterminated_records),
		cmocka_unit_test(test_decode_terminates_comm_and_keeps_hostile_name_bytes),
		cmocka_unit_test(test_access_comes_from_fmode_then_o_path),
		cmocka_unit_test(test_file_types_are_named),
		cmocka_unit_test(test_flag_names_skip_the_access_mode_and_count_beyond_max),
		cmocka_unit_test(test_selection_keeps_policy_order_and_copies_targets),
		cmocka_unit_test(test_selection_refuses_a_second_rule_for_the_same_target),
		cmocka_unit_test(test_selection_bounds_each_kind_and_the_cgroup_depth),
		cmocka_unit_test(test_same_targets_ignores_order_names_and_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

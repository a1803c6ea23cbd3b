// SPDX-License-Identifier: Apache-2.0
/* Refusal records (bpf/file_refusal.bpf.c): paths made absolute, malformed records refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sense/file_refusal.h"

static struct sg_refusal_event ev;
static struct sg_refusal_view v;

/* "c\0b\0a\0": the kernel's leaf-first components of /a/b/c. */
static void set_base(struct sg_refusal_arg *a, const char *comp, size_t len, unsigned depth)
{
	memcpy(a->base, comp, len);
	a->base_len = (uint16_t)len;
	a->base_depth = (uint16_t)depth;
	a->flags |= SG_RA_BASE;
}

static void reset(uint32_t op, uint32_t nr, uint32_t nargs)
{
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = SG_EV_FILE_REFUSAL;
	ev.op = op;
	ev.nr = nr;
	ev.nargs = nargs;
}

static void test_relative_path_is_joined_to_its_base(void **state)
{
	(void)state;
	reset(SG_ROP_UNLINK, 263, 1);
	ev.arg[0].dirfd = -100;
	ev.arg[0].flags = SG_RA_PATH | SG_RA_NOFOLLOW;
	strcpy(ev.arg[0].path, "guarded.conf");
	set_base(&ev.arg[0], "shared\0tmp\0var\0", 15, 3);
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_string_equal(v.op, "unlink");
	assert_string_equal(v.syscall, "unlinkat");
	assert_int_equal(v.npaths, 1);
	assert_true(v.paths[0].absolute);
	assert_true(v.paths[0].nofollow);
	assert_string_equal(v.paths[0].path, "/var/tmp/shared/guarded.conf");
}

static void test_absolute_path_and_second_argument(void **state)
{
	(void)state;
	reset(SG_ROP_RENAME, 316, 2);
	ev.arg[0].flags = SG_RA_PATH;
	strcpy(ev.arg[0].path, "/etc/shadow");
	ev.arg[1].flags = SG_RA_PATH;
	strcpy(ev.arg[1].path, "x");
	set_base(&ev.arg[1], "", 0, 0);	/* cwd is / */
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_string_equal(v.paths[0].path, "/etc/shadow");
	assert_string_equal(v.paths[1].path, "/x");
	assert_true(v.paths[1].absolute);
}

static void test_unresolvable_paths_stay_relative(void **state)
{
	(void)state;
	reset(SG_ROP_CHMOD, 268, 1);
	ev.arg[0].flags = SG_RA_PATH;	/* relative, no base */
	strcpy(ev.arg[0].path, "f");
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_false(v.paths[0].absolute);
	ev.arg[0].flags = SG_RA_PATH | SG_RA_TRUNC;
	strcpy(ev.arg[0].path, "/trunc");
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_false(v.paths[0].absolute);
	ev.arg[0].flags = SG_RA_PATH;
	strcpy(ev.arg[0].path, "f");
	set_base(&ev.arg[0], "d\0", 2, 1);
	ev.arg[0].base_flags = SG_F_PATH_TRUNC;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_false(v.paths[0].absolute);
}

static void test_write_open_is_told_from_read_open(void **state)
{
	(void)state;
	reset(SG_ROP_OPEN_WRITE, 257, 1);
	ev.oflags = O_RDONLY;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_false(v.write_open);
	ev.oflags = O_RDONLY | O_TRUNC;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_true(v.write_open);
	ev.oflags = O_WRONLY | O_CREAT | O_NONBLOCK;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), 0);
	assert_true(v.write_open);
}

static void test_malformed_records_are_refused(void **state)
{
	(void)state;
	reset(SG_ROP_LINK, 265, 2);
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev) - 1, &v), -EINVAL);
	ev.op = SG_ROP_MAX;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), -EINVAL);
	ev.op = SG_ROP_LINK;
	ev.nargs = 3;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), -EINVAL);
	ev.nargs = 2;
	ev.exe_len = SG_PATH_BUF + 1;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), -EINVAL);
	ev.exe_len = 0;
	ev.hdr.type = SG_EV_FILE_OPEN;
	assert_int_equal(sg_refusal_decode(&ev, sizeof(ev), &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_path_is_joined_to_its_base),
		cmocka_unit_test(test_absolute_path_and_second_argument),
		cmocka_unit_test(test_unresolvable_paths_stay_relative),
		cmocka_unit_test(test_write_open_is_told_from_read_open),
		cmocka_unit_test(test_malformed_records_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

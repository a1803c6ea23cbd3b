// SPDX-License-Identifier: Apache-2.0
/* The intent of an open waiting in a fanotify permission event, from /proc/<tid>/syscall. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sense/open_intent.h"

static enum sg_open_intent intent(const char *line)
{
	struct sg_syscall sc;

	assert_int_equal(sg_syscall_parse(line, &sc), 0);
	return sg_open_intent_of(&sc);
}

static void test_openat_flags_decide(void **state)
{
	(void)state;
	/* 257 = openat(dfd, path, flags, mode): flags are the third argument. */
	assert_int_equal(intent("257 0xffffff9c 0x7ffd1000 0x80000 0x0 0x0 0x0 0x7ffd 0x7f00"),
			 SG_INTENT_READ);
	assert_int_equal(intent("257 0xffffff9c 0x7ffd1000 0x241 0x1b6 0x0 0x0 0x7ffd 0x7f00"),
			 SG_INTENT_WRITE);	/* O_WRONLY|O_CREAT|O_TRUNC */
	assert_int_equal(intent("257 0xffffff9c 0x7ffd1000 0x2 0x0 0x0 0x0 0x7ffd 0x7f00"),
			 SG_INTENT_WRITE);	/* O_RDWR */
	assert_int_equal(intent("257 0xffffff9c 0x7ffd1000 0x200 0x0 0x0 0x0 0x7ffd 0x7f00"),
			 SG_INTENT_WRITE);	/* O_RDONLY|O_TRUNC truncates too */
	assert_int_equal(intent("257 0xffffff9c 0x7ffd1000 0x40 0x1a4 0x0 0x0 0x7ffd 0x7f00"),
			 SG_INTENT_READ);	/* O_CREAT on an existing file reads */
}

static void test_other_calls(void **state)
{
	(void)state;
	assert_int_equal(intent("2 0x7ffd1000 0x1 0x0 0x0 0x0 0x0 0x7ffd 0x7f00"), SG_INTENT_WRITE);
	assert_int_equal(intent("2 0x7ffd1000 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f00"), SG_INTENT_READ);
	assert_int_equal(intent("85 0x7ffd1000 0x1a4 0x0 0x0 0x0 0x0 0x7ffd 0x7f00"), SG_INTENT_WRITE);
	assert_int_equal(intent("59 0x7ffd1000 0x7ffd2000 0x7ffd3000 0x0 0x0 0x0 0x7ffd 0x7f00"),
			 SG_INTENT_EXEC);
	/* io_uring_enter: not an open we can read: fail closed. */
	assert_int_equal(intent("426 0x3 0x1 0x0 0x0 0x0 0x0 0x7ffd 0x7f00"), SG_INTENT_UNKNOWN);
}

/*
 * openat2's flags are in struct open_how, in the opener's memory: another
 * thread can change them after the kernel copied them and before we read
 * them, so whatever we would read there proves nothing. Its intent is
 * unknown (refused where writes are denied), whatever open_how now says.
 */
static void test_openat2_intent_is_unknown_whatever_open_how_says(void **state)
{
	(void)state;
	/* 437 = openat2(dfd, path, how, size): how is an address, not the flags. */
	assert_int_equal(intent("437 0xffffff9c 0x7ffd1000 0x7ffd2000 0x18 0x0 0x0 0x1 0x2"),
			 SG_INTENT_UNKNOWN);
	/* Even when the address happens to look like read-only flags. */
	assert_int_equal(intent("437 0xffffff9c 0x7ffd1000 0x0 0x18 0x0 0x0 0x1 0x2"),
			 SG_INTENT_UNKNOWN);
}

static void test_garbage_and_no_syscall(void **state)
{
	struct sg_syscall sc;

	(void)state;
	assert_int_not_equal(sg_syscall_parse("running", &sc), 0);
	assert_int_not_equal(sg_syscall_parse("", &sc), 0);
	assert_int_not_equal(sg_syscall_parse("257 0xff", &sc), 0);
	assert_int_not_equal(sg_syscall_parse("257 12 13 14 15 16 17", &sc), 0);
	assert_int_equal(sg_syscall_parse("-1 0x7ffd 0x7f00", &sc), 0);
	assert_int_equal(sc.nr, -1);
	assert_int_equal(sg_open_intent_of(&sc), SG_INTENT_UNKNOWN);
	assert_string_equal(sg_open_intent_name(SG_INTENT_WRITE), "write");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openat_flags_decide),
		cmocka_unit_test(test_other_calls),
		cmocka_unit_test(test_openat2_intent_is_unknown_whatever_open_how_says),
		cmocka_unit_test(test_garbage_and_no_syscall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

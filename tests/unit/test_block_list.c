// SPDX-License-Identifier: Apache-2.0
/* The block list's text and the edits of `sysguardctl block add|del` (FILE-1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/block_list.h"

/* Runs an edit on an exactly sized heap copy, so ASan sees a read past `list`. */
static char *edit(int (*fn)(const char *, size_t, const char *, char **, size_t *),
		  const char *list, const char *path, int want_rc)
{
	size_t len = strlen(list), out_len = 0;
	char *copy = malloc(len ? len : 1), *out = NULL;

	assert_non_null(copy);
	memcpy(copy, list, len);
	assert_int_equal(fn(copy, len, path, &out, &out_len), want_rc);
	free(copy);
	if (want_rc)
		return NULL;
	assert_non_null(out);
	assert_int_equal(strlen(out), out_len);
	return out;
}

/*
 * The last line without its newline: add puts one before the new path.
 * The buffer used to be one byte short (the terminating NUL landed past it).
 */
static void test_add_after_a_last_line_without_newline(void **state)
{
	char *out = edit(sg_block_list_add, "/etc/shadow", "/etc/passwd", 0);

	assert_string_equal(out, "/etc/shadow\n/etc/passwd\n");
	free(out);
}

static void test_add_after_a_final_newline(void **state)
{
	char *out = edit(sg_block_list_add, "/a\n", "/b", 0);

	assert_string_equal(out, "/a\n/b\n");
	free(out);
}

static void test_add_to_an_empty_list(void **state)
{
	char *out = NULL;
	size_t out_len = 0;

	assert_int_equal(sg_block_list_add(NULL, 0, "/a", &out, &out_len), 0);
	assert_string_equal(out, "/a\n");
	assert_int_equal(out_len, 3);
	free(out);
}

static void test_find_matches_whole_lines_only(void **state)
{
	static const char list[] = "/a/bc\n/a/b\n/x";
	size_t line_len = 0;
	const char *hit;

	hit = sg_block_list_find(list, strlen(list), "/a/b", &line_len);
	assert_ptr_equal(hit, list + 6);
	assert_int_equal(line_len, 5);
	hit = sg_block_list_find(list, strlen(list), "/x", &line_len);
	assert_ptr_equal(hit, list + 11);
	assert_int_equal(line_len, 2);
	assert_null(sg_block_list_find(list, strlen(list), "/a", &line_len));
}

static void test_del_removes_the_line_and_its_newline(void **state)
{
	char *out = edit(sg_block_list_del, "/a\n/b\n/c\n", "/b", 0);

	assert_string_equal(out, "/a\n/c\n");
	free(out);
	out = edit(sg_block_list_del, "/a\n/b", "/b", 0);
	assert_string_equal(out, "/a\n");
	free(out);
	out = edit(sg_block_list_del, "/a", "/a", 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_del_of_an_absent_path_is_enoent(void **state)
{
	edit(sg_block_list_del, "/a\n/bb\n", "/b", -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_after_a_last_line_without_newline),
		cmocka_unit_test(test_add_after_a_final_newline),
		cmocka_unit_test(test_add_to_an_empty_list),
		cmocka_unit_test(test_find_matches_whole_lines_only),
		cmocka_unit_test(test_del_removes_the_line_and_its_newline),
		cmocka_unit_test(test_del_of_an_absent_path_is_enoent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

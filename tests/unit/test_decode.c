// SPDX-License-Identifier: Apache-2.0
/* Ring-buffer record decoding and dynamic-loader argv parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "sense/decode.h"
#include "sense/elf_loader.h"
#include "sense/loader_args.h"

static struct sg_exec_event *new_event(void)
{
	struct sg_exec_event *e = calloc(1, sizeof(*e));

	e->hdr.type = SG_EV_EXEC;
	return e;
}

static void put_components(struct sg_exec_event *e, const char *const *leaf_first, unsigned n)
{
	unsigned i;
	size_t off = 0;

	for (i = 0; i < n; i++) {
		size_t l = strlen(leaf_first[i]) + 1;

		memcpy(e->path + off, leaf_first[i], l);
		off += l;
	}
	e->path_len = off;
	e->path_depth = n;
}

static void test_path_is_rebuilt_root_first(void **state)
{
	static const char *const comps[] = { "denied", "bin", "usr" };
	struct sg_exec_event *e = new_event();
	struct sg_exec_view v;

	put_components(e, comps, 3);
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), 0);
	assert_string_equal(v.path, "/usr/bin/denied");
	assert_int_equal(v.path_len, strlen("/usr/bin/denied"));
	free(e);
}

static void test_pseudo_name_has_no_leading_slash(void **state)
{
	static const char *const comps[] = { "memfd:payload" };
	struct sg_exec_event *e = new_event();
	struct sg_exec_view v;

	put_components(e, comps, 1);
	e->hdr.flags = SG_F_PATH_PSEUDO;
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), 0);
	assert_string_equal(v.path, "memfd:payload");
	free(e);
}

static void test_root_file_keeps_its_slash(void **state)
{
	static const char *const comps[] = { "a:b" };
	struct sg_exec_event *e = new_event();
	struct sg_exec_view v;

	put_components(e, comps, 1);
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), 0);
	assert_string_equal(v.path, "/a:b");
	free(e);
}

static void test_short_record_is_rejected(void **state)
{
	struct sg_exec_event *e = new_event();
	struct sg_exec_view v;

	assert_int_equal(sg_decode_exec(e, sizeof(*e) - 1, &v), -EINVAL);
	assert_int_equal(sg_event_type(e, 3), -EINVAL);
	free(e);
}

static void test_out_of_range_lengths_are_rejected(void **state)
{
	struct sg_exec_event *e = new_event();
	struct sg_exec_view v;

	e->path_len = SG_PATH_BUF + 1;
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), -EINVAL);
	e->path_len = 0;
	e->args_len = SG_ARGS_LEN + 1;
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), -EINVAL);
	e->args_len = 0;
	e->filename_len = SG_FILENAME_LEN;
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), -EINVAL);
	e->filename_len = 0;
	e->path_depth = SG_PATH_DEPTH + 1;
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), -EINVAL);
	free(e);
}

static void test_unterminated_components_stay_in_bounds(void **state)
{
	struct sg_exec_event *e = new_event();
	struct sg_exec_view v;

	memset(e->path, 'x', SG_PATH_BUF);
	e->path_len = SG_PATH_BUF;
	e->path_depth = SG_PATH_DEPTH;
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), 0);
	assert_true(v.path_len < sizeof(v.path));
	assert_int_equal(strlen(v.path), v.path_len);
	free(e);
}

static void test_final_argv_nul_is_dropped(void **state)
{
	struct sg_exec_event *e = new_event();
	struct sg_exec_view v;

	memcpy(e->args, "ls\0-l\0", 6);
	e->args_len = 6;
	assert_int_equal(sg_decode_exec(e, sizeof(*e), &v), 0);
	assert_int_equal(v.args_len, 5);
	assert_memory_equal(v.args, "ls\0-l", 5);
	free(e);
}

static void test_unknown_type_is_rejected(void **state)
{
	struct sg_exec_event *e = new_event();

	e->hdr.type = 99;
	assert_int_equal(sg_event_type(e, sizeof(*e)), -EINVAL);
	free(e);
}

#define ARGS(s) (s), sizeof(s) - 1

static void test_loader_program_is_first_non_option(void **state)
{
	assert_string_equal(sg_loader_program(ARGS("/lib64/ld.so\0/tmp/x\0arg\0")), "/tmp/x");
}

static void test_loader_options_with_values_are_skipped(void **state)
{
	assert_string_equal(sg_loader_program(ARGS("ld.so\0--library-path\0/l\0--argv0\0zz\0"
						   "--inhibit-cache\0./prog\0")), "./prog");
}

static void test_loader_double_dash_then_program(void **state)
{
	assert_string_equal(sg_loader_program(ARGS("ld.so\0--\0prog\0")), "prog");
}

static void test_loader_without_program(void **state)
{
	assert_null(sg_loader_program(ARGS("ld.so\0--help\0")));
	assert_null(sg_loader_program(ARGS("ld.so\0")));
	assert_null(sg_loader_program(ARGS("ld.so\0--preload\0")));
}

static void test_loader_last_arg_without_nul(void **state)
{
	assert_string_equal(sg_loader_program("ld.so\0/bin/x", 12), "/bin/x");
}

static void test_loaders_are_known_by_soname(void **state)
{
	assert_true(sg_soname_is_loader("ld-linux-x86-64.so.2"));
	assert_true(sg_soname_is_loader("ld-linux-aarch64.so.1"));
	assert_true(sg_soname_is_loader("ld64.so.2"));
	assert_true(sg_soname_is_loader("ld-musl-x86_64.so.1"));
	assert_true(sg_soname_is_loader("libc.so"));
	assert_false(sg_soname_is_loader("libc.so.6"));
	assert_false(sg_soname_is_loader("libm.so.6"));
	assert_false(sg_soname_is_loader(""));
}

static void test_elf_is_loader_reads_the_real_loader(void **state)
{
	int fd = open("/lib64/ld-linux-x86-64.so.2", O_RDONLY);

	if (fd < 0)
		skip();
	assert_int_equal(sg_elf_is_loader(fd), 1);
	close(fd);
	fd = open("/bin/true", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(sg_elf_is_loader(fd), 0);
	close(fd);
	fd = open("/etc/hostname", O_RDONLY);
	if (fd >= 0) {
		assert_true(sg_elf_is_loader(fd) <= 0);
		close(fd);
	}
}

/* Section headers are optional at run time: a loader without them is still one. */
static void test_elf_is_loader_without_section_headers(void **state)
{
	char path[] = "/tmp/sg-ldcopy-XXXXXX", buf[65536];
	uint64_t zero64 = 0;
	uint32_t zero32 = 0;
	ssize_t n;
	int src = open("/lib64/ld-linux-x86-64.so.2", O_RDONLY), dst;

	if (src < 0)
		skip();
	dst = mkstemp(path);
	assert_true(dst >= 0);
	while ((n = read(src, buf, sizeof(buf))) > 0)
		assert_int_equal(write(dst, buf, n), n);
	close(src);
	assert_int_equal(pwrite(dst, &zero64, 8, 0x28), 8);	/* e_shoff */
	assert_int_equal(pwrite(dst, &zero32, 4, 0x3c), 4);	/* e_shnum, e_shstrndx */
	assert_int_equal(sg_elf_is_loader(dst), 1);
	close(dst);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_is_rebuilt_root_first),
		cmocka_unit_test(test_pseudo_name_has_no_leading_slash),
		cmocka_unit_test(test_root_file_keeps_its_slash),
		cmocka_unit_test(test_short_record_is_rejected),
		cmocka_unit_test(test_out_of_range_lengths_are_rejected),
		cmocka_unit_test(test_unterminated_components_stay_in_bounds),
		cmocka_unit_test(test_final_argv_nul_is_dropped),
		cmocka_unit_test(test_unknown_type_is_rejected),
		cmocka_unit_test(test_loader_program_is_first_non_option),
		cmocka_unit_test(test_loader_options_with_values_are_skipped),
		cmocka_unit_test(test_loader_double_dash_then_program),
		cmocka_unit_test(test_loader_without_program),
		cmocka_unit_test(test_loader_last_arg_without_nul),
		cmocka_unit_test(test_loaders_are_known_by_soname),
		cmocka_unit_test(test_elf_is_loader_reads_the_real_loader),
		cmocka_unit_test(test_elf_is_loader_without_section_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sense/script_args.h"

/* A literal argv; sizeof counts the literal's own final NUL, which args[len] must be. */
#define ARGS(s) s, sizeof(s) - 1

static enum sg_script_kind of(enum sg_interp_kind k, const char *args, size_t len,
			      const char *want_file)
{
	const char *file;
	enum sg_script_kind r = sg_script_of(k, args, len, &file);

	if (want_file) {
		assert_int_equal(r, SG_SCRIPT_FILE);
		assert_non_null(file);
		assert_string_equal(file, want_file);
	}
	return r;
}

static void test_shell_script_is_first_operand(void **state)
{
	(void)state;
	of(SG_INTERP_SHELL, ARGS("bash\0/tmp/p.sh\0arg\0"), "/tmp/p.sh");
	of(SG_INTERP_SHELL, ARGS("sh\0-e\0-x\0p.sh\0"), "p.sh");
	of(SG_INTERP_SHELL, ARGS("bash\0-o\0posix\0+O\0extglob\0p.sh\0"), "p.sh");
	of(SG_INTERP_SHELL, ARGS("bash\0--norc\0--\0-p.sh\0"), "-p.sh");
	of(SG_INTERP_SHELL, ARGS("bash\0-\0p.sh\0"), "p.sh");
	of(SG_INTERP_SHELL, ARGS("bash\0--rcfile\0/tmp/rc\0-i\0"), "/tmp/rc");
	of(SG_INTERP_SHELL, ARGS("bash\0--rcfile\0/tmp/rc\0p.sh\0"), "p.sh");
}

static void test_shell_inline_and_stdin(void **state)
{
	(void)state;
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("bash\0-c\0. /tmp/p.sh\0"), NULL), SG_SCRIPT_INLINE);
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("sh\0-ec\0id\0"), NULL), SG_SCRIPT_INLINE);
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("bash\0-x\0-c\0id\0"), NULL), SG_SCRIPT_INLINE);
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("bash\0"), NULL), SG_SCRIPT_STDIN);
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("bash\0-s\0a\0"), NULL), SG_SCRIPT_STDIN);
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("bash\0-\0"), NULL), SG_SCRIPT_STDIN);
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("bash\0--version\0"), NULL), SG_SCRIPT_NONE);
	/* The option's value is not the script, whatever it looks like. */
	assert_int_equal(of(SG_INTERP_SHELL, ARGS("bash\0-o\0/tmp/p.sh\0"), NULL), SG_SCRIPT_STDIN);
}

static void test_python(void **state)
{
	(void)state;
	of(SG_INTERP_PYTHON, ARGS("python3\0-u\0-W\0ignore\0/tmp/p.py\0x\0"), "/tmp/p.py");
	of(SG_INTERP_PYTHON, ARGS("python3\0-Wignore\0-X\0dev\0p.py\0"), "p.py");
	of(SG_INTERP_PYTHON, ARGS("python3\0--check-hash-based-pycs\0never\0p.py\0"), "p.py");
	assert_int_equal(of(SG_INTERP_PYTHON, ARGS("python3\0-c\0print(1)\0"), NULL),
			 SG_SCRIPT_INLINE);
	assert_int_equal(of(SG_INTERP_PYTHON, ARGS("python3\0-Ic\0print(1)\0"), NULL),
			 SG_SCRIPT_INLINE);
	assert_int_equal(of(SG_INTERP_PYTHON, ARGS("python3\0-m\0http.server\0"), NULL),
			 SG_SCRIPT_INLINE);
	assert_int_equal(of(SG_INTERP_PYTHON, ARGS("python3\0-\0"), NULL), SG_SCRIPT_STDIN);
	assert_int_equal(of(SG_INTERP_PYTHON, ARGS("python3\0-V\0"), NULL), SG_SCRIPT_NONE);
}

static void test_perl_ruby_node_php(void **state)
{
	(void)state;
	of(SG_INTERP_PERL, ARGS("perl\0-w\0-Mstrict\0-I\0/lib\0/tmp/p.pl\0"), "/tmp/p.pl");
	of(SG_INTERP_PERL, ARGS("perl\0-i.bak\0-0777\0p.pl\0"), "p.pl");
	assert_int_equal(of(SG_INTERP_PERL, ARGS("perl\0-le\0print 1\0"), NULL), SG_SCRIPT_INLINE);
	of(SG_INTERP_RUBY, ARGS("ruby\0-r\0json\0-Ilib\0p.rb\0"), "p.rb");
	assert_int_equal(of(SG_INTERP_RUBY, ARGS("ruby\0-e\0p 1\0"), NULL), SG_SCRIPT_INLINE);
	of(SG_INTERP_NODE, ARGS("node\0--require\0x\0--max-old-space-size=64\0app.js\0"), "app.js");
	assert_int_equal(of(SG_INTERP_NODE, ARGS("node\0--eval=1\0"), NULL), SG_SCRIPT_INLINE);
	assert_int_equal(of(SG_INTERP_NODE, ARGS("node\0-p\0"), NULL), SG_SCRIPT_INLINE);
	of(SG_INTERP_PHP, ARGS("php\0-d\0x=1\0-f\0/tmp/p.php\0"), "/tmp/p.php");
	of(SG_INTERP_PHP, ARGS("php\0p.php\0"), "p.php");
	assert_int_equal(of(SG_INTERP_PHP, ARGS("php\0-r\0echo 1;\0"), NULL), SG_SCRIPT_INLINE);
}

static void test_truncated_and_empty(void **state)
{
	(void)state;
	assert_int_equal(of(SG_INTERP_SHELL, "", 0, NULL), SG_SCRIPT_STDIN);
	assert_int_equal(of(SG_INTERP_NONE, ARGS("x\0y\0"), NULL), SG_SCRIPT_NONE);
	/* An option left waiting for its value at the end: no operand, so stdin. */
	assert_int_equal(of(SG_INTERP_PHP, ARGS("php\0-f\0"), NULL), SG_SCRIPT_STDIN);
}

static void test_kinds_by_configured_name(void **state)
{
	(void)state;
	assert_int_equal(sg_interp_kind_of("bash"), SG_INTERP_SHELL);
	assert_int_equal(sg_interp_kind_of("dash"), SG_INTERP_SHELL);
	assert_int_equal(sg_interp_kind_of("python3.11"), SG_INTERP_PYTHON);
	assert_int_equal(sg_interp_kind_of("perl5.36.0"), SG_INTERP_PERL);
	assert_int_equal(sg_interp_kind_of("nodejs"), SG_INTERP_NODE);
	assert_int_equal(sg_interp_kind_of("php8.2"), SG_INTERP_PHP);
	assert_int_equal(sg_interp_kind_of("bashful"), SG_INTERP_NONE);
	assert_int_equal(sg_interp_kind_of("python3-config"), SG_INTERP_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_script_is_first_operand),
		cmocka_unit_test(test_shell_inline_and_stdin),
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_perl_ruby_node_php),
		cmocka_unit_test(test_truncated_and_empty),
		cmocka_unit_test(test_kinds_by_configured_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

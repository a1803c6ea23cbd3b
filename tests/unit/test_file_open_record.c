// SPDX-License-Identifier: Apache-2.0
/* file_open records (FILE-4): valid JSON lines whatever a file name holds (LOG-1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/file_open_record.h"
#include "json_check.h"

struct fixture {
	char path[64];
	struct sg_audit audit;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/sg-file-open-record-XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	close(fd);
	if (sg_audit_open(&f->audit, f->path, false, "node-a"))
		return -1;
	sg_audit_set_policy_version(&f->audit, "fa-7");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	sg_audit_close(&f->audit);
	unlink(f->path);
	free(f);
	return 0;
}

static size_t read_lines(struct fixture *f, struct jc_doc *docs, size_t max)
{
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	FILE *in;

	/* Records reach the file on the sink's writer thread. */
	assert_int_equal(sg_audit_flush(&f->audit, 5000), 0);
	in = fopen(f->path, "r");

	assert_non_null(in);
	while ((len = getline(&line, &cap, in)) > 0) {
		assert_true(n < max);
		assert_int_equal(line[len - 1], '\n');
		assert_true(jc_parse(line, len - 1, &docs[n]));
		n++;
	}
	free(line);
	fclose(in);
	return n;
}

static bool log_contains(struct fixture *f, const char *needle)
{
	char buf[65536];
	size_t n;
	FILE *in;

	assert_int_equal(sg_audit_flush(&f->audit, 5000), 0);
	in = fopen(f->path, "r");

	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	fclose(in);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static const char *str_of(const struct jc_doc *d, const char *key)
{
	const struct jc_member *m = jc_get(d, key);

	return m ? m->str : NULL;
}

static void facts(struct sg_open_facts *f, const char *name, size_t name_len)
{
	memset(f, 0, sizeof(*f));
	f->pid = 42;
	f->tid = 43;
	f->ppid = 1;
	f->uid = 1000;
	f->cgroup_id = 9;
	strcpy(f->comm, "cat");
	strcpy(f->exe, "/usr/bin/cat");
	f->has_exe = true;
	f->exe_id.dev = 2049;
	f->exe_id.ino = 77;
	f->has_exe_id = true;
	f->name = name;
	f->name_len = name_len;
	f->path = "/etc/shadow";
	f->path_len = strlen(f->path);
	f->file.dev = 2049;
	f->file.ino = 1234;
	f->imode = S_IFREG | 0640;
	f->flags = O_RDONLY | O_CLOEXEC;
	f->fmode = 1;
	f->rule_id = 3;
	f->rule_name = "trace-cat";
	f->rule_line = 12;
	f->target = "/usr/bin/cat";
}

static void test_file_open_record_carries_file_access_rule_and_process(void **state)
{
	struct fixture *fx = *state;
	struct sg_open_facts f;
	struct jc_doc docs[2];

	facts(&f, "shadow", 6);
	sg_record_file_open(&fx->audit, &f);
	assert_int_equal(read_lines(fx, docs, 2), 1);
	assert_string_equal(str_of(&docs[0], "type"), "file_open");
	assert_string_equal(str_of(&docs[0], "severity"), "info");
	assert_string_equal(str_of(&docs[0], "decision"), "audit");
	assert_string_equal(str_of(&docs[0], "access"), "read");
	assert_string_equal(str_of(&docs[0], "policy_version"), "fa-7");
	jc_doc_free(&docs[0]);
	assert_true(log_contains(fx, "\"flag_names\":[\"O_CLOEXEC\"]"));
	assert_true(log_contains(fx, "\"rule\":{\"id\":3,\"name\":\"trace-cat\",\"line\":12,"
				 "\"selector\":\"exe\",\"target\":\"/usr/bin/cat\"}"));
	assert_true(log_contains(fx, "\"file\":{\"name\":\"shadow\",\"path\":\"/etc/shadow\","
				 "\"dev\":2049,\"ino\":1234,"
				 "\"type\":\"regular\",\"mode\":416}"));
	assert_true(log_contains(fx, "\"process\":{\"pid\":42,\"tid\":43,\"ppid\":1,\"uid\":1000,"
				 "\"gid\":0,\"comm\":\"cat\",\"exe\":\"/usr/bin/cat\",\"exe_dev\":2049,"
				 "\"exe_ino\":77,\"cgroup_id\":9}"));
}

static void test_hostile_basename_stays_one_valid_line_with_exact_hex(void **state)
{
	/* A quote, a newline with a forged record after it, a backslash, invalid UTF-8, U+2028. */
	static const char name[] = "a\"\n{\"type\":\"forged\"}\\\xff\xfe\x01\xe2\x80\xa8";
	struct fixture *fx = *state;
	struct sg_open_facts f;
	struct jc_doc docs[2];
	char hex[2 * sizeof(name) + 16], want[sizeof(hex) + 32];
	size_t i;

	facts(&f, name, sizeof(name) - 1);
	f.has_exe = false;
	f.has_exe_id = false;
	sg_record_file_open(&fx->audit, &f);
	assert_int_equal(read_lines(fx, docs, 2), 1);
	assert_string_equal(str_of(&docs[0], "type"), "file_open");
	jc_doc_free(&docs[0]);
	for (i = 0; i < sizeof(name) - 1; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)name[i]);
	snprintf(want, sizeof(want), "\"name_hex\":\"%s\"", hex);
	assert_true(log_contains(fx, want));
	assert_true(log_contains(fx, "\\u2028"));
	assert_true(log_contains(fx, "\"exe\":null"));
	assert_false(log_contains(fx, "exe_ino"));
}

static void test_cgroup_selector_path_and_container_are_recorded(void **state)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct fixture *fx = *state;
	struct sg_open_facts f;
	struct jc_doc docs[2];

	facts(&f, "x", 1);
	f.by_cgroup = true;
	f.target = "/sys/fs/cgroup/app\n";
	f.fmode = 3;
	f.flags = O_RDWR | O_APPEND;
	f.imode = S_IFDIR | 0755;
	memcpy(f.container.id, id, sizeof(id));
	f.container.runtime = SG_RUNTIME_DOCKER;
	sg_record_file_open(&fx->audit, &f);
	assert_int_equal(read_lines(fx, docs, 2), 1);
	assert_string_equal(str_of(&docs[0], "access"), "read_write");
	jc_doc_free(&docs[0]);
	assert_true(log_contains(fx, "\"selector\":\"cgroup\",\"target\":\"/sys/fs/cgroup/app\\n\""));
	assert_true(log_contains(fx, "\"flag_names\":[\"O_APPEND\"]"));
	assert_true(log_contains(fx, "\"type\":\"directory\""));
	assert_true(log_contains(fx, "\"container\":{\"id\":\"0123456789abcdef"));
	assert_true(log_contains(fx, "\"runtime\":\"docker\""));
}

static void test_inactive_rule_and_drops_records(void **state)
{
	struct fixture *fx = *state;
	struct jc_doc docs[3];

	sg_record_file_audit_inactive(&fx->audit, "no-exe", 4, false, "/nope\xff",
				      "No such file or directory");
	sg_record_ringbuf_drops(&fx->audit, NULL, "file_audit", 5, 12);
	assert_int_equal(read_lines(fx, docs, 3), 2);
	assert_string_equal(str_of(&docs[0], "type"), "file_audit_rule_inactive");
	assert_string_equal(str_of(&docs[0], "severity"), "warning");
	assert_string_equal(str_of(&docs[0], "rule"), "no-exe");
	assert_string_equal(str_of(&docs[0], "target_hex"), "2f6e6f7065ff");
	assert_string_equal(str_of(&docs[1], "type"), "ringbuf_drops");
	assert_string_equal(str_of(&docs[1], "ring"), "file_audit");
	assert_string_equal(str_of(&docs[1], "dropped"), "5");
	assert_string_equal(str_of(&docs[1], "total"), "12");
	jc_doc_free(&docs[0]);
	jc_doc_free(&docs[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_open_record_carries_file_access_rule_and_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_basename_stays_one_valid_line_with_exact_hex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_selector_path_and_container_are_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inactive_rule_and_drops_records, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

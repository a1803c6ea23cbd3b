// SPDX-License-Identifier: Apache-2.0
/* Exec and mitigation records: valid JSON lines whatever the process looks like. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/exec_record.h"
#include "json_check.h"

struct fixture {
	char path[64];
	struct sg_audit audit;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/sg-exec-record-XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	close(fd);
	if (sg_audit_open(&f->audit, f->path, false, "node-a"))
		return -1;
	sg_audit_set_policy_version(&f->audit, "v7");
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

/* Read the log back: every line must be one valid JSON object. */
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

static void hostile_facts(struct sg_exec_facts *f)
{
	static const char args[] = "sh\0-c\0echo \"}\n{\"event_id\":1}\0";
	static const char name[] = "/tmp/bad\xff\xfe\"\n\\name";

	memset(f, 0, sizeof(*f));
	f->sensor = SG_SENSOR_FANOTIFY;
	f->pid = 42;
	f->ppid = 1;
	memcpy(f->path, name, sizeof(name));
	f->path_len = sizeof(name) - 1;
	f->has_path = true;
	f->args = args;
	f->args_len = sizeof(args) - 2;
	strcpy(f->comm, "x\ty");
}

static void test_hostile_exe_yields_one_valid_line_with_hex(void **state)
{
	struct fixture *fx = *state;
	struct sg_verdict v = { .action = SG_ACTION_DENY };
	struct sg_exec_facts f;
	struct jc_doc docs[4];

	hostile_facts(&f);
	sg_record_exec(&fx->audit, NULL, &f, &v, SG_MODE_ENFORCE, "fanotify");
	assert_int_equal(read_lines(fx, docs, 4), 1);
	assert_string_equal(str_of(&docs[0], "type"), "exec");
	assert_string_equal(str_of(&docs[0], "decision"), "deny");
	assert_string_equal(str_of(&docs[0], "severity"), "critical");
	assert_string_equal(str_of(&docs[0], "policy_version"), "v7");
	assert_string_equal(str_of(&docs[0], "node_id"), "node-a");
	assert_string_equal(str_of(&docs[0], "enforced_by"), "fanotify");
	jc_doc_free(&docs[0]);
	/* The exact name survives in hex: 2f746d70 "/tmp", ff fe, 22 '"', 0a '\n', 5c '\\'. */
	assert_true(log_contains(fx, "\"exe_hex\":\"2f746d702f626164fffe220a5c6e616d65\""));
}

static void test_monitor_deny_is_warning_and_allow_is_info(void **state)
{
	struct fixture *fx = *state;
	struct sg_verdict deny = { .action = SG_ACTION_DENY };
	struct sg_verdict allow = { .action = SG_ACTION_ALLOW };
	struct sg_exec_facts f;
	struct jc_doc docs[4];

	hostile_facts(&f);
	sg_record_exec(&fx->audit, NULL, &f, &deny, SG_MODE_MONITOR, NULL);
	sg_record_exec(&fx->audit, NULL, &f, &allow, SG_MODE_ENFORCE, NULL);
	assert_int_equal(read_lines(fx, docs, 4), 2);
	assert_string_equal(str_of(&docs[0], "severity"), "warning");
	assert_string_equal(str_of(&docs[1], "severity"), "info");
	assert_true(strcmp(str_of(&docs[0], "event_id"), str_of(&docs[1], "event_id")) < 0);
	jc_doc_free(&docs[0]);
	jc_doc_free(&docs[1]);
}

static void test_failed_mitigation_is_critical_action_error(void **state)
{
	struct fixture *fx = *state;
	struct sg_exec_facts f;
	struct jc_doc docs[4];

	hostile_facts(&f);
	sg_record_mitigation(&fx->audit, NULL, &f, 0x2a, "pidfd_kill", "kill_after_exec", -3);
	sg_record_mitigation(&fx->audit, NULL, &f, 0x2b, "fanotify", "deny_exec", 0);
	assert_int_equal(read_lines(fx, docs, 4), 2);
	assert_string_equal(str_of(&docs[0], "type"), "action_error");
	assert_string_equal(str_of(&docs[0], "severity"), "critical");
	assert_string_equal(str_of(&docs[0], "result"), "failed");
	assert_string_equal(str_of(&docs[0], "decision_event_id"), "000000000000002a");
	assert_string_equal(str_of(&docs[1], "type"), "mitigation");
	assert_string_equal(str_of(&docs[1], "severity"), "info");
	jc_doc_free(&docs[0]);
	jc_doc_free(&docs[1]);
}

static void test_container_object_only_when_in_a_container(void **state)
{
	static const char id[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct fixture *fx = *state;
	struct sg_verdict allow = { .action = SG_ACTION_ALLOW };
	struct sg_exec_facts f;
	struct jc_doc docs[4];

	hostile_facts(&f);
	sg_record_exec(&fx->audit, NULL, &f, &allow, SG_MODE_ENFORCE, NULL);
	assert_false(log_contains(fx, "\"container\""));
	memcpy(f.container.id, id, sizeof(id));
	f.container.runtime = SG_RUNTIME_CRIO;
	strcpy(f.container.pod_uid, "6b9f2a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
	sg_record_exec(&fx->audit, NULL, &f, &allow, SG_MODE_ENFORCE, NULL);
	assert_int_equal(read_lines(fx, docs, 4), 2);
	jc_doc_free(&docs[0]);
	jc_doc_free(&docs[1]);
	assert_true(log_contains(fx, "\"cgroup_id\":0,\"container\":{\"id\":\"0123456789abcdef"
				 "0123456789abcdef0123456789abcdef0123456789abcdef\",\"runtime\":\"cri-o\","
				 "\"pod_uid\":\"6b9f2a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b\",\"verified\":false}}"));
	/* The runtime's state vouches for it: its fields, and the path as the container sees it. */
	strcpy(f.workload.id, "ctr1");
	f.workload.runtime = SG_RUNTIME_CONTAINERD;
	strcpy(f.workload.name, "web");
	strcpy(f.workload.image, "localhost/web:1");
	memcpy(f.workload.labels, "app\0db\0", 7);
	f.workload.labels_len = 7;
	f.workload.nlabels = 1;
	strcpy(f.container_path, "/usr/bin/nc");
	f.has_container_path = true;
	sg_record_exec(&fx->audit, NULL, &f, &allow, SG_MODE_ENFORCE, NULL);
	assert_true(log_contains(fx, "\"container\":{\"id\":\"ctr1\",\"runtime\":\"containerd\","
				 "\"name\":\"web\",\"image\":\"localhost/web:1\","
				 "\"pod_uid\":\"6b9f2a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b\",\"verified\":true,"
				 "\"labels\":{\"app\":\"db\"}},\"container_exe\":\"/usr/bin/nc\""));
}

/* An allow that an audit rule would have denied: "audit", would_deny, the audit rule named. */
static void test_audit_verdict_names_the_trial_rule(void **state)
{
	struct fixture *fx = *state;
	struct sg_rule trial = { .id = 4, .name = "trial", .action = SG_ACTION_AUDIT,
				 .kind = SG_MATCH_GLOB, .line = 9 };
	struct sg_verdict v = { .action = SG_ACTION_ALLOW, .audit = &trial };
	struct sg_exec_facts f;
	struct jc_doc docs[4];

	hostile_facts(&f);
	sg_record_exec(&fx->audit, NULL, &f, &v, SG_MODE_ENFORCE, NULL);
	assert_int_equal(read_lines(fx, docs, 4), 1);
	assert_string_equal(str_of(&docs[0], "decision"), "audit");
	assert_string_equal(str_of(&docs[0], "severity"), "warning");
	jc_doc_free(&docs[0]);
	assert_true(log_contains(fx, "\"decision\":\"audit\",\"would_deny\":true,\"mode\":\"enforce\","
				 "\"rule\":{\"id\":4,\"name\":\"trial\",\"kind\":\"glob\",\"line\":9},"
				 "\"default_action\":false,\"enforced_by\":null"));
}

/* A rule of a policy fragment: the record says which fragment and file it is in. */
static void test_fragment_rule_names_its_fragment_and_file(void **state)
{
	struct fixture *fx = *state;
	struct sg_rule r = { .id = 2, .name = "no-nc", .action = SG_ACTION_DENY,
			     .kind = SG_MATCH_PATH, .line = 3,
			     .source = "/etc/sysguard/policy.d/team-a.yaml", .fragment = "team-a" };
	struct sg_verdict v = { .action = SG_ACTION_DENY, .rule = &r };
	struct sg_exec_facts f;
	struct jc_doc docs[4];

	hostile_facts(&f);
	sg_record_exec(&fx->audit, NULL, &f, &v, SG_MODE_ENFORCE, NULL);
	assert_int_equal(read_lines(fx, docs, 4), 1);
	jc_doc_free(&docs[0]);
	assert_true(log_contains(fx, "\"rule\":{\"id\":2,\"name\":\"no-nc\",\"kind\":\"path\",\"line\":3,"
				 "\"fragment\":\"team-a\",\"file\":\"/etc/sysguard/policy.d/team-a.yaml\"},"
				 "\"default_action\":false"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostile_exe_yields_one_valid_line_with_hex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_deny_is_warning_and_allow_is_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_mitigation_is_critical_action_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_object_only_when_in_a_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verdict_names_the_trial_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragment_rule_names_its_fragment_and_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

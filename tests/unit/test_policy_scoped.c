// SPDX-License-Identifier: Apache-2.0
/* Rules scoped to containers (`container:`) and drift rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

static struct sg_policy *load(const char *yaml)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	if (sg_policy_parse(yaml, strlen(yaml), "t.yaml", &p, &err))
		fail_msg("parse failed: %s", err.message);
	return p;
}

static void expect_error(const char *yaml, unsigned line, const char *needle)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	assert_int_equal(sg_policy_parse(yaml, strlen(yaml), "t.yaml", &p, &err), -EINVAL);
	if (err.line != line || !strstr(err.message, needle))
		fail_msg("want line %u with '%s', got %u: %s", line, needle, err.line, err.message);
}

static char *keys_web[] = { "app", "team" };
static char *vals_web[] = { "web", "red" };

static const struct sg_workload_attrs WEB = {
	.id = "abcdef0123", .runtime = "podman", .name = "web-1",
	.image = "localhost/web:1.2", .image_digest = "sha256:00",
	.pod_namespace = "shop", .pod_name = "web-5d8f", .label_keys = keys_web,
	.label_values = vals_web, .nlabels = 2,
};
static const struct sg_workload_attrs DB = {
	.id = "99", .runtime = "containerd", .name = "db", .image = "localhost/db:7",
};

static enum sg_action decide(const struct sg_policy *p, const char *host, const char *cpath,
			     const struct sg_workload_attrs *w, const struct sg_rule **rule)
{
	struct sg_exec_subject s = { .path = host, .workload = w, .container_path = cpath };
	struct sg_verdict v;

	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_DONE);
	*rule = v.rule;
	return v.action;
}

static const char SCOPED[] =
	"version: s1\n"
	"mode: enforce\n"
	"default: allow\n"
	"rules:\n"
	"  - {name: nc-in-web, action: deny, path: /usr/bin/nc, container: {image: \"localhost/web:*\"}}\n"
	"  - {name: red-team, action: deny, glob: \"/tmp/**\", container: {labels: {team: red}}}\n"
	"  - {name: host-nc, action: deny, path: /usr/bin/nc}\n";

static void test_scoped_path_is_the_containers_path(void **state)
{
	struct sg_policy *p = load(SCOPED);
	const struct sg_rule *r;

	assert_int_equal(sg_policy_scoped_rule_count(p), 2);
	/* In a web container: its own /usr/bin/nc, whatever the host calls it. */
	assert_int_equal(decide(p, "/var/lib/x/merged/usr/bin/nc", "/usr/bin/nc", &WEB, &r),
			 SG_ACTION_DENY);
	assert_string_equal(r->name, "nc-in-web");
	/* Another image: untouched. */
	assert_int_equal(decide(p, "/var/lib/x/merged/usr/bin/nc", "/usr/bin/nc", &DB, &r),
			 SG_ACTION_ALLOW);
	/* The host: only the unscoped rule, on the host's path. */
	assert_int_equal(decide(p, "/usr/bin/nc", NULL, NULL, &r), SG_ACTION_DENY);
	assert_string_equal(r->name, "host-nc");
	/* A host path that looks like a container's name does not match a scoped rule. */
	assert_int_equal(decide(p, "/tmp/x", NULL, NULL, &r), SG_ACTION_ALLOW);
	sg_policy_free(p);
}

static void test_labels_must_all_match(void **state)
{
	struct sg_policy *p = load(SCOPED);
	const struct sg_rule *r;
	char *k[] = { "team" }, *v[] = { "blue" };
	struct sg_workload_attrs blue = WEB;

	assert_int_equal(decide(p, "/m/tmp/payload", "/tmp/payload", &WEB, &r), SG_ACTION_DENY);
	assert_string_equal(r->name, "red-team");
	blue.label_keys = k;
	blue.label_values = v;
	blue.nlabels = 1;
	assert_int_equal(decide(p, "/m/tmp/payload", "/tmp/payload", &blue, &r), SG_ACTION_ALLOW);
	sg_policy_free(p);
}

static void test_scoped_rules_stay_out_of_the_kernel_deny_set(void **state)
{
	struct sg_policy *p = load(SCOPED);
	size_t i, n = 0;

	/* Resolving would stat the host's /usr/bin/nc: the scoped rule must not take it. */
	for (i = 0; i < sg_policy_rule_count(p); i++)
		if (sg_policy_rule(p, i)->scope)
			assert_false(sg_policy_rule(p, i)->id_resolved), n++;
	assert_int_equal(n, 2);
	sg_policy_free(p);
}

static void test_scoped_sha_asks_for_the_hash(void **state)
{
	struct sg_policy *p = load("version: s2\nrules:\n"
				   "  - {action: deny, sha256: \"" "e3b0c44298fc1c149afbf4c8996fb924"
				   "27ae41e4649b934ca495991b7852b855\", container: {}}\n");
	struct sg_exec_subject s = { .path = "/m/x", .workload = &DB, .container_path = "/x" };
	struct sg_verdict v;

	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_NEED_HASH);
	/* On the host the scoped rule is not a reason to hash. */
	s.workload = NULL;
	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	sg_policy_free(p);
}

static bool always(const char *path, void *ctx)
{
	return !strcmp(path, (const char *)ctx);
}

static void test_scoped_identity_asks_the_caller(void **state)
{
	struct sg_policy *p = load("version: s3\nrules:\n"
				   "  - {action: deny, identity: /bin/sh, container: {name: \"web-*\"}}\n");
	struct sg_exec_subject s = { .path = "/m/bin/busybox", .workload = &WEB,
				     .container_path = "/bin/busybox", .is_container_file = always,
				     .ctx = "/bin/sh" };
	struct sg_verdict v;

	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_false(v.file_only);
	s.workload = &DB;
	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	sg_policy_free(p);
}

static void test_drift_rules_by_selector(void **state)
{
	struct sg_policy *p = load("version: d1\n"
				   "drift:\n"
				   "  - {name: web-drift, action: deny, container: {image: \"localhost/web:*\"}}\n"
				   "  - {action: audit, container: {}}\n");
	const struct sg_rule *r = sg_policy_drift_rule(p, &WEB);

	assert_non_null(r);
	assert_string_equal(r->name, "web-drift");
	assert_int_equal(r->action, SG_ACTION_DENY);
	assert_int_equal(r->kind, SG_MATCH_DRIFT);
	r = sg_policy_drift_rule(p, &DB);
	assert_non_null(r);
	assert_string_equal(r->name, "drift-2");
	assert_int_equal(r->action, SG_ACTION_AUDIT);
	assert_null(sg_policy_drift_rule(p, NULL));
	sg_policy_free(p);
}

static void test_bad_selectors_are_errors_with_lines(void **state)
{
	expect_error("version: e\nrules:\n  - {action: deny, path: /x, container: [a]}\n", 3,
		     "\"container\" must be a mapping");
	expect_error("version: e\nrules:\n  - {action: deny, path: /x, container: {imag: x}}\n", 3,
		     "imag");
	expect_error("version: e\nrules:\n  - {action: deny, path: /x, container: {runtime: lxc}}\n",
		     3, "podman, containerd, docker or cri-o");
	expect_error("version: e\nrules:\n  - {action: deny, path: /x, container: {image_digest: abc}}\n",
		     3, "sha256:");
	expect_error("version: e\nrules:\n  - {action: deny, path: /x, container: {labels: [a]}}\n",
		     3, "labels");
	expect_error("version: e\nrules:\n  - {action: deny, identity: {dev: 1, ino: 2}, container: {}}\n",
		     3, "identity as a path in the container");
	expect_error("version: e\ndrift:\n  - {action: deny}\n", 3, "missing \"container\"");
	expect_error("version: e\ndrift:\n  - {action: allow, container: {}}\n", 3,
		     "\"deny\" or \"audit\"");
}

static void test_egress_scope_bits(void **state)
{
	struct sg_policy *p = load("version: n1\n"
				   "egress:\n"
				   "  - {action: deny, cidr: 10.0.0.0/8}\n"
				   "  - {action: deny, cidr: 10.1.0.0/16, container: {image: \"localhost/web:*\"}}\n"
				   "  - {action: deny, cidr: 10.2.0.0/16, container: {runtime: containerd}}\n");

	assert_int_equal(sg_policy_net_rule(p, 0)->scope_bit, 0);
	assert_int_equal(sg_policy_net_rule(p, 1)->scope_bit, 1);
	assert_int_equal(sg_policy_net_rule(p, 2)->scope_bit, 2);
	assert_int_equal(sg_policy_net_scope_mask(p, &WEB), 1);
	assert_int_equal(sg_policy_net_scope_mask(p, &DB), 2);
	assert_int_equal(sg_policy_net_scope_mask(p, NULL), 0);
	sg_policy_free(p);
}

static void test_at_most_64_scoped_egress_rules(void **state)
{
	char y[16384];
	size_t n = (size_t)snprintf(y, sizeof(y), "version: n2\negress:\n");
	int i;

	for (i = 0; i < 65; i++)
		n += (size_t)snprintf(y + n, sizeof(y) - n,
				      "  - {action: deny, cidr: 10.0.0.%d/32, container: {}}\n", i);
	expect_error(y, 67, "at most 64 egress rules may carry \"container\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scoped_path_is_the_containers_path),
		cmocka_unit_test(test_labels_must_all_match),
		cmocka_unit_test(test_scoped_rules_stay_out_of_the_kernel_deny_set),
		cmocka_unit_test(test_scoped_sha_asks_for_the_hash),
		cmocka_unit_test(test_scoped_identity_asks_the_caller),
		cmocka_unit_test(test_drift_rules_by_selector),
		cmocka_unit_test(test_bad_selectors_are_errors_with_lines),
		cmocka_unit_test(test_egress_scope_bits),
		cmocka_unit_test(test_at_most_64_scoped_egress_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

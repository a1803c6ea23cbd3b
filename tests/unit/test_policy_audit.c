// SPDX-License-Identifier: Apache-2.0
/* "action: audit" rules: a deny on trial that never blocks, and never opens a hole. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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

static enum sg_eval_status eval(const struct sg_policy *p, const char *path, const uint8_t *sha,
				struct sg_verdict *v)
{
	struct sg_exec_subject s = { .path = path, .sha256 = sha };

	memset(v, 0xa5, sizeof(*v));
	return sg_policy_eval(p, &s, v);
}

static void test_audit_match_allows_and_names_the_rule(void **state)
{
	struct sg_policy *p = load("version: v\nmode: enforce\nrules:\n"
				   "  - {name: trial, action: audit, glob: \"/opt/**\"}\n"
				   "  - {name: real, action: deny, path: /opt/bad}\n");
	struct sg_verdict v;

	assert_int_equal(eval(p, "/opt/tool", NULL, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_null(v.rule);
	assert_non_null(v.audit);
	assert_string_equal(v.audit->name, "trial");
	assert_int_equal(v.audit->action, SG_ACTION_AUDIT);
	/* Every audited exec is to be recorded: never cached per file. */
	assert_false(v.file_only);
	/* A real deny still denies, and the audit rule is not reported. */
	assert_int_equal(eval(p, "/opt/bad", NULL, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_string_equal(v.rule->name, "real");
	assert_null(v.audit);
	/* No match: a plain allow. */
	eval(p, "/usr/bin/ls", NULL, &v);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_null(v.audit);
	assert_true(v.file_only);
	sg_policy_free(p);
}

static void test_audit_never_opens_a_default_deny(void **state)
{
	struct sg_policy *p = load("version: v\ndefault: deny\nrules:\n"
				   "  - {name: ok, action: allow, glob: \"/usr/bin/*\"}\n"
				   "  - {name: trial, action: audit, glob: \"/**/nc*\"}\n");
	struct sg_verdict v;

	eval(p, "/usr/bin/ncat", NULL, &v);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_string_equal(v.rule->name, "ok");
	assert_string_equal(v.audit->name, "trial");
	/* Not allowed by anything: the default deny stands. */
	eval(p, "/tmp/nc", NULL, &v);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_null(v.rule);
	assert_null(v.audit);
	sg_policy_free(p);
}

static void test_audit_hash_rule_asks_for_the_hash(void **state)
{
	static const uint8_t sha[SG_SHA256_LEN] = { 7 };
	struct sg_policy *p = load("version: v\nrules:\n"
				   "  - {name: trial, action: audit, sha256: \"07000000000000000000000000000000"
				   "00000000000000000000000000000000\"}\n");
	struct sg_verdict v;

	assert_int_equal(eval(p, "/usr/bin/x", NULL, &v), SG_EVAL_NEED_HASH);
	assert_int_equal(eval(p, "/usr/bin/x", sha, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_string_equal(v.audit->name, "trial");
	sg_policy_free(p);
}

static void count_rule(const struct sg_rule *r, void *ctx)
{
	int *n = ctx;

	assert_int_equal(r->action, SG_ACTION_DENY);
	(*n)++;
}

static int resolve_any(const char *path, struct sg_file_id *id, void *ctx)
{
	id->dev = 1;
	id->ino = strlen(path);
	return 0;
}

/* The kernel refuses what it is given without asking: audit rules must never reach it. */
static void test_audit_rules_are_not_kernel_denies(void **state)
{
	struct sg_policy *p = load("version: v\nmode: enforce\nrules:\n"
				   "  - {name: trial, action: audit, path: /usr/bin/a}\n"
				   "  - {name: trial-id, action: audit, identity: /usr/bin/bb}\n"
				   "  - {name: real, action: deny, path: /usr/bin/ccc}\n");
	int n = 0;

	sg_policy_resolve(p, resolve_any, NULL, NULL);
	sg_policy_foreach_kernel_deny(p, count_rule, &n);
	assert_int_equal(n, 1);
	assert_string_equal(sg_action_name(SG_ACTION_AUDIT), "audit");
	sg_policy_free(p);
}

static void test_bad_action_names_audit(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	const char *y = "version: v\nrules:\n  - {action: Audit, path: /a}\n";

	assert_int_equal(sg_policy_parse(y, strlen(y), "t.yaml", &p, &err), -22);
	assert_string_equal(err.message,
			    "t.yaml:3:14: rule 1: \"action\" must be \"allow\", \"deny\" or \"audit\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_match_allows_and_names_the_rule),
		cmocka_unit_test(test_audit_never_opens_a_default_deny),
		cmocka_unit_test(test_audit_hash_rule_asks_for_the_hash),
		cmocka_unit_test(test_audit_rules_are_not_kernel_denies),
		cmocka_unit_test(test_bad_action_names_audit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

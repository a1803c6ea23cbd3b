// SPDX-License-Identifier: Apache-2.0
/* policy check's lint: each warning at its exact line:col, and only for rules that really never act. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy/lint.h"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

struct msgs {
	char text[16][600];
	unsigned n;
};

static void collect(const struct sg_lint_msg *m, void *ctx)
{
	struct msgs *ms = ctx;

	if (ms->n < 16)
		snprintf(ms->text[ms->n++], sizeof(ms->text[0]), "%u:%u: %s", m->line, m->column,
			 m->text);
}

/* A host with a few names: /real/x is a file, /alias/x a symlink to it, /d a directory. */
static enum sg_lint_path fake_host(const char *path, char *real, size_t cap, void *ctx)
{
	if (!strcmp(path, "/real/x") || !strcmp(path, "/usr/bin/x"))
		return SG_LINT_PATH_FILE;
	if (!strcmp(path, "/d"))
		return SG_LINT_PATH_DIR;
	if (!strcmp(path, "/alias/x") || !strcmp(path, "/alias")) {
		snprintf(real, cap, "%s", !strcmp(path, "/alias") ? "/real" : "/real/x");
		return SG_LINT_PATH_ALIAS;
	}
	return SG_LINT_PATH_ABSENT;
}

static void lint(const char *yaml, struct msgs *ms)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	unsigned n;

	memset(ms, 0, sizeof(*ms));
	if (sg_policy_parse(yaml, strlen(yaml), "t.yaml", &p, &err))
		fail_msg("parse failed: %s", err.message);
	n = sg_policy_lint(p, fake_host, NULL, collect, ms);
	assert_int_equal(n, ms->n);
	sg_policy_free(p);
}

static void test_clean_policy_has_no_warning(void **state)
{
	struct msgs ms;

	lint("version: v\nmode: enforce\ndefault: deny\nrules:\n"
	     "  - {name: a, action: allow, glob: \"/usr/bin/*\"}\n"
	     "  - {name: b, action: deny, path: /usr/bin/x}\n"
	     "  - {name: c, action: deny, path: /opt/absent}\n"
	     "  - {name: d, action: deny, glob: \"/usr/bin/*\", parent: {path: /real/x}}\n",
	     &ms);
	assert_int_equal(ms.n, 0);
}

static void test_allow_under_default_allow(void **state)
{
	struct msgs ms;

	lint("version: v\nrules:\n"
	     "  - name: pointless\n"
	     "    action: allow\n"
	     "    path: /usr/bin/x\n",
	     &ms);
	assert_int_equal(ms.n, 1);
	assert_string_equal(ms.text[0], "3:5: rule 1 \"pointless\": allow never changes a decision: "
			    "the default is already allow, and an allow does not override a deny");
}

static void test_shadowed_same_target_same_action(void **state)
{
	struct msgs ms;

	lint("version: v\ndefault: deny\nrules:\n"
	     "  - {name: first, action: deny, glob: \"/tmp/**\"}\n"
	     "  - {name: again, action: deny, glob: \"/tmp/*.sh\"}\n"
	     "  - {name: p1, action: deny, path: /usr/bin/x}\n"
	     "  - {name: p2, action: deny, path: /usr/bin/x, parent: {glob: \"/**/nginx\"}}\n"
	     /* Not shadowed: the earlier one has a parent the later one does not need. */
	     "  - {name: q1, action: deny, path: /opt/q, parent: {glob: \"/**/nginx\"}}\n"
	     "  - {name: q2, action: deny, path: /opt/q}\n",
	     &ms);
	assert_int_equal(ms.n, 2);
	assert_string_equal(ms.text[0], "5:5: rule 2 \"again\": shadowed by rule 1 \"first\" (line 4), "
			    "which matches everything this rule matches and comes first, so this rule is "
			    "never the one that decides");
	assert_true(starts_with(ms.text[1], "7:5: rule 4 \"p2\": shadowed by rule 3 \"p1\" (line 6)"));
}

/* A later deny outranks an earlier allow: an allow a deny always covers never decides. */
static void test_allow_covered_by_deny(void **state)
{
	struct msgs ms;

	lint("version: v\ndefault: deny\nrules:\n"
	     "  - {name: ok, action: allow, path: /tmp/tool}\n"
	     "  - {name: trial, action: audit, glob: \"/tmp/x/*\"}\n"
	     "  - {name: no-tmp, action: deny, glob: \"/tmp/**\"}\n",
	     &ms);
	assert_int_equal(ms.n, 2);
	assert_string_equal(ms.text[0], "4:5: rule 1 \"ok\": never decides: every program it matches is "
			    "also denied by rule 3 \"no-tmp\" (line 6), and a deny always wins");
	if (!starts_with(ms.text[1], "5:5: rule 2 \"trial\": never decides"))
		fail_msg("got %s", ms.text[1]);
}

static void test_host_checks_point_at_the_target(void **state)
{
	struct msgs ms;

	lint("version: v\nrules:\n"
	     "  - name: gone\n"
	     "    action: deny\n"
	     "    identity: /opt/gone\n"
	     "  - {name: dir, action: deny, path: /d}\n"
	     "  - {name: via-alias, action: deny, glob: \"/alias/*\"}\n"
	     "  - {name: parent-alias, action: deny, path: /real/x, parent: {path: /alias/x}}\n"
	     "  - {name: empty, action: deny, sha256: "
	     "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}\n"
	     "  - {name: fine, action: deny, identity: /real/x}\n",
	     &ms);
	assert_int_equal(ms.n, 5);
	assert_string_equal(ms.text[0], "5:15: rule 1 \"gone\": identity /opt/gone does not exist on this "
			    "host; the rule stays inactive until it does and the policy is reloaded");
	assert_string_equal(ms.text[1], "6:37: rule 2 \"dir\": path /d is a directory; no program runs "
			    "under this name");
	assert_string_equal(ms.text[2], "7:43: rule 3 \"via-alias\": glob /alias/* is under /alias, a "
			    "symlink to /real on this host; exec paths are real names, so it matches "
			    "nothing here (write /real/*)");
	assert_true(starts_with(ms.text[3], "8:5: rule 4 \"parent-alias\": parent path /alias/x is a "
			     "symlink to /real/x"));
	assert_true(starts_with(ms.text[4], "9:41: rule 5 \"empty\": this is the SHA-256 of an empty file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_policy_has_no_warning),
		cmocka_unit_test(test_allow_under_default_allow),
		cmocka_unit_test(test_shadowed_same_target_same_action),
		cmocka_unit_test(test_allow_covered_by_deny),
		cmocka_unit_test(test_host_checks_point_at_the_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

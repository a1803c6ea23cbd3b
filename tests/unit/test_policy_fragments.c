// SPDX-License-Identifier: Apache-2.0
/*
 * Policy fragments (policy.d): the merge with the main policy, the names and
 * version it gives, every conflict between files (with both places in the
 * message), and the directory reader (order, ConfigMap artefacts, owners).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/lint.h"
#include "policy/policy.h"
#include "store/policy_dir.h"

static const char MAIN[] =
	"version: \"v7\"\n"
	"mode: enforce\n"
	"default: allow\n"
	"rules:\n"
	"  - {name: deny-nc, action: deny, path: /usr/bin/nc}\n"
	"egress:\n"
	"  - {name: no-meta, action: deny, cidr: 169.254.169.254/32}\n";

static const char TEAM_A[] =
	"name: team-a\n"
	"rules:\n"
	"  - {name: deny-curl, action: deny, path: /usr/bin/curl}\n"
	"  - {action: audit, glob: \"/opt/a/**\"}\n"
	"egress:\n"
	"  - {action: deny, cidr: 10.1.0.0/16}\n"
	"files:\n"
	"  - {path: /etc/a.conf}\n"
	"integrity:\n"
	"  - {name: a-watch, path: /etc/a}\n"
	"file_audit:\n"
	"  - {exe: /usr/bin/a}\n";

static const char TEAM_B[] =
	"# team b's rules\n"
	"name: team-b\n"
	"rules:\n"
	"  - {name: deny-wget, action: deny, path: /usr/bin/wget}\n";

#define F(src, text) ((struct sg_policy_file){ (src), (text), strlen(text) })

static struct sg_policy *merge(const struct sg_policy_file *frags, size_t n)
{
	struct sg_policy_file m = F("/etc/sysguard/policy.yaml", MAIN);
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	if (sg_policy_parse_set(&m, frags, n, &p, &err))
		fail_msg("merge failed: %s", err.message);
	return p;
}

/* The merge must fail with exactly `want` as the message, `file` as the place at fault. */
static void expect_conflict(const struct sg_policy_file *frags, size_t n, const char *file,
			    const char *want)
{
	struct sg_policy_file m = F("/etc/sysguard/policy.yaml", MAIN);
	struct sg_policy *p = (struct sg_policy *)0x1;
	struct sg_policy_error err;

	assert_int_equal(sg_policy_parse_set(&m, frags, n, &p, &err), -EINVAL);
	assert_ptr_equal(p, (struct sg_policy *)0x1);
	assert_string_equal(err.source, file);
	assert_string_equal(err.message, want);
}

static void test_merge_puts_main_first_then_fragments_in_order(void **state)
{
	struct sg_policy_file f[] = { F("d/a.yaml", TEAM_A), F("d/b.yaml", TEAM_B) };
	struct sg_policy *p = merge(f, 2);
	const struct sg_rule *r;

	assert_int_equal(sg_policy_rule_count(p), 4);
	r = sg_policy_rule(p, 0);
	assert_string_equal(r->name, "deny-nc");
	assert_null(r->fragment);
	assert_string_equal(r->source, "/etc/sysguard/policy.yaml");
	r = sg_policy_rule(p, 1);
	assert_int_equal(r->id, 2);
	assert_string_equal(r->name, "deny-curl");
	assert_string_equal(r->fragment, "team-a");
	assert_string_equal(r->source, "d/a.yaml");
	assert_int_equal(r->line, 3);
	/* Unnamed rules are named after their fragment, counted within it. */
	assert_string_equal(sg_policy_rule(p, 2)->name, "team-a/rule-2");
	r = sg_policy_rule(p, 3);
	assert_string_equal(r->name, "deny-wget");
	assert_string_equal(r->fragment, "team-b");
	assert_int_equal(r->line, 4);

	assert_int_equal(sg_policy_net_rule_count(p), 2);
	assert_null(sg_policy_net_rule(p, 0)->fragment);
	assert_int_equal(sg_policy_net_rule(p, 1)->id, 2);
	assert_string_equal(sg_policy_net_rule(p, 1)->name, "team-a/egress-1");
	assert_string_equal(sg_policy_net_rule(p, 1)->fragment, "team-a");
	assert_string_equal(sg_policy_file_rule(p, SG_FILES_PROTECT, 0)->name, "team-a/files-1");
	assert_int_equal(sg_policy_file_rule(p, SG_FILES_PROTECT, 0)->deny, SG_FDENY_DEFAULT);
	assert_string_equal(sg_policy_file_rule(p, SG_FILES_WATCH, 0)->name, "a-watch");
	assert_string_equal(sg_policy_file_rule(p, SG_FILES_WATCH, 0)->fragment, "team-a");
	assert_string_equal(sg_policy_file_rule(p, SG_FILES_TRACE, 0)->name, "team-a/file_audit-1");

	/* Global settings are the main policy's. */
	assert_int_equal(sg_policy_mode(p), SG_MODE_ENFORCE);
	assert_int_equal(sg_policy_fragment_count(p), 2);
	assert_string_equal(sg_policy_fragment_name(p, 0), "team-a");
	assert_string_equal(sg_policy_fragment_source(p, 1), "d/b.yaml");
	assert_null(sg_policy_fragment_name(p, 2));
	sg_policy_free(p);
}

static void test_fragment_rules_decide_like_main_rules(void **state)
{
	struct sg_policy_file f[] = { F("d/a.yaml", TEAM_A), F("d/b.yaml", TEAM_B) };
	struct sg_policy *p = merge(f, 2);
	struct sg_exec_subject s = { .path = "/usr/bin/wget" };
	struct sg_verdict v;

	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_string_equal(v.rule->name, "deny-wget");
	assert_string_equal(v.rule->fragment, "team-b");
	s.path = "/opt/a/tool";
	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_non_null(v.audit);
	assert_string_equal(v.audit->fragment, "team-a");
	sg_policy_free(p);
}

static void test_version_covers_every_fragment(void **state)
{
	struct sg_policy_file f[] = { F("d/a.yaml", TEAM_A), F("d/b.yaml", TEAM_B) };
	static const char team_b2[] = "name: team-b\nrules: []\n";
	struct sg_policy_file g[] = { F("d/a.yaml", TEAM_A), F("d/b.yaml", team_b2) };
	struct sg_policy *p = merge(f, 2), *q = merge(f, 2), *r = merge(g, 2), *m = merge(NULL, 0);
	const char *v = sg_policy_version(p);

	assert_string_equal(sg_policy_version(m), "v7");	/* no fragments: as before */
	assert_int_equal(strncmp(v, "v7+d2.", 6), 0);
	assert_int_equal(strlen(v), 6 + 12);
	assert_string_equal(v, sg_policy_version(q));		/* the same files, the same version */
	assert_string_not_equal(v, sg_policy_version(r));	/* any change shows */
	sg_policy_free(p);
	sg_policy_free(q);
	sg_policy_free(r);
	sg_policy_free(m);
}

static void test_longest_version_with_fragments_fits(void **state)
{
	char main_doc[256];
	struct sg_policy_file m, f[] = { F("d/b.yaml", TEAM_B) };
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	snprintf(main_doc, sizeof(main_doc), "version: \"%0*d\"\n", SG_POLICY_TAG_MAX - 1, 7);
	m = F("p.yaml", main_doc);
	assert_int_equal(sg_policy_parse_set(&m, f, 1, &p, &err), 0);
	assert_int_equal(strlen(sg_policy_version(p)), SG_POLICY_TAG_MAX - 1 + 4 + 12);
	sg_policy_free(p);
}

static void test_fragment_may_not_set_global_keys(void **state)
{
	static const char *const keys[] = { "version: \"x\"", "mode: monitor", "default: deny",
					     "fileless_exec: deny", "guard: {max_denies: 1}",
					     "scripts: {}", "libraries: []" };
	char doc[128], want[512], key[32];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct sg_policy_file f[] = { F("d/b.yaml", TEAM_B), { "d/c.yaml", doc, 0 } };

		snprintf(doc, sizeof(doc), "name: team-c\nrules: []\n%s\n", keys[i]);
		f[1].len = strlen(doc);
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(keys[i], ":"), keys[i]);
		snprintf(want, sizeof(want),
			 "d/c.yaml:3:1: a policy fragment cannot set \"%s\": version, mode, default, fileless_exec, guard, scripts and libraries belong to the main policy (/etc/sysguard/policy.yaml); a fragment has name: and rule lists only",
			 key);
		expect_conflict(f, 2, "d/c.yaml", want);
	}
}

static void test_rule_name_used_by_main_and_fragment(void **state)
{
	static const char doc[] = "name: team-c\nrules:\n  - {name: deny-nc, action: deny, path: /x}\n";
	struct sg_policy_file f[] = { F("d/c.yaml", doc) };

	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:3:12: rule name \"deny-nc\" is already used in /etc/sysguard/policy.yaml:5; give each rule its own name (rule names are unique across the policy and its fragments)");
}

static void test_rule_name_used_by_two_fragments(void **state)
{
	static const char doc[] =
		"name: team-c\nrules:\n  - {path: /y, action: allow}\n  - {action: deny, path: /x, name: deny-wget}\n";
	struct sg_policy_file f[] = { F("d/b.yaml", TEAM_B), F("d/c.yaml", doc) };

	expect_conflict(f, 2, "d/c.yaml",
			"d/c.yaml:4:36: rule name \"deny-wget\" is already used in d/b.yaml:4; give each rule its own name (rule names are unique across the policy and its fragments)");
}

static void test_rule_name_twice_in_one_fragment(void **state)
{
	static const char doc[] =
		"name: team-c\nrules:\n  - {name: x, action: deny, path: /x}\n  - {name: x, action: deny, path: /y}\n";
	struct sg_policy_file f[] = { F("d/c.yaml", doc) };

	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:4:12: rule 3: name \"x\" is already used by rule 2 (line 3); give each rule its own name");
}

static void test_fragment_name_used_twice(void **state)
{
	static const char doc[] = "rules: []\nname: team-b\n";
	struct sg_policy_file f[] = { F("d/b.yaml", TEAM_B), F("d/c.yaml", doc) };

	expect_conflict(f, 2, "d/c.yaml",
			"d/c.yaml:2:7: fragment name \"team-b\" is already used by d/b.yaml:2; give each fragment its own name");
}

static void test_fragment_needs_a_good_name(void **state)
{
	struct sg_policy_file f[1];

	f[0] = F("d/c.yaml", "rules: []\n");
	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:1:1: a policy fragment needs \"name\", e.g. name: team-a (its rules are recorded with it)");
	f[0] = F("d/c.yaml", "name: team/c\n");
	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:1:7: fragment \"name\" must be 1 to 40 letters, digits, \"-\", \"_\" or \".\", starting with a letter or digit, e.g. name: team-a");
	f[0] = F("d/c.yaml", "name: -c\n");
	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:1:7: fragment \"name\" must be 1 to 40 letters, digits, \"-\", \"_\" or \".\", starting with a letter or digit, e.g. name: team-a");
	f[0] = F("d/c.yaml", "name: [a]\n");
	expect_conflict(f, 1, "d/c.yaml", "d/c.yaml:1:7: fragment \"name\" must be a single value, not a list");
}

static void test_fragment_shape_errors(void **state)
{
	struct sg_policy_file f[1];

	f[0] = F("d/c.yaml", "");
	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:1:1: the policy fragment is empty; it needs at least name: and a rule list such as rules:");
	f[0] = F("d/c.yaml", "- a\n");
	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:1:1: a policy fragment must be a mapping with name: and rule lists such as rules:");
	f[0] = F("d/c.yaml", "name: c\nrulez: []\n");
	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:2:1: fragment: unknown key \"rulez\"; expected name, rules, egress, files, integrity, file_audit or drift");
	f[0] = F("d/c.yaml", "name: c\nrules:\n  - {action: deny}\n");
	expect_conflict(f, 1, "d/c.yaml",
			"d/c.yaml:3:5: rule 2: nothing to match; add one of path, glob, identity or sha256");
	/* The main policy may not have a name: (it is not a fragment). */
	{
		struct sg_policy_file m = F("p.yaml", "version: \"1\"\nname: x\n");
		struct sg_policy_error err;
		struct sg_policy *p = NULL;

		assert_int_equal(sg_policy_parse_set(&m, NULL, 0, &p, &err), -EINVAL);
		assert_non_null(strstr(err.message, "p.yaml:2:1: top level: unknown key \"name\""));
		assert_string_equal(err.source, "p.yaml");
	}
}

/* An error in the main policy is still the main policy's, fragments or not. */
static void test_main_policy_error_names_main(void **state)
{
	struct sg_policy_file m = F("p.yaml", "version: \"1\"\nmode: loud\n");
	struct sg_policy_file f[] = { F("d/b.yaml", TEAM_B) };
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	assert_int_equal(sg_policy_parse_set(&m, f, 1, &p, &err), -EINVAL);
	assert_string_equal(err.source, "p.yaml");
	assert_string_equal(err.message, "p.yaml:2:7: \"mode\" must be \"monitor\" or \"enforce\"");
}

struct lint_seen {
	char text[4][700];
	size_t n;
};

static void collect(const struct sg_lint_msg *m, void *ctx)
{
	struct lint_seen *s = ctx;

	if (s->n < 4)
		snprintf(s->text[s->n++], sizeof(s->text[0]), "%s:%u: %s", m->source, m->line, m->text);
}

/* Lint across files: a fragment's rule shadowed by the main policy's says where that one is. */
static void test_lint_names_the_other_file(void **state)
{
	static const char doc[] = "name: team-c\nrules:\n  - {name: again, action: deny, path: /usr/bin/nc}\n";
	struct sg_policy_file f[] = { F("d/c.yaml", doc) };
	struct sg_policy *p = merge(f, 1);
	struct lint_seen s = { 0 };

	assert_int_equal(sg_policy_lint(p, NULL, NULL, collect, &s), 1);
	assert_string_equal(s.text[0],
			    "d/c.yaml:3: rule 2 \"again\": shadowed by rule 1 \"deny-nc\" (/etc/sysguard/policy.yaml:5), which matches everything this rule matches and comes first, so this rule is never the one that decides");
	sg_policy_free(p);
}

/* ---- the directory ---- */

struct dir_fixture {
	char dir[64];
};

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int dir_setup(void **state)
{
	struct dir_fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/sg-policy-d-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chmod(f->dir, 0755), 0);
	*state = f;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir_fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_dir_reads_fragments_in_byte_order(void **state)
{
	struct dir_fixture *f = *state;
	struct sg_policy_dir d;
	char err[512], path[256], want[256];

	put(f->dir, "b.yml", "name: b\n", 0644);
	put(f->dir, "B.yaml", "name: B\n", 0644);
	put(f->dir, "a.yaml", "name: a\n", 0644);
	put(f->dir, "10-x.yaml", "name: x\n", 0644);
	put(f->dir, "notes.txt", "x", 0644);
	put(f->dir, ".hidden.yaml", "junk: [", 0644);
	put(f->dir, "a.yaml~", "junk: [", 0644);
	assert_int_equal(sg_policy_dir_read(f->dir, true, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 4);
	snprintf(want, sizeof(want), "%s/10-x.yaml", f->dir);
	assert_string_equal(d.files[0].source, want);
	snprintf(want, sizeof(want), "%s/B.yaml", f->dir);
	assert_string_equal(d.files[1].source, want);
	snprintf(want, sizeof(want), "%s/a.yaml", f->dir);
	assert_string_equal(d.files[2].source, want);
	assert_string_equal(d.files[2].buf, "name: a\n");
	assert_int_equal(d.files[2].len, 8);
	snprintf(want, sizeof(want), "%s/b.yml", f->dir);
	assert_string_equal(d.files[3].source, want);
	sg_policy_dir_free(&d);
	/* DIR/ names its files DIR/NAME too. */
	snprintf(path, sizeof(path), "%s/", f->dir);
	assert_int_equal(sg_policy_dir_read(path, true, &d, err, sizeof(err)), 0);
	assert_string_equal(d.files[3].source, want);
	sg_policy_dir_free(&d);
}

/* A ConfigMap volume: keys are symlinks through ..data into a hidden timestamped directory. */
static void test_dir_follows_configmap_links_and_skips_its_artefacts(void **state)
{
	struct dir_fixture *f = *state;
	struct sg_policy_dir d;
	char err[512], path[256], want[256];

	snprintf(path, sizeof(path), "%s/..2026_12_02_05_00_00.123", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	put(path, "team-a.yaml", "name: team-a\n", 0644);
	put(path, "skip.yaml", "name: never-linked\n", 0644);
	snprintf(path, sizeof(path), "%s/..data", f->dir);
	assert_int_equal(symlink("..2026_12_02_05_00_00.123", path), 0);
	snprintf(path, sizeof(path), "%s/team-a.yaml", f->dir);
	assert_int_equal(symlink("..data/team-a.yaml", path), 0);
	assert_int_equal(sg_policy_dir_read(f->dir, true, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 1);
	snprintf(want, sizeof(want), "%s/team-a.yaml", f->dir);
	assert_string_equal(d.files[0].source, want);	/* the key's name, not the target's */
	assert_string_equal(d.files[0].buf, "name: team-a\n");
	sg_policy_dir_free(&d);
}

static void test_dir_absent_is_no_fragments(void **state)
{
	struct sg_policy_dir d;
	char err[512];

	assert_int_equal(sg_policy_dir_read("/nonexistent-sg/policy.d", true, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 0);
	sg_policy_dir_free(&d);
}

static void test_dir_refuses_what_is_not_a_fragment_file(void **state)
{
	struct dir_fixture *f = *state;
	struct sg_policy_dir d;
	char err[512], path[256], want[600];

	snprintf(path, sizeof(path), "%s/gone.yaml", f->dir);
	assert_int_equal(symlink("..data/gone.yaml", path), 0);
	assert_int_equal(sg_policy_dir_read(f->dir, true, &d, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(d.n, 0);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(sg_policy_dir_read(f->dir, true, &d, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(err, want);
	assert_int_equal(unlink(path), 0);
}

/* Whoever can write a fragment can change the policy: only root may (the daemon's check). */
static void test_dir_owner_check(void **state)
{
	struct dir_fixture *f = *state;
	struct sg_policy_dir d;
	char err[512], want[600];

	if (geteuid() != 0)
		fail_msg("this test checks root ownership and must run as root");
	put(f->dir, "a.yaml", "name: a\n", 0664);
	assert_int_equal(sg_policy_dir_read(f->dir, true, &d, err, sizeof(err)), -EPERM);
	snprintf(want, sizeof(want),
		 "%s/a.yaml: refused: writable by group or others (a policy fragment must be root's and writable by root only)",
		 f->dir);
	assert_string_equal(err, want);
	/* sysguardctl policy check reads files under review: no owner check. */
	assert_int_equal(sg_policy_dir_read(f->dir, false, &d, err, sizeof(err)), 0);
	assert_int_equal(d.n, 1);
	sg_policy_dir_free(&d);

	put(f->dir, "a.yaml", "name: a\n", 0644);
	assert_int_equal(chown(f->dir, 65534, 0), 0);
	assert_int_equal(sg_policy_dir_read(f->dir, true, &d, err, sizeof(err)), -EPERM);
	snprintf(want, sizeof(want),
		 "%s: refused: not owned by root (a policy fragment must be root's and writable by root only)",
		 f->dir);
	assert_string_equal(err, want);
	assert_int_equal(chown(f->dir, 0, 0), 0);
	assert_int_equal(sg_policy_dir_read(f->dir, true, &d, err, sizeof(err)), 0);
	sg_policy_dir_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_puts_main_first_then_fragments_in_order),
		cmocka_unit_test(test_fragment_rules_decide_like_main_rules),
		cmocka_unit_test(test_version_covers_every_fragment),
		cmocka_unit_test(test_longest_version_with_fragments_fits),
		cmocka_unit_test(test_fragment_may_not_set_global_keys),
		cmocka_unit_test(test_rule_name_used_by_main_and_fragment),
		cmocka_unit_test(test_rule_name_used_by_two_fragments),
		cmocka_unit_test(test_rule_name_twice_in_one_fragment),
		cmocka_unit_test(test_fragment_name_used_twice),
		cmocka_unit_test(test_fragment_needs_a_good_name),
		cmocka_unit_test(test_fragment_shape_errors),
		cmocka_unit_test(test_main_policy_error_names_main),
		cmocka_unit_test(test_lint_names_the_other_file),
		cmocka_unit_test_setup_teardown(test_dir_reads_fragments_in_byte_order, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_dir_follows_configmap_links_and_skips_its_artefacts,
						dir_setup, dir_teardown),
		cmocka_unit_test(test_dir_absent_is_no_fragments),
		cmocka_unit_test_setup_teardown(test_dir_refuses_what_is_not_a_fragment_file, dir_setup,
						dir_teardown),
		cmocka_unit_test_setup_teardown(test_dir_owner_check, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

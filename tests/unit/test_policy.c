// SPDX-License-Identifier: Apache-2.0
/* Policy engine: parsing, validation messages, precedence and evaluation protocol. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/glob.h"
#include "policy/policy.h"

static const uint8_t SHA_A[SG_SHA256_LEN] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};
#define SHA_A_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_A_HEX_UPPER "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
static const uint8_t SHA_B[SG_SHA256_LEN] = { 1, 2, 3 };

static struct sg_policy *load(const char *yaml)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	int rc = sg_policy_parse(yaml, strlen(yaml), "test.yaml", &p, &err);

	if (rc)
		fail_msg("parse failed (%d): %s", rc, err.message);
	assert_non_null(p);
	return p;
}

/* Parsing must fail with -EINVAL at `line`, with `needle` in the message. */
static void expect_error_len(const char *yaml, size_t len, unsigned line, const char *needle)
{
	struct sg_policy *p = (struct sg_policy *)0x1;
	struct sg_policy_error err;
	int rc = sg_policy_parse(yaml, len, "test.yaml", &p, &err);

	assert_int_equal(rc, -EINVAL);
	assert_ptr_equal(p, (struct sg_policy *)0x1);	/* *out untouched */
	if (err.line != line || !strstr(err.message, needle))
		fail_msg("want line %u containing '%s', got line %u: %s", line, needle,
			 err.line, err.message);
}

static void expect_error(const char *yaml, unsigned line, const char *needle)
{
	expect_error_len(yaml, strlen(yaml), line, needle);
}

struct subject {
	const char *path;
	const struct sg_file_id *id;
	const uint8_t *sha;
	const char *parent;
};

static enum sg_eval_status eval(const struct sg_policy *p, struct subject s, struct sg_verdict *v)
{
	struct sg_exec_subject es = {
		.path = s.path, .id = s.id, .sha256 = s.sha, .parent_path = s.parent,
	};

	memset(v, 0xa5, sizeof(*v));
	return sg_policy_eval(p, &es, v);
}

/* Evaluate with full information and return the deciding rule's name, or "default". */
static const char *decide(const struct sg_policy *p, struct subject s, enum sg_action *action)
{
	struct sg_verdict v;

	assert_int_equal(eval(p, s, &v), SG_EVAL_DONE);
	*action = v.action;
	return v.rule ? v.rule->name : "default";
}

#define HDR "version: \"t1\"\n"

/* ---- parsing ---- */

static void test_parses_header_fields(void **state)
{
	struct sg_policy *p = load("version: \"2026-11-23.1\"\n"
				   "mode: enforce\n"
				   "default: deny\n"
				   "fileless_exec: deny\n"
				   "rules: []\n");

	assert_string_equal(sg_policy_version(p), "2026-11-23.1");
	assert_int_equal(sg_policy_mode(p), SG_MODE_ENFORCE);
	assert_int_equal(sg_policy_default_action(p), SG_ACTION_DENY);
	assert_int_equal(sg_policy_fileless(p), SG_FILELESS_DENY);
	assert_int_equal(sg_policy_rule_count(p), 0);
	assert_false(sg_policy_has_hash_rules(p));
	sg_policy_free(p);
}

static void test_defaults_are_monitor_allow_inspect(void **state)
{
	struct sg_policy *p = load("version: 2026.1\n");

	assert_string_equal(sg_policy_version(p), "2026.1");
	assert_int_equal(sg_policy_mode(p), SG_MODE_MONITOR);
	assert_int_equal(sg_policy_default_action(p), SG_ACTION_ALLOW);
	assert_int_equal(sg_policy_fileless(p), SG_FILELESS_INSPECT);
	sg_policy_free(p);
}

static void test_monitor_mode_parses(void **state)
{
	struct sg_policy *p = load(HDR "mode: monitor\ndefault: allow\nfileless_exec: inspect\n");

	assert_int_equal(sg_policy_mode(p), SG_MODE_MONITOR);
	sg_policy_free(p);
}

static void test_rules_key_may_be_empty(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n  # all commented out\n");

	assert_int_equal(sg_policy_rule_count(p), 0);
	sg_policy_free(p);
}

static void test_rule_fields_of_every_kind(void **state)
{
	struct sg_policy *p = load(HDR
		"rules:\n"
		"  - name: no-netcat\n"			/* line 3 */
		"    action: deny\n"
		"    path: /usr/bin/nc\n"
		"  - action: allow\n"			/* line 6 */
		"    glob: \"/opt/**\"\n"
		"  - action: deny\n"			/* line 8 */
		"    identity: /usr/local/bin/miner\n"
		"  - action: deny\n"			/* line 10 */
		"    identity: {dev: 2049, ino: 0x4d2}\n"
		"  - action: deny\n"			/* line 12 */
		"    sha256: \"" SHA_A_HEX_UPPER "\"\n"
		"  - name: sh-from-nginx\n"		/* line 14 */
		"    action: deny\n"
		"    path: /bin/sh\n"
		"    parent: {glob: \"/usr/**/nginx\"}\n");
	const struct sg_rule *r;

	assert_int_equal(sg_policy_rule_count(p), 6);
	assert_true(sg_policy_has_hash_rules(p));

	r = sg_policy_rule(p, 0);
	assert_int_equal(r->id, 1);
	assert_string_equal(r->name, "no-netcat");
	assert_int_equal(r->action, SG_ACTION_DENY);
	assert_int_equal(r->kind, SG_MATCH_PATH);
	assert_string_equal(r->pattern, "/usr/bin/nc");
	assert_null(r->parent_pattern);
	assert_int_equal(r->line, 3);

	r = sg_policy_rule(p, 1);
	assert_string_equal(r->name, "rule-2");
	assert_int_equal(r->action, SG_ACTION_ALLOW);
	assert_int_equal(r->kind, SG_MATCH_GLOB);
	assert_string_equal(r->pattern, "/opt/**");
	assert_int_equal(r->line, 6);

	r = sg_policy_rule(p, 2);
	assert_int_equal(r->kind, SG_MATCH_IDENTITY);
	assert_string_equal(r->pattern, "/usr/local/bin/miner");
	assert_false(r->id_resolved);

	r = sg_policy_rule(p, 3);
	assert_int_equal(r->kind, SG_MATCH_IDENTITY);
	assert_null(r->pattern);
	assert_true(r->id_resolved);
	assert_int_equal(r->id_target.dev, 2049);
	assert_int_equal(r->id_target.ino, 1234);

	r = sg_policy_rule(p, 4);
	assert_int_equal(r->kind, SG_MATCH_SHA256);
	assert_memory_equal(r->sha256, SHA_A, SG_SHA256_LEN);

	r = sg_policy_rule(p, 5);
	assert_int_equal(r->id, 6);
	assert_string_equal(r->name, "sh-from-nginx");
	assert_string_equal(r->parent_pattern, "/usr/**/nginx");
	assert_true(r->parent_is_glob);
	assert_int_equal(r->line, 14);

	assert_null(sg_policy_rule(p, 6));
	sg_policy_free(p);
}

static void test_flow_style_rules_parse(void **state)
{
	struct sg_policy *p = load("{version: x, rules: [{action: deny, path: /a}, "
				   "{action: allow, sha256: " SHA_A_HEX "}]}");

	assert_int_equal(sg_policy_rule_count(p), 2);
	sg_policy_free(p);
}

/* ---- validation: every error names its line ---- */

static void test_error_names_source_line_and_column(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	const char *y = HDR "rules:\n  - action: maybe\n    path: /a\n";

	assert_int_equal(sg_policy_parse(y, strlen(y), "/etc/sysguard/policy.yaml", &p, &err),
			 -EINVAL);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 13);
	assert_string_equal(err.message, "/etc/sysguard/policy.yaml:3:13: "
			    "rule 1: \"action\" must be \"allow\", \"deny\" or \"audit\"");
}

static void test_rejects_bad_action_with_line(void **state)
{
	expect_error(HDR "rules:\n"
		     "  - {action: deny, path: /a}\n"
		     "  - {action: allow, path: /b}\n"
		     "  - action: Deny\n"
		     "    path: /c\n",
		     5, "rule 3: \"action\" must be \"allow\", \"deny\" or \"audit\"");
}

static void test_rejects_missing_version_with_line(void **state)
{
	expect_error("mode: enforce\nrules: []\n", 1, "missing \"version\"");
}

static void test_rejects_bad_version(void **state)
{
	expect_error("version: \"\"\n", 1, "\"version\" must be 1 to 63");
	expect_error("version: ~\n", 1, "\"version\" must be 1 to 63");
	expect_error("mode: enforce\nversion:\n", 2, "\"version\" must be 1 to 63");
	expect_error("version: \"a\\tb\"\n", 1, "printable");
	expect_error("version: \"0123456789012345678901234567890123456789012345678901234567890123\"\n",
		     1, "1 to 63");
	expect_error("version: [1]\n", 1, "\"version\" must be a single value, not a list");
}

static void test_rejects_bad_enums_with_line(void **state)
{
	expect_error(HDR "mode: block\n", 2, "\"mode\" must be \"monitor\" or \"enforce\"");
	expect_error(HDR "default: Allow\n", 2, "\"default\" must be \"allow\" or \"deny\"");
	expect_error(HDR "fileless_exec: kill\n", 2,
		     "\"fileless_exec\" must be \"inspect\" or \"deny\"");
	expect_error(HDR "mode:\n", 2, "\"mode\" must be");
	expect_error(HDR "mode: {a: b}\n", 2, "not a mapping");
}

static void test_rejects_unknown_keys_with_line(void **state)
{
	expect_error(HDR "\nmodes: enforce\n", 3,
		     "top level: unknown key \"modes\"; expected version, mode, default, fileless_exec, rules, egress, files, integrity, file_audit, guard, drift, scripts or libraries");
	expect_error(HDR "rules:\n  - action: deny\n    path: /a\n    comment: x\n", 5,
		     "rule 1: unknown key \"comment\"");
	expect_error(HDR "rules:\n  - action: deny\n    identity: {dev: 1, ino: 2, gen: 3}\n", 4,
		     "rule 1: identity: unknown key \"gen\"");
	expect_error(HDR "rules:\n  - action: deny\n    path: /a\n    parent: {comm: nginx}\n", 5,
		     "rule 1: parent: unknown key \"comm\"");
}

static void test_rejects_duplicate_keys_with_line(void **state)
{
	expect_error(HDR "mode: enforce\nmode: monitor\n", 3, "duplicate key \"mode\"");
	expect_error(HDR "rules:\n  - action: deny\n    action: allow\n    path: /a\n", 4,
		     "rule 1: duplicate key \"action\"");
	expect_error(HDR "rules:\n  - action: deny\n    path: /a\n    path: /b\n", 5,
		     "rule 1: duplicate key \"path\"");
	expect_error(HDR "rules: []\nrules: []\n", 3, "duplicate key \"rules\"");
}

static void test_rejects_two_matchers_with_line(void **state)
{
	expect_error(HDR "rules:\n"
		     "  - action: deny\n"
		     "    path: /usr/bin/nc\n"
		     "    glob: /usr/bin/nc*\n",
		     5, "rule 1: has both \"path\" and \"glob\"; a rule takes exactly one");
	expect_error(HDR "rules:\n"
		     "  - {action: deny, path: /a}\n"
		     "  - action: deny\n"
		     "    sha256: " SHA_A_HEX "\n"
		     "    identity: /x\n",
		     6, "rule 2: has both \"sha256\" and \"identity\"");
}

static void test_rejects_rule_without_matcher_with_line(void **state)
{
	expect_error(HDR "rules:\n  - {action: deny, path: /a}\n\n  - name: x\n    action: deny\n",
		     5, "rule 2: nothing to match; add one of path, glob, identity or sha256");
}

static void test_rejects_rule_without_action_with_line(void **state)
{
	expect_error(HDR "rules:\n  - path: /a\n", 3, "rule 1: missing \"action\"");
}

static void test_rejects_relative_path_with_line(void **state)
{
	expect_error(HDR "rules:\n  - action: deny\n    path: nc\n", 4,
		     "rule 1: \"path\" must be an absolute path");
	expect_error(HDR "rules:\n  - action: deny\n    glob: \"*/nc\"\n", 4,
		     "rule 1: \"glob\" must be an absolute path");
	expect_error(HDR "rules:\n  - action: deny\n    identity: bin/x\n", 4,
		     "rule 1: \"identity\" must be an absolute path");
	expect_error(HDR "rules:\n  - action: deny\n    path: /a\n    parent: {path: nginx}\n", 5,
		     "rule 1: parent \"path\" must be an absolute path");
	expect_error(HDR "rules:\n  - action: deny\n    path: \"\"\n", 4, "must not be empty");
}

static void test_rejects_non_canonical_exact_paths(void **state)
{
	static const char *const bad[] = {
		"/usr//bin/nc", "/usr/bin/", "/usr/./bin/nc", "/usr/../bin/nc", "/usr/bin/..",
		"/usr/bin/.",
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), HDR "rules:\n  - action: deny\n    path: %s\n", bad[i]);
		expect_error(buf, 4, "canonical");
	}
	/* Dots inside a name are fine, and "/" itself is canonical. */
	sg_policy_free(load(HDR "rules:\n  - {action: deny, path: /a/.hidden/..x/x.}\n"
			    "  - {action: deny, path: /}\n"));
}

static void test_rejects_bad_hex_with_line(void **state)
{
	expect_error(HDR "rules:\n  - action: deny\n    sha256: abc\n", 4,
		     "rule 1: \"sha256\" must be 64 hexadecimal digits");
	expect_error(HDR "rules:\n  - action: deny\n"
		     "    sha256: g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
		     4, "64 hexadecimal digits");
	expect_error(HDR "rules:\n  - action: deny\n    sha256: " SHA_A_HEX "0\n", 4,
		     "64 hexadecimal digits");
}

static void test_rejects_bad_identity_with_line(void **state)
{
	expect_error(HDR "rules:\n  - action: deny\n    identity: {dev: 1}\n", 4,
		     "identity needs both \"dev\" and \"ino\"");
	expect_error(HDR "rules:\n  - action: deny\n    identity: {dev: -1, ino: 2}\n", 4,
		     "rule 1: identity \"dev\" must be a number");
	expect_error(HDR "rules:\n  - action: deny\n    identity: {dev: 1, ino: 18446744073709551616}\n",
		     4, "identity \"ino\" must be a number");
	expect_error(HDR "rules:\n  - action: deny\n    identity: {dev: 1, ino: 0}\n", 4,
		     "must not be 0");
	expect_error(HDR "rules:\n  - action: deny\n    identity: [1, 2]\n", 4, "not a list");
}

static void test_rejects_bad_parent_with_line(void **state)
{
	expect_error(HDR "rules:\n  - action: deny\n    path: /bin/sh\n    parent: /usr/sbin/nginx\n",
		     5, "rule 1: \"parent\" must be a mapping");
	expect_error(HDR "rules:\n  - action: deny\n    path: /bin/sh\n    parent: {}\n",
		     5, "parent needs \"path\" or \"glob\"");
	expect_error(HDR "rules:\n  - action: deny\n    path: /bin/sh\n"
		     "    parent:\n      path: /a\n      glob: /b*\n",
		     7, "parent has both \"path\" and \"glob\"");
	expect_error(HDR "rules:\n  - action: deny\n    path: /bin/sh\n    parent: {glob: \"/a/[x\"}\n",
		     5, "unterminated");
}

static void test_rejects_bad_glob_with_line(void **state)
{
	expect_error(HDR "rules:\n  - action: deny\n    glob: \"/tmp/[z-a]\"\n", 4,
		     "rule 1: \"glob\": reversed range");
}

static void test_rejects_bad_names_with_line(void **state)
{
	expect_error(HDR "rules:\n  - action: deny\n    path: /a\n    name: \"\"\n", 5,
		     "\"name\" must be 1 to 63");
	expect_error(HDR "rules:\n  - action: deny\n    path: /a\n"
		     "    name: 0123456789012345678901234567890123456789012345678901234567890123\n",
		     5, "1 to 63");
	expect_error(HDR "rules:\n  - action: deny\n    path: /a\n    name: \"a\\nb\"\n", 5,
		     "control characters");
}

static void test_rejects_duplicate_rule_names_with_line(void **state)
{
	expect_error(HDR "rules:\n"
		     "  - {name: x, action: deny, path: /a}\n"
		     "  - {action: deny, path: /b}\n"
		     "  - {name: x, action: deny, path: /c}\n",
		     5, "rule 3: name \"x\" is already used by rule 1 (line 3)");
	/* An explicit name cannot take a default name either. */
	expect_error(HDR "rules:\n"
		     "  - {name: rule-2, action: deny, path: /a}\n"
		     "  - {action: deny, path: /b}\n",
		     4, "rule 2: name \"rule-2\" is already used by rule 1");
}

static void test_rejects_wrong_types_with_line(void **state)
{
	expect_error(HDR "rules: {action: deny}\n", 2, "\"rules\" must be a list");
	expect_error(HDR "rules:\n  - /usr/bin/nc\n", 3, "rule 1 must be a mapping");
	expect_error(HDR "rules:\n  - action: [deny]\n    path: /a\n", 3,
		     "rule 1: \"action\" must be a single value, not a list");
	expect_error(HDR "rules:\n  - action: deny\n    path: {x: 1}\n", 4, "not a mapping");
	expect_error(HDR "[a]: b\n", 2, "keys must be plain words");
}

static void test_rejects_aliases_with_line(void **state)
{
	expect_error(HDR "rules:\n  - &r {action: deny, path: /a}\n  - *r\n", 4,
		     "alias *r is not allowed");
	expect_error("x: &v \"1\"\nversion: *v\n", 1, "unknown key \"x\"");
	expect_error("version: &v \"1\"\nmode: *v\n", 2, "alias *v");
}

static void test_rejects_empty_and_non_mapping_documents(void **state)
{
	expect_error_len("", 0, 1, "policy is empty");
	expect_error("# only a comment\n", 2, "policy is empty");
	expect_error("---\n", 2, "policy is empty");
	expect_error("just a string\n", 1, "must be a mapping");
	expect_error("- a\n- b\n", 1, "must be a mapping");
	expect_error(HDR "---\n" HDR, 2, "only one YAML document");
}

static void test_rejects_nul_bytes(void **state)
{
	static const char raw[] = "version: \"a\0b\"\n";

	expect_error_len(raw, sizeof(raw) - 1, 1, "YAML syntax error");
	expect_error(HDR "rules:\n  - action: deny\n    path: \"/usr/bin/nc\\0x\"\n", 4,
		     "rule 1: \"path\" contains a NUL byte");
	expect_error("\"ver\\0sion\": x\n", 1, "unknown key \"ver\\x00sion\"");
}

static void test_syntax_error_has_line(void **state)
{
	expect_error(HDR "mode: enforce: x\n", 2, "YAML syntax error: mapping values are not allowed");
	expect_error(HDR "mode: \"enforce\n", 3,
		     "while scanning a quoted scalar started at line 2, column 7");
}

static void test_rejects_oversized_document(void **state)
{
	size_t len = (16u << 20) + 1;
	char *big = malloc(len);
	struct sg_policy_error err;
	struct sg_policy *p = NULL;

	assert_non_null(big);
	memset(big, ' ', len);
	assert_int_equal(sg_policy_parse(big, len, "big.yaml", &p, &err), -EFBIG);
	assert_null(p);
	assert_non_null(strstr(err.message, "16 MiB"));
	free(big);
}

static void test_survives_deep_nesting(void **state)
{
	static const char *const open[] = { "[", "{a: ", "- ", "{", "? " };
	size_t depth = 100000, i, k;

	for (k = 0; k < sizeof(open) / sizeof(open[0]); k++) {
		size_t w = strlen(open[k]);
		char *y = malloc(sizeof(HDR) + depth * w + 16);
		struct sg_policy_error err;
		struct sg_policy *p = NULL;
		size_t len;

		assert_non_null(y);
		len = sprintf(y, HDR "rules: ");
		for (i = 0; i < depth; i++, len += w)
			memcpy(y + len, open[k], w);
		assert_true(sg_policy_parse(y, len, "deep.yaml", &p, &err) < 0);
		assert_null(p);
		/* As the root, too. */
		assert_true(sg_policy_parse(y + sizeof(HDR) + 6, len - sizeof(HDR) - 6, "deep.yaml",
					    &p, &err) < 0);
		assert_null(p);
		free(y);
	}
}

/* Every prefix and a stream of byte mutations of a valid policy: never crash. */
static void test_survives_truncation_and_mutation(void **state)
{
	static const char base[] = "version: \"v1\"\nmode: enforce\ndefault: deny\n"
		"rules:\n"
		"  - {name: a, action: deny, path: /usr/bin/nc}\n"
		"  - action: allow\n    glob: \"/opt/**/[a-z]*\"\n"
		"  - action: deny\n    identity: {dev: 1, ino: 2}\n"
		"  - action: deny\n    sha256: " SHA_A_HEX "\n"
		"  - action: deny\n    path: /bin/sh\n    parent: {path: /usr/sbin/nginx}\n";
	static const char junk[] = "\0\n\t :-[]{}*&!|>'\"\\?,#%@`~\xff\x80/";
	size_t len = sizeof(base) - 1, i;
	char buf[sizeof(base)];
	unsigned seed = 12345;
	int n;

	for (i = 0; i <= len; i++) {
		struct sg_policy_error err;
		struct sg_policy *p = NULL;

		memcpy(buf, base, i);
		if (sg_policy_parse(buf, i, "t", &p, &err) == 0)
			sg_policy_free(p);
	}
	for (n = 0; n < 20000; n++) {
		struct sg_policy_error err;
		struct sg_policy *p = NULL;
		int edits = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 4;

		memcpy(buf, base, len);
		while (edits--) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % len] = junk[(seed >> 20) % (sizeof(junk) - 1)];
		}
		if (sg_policy_parse(buf, len, "t", &p, &err) == 0) {
			struct sg_exec_subject s = { .path = "/usr/bin/nc", .parent_path = "/x" };
			struct sg_verdict v;

			sg_policy_eval(p, &s, &v);
			sg_policy_free(p);
		} else {
			assert_non_null(memchr(err.message, '\0', sizeof(err.message)));
		}
	}
}

/* ---- evaluation ---- */

static void test_default_allow_when_nothing_matches(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n  - {action: deny, path: /usr/bin/nc}\n");
	struct sg_verdict v;

	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/ls" }, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_null(v.rule);
	assert_true(v.file_only);
	sg_policy_free(p);
}

static void test_default_deny_is_allow_list_mode(void **state)
{
	struct sg_policy *p = load(HDR "default: deny\nrules:\n"
				   "  - {name: sys, action: allow, glob: \"/usr/bin/*\"}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/ls" }, &a), "sys");
	assert_int_equal(a, SG_ACTION_ALLOW);
	assert_string_equal(decide(p, (struct subject){ .path = "/tmp/x" }, &a), "default");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = NULL }, &a), "default");
	assert_int_equal(a, SG_ACTION_DENY);
	sg_policy_free(p);
}

static void test_path_rule_matches_exact_path_only(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n  - {name: nc, action: deny, path: /usr/bin/nc}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/nc" }, &a), "nc");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/ncat" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/n" }, &a), "default");
	sg_policy_free(p);
}

static void test_glob_rule_matches_pattern(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n  - {name: tmp, action: deny, glob: \"/tmp/**\"}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/tmp/a/b/x" }, &a), "tmp");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = "/tmpfoo/x" }, &a), "default");
	sg_policy_free(p);
}

static void test_identity_rule_catches_hardlink_under_other_name(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: m, action: deny, identity: {dev: 2049, ino: 77}}\n");
	struct sg_file_id same = { 2049, 77 }, other_ino = { 2049, 78 }, other_dev = { 2050, 77 };
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/home/u/innocent", .id = &same }, &a),
			    "m");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .id = &other_ino }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .id = &other_dev }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/x" }, &a), "default");
	sg_policy_free(p);
}

static void test_sha256_rule_catches_renamed_copy(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n  - name: h\n    action: deny\n"
				   "    sha256: " SHA_A_HEX "\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/tmp/renamed", .sha = SHA_A }, &a),
			    "h");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = "/tmp/other", .sha = SHA_B }, &a),
			    "default");
	sg_policy_free(p);
}

static void test_deny_beats_allow(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: ok-id, action: allow, identity: {dev: 1, ino: 2}}\n"
				   "  - {name: ok-path, action: allow, path: /tmp/x}\n"
				   "  - {name: no-tmp, action: deny, glob: \"/tmp/*\"}\n");
	struct sg_file_id id = { 1, 2 };
	enum sg_action a;

	/* The allows are more specific kinds and come first; the glob deny still wins. */
	assert_string_equal(decide(p, (struct subject){ .path = "/tmp/x", .id = &id }, &a), "no-tmp");
	assert_int_equal(a, SG_ACTION_DENY);
	sg_policy_free(p);
}

static void test_deny_reported_by_kind_order(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: g, action: deny, glob: \"/bin/*\"}\n"
				   "  - {name: p, action: deny, path: /bin/x}\n"
				   "  - name: h\n    action: deny\n    sha256: " SHA_A_HEX "\n"
				   "  - {name: i, action: deny, identity: {dev: 1, ino: 2}}\n");
	struct sg_file_id id = { 1, 2 };
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ "/bin/x", &id, SHA_A, NULL }, &a), "i");
	assert_string_equal(decide(p, (struct subject){ "/bin/x", NULL, SHA_A, NULL }, &a), "h");
	assert_string_equal(decide(p, (struct subject){ "/bin/x", NULL, SHA_B, NULL }, &a), "p");
	assert_string_equal(decide(p, (struct subject){ "/bin/y", NULL, SHA_B, NULL }, &a), "g");
	assert_int_equal(a, SG_ACTION_DENY);
	sg_policy_free(p);
}

static void test_allow_reported_by_kind_order(void **state)
{
	struct sg_policy *p = load(HDR "default: deny\nrules:\n"
				   "  - {name: g, action: allow, glob: \"/bin/*\"}\n"
				   "  - {name: p, action: allow, path: /bin/x}\n"
				   "  - {name: i, action: allow, identity: {dev: 1, ino: 2}}\n");
	struct sg_file_id id = { 1, 2 };
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/bin/x", .id = &id }, &a), "i");
	assert_int_equal(a, SG_ACTION_ALLOW);
	assert_string_equal(decide(p, (struct subject){ .path = "/bin/x" }, &a), "p");
	assert_string_equal(decide(p, (struct subject){ .path = "/bin/z" }, &a), "g");
	sg_policy_free(p);
}

static void test_earliest_rule_wins_within_kind(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: g1, action: deny, glob: \"/opt/**\"}\n"
				   "  - {name: p1, action: deny, path: /opt/a}\n"
				   "  - {name: g2, action: deny, glob: \"/opt/*\"}\n"
				   "  - {name: p2, action: deny, path: /opt/a}\n"
				   "  - {name: p3, action: allow, path: /opt/b}\n"
				   "  - {name: p4, action: allow, path: /opt/b}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/opt/a" }, &a), "p1");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/c" }, &a), "g1");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/b" }, &a), "g1");
	sg_policy_free(p);

	p = load(HDR "rules:\n"
		 "  - {name: p3, action: allow, path: /opt/b}\n"
		 "  - {name: p4, action: allow, path: /opt/b}\n");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/b" }, &a), "p3");
	sg_policy_free(p);
}

static void test_parent_rule_needs_parent(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - name: sh-from-nginx\n    action: deny\n    path: /bin/sh\n"
				   "    parent: {path: /usr/sbin/nginx}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/bin/sh",
							.parent = "/usr/sbin/nginx" }, &a),
			    "sh-from-nginx");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = "/bin/sh", .parent = "/usr/bin/bash" },
				   &a), "default");
	assert_int_equal(a, SG_ACTION_ALLOW);
	/* Unknown parent: the constraint cannot hold. */
	assert_string_equal(decide(p, (struct subject){ .path = "/bin/sh" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/bin/ls",
							.parent = "/usr/sbin/nginx" }, &a),
			    "default");
	sg_policy_free(p);
}

static void test_parent_glob_constraint(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - name: shells-from-web\n    action: deny\n    glob: \"/usr/bin/*sh\"\n"
				   "    parent: {glob: \"/usr/**/nginx\"}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/bash",
							.parent = "/usr/local/sbin/nginx" }, &a),
			    "shells-from-web");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/bash",
							.parent = "/opt/nginx" }, &a),
			    "default");
	sg_policy_free(p);
}

static void test_file_only_false_when_parent_rule_target_matches(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {action: deny, path: /bin/sh, parent: {path: /usr/sbin/nginx}}\n"
				   "  - {action: allow, glob: \"/opt/**\", parent: {glob: \"/opt/**\"}}\n"
				   "  - {action: deny, path: /usr/bin/nc}\n");
	struct sg_verdict v;

	eval(p, (struct subject){ .path = "/bin/sh", .parent = "/usr/sbin/nginx" }, &v);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/bin/sh", .parent = "/bin/bash" }, &v);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/bin/sh" }, &v);
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/opt/app/run" }, &v);
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/usr/bin/nc", .parent = "/usr/sbin/nginx" }, &v);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_true(v.file_only);
	eval(p, (struct subject){ .path = "/usr/bin/ls", .parent = "/usr/sbin/nginx" }, &v);
	assert_true(v.file_only);
	sg_policy_free(p);
}

static void test_file_only_false_even_when_a_plain_deny_also_matches(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {action: deny, identity: {dev: 1, ino: 2}}\n"
				   "  - {action: deny, glob: \"/bin/*\", parent: {path: /p}}\n");
	struct sg_file_id id = { 1, 2 };
	struct sg_verdict v;

	eval(p, (struct subject){ .path = "/bin/sh", .id = &id }, &v);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_int_equal(v.rule->kind, SG_MATCH_IDENTITY);
	assert_false(v.file_only);
	sg_policy_free(p);
}

static void test_need_hash_when_hash_rule_could_decide(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: nc, action: deny, path: /usr/bin/nc}\n"
				   "  - name: h\n    action: deny\n    sha256: " SHA_A_HEX "\n");
	struct sg_verdict v;

	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/ls" }, &v), SG_EVAL_NEED_HASH);
	/* Even a path deny could be outranked by a hash deny. */
	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/nc" }, &v), SG_EVAL_NEED_HASH);
	/* Second call, hash known. */
	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/ls", .sha = SHA_A }, &v),
			 SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_string_equal(v.rule->name, "h");
	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/ls", .sha = SHA_B }, &v),
			 SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	assert_null(v.rule);
	sg_policy_free(p);
}

static void test_no_need_hash_after_identity_deny(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: i, action: deny, identity: {dev: 1, ino: 2}}\n"
				   "  - name: h\n    action: allow\n    sha256: " SHA_A_HEX "\n");
	struct sg_file_id id = { 1, 2 }, other = { 1, 3 };
	struct sg_verdict v;

	assert_int_equal(eval(p, (struct subject){ .path = "/x", .id = &id }, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_string_equal(v.rule->name, "i");
	assert_true(v.file_only);
	assert_int_equal(eval(p, (struct subject){ .path = "/x", .id = &other }, &v),
			 SG_EVAL_NEED_HASH);
	sg_policy_free(p);
}

static void test_no_need_hash_without_hash_rules(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n  - {action: deny, path: /a}\n");
	struct sg_verdict v;

	assert_int_equal(eval(p, (struct subject){ .path = "/b" }, &v), SG_EVAL_DONE);
	sg_policy_free(p);
}

static void test_allow_only_hash_rules_need_no_hash_once_denied(void **state)
{
	struct sg_policy *p = load(HDR "default: deny\nrules:\n"
				   "  - {name: nc, action: deny, path: /usr/bin/nc}\n"
				   "  - {name: i, action: allow, identity: {dev: 1, ino: 2}}\n"
				   "  - {name: ls, action: allow, path: /usr/bin/ls}\n"
				   "  - name: h\n    action: allow\n    sha256: " SHA_A_HEX "\n");
	struct sg_file_id id = { 1, 2 };
	struct sg_verdict v;

	/* A hash allow cannot undo a deny, nor outrank an identity allow. */
	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/nc" }, &v), SG_EVAL_DONE);
	assert_string_equal(v.rule->name, "nc");
	assert_int_equal(eval(p, (struct subject){ .path = "/x", .id = &id }, &v), SG_EVAL_DONE);
	assert_string_equal(v.rule->name, "i");
	/* It would outrank the path allow and the default. */
	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/ls" }, &v), SG_EVAL_NEED_HASH);
	assert_int_equal(eval(p, (struct subject){ .path = "/x" }, &v), SG_EVAL_NEED_HASH);
	assert_int_equal(eval(p, (struct subject){ .path = "/usr/bin/ls", .sha = SHA_A }, &v),
			 SG_EVAL_DONE);
	assert_string_equal(v.rule->name, "h");
	sg_policy_free(p);
}

static void test_unknown_hash_with_parent_hash_rule_is_not_file_only(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {action: deny, identity: {dev: 1, ino: 2}}\n"
				   "  - action: deny\n    sha256: " SHA_A_HEX "\n"
				   "    parent: {path: /usr/sbin/nginx}\n");
	struct sg_file_id id = { 1, 2 };
	struct sg_verdict v;

	assert_int_equal(eval(p, (struct subject){ .path = "/x", .id = &id }, &v), SG_EVAL_DONE);
	assert_false(v.file_only);
	assert_int_equal(eval(p, (struct subject){ .path = "/x", .id = &id, .sha = SHA_B }, &v),
			 SG_EVAL_DONE);
	assert_true(v.file_only);
	sg_policy_free(p);
}

struct fake_fs {
	const char *path[4];
	struct sg_file_id id[4];
	int reported;
	int last_err;
	const struct sg_rule *last_rule;
};

static int fake_resolve(const char *path, struct sg_file_id *id, void *ctx)
{
	struct fake_fs *fs = ctx;
	size_t i;

	for (i = 0; i < 4 && fs->path[i]; i++) {
		if (!strcmp(fs->path[i], path)) {
			*id = fs->id[i];
			return 0;
		}
	}
	return -ENOENT;
}

static void fake_report(const struct sg_rule *rule, int err, void *ctx)
{
	struct fake_fs *fs = ctx;

	fs->reported++;
	fs->last_err = err;
	fs->last_rule = rule;
}

static void test_identity_path_rule_inactive_until_resolved(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: miner, action: deny, identity: /usr/local/bin/miner}\n"
				   "  - {name: gone, action: deny, identity: /opt/gone}\n");
	struct fake_fs fs = { .path = { "/usr/local/bin/miner" }, .id = { { 8, 99 } } };
	struct sg_file_id id = { 8, 99 };
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/usr/local/bin/miner", .id = &id },
				   &a), "default");
	assert_int_equal(sg_policy_resolve(p, fake_resolve, fake_report, &fs), 0);
	assert_int_equal(fs.reported, 1);
	assert_int_equal(fs.last_err, -ENOENT);
	assert_string_equal(fs.last_rule->name, "gone");
	assert_false(sg_policy_rule(p, 1)->id_resolved);
	assert_true(sg_policy_rule(p, 0)->id_resolved);
	assert_string_equal(decide(p, (struct subject){ .path = "/tmp/copy-by-hardlink", .id = &id },
				   &a), "miner");
	assert_int_equal(a, SG_ACTION_DENY);
	sg_policy_free(p);
}

static void test_resolve_again_follows_replaced_file(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: m, action: deny, identity: /usr/local/bin/miner}\n"
				   "  - {name: fixed, action: deny, identity: {dev: 5, ino: 5}}\n");
	struct fake_fs fs = { .path = { "/usr/local/bin/miner" }, .id = { { 8, 99 } } };
	struct sg_file_id old = { 8, 99 }, fresh = { 8, 100 }, fixed = { 5, 5 };
	enum sg_action a;

	assert_int_equal(sg_policy_resolve(p, fake_resolve, NULL, &fs), 0);
	fs.id[0] = fresh;
	assert_int_equal(sg_policy_resolve(p, fake_resolve, NULL, &fs), 0);
	assert_string_equal(decide(p, (struct subject){ .id = &old }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .id = &fresh }, &a), "m");
	fs.path[0] = NULL;
	assert_int_equal(sg_policy_resolve(p, fake_resolve, NULL, &fs), 0);
	assert_string_equal(decide(p, (struct subject){ .id = &fresh }, &a), "default");
	/* Explicit identities never depend on resolution. */
	assert_string_equal(decide(p, (struct subject){ .id = &fixed }, &a), "fixed");
	assert_int_equal(sg_policy_resolve(p, NULL, NULL, NULL), -EINVAL);
	sg_policy_free(p);
}

static void collect(const struct sg_rule *rule, void *ctx)
{
	char *out = ctx;

	strcat(out, rule->name);
	strcat(out, " ");
}

static void test_kernel_deny_lists_unconstrained_identity_and_path_denies(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: p, action: deny, path: /usr/bin/nc}\n"
				   "  - {name: pa, action: allow, path: /usr/bin/ls}\n"
				   "  - {name: pp, action: deny, path: /bin/sh, parent: {path: /n}}\n"
				   "  - {name: g, action: deny, glob: \"/tmp/*\"}\n"
				   "  - {name: ie, action: deny, identity: {dev: 1, ino: 2}}\n"
				   "  - {name: ip, action: deny, identity: /usr/local/bin/miner}\n"
				   "  - {name: iu, action: deny, identity: /nowhere}\n"
				   "  - name: h\n    action: deny\n    sha256: " SHA_A_HEX "\n");
	struct fake_fs fs = { .path = { "/usr/local/bin/miner", "/usr/bin/nc" },
			      .id = { { 8, 99 }, { 8, 7 } } };
	char seen[128] = "";

	/* The kernel knows files, not names: only resolved rules can go there. */
	sg_policy_foreach_kernel_deny(p, collect, seen);
	assert_string_equal(seen, "ie ");
	sg_policy_resolve(p, fake_resolve, NULL, &fs);
	seen[0] = '\0';
	sg_policy_foreach_kernel_deny(p, collect, seen);
	assert_string_equal(seen, "p ie ip ");
	sg_policy_free(p);
}

static void test_path_rule_follows_its_file_through_a_hard_link(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: nc, action: deny, path: /usr/bin/nc}\n");
	struct fake_fs fs = { .path = { "/usr/bin/nc" }, .id = { { 8, 7 } } };
	struct sg_file_id same = { 8, 7 }, other = { 8, 8 };
	struct sg_exec_subject link = { .path = "/tmp/innocent", .id = &same };
	struct sg_exec_subject unrelated = { .path = "/tmp/innocent", .id = &other };
	struct sg_verdict v;

	sg_policy_resolve(p, fake_resolve, fake_report, &fs);
	assert_int_equal(fs.reported, 0);
	assert_int_equal(sg_policy_eval(p, &link, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_string_equal(v.rule->name, "nc");
	assert_int_equal(v.rule->kind, SG_MATCH_PATH);
	assert_int_equal(sg_policy_eval(p, &unrelated, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_ALLOW);
	sg_policy_free(p);
}

static void test_unresolvable_path_rule_still_matches_by_name(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: later, action: deny, path: /opt/later/bin}\n");
	struct fake_fs fs = { 0 };
	struct sg_exec_subject s = { .path = "/opt/later/bin" };
	struct sg_verdict v;

	sg_policy_resolve(p, fake_resolve, fake_report, &fs);
	assert_int_equal(fs.reported, 0);
	assert_int_equal(sg_policy_eval(p, &s, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	sg_policy_free(p);
}

static void test_names_of_enums(void **state)
{
	assert_string_equal(sg_match_kind_name(SG_MATCH_IDENTITY), "identity");
	assert_string_equal(sg_match_kind_name(SG_MATCH_SHA256), "sha256");
	assert_string_equal(sg_match_kind_name(SG_MATCH_PATH), "path");
	assert_string_equal(sg_match_kind_name(SG_MATCH_GLOB), "glob");
	assert_string_equal(sg_action_name(SG_ACTION_ALLOW), "allow");
	assert_string_equal(sg_action_name(SG_ACTION_DENY), "deny");
	assert_string_equal(sg_mode_name(SG_MODE_MONITOR), "monitor");
	assert_string_equal(sg_mode_name(SG_MODE_ENFORCE), "enforce");
}

/* ---- glob index: globs are looked up by their literal directory ---- */

static void test_glob_literal_dir(void **state)
{
	static const struct {
		const char *pattern;
		size_t len;
	} cases[] = {
		{ "/opt/x/dir5/**", 12 },	/* "/opt/x/dir5/" */
		{ "/opt/x-7/*/bin/w?", 9 },	/* "/opt/x-7/" */
		{ "/opt/x-7*/bin/w?", 5 },	/* "/opt/" */
		{ "/opt/x/cache8/w-[0-9]*", 14 },
		{ "/opt/x/dir6/*.bin", 12 },
		{ "/*/bin/x", 1 },
		{ "/**", 1 },
		{ "/**/xmrig", 1 },
		{ "/a*", 1 },
		{ "/usr/bin/ls", 9 },		/* no wildcard: its directory part */
		{ "/usr/bin/", 9 },
		{ "/", 1 },
		{ "/a/b\\*c", 3 },		/* an escape ends the literal part too */
		{ "/a\\/b/*", 1 },
		{ "/a/[/]b", 3 },
		{ "/a/b?/c", 3 },
		{ "x*", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (sg_glob_literal_dir(cases[i].pattern) != cases[i].len)
			fail_msg("%s: want %zu, got %zu", cases[i].pattern, cases[i].len,
				 sg_glob_literal_dir(cases[i].pattern));
}

static void test_glob_index_finds_globs_under_different_dirs(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: bin, action: deny, glob: \"/usr/bin/nc*\"}\n"
				   "  - {name: app, action: deny, glob: \"/opt/app/*.bin\"}\n"
				   "  - {name: app-cache, action: deny, glob: \"/opt/app/cache/run-[0-9]\"}\n"
				   "  - {name: srv, action: deny, glob: \"/srv/*/bin/x?\"}\n"
				   "  - {name: lit, action: deny, glob: /usr/local/bin/tool}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/ncat" }, &a), "bin");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/app/a.bin" }, &a), "app");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/app/cache/run-7" }, &a),
			    "app-cache");
	assert_string_equal(decide(p, (struct subject){ .path = "/srv/w/bin/x1" }, &a), "srv");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/local/bin/tool" }, &a), "lit");
	/* Right directory, wrong name; right name, wrong directory. */
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/ls" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/sbin/nc" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/app/cache/a.bin" }, &a),
			    "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/a.bin" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/srv/bin/x1" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/local/bin/tool2" }, &a),
			    "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "nc" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "" }, &a), "default");
	sg_policy_free(p);
}

static void test_glob_index_root_dir_globs(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: x, action: deny, glob: \"/*/bin/x\"}\n"
				   "  - {name: miner, action: deny, glob: \"/**/xmrig\"}\n"
				   "  - {name: top, action: deny, glob: \"/t?p\"}\n"
				   "  - {name: esc, action: deny, glob: \"/e\\\\*/f\"}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/x" }, &a), "x");
	assert_string_equal(decide(p, (struct subject){ .path = "/a/b/bin/x" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/sbin/x" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/xmrig" }, &a), "miner");
	assert_string_equal(decide(p, (struct subject){ .path = "/a/b/c/d/e/xmrig" }, &a), "miner");
	assert_string_equal(decide(p, (struct subject){ .path = "/tmp" }, &a), "top");
	assert_string_equal(decide(p, (struct subject){ .path = "/e*/f" }, &a), "esc");
	assert_string_equal(decide(p, (struct subject){ .path = "/ex/f" }, &a), "default");
	sg_policy_free(p);
}

static void test_glob_index_double_star_matches_deep_paths(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: z, action: deny, glob: \"/opt/a/**/z\"}\n"
				   "  - {name: all, action: deny, glob: \"/srv/**\"}\n"
				   "  - {name: bins, action: deny, glob: \"/home/**/bin/*\"}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/opt/a/z" }, &a), "z");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/a/b/c/d/e/f/g/h/z" }, &a),
			    "z");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/b/z" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/opt/az" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/srv/x" }, &a), "all");
	assert_string_equal(decide(p, (struct subject){ .path = "/srv/1/2/3/4/5/6/7/8/9/x" }, &a),
			    "all");
	assert_string_equal(decide(p, (struct subject){ .path = "/srvx" }, &a), "default");
	assert_string_equal(decide(p, (struct subject){ .path = "/home/u/bin/t" }, &a), "bins");
	assert_string_equal(decide(p, (struct subject){ .path = "/home/u/p/q/bin/t" }, &a), "bins");
	assert_string_equal(decide(p, (struct subject){ .path = "/home/bin/t" }, &a), "bins");
	assert_string_equal(decide(p, (struct subject){ .path = "/home/u/bin/t/u" }, &a),
			    "default");
	sg_policy_free(p);
}

static void test_glob_index_keeps_file_order_across_dirs(void **state)
{
	/* Deeper directory first in the file, then shallower: file order wins. */
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: deep, action: deny, glob: \"/a/b/c/*\"}\n"
				   "  - {name: root, action: deny, glob: \"/**\"}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/a/b/c/x" }, &a), "deep");
	assert_string_equal(decide(p, (struct subject){ .path = "/a/b/x" }, &a), "root");
	sg_policy_free(p);
	p = load(HDR "rules:\n"
		 "  - {name: root, action: deny, glob: \"/**\"}\n"
		 "  - {name: deep, action: deny, glob: \"/a/b/c/*\"}\n");
	assert_string_equal(decide(p, (struct subject){ .path = "/a/b/c/x" }, &a), "root");
	sg_policy_free(p);

	/* Allows, with chains of three directories interleaved in the file. */
	p = load(HDR "default: deny\nrules:\n"
		 "  - {name: r1, action: allow, glob: \"/a/b/x?\"}\n"
		 "  - {name: r2, action: allow, glob: \"/*/b/x*\"}\n"
		 "  - {name: r3, action: allow, glob: \"/a/**/x*\"}\n"
		 "  - {name: r4, action: allow, glob: \"/a/b/x*\"}\n"
		 "  - {name: r5, action: allow, glob: \"/**\"}\n"
		 "  - {name: r6, action: allow, glob: \"/a/*\"}\n");
	assert_string_equal(decide(p, (struct subject){ .path = "/a/b/x1" }, &a), "r1");
	assert_int_equal(a, SG_ACTION_ALLOW);
	assert_string_equal(decide(p, (struct subject){ .path = "/a/b/x12" }, &a), "r2");
	assert_string_equal(decide(p, (struct subject){ .path = "/a/c/b/x12" }, &a), "r3");
	assert_string_equal(decide(p, (struct subject){ .path = "/a/y" }, &a), "r5");
	assert_string_equal(decide(p, (struct subject){ .path = "/q/y" }, &a), "r5");
	sg_policy_free(p);
}

static void test_glob_index_later_deny_beats_earlier_allow(void **state)
{
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: usr, action: allow, glob: \"/usr/**\"}\n"
				   "  - {name: ok-bin, action: allow, glob: \"/usr/local/bin/*\"}\n"
				   "  - {name: no-local, action: deny, glob: \"/*/local/**\"}\n"
				   "  - {name: no-nc, action: deny, glob: \"/usr/local/bin/nc\"}\n");
	enum sg_action a;

	assert_string_equal(decide(p, (struct subject){ .path = "/usr/local/bin/nc" }, &a),
			    "no-local");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/local/x" }, &a), "no-local");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/nc" }, &a), "usr");
	assert_int_equal(a, SG_ACTION_ALLOW);
	sg_policy_free(p);
}

static void test_glob_index_parent_rules_still_set_target_hit(void **state)
{
	/* A plain deny settles the verdict first; the later parent rule sits elsewhere. */
	struct sg_policy *p = load(HDR "rules:\n"
				   "  - {name: srv, action: deny, glob: \"/srv/**\"}\n"
				   "  - {name: web, action: deny, glob: \"/srv/app/*\","
				   " parent: {glob: \"/usr/**/nginx\"}}\n"
				   "  - {name: any, action: allow, glob: \"/*/app/*\", parent: {path: /p}}\n");
	struct sg_verdict v;

	eval(p, (struct subject){ .path = "/srv/app/x", .parent = "/bin/bash" }, &v);
	assert_string_equal(v.rule->name, "srv");
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/srv/other/x", .parent = "/bin/bash" }, &v);
	assert_string_equal(v.rule->name, "srv");
	assert_true(v.file_only);
	eval(p, (struct subject){ .path = "/opt/app/x", .parent = "/p" }, &v);
	assert_string_equal(v.rule->name, "any");
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/opt/app/x", .parent = "/q" }, &v);
	assert_null(v.rule);
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/opt/x" }, &v);
	assert_null(v.rule);
	assert_true(v.file_only);
	sg_policy_free(p);

	/* The parent rule comes first and under "/"; the plain deny is deeper. */
	p = load(HDR "rules:\n"
		 "  - {name: web, action: deny, glob: \"/**\", parent: {glob: \"/usr/**/nginx\"}}\n"
		 "  - {name: tmp, action: deny, glob: \"/tmp/*\"}\n");
	eval(p, (struct subject){ .path = "/tmp/x", .parent = "/usr/sbin/nginx" }, &v);
	assert_string_equal(v.rule->name, "web");
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/tmp/x", .parent = "/bin/sh" }, &v);
	assert_string_equal(v.rule->name, "tmp");
	assert_false(v.file_only);
	eval(p, (struct subject){ .path = "/tmp/x" }, &v);
	assert_string_equal(v.rule->name, "tmp");
	assert_false(v.file_only);
	sg_policy_free(p);
}

/*
 * Linear reference: every glob rule in file order, with no index and no
 * early-outs. Rule k is named "r<k>" and has parent kind par[k]: 0 none,
 * 1 the path /p/x, 2 the glob /p/ followed by a star.
 */
struct ref_policy {
	size_t n;
	char **pat;
	struct sg_glob **g;
	bool *deny;
	int *par;
};

static void ref_build(struct ref_policy *rp, size_t n)
{
	rp->n = n;
	rp->pat = calloc(n, sizeof(*rp->pat));
	rp->g = calloc(n, sizeof(*rp->g));
	rp->deny = calloc(n, sizeof(*rp->deny));
	rp->par = calloc(n, sizeof(*rp->par));
	assert_true(rp->pat && rp->g && rp->deny && rp->par);
}

static void ref_free(struct ref_policy *rp)
{
	size_t k;

	for (k = 0; k < rp->n; k++) {
		free(rp->pat[k]);
		sg_glob_free(rp->g[k]);
	}
	free(rp->pat);
	free(rp->g);
	free(rp->deny);
	free(rp->par);
}

static char *ref_yaml(struct ref_policy *rp)
{
	size_t cap = 64, o = 0, k;
	const char *why;
	char *y;

	for (k = 0; k < rp->n; k++)
		cap += 2 * strlen(rp->pat[k]) + 96;
	y = malloc(cap);
	assert_non_null(y);
	o += sprintf(y + o, HDR "rules:\n");
	for (k = 0; k < rp->n; k++) {
		const char *c;

		assert_int_equal(sg_glob_compile(rp->pat[k], &rp->g[k], &why), 0);
		o += sprintf(y + o, "  - {name: r%zu, action: %s, glob: \"", k,
			     rp->deny[k] ? "deny" : "allow");
		for (c = rp->pat[k]; *c; c++) {
			if (*c == '\\' || *c == '"')
				y[o++] = '\\';
			y[o++] = *c;
		}
		o += sprintf(y + o, "\"%s}\n", rp->par[k] == 1 ? ", parent: {path: /p/x}" :
			     rp->par[k] == 2 ? ", parent: {glob: \"/p/*\"}" : "");
	}
	y[o] = '\0';
	return y;
}

/* Check sg_policy_eval() against the reference for one subject. */
static void ref_check(const struct sg_policy *p, const struct ref_policy *rp,
		      const char *path, const char *parent)
{
	struct sg_glob *pg;
	const char *why;
	long deny = -1, allow = -1, want = -1;
	bool hit = false, pok;
	struct sg_verdict v;
	char name[32];
	size_t k;

	assert_int_equal(sg_glob_compile("/p/*", &pg, &why), 0);
	for (k = 0; k < rp->n; k++) {
		if (!sg_glob_match(rp->g[k], path))
			continue;
		if (rp->par[k]) {
			hit = true;
			pok = parent && (rp->par[k] == 1 ? strcmp(parent, "/p/x") == 0 :
					 sg_glob_match(pg, parent));
			if (!pok)
				continue;
		}
		if (rp->deny[k] && deny < 0)
			deny = (long)k;
		else if (!rp->deny[k] && allow < 0)
			allow = (long)k;
	}
	sg_glob_free(pg);
	want = deny >= 0 ? deny : allow;

	assert_int_equal(eval(p, (struct subject){ .path = path, .parent = parent }, &v),
			 SG_EVAL_DONE);
	if (want >= 0)
		snprintf(name, sizeof(name), "r%ld", want);
	else
		snprintf(name, sizeof(name), "default");
	if (strcmp(v.rule ? v.rule->name : "default", name) != 0 || v.file_only == hit)
		fail_msg("path %s parent %s: want %s file_only %d, got %s file_only %d", path,
			 parent ? parent : "(none)", name, !hit,
			 v.rule ? v.rule->name : "default", v.file_only);
	if (want >= 0)
		assert_int_equal(v.action, deny >= 0 ? SG_ACTION_DENY : SG_ACTION_ALLOW);
	else
		assert_int_equal(v.action, SG_ACTION_ALLOW);
}

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	/* xorshift64*: reproducible without touching the libc generator. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 0x2545f4914f6cdd1dULL) >> 33) % n;
}

static void random_glob(char *out)
{
	static const char *const lit[] = { "a", "b", "ab", "bin" };
	static const char *const wild[] = {
		"*", "?", "a*", "*b", "[ab]", "[!a]*", "**", "a**", "\\a", "b?",
	};
	size_t o = 0;
	unsigned depth = 1 + rnd(5), d;

	switch (rnd(12)) {
	case 0:
		strcpy(out, rnd(2) ? "/**" : "/*");
		return;
	case 1:
		o += sprintf(out + o, "/**");	/* then more components */
		break;
	}
	for (d = 0; d < depth; d++) {
		/* Wildcards mostly deep, so globs spread over many directories. */
		if (rnd(depth + 1) < d + (unsigned)(o > 0))
			o += sprintf(out + o, "/%s", wild[rnd(10)]);
		else
			o += sprintf(out + o, "/%s", lit[rnd(4)]);
	}
	if (rnd(10) == 0)
		o += sprintf(out + o, "/");
	out[o] = '\0';
}

static void random_path(char *out)
{
	static const char *const comp[] = { "a", "b", "ab", "bin", "x", "aa" };
	size_t o = 0;
	unsigned depth = 1 + rnd(6), d;

	for (d = 0; d < depth; d++)
		o += sprintf(out + o, "/%s", comp[rnd(6)]);
	if (rnd(10) == 0)
		o += sprintf(out + o, "/");
	out[o] = '\0';
}

static void test_glob_index_matches_linear_reference(void **state)
{
	static const char *const parents[] = { NULL, "/p/x", "/p/y", "/q/x" };
	unsigned round, j;

	rng_state = 0x5eed5eed1234abcdULL;
	for (round = 0; round < 40; round++) {
		struct ref_policy rp;
		struct sg_policy *p;
		size_t n = 1 + rnd(round < 20 ? 12 : 300), k;
		char *y;

		ref_build(&rp, n);
		for (k = 0; k < n; k++) {
			rp.pat[k] = malloc(64);
			assert_non_null(rp.pat[k]);
			random_glob(rp.pat[k]);
			rp.deny[k] = rnd(3) == 0;
			rp.par[k] = rnd(5) == 0 ? 1 + (int)rnd(2) : 0;
		}
		y = ref_yaml(&rp);
		p = load(y);
		for (j = 0; j < 300; j++) {
			char path[64];

			random_path(path);
			ref_check(p, &rp, path, parents[rnd(4)]);
		}
		sg_policy_free(p);
		free(y);
		ref_free(&rp);
	}
}

/*
 * More directories with globs on one path than eval merges at once. The
 * deepest directories come first in the file, so the rules that decide are
 * on the chains met last; a second pass adds rules in a scattered order.
 */
static void test_glob_index_path_through_many_glob_dirs(void **state)
{
	static const unsigned depths[] = { 0, 1, 10, 62, 63, 64, 65, 66, 100, 119 };
	const unsigned levels = 120;
	struct ref_policy rp;
	struct sg_policy *p;
	char path[512];
	unsigned k, d, j;
	char *y;

	rng_state = 0xdeadbeef12345678ULL;
	ref_build(&rp, 2 * levels);
	for (k = 0; k < 2 * levels; k++) {
		unsigned lv = k < levels ? levels - 1 - k : (k * 7) % levels;
		size_t o = 0;

		rp.pat[k] = malloc(2 * levels + 8);
		assert_non_null(rp.pat[k]);
		for (d = 0; d < lv; d++)
			o += sprintf(rp.pat[k] + o, "/d");
		sprintf(rp.pat[k] + o, rnd(2) ? "/**" : "/x*");
		rp.deny[k] = rnd(4) == 0;
		rp.par[k] = rnd(6) == 0 ? 2 : 0;
	}
	y = ref_yaml(&rp);
	p = load(y);
	for (j = 0; j < sizeof(depths) / sizeof(depths[0]); j++) {
		size_t o = 0;

		for (d = 0; d < depths[j]; d++)
			o += sprintf(path + o, "/d");
		sprintf(path + o, "/xy");
		ref_check(p, &rp, path, NULL);
		ref_check(p, &rp, path, "/p/x");
	}
	sg_policy_free(p);
	free(y);
	ref_free(&rp);
}

/* ---- shipped policies (read from the source tree; skipped elsewhere) ---- */

static struct sg_policy *load_file(const char *path)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	char *buf;
	size_t len;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	if (sg_policy_parse(buf, len, path, &p, &err))
		fail_msg("%s", err.message);
	free(buf);
	return p;
}

static void test_default_policy_watches_without_breaking_the_host(void **state)
{
	struct sg_policy *p = load_file("policies/default.yaml");
	enum sg_action a;

	if (!p)
		skip();
	assert_int_equal(sg_policy_mode(p), SG_MODE_MONITOR);
	assert_int_equal(sg_policy_default_action(p), SG_ACTION_ALLOW);
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/ls",
							.parent = "/usr/bin/bash" }, &a), "default");
	assert_int_equal(a, SG_ACTION_ALLOW);
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/nc" }, &a), "no-netcat");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(p, (struct subject){ .path = "/home/u/.x/xmrig" }, &a),
			    "miner-xmrig");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/dash",
							.parent = "/usr/sbin/nginx" }, &a),
			    "shell-from-nginx");
	assert_string_equal(decide(p, (struct subject){ .path = "/bin/sh",
							.parent = "/usr/sbin/nginx" }, &a),
			    "sh-from-nginx");
	assert_string_equal(decide(p, (struct subject){ .path = "/usr/bin/dash",
							.parent = "/usr/sbin/cron" }, &a), "default");
	assert_int_equal(a, SG_ACTION_ALLOW);
	sg_policy_free(p);
}

static void test_example_policies_parse_and_decide(void **state)
{
	struct sg_policy *e = load_file("policies/examples/enforce.yaml");
	struct sg_policy *l = load_file("policies/examples/allowlist.yaml");
	uint8_t other[SG_SHA256_LEN] = { 9 };
	enum sg_action a;

	if (!e || !l) {
		sg_policy_free(e);
		sg_policy_free(l);
		skip();
	}
	assert_int_equal(sg_policy_mode(e), SG_MODE_ENFORCE);
	assert_int_equal(sg_policy_fileless(e), SG_FILELESS_DENY);
	assert_string_equal(decide(e, (struct subject){ .path = "/tmp/x/run", .sha = other }, &a),
			    "no-exec-tmp");
	assert_int_equal(a, SG_ACTION_DENY);

	assert_int_equal(sg_policy_default_action(l), SG_ACTION_DENY);
	assert_string_equal(decide(l, (struct subject){ .path = "/usr/bin/ls", .sha = other }, &a),
			    "system-bin");
	assert_int_equal(a, SG_ACTION_ALLOW);
	assert_string_equal(decide(l, (struct subject){ .path = "/usr/bin/nc.openbsd",
							.sha = other }, &a), "no-netcat");
	assert_int_equal(a, SG_ACTION_DENY);
	assert_string_equal(decide(l, (struct subject){ .path = "/home/u/a.out", .sha = other }, &a),
			    "default");
	assert_int_equal(a, SG_ACTION_DENY);
	sg_policy_free(e);
	sg_policy_free(l);
}

/* ---- scale ---- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* n rules cycling through path, glob, identity and sha256, denies and allows. */
static char *big_policy(size_t n, size_t *len)
{
	size_t cap = 128 + n * 128, o, i;
	char *y = malloc(cap);

	assert_non_null(y);
	o = sprintf(y, "version: big\nmode: enforce\nrules:\n");
	for (i = 0; i < n; i++) {
		const char *act = i % 3 ? "deny" : "allow";

		switch (i % 4) {
		case 0:
			o += sprintf(y + o, "  - {name: r%zu, action: %s, path: /opt/p%zu/bin}\n",
				     i, act, i);
			break;
		case 1:
			o += sprintf(y + o, "  - {action: %s, glob: \"/srv/g%zu/**\"}\n", act, i);
			break;
		case 2:
			o += sprintf(y + o, "  - {action: %s, identity: {dev: 7, ino: %zu}}\n",
				     act, i);
			break;
		case 3:
			o += sprintf(y + o, "  - {action: %s, sha256: \"%064zx\"}\n", act, i);
			break;
		}
	}
	*len = o;
	return y;
}

static void test_ten_thousand_rules_parse_and_evaluate(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	struct sg_verdict v;
	uint8_t sha[SG_SHA256_LEN] = { 0 };
	struct sg_file_id id = { 7, 9998 };
	size_t len;
	char *y = big_policy(10000, &len);
	double t0;
	int i;

	assert_int_equal(sg_policy_parse(y, len, "big.yaml", &p, &err), 0);
	assert_int_equal(sg_policy_rule_count(p), 10000);

	assert_int_equal(eval(p, (struct subject){ .path = "/opt/p4000/bin", .sha = sha }, &v),
			 SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_string_equal(v.rule->name, "r4000");
	assert_int_equal(eval(p, (struct subject){ .path = "/srv/g9997/x/y", .sha = sha }, &v),
			 SG_EVAL_DONE);
	assert_int_equal(v.rule->id, 9998);
	assert_int_equal(eval(p, (struct subject){ .path = "/x", .id = &id }, &v), SG_EVAL_DONE);
	assert_int_equal(v.rule->id, 9999);
	sha[31] = 0x07;		/* rule index 7: sha256 ...07, deny */
	assert_int_equal(eval(p, (struct subject){ .path = "/x", .sha = sha }, &v), SG_EVAL_DONE);
	assert_int_equal(v.action, SG_ACTION_DENY);
	assert_int_equal(v.rule->id, 8);
	assert_int_equal(eval(p, (struct subject){ .path = "/x" }, &v), SG_EVAL_NEED_HASH);

	/* Exact checks are table lookups: many evaluations stay cheap. */
	t0 = now();
	for (i = 0; i < 100000; i++)
		eval(p, (struct subject){ .path = "/opt/p4000/bin", .id = &id, .sha = sha }, &v);
	print_message("100k identity-deny evaluations over 10k rules: %.3f s\n", now() - t0);
	sg_policy_free(p);
	free(y);
}

/*
 * n deny rules in the proportions of bench/gen-policy.py (10% globs in its
 * four shapes, 30% paths, 40% sha256, 20% identities), none of which match
 * outside /opt/sysguard-bench-nothing*. Glob j (from 1) is rule "gj".
 */
static char *bench_policy(size_t n, size_t *len)
{
	static const char *const words[] = { "miner", "xmrig", "dropper", "payload" };
	const char *nothing = "/opt/sysguard-bench-nothing";
	size_t cap = 128 + n * 160, o, i, j = 0;
	char *y = malloc(cap);

	assert_non_null(y);
	o = sprintf(y, "version: bench\nmode: enforce\nrules:\n");
	for (i = 0; i < n; i++) {
		const char *w = words[i % 4];

		switch (i % 10) {
		case 0:
			w = words[++j % 4];
			o += sprintf(y + o, "  - {name: g%zu, action: deny, glob: \"", j);
			if (j % 4 == 0)
				o += sprintf(y + o, "%s/dir%zu/**", nothing, j);
			else if (j % 4 == 1)
				o += sprintf(y + o, "%s/dir%zu/*.bin", nothing, j);
			else if (j % 4 == 2)
				o += sprintf(y + o, "%s-%zu/*/bin/%s?", nothing, j, w);
			else
				o += sprintf(y + o, "%s/cache%zu/%s-[0-9]*", nothing, j, w);
			o += sprintf(y + o, "\"}\n");
			break;
		case 1: case 2: case 3:
			o += sprintf(y + o, "  - {name: p%zu, action: deny, path: %s%zu/bin%zu/%s-%zu}\n",
				     i, nothing, i % 7, i / 100, w, i);
			break;
		case 4: case 5: case 6: case 7:
			o += sprintf(y + o, "  - {name: h%zu, action: deny, sha256: \"%064zx\"}\n", i, i);
			break;
		default:
			o += sprintf(y + o, "  - {name: i%zu, action: deny, identity: {dev: 7, ino: %zu}}\n",
				     i, i);
			break;
		}
	}
	*len = o;
	return y;
}

/* Time 100k evaluations of `path` with its hash and identity known. */
static void time_bench_eval(const struct sg_policy *p, const char *path, const char *want,
			    const char *what)
{
	uint8_t sha[SG_SHA256_LEN];
	struct sg_file_id id = { 8, 1 };
	struct sg_verdict v;
	double t0;
	int i;

	memset(sha, 0xff, sizeof(sha));
	assert_int_equal(eval(p, (struct subject){ .path = path, .id = &id, .sha = sha }, &v),
			 SG_EVAL_DONE);
	assert_string_equal(v.rule ? v.rule->name : "default", want);
	t0 = now();
	for (i = 0; i < 100000; i++)
		eval(p, (struct subject){ .path = path, .id = &id, .sha = sha }, &v);
	print_message("100k evaluations over 10k rules / 1k globs, %s: %.3f s\n", what,
		      now() - t0);
}

static void test_ten_thousand_rules_with_thousand_globs_evaluate(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	size_t len;
	char *y = bench_policy(10000, &len);

	assert_int_equal(sg_policy_parse(y, len, "bench.yaml", &p, &err), 0);
	assert_int_equal(sg_policy_rule_count(p), 10000);
	time_bench_eval(p, "/usr/bin/true", "default", "no match (the benchmark's exec)");
	time_bench_eval(p, "/opt/sysguard-bench-nothing-998/x/bin/none", "default",
			"no match under the globs' tree");
	time_bench_eval(p, "/opt/sysguard-bench-nothing-998/x/bin/dropperZ", "g998",
			"match of glob 998");
	time_bench_eval(p, "/opt/sysguard-bench-nothing/dir1000/a/b/c", "g1000",
			"match of the last glob");
	sg_policy_free(p);
	free(y);
}

static void test_hundred_thousand_rules_parse_quickly(void **state)
{
	struct sg_policy_error err;
	struct sg_policy *p = NULL;
	size_t len;
	char *y = big_policy(100000, &len);
	double t0 = now(), dt;

	assert_int_equal(sg_policy_parse(y, len, "big.yaml", &p, &err), 0);
	dt = now() - t0;
	print_message("parse of 100k rules (%zu bytes): %.3f s\n", len, dt);
	assert_true(dt < 10.0);
	assert_int_equal(sg_policy_rule_count(p), 100000);
	sg_policy_free(p);
	free(y);
}

static void test_file_lists_parse(void **state)
{
	struct sg_policy *p = load("version: \"f\"\n"
				   "files:\n"
				   "  - {name: shadow, path: /etc/shadow, deny: [write, delete, read]}\n"
				   "  - path: /etc/sudoers\n"
				   "  - {path: /etc/hosts, deny: read}\n"
				   "integrity:\n"
				   "  - path: /etc\n"
				   "file_audit:\n"
				   "  - {name: curl, exe: /usr/bin/curl}\n"
				   "  - cgroup: /sys/fs/cgroup/unified/app\n");
	const struct sg_file_rule_spec *r;

	(void)state;
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_PROTECT), 3);
	r = sg_policy_file_rule(p, SG_FILES_PROTECT, 0);
	assert_string_equal(r->name, "shadow");
	assert_string_equal(r->path, "/etc/shadow");
	assert_int_equal(r->deny, SG_FDENY_WRITE | SG_FDENY_DELETE | SG_FDENY_READ);
	r = sg_policy_file_rule(p, SG_FILES_PROTECT, 1);
	assert_string_equal(r->name, "files-2");
	assert_int_equal(r->deny, SG_FDENY_DEFAULT);
	assert_int_equal(r->line, 4);
	assert_int_equal(sg_policy_file_rule(p, SG_FILES_PROTECT, 2)->deny, SG_FDENY_READ);
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_WATCH), 1);
	assert_string_equal(sg_policy_file_rule(p, SG_FILES_WATCH, 0)->path, "/etc");
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_TRACE), 2);
	r = sg_policy_file_rule(p, SG_FILES_TRACE, 0);
	assert_string_equal(r->path, "/usr/bin/curl");
	assert_null(r->cgroup);
	r = sg_policy_file_rule(p, SG_FILES_TRACE, 1);
	assert_null(r->path);
	assert_string_equal(r->cgroup, "/sys/fs/cgroup/unified/app");
	assert_null(sg_policy_file_rule(p, SG_FILES_TRACE, 2));
	sg_policy_free(p);
}

static void test_files_rule_denies_create_in_a_directory(void **state)
{
	struct sg_policy *p = load("version: \"f\"\n"
				   "files:\n"
				   "  - {name: cron, path: /etc/cron.d, deny: [create]}\n"
				   "  - {path: /etc/ld.so.preload, deny: create}\n");

	(void)state;
	assert_int_equal(sg_policy_file_rule_count(p, SG_FILES_PROTECT), 2);
	assert_int_equal(sg_policy_file_rule(p, SG_FILES_PROTECT, 0)->deny, SG_FDENY_CREATE);
	assert_int_equal(sg_policy_file_rule(p, SG_FILES_PROTECT, 1)->deny, SG_FDENY_CREATE);
	sg_policy_free(p);
}

static void test_file_lists_reject_bad_rules_with_line(void **state)
{
	(void)state;
	expect_error("version: \"f\"\nfiles:\n  - {path: etc/shadow}\n", 3, "absolute path");
	expect_error("version: \"f\"\nfiles:\n  - {path: /etc/../shadow}\n", 3, "canonical");
	expect_error("version: \"f\"\nfiles:\n  - {path: /x, deny: [erase]}\n", 3,
		     "unknown operation");
	expect_error("version: \"f\"\nfiles:\n  - {path: /x, deny: []}\n", 3, "at least one");
	expect_error("version: \"f\"\nfiles:\n  - {deny: [write]}\n", 3, "missing \"path\"");
	expect_error("version: \"f\"\nintegrity:\n  - {path: /etc, deny: [write]}\n", 3,
		     "not a key of integrity");
	expect_error("version: \"f\"\nfile_audit:\n  - {name: x}\n", 3, "exactly one of exe, cgroup and container");
	expect_error("version: \"f\"\nfile_audit:\n  - {exe: /a, cgroup: /b}\n", 3,
		     "exactly one of exe, cgroup and container");
	expect_error("version: \"f\"\nfiles: /etc/shadow\n", 2, "must be a list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parses_header_fields),
		cmocka_unit_test(test_defaults_are_monitor_allow_inspect),
		cmocka_unit_test(test_monitor_mode_parses),
		cmocka_unit_test(test_rules_key_may_be_empty),
		cmocka_unit_test(test_rule_fields_of_every_kind),
		cmocka_unit_test(test_flow_style_rules_parse),
		cmocka_unit_test(test_error_names_source_line_and_column),
		cmocka_unit_test(test_rejects_bad_action_with_line),
		cmocka_unit_test(test_rejects_missing_version_with_line),
		cmocka_unit_test(test_rejects_bad_version),
		cmocka_unit_test(test_rejects_bad_enums_with_line),
		cmocka_unit_test(test_rejects_unknown_keys_with_line),
		cmocka_unit_test(test_file_lists_parse),
		cmocka_unit_test(test_files_rule_denies_create_in_a_directory),
		cmocka_unit_test(test_file_lists_reject_bad_rules_with_line),
		cmocka_unit_test(test_rejects_duplicate_keys_with_line),
		cmocka_unit_test(test_rejects_two_matchers_with_line),
		cmocka_unit_test(test_rejects_rule_without_matcher_with_line),
		cmocka_unit_test(test_rejects_rule_without_action_with_line),
		cmocka_unit_test(test_rejects_relative_path_with_line),
		cmocka_unit_test(test_rejects_non_canonical_exact_paths),
		cmocka_unit_test(test_rejects_bad_hex_with_line),
		cmocka_unit_test(test_rejects_bad_identity_with_line),
		cmocka_unit_test(test_rejects_bad_parent_with_line),
		cmocka_unit_test(test_rejects_bad_glob_with_line),
		cmocka_unit_test(test_rejects_bad_names_with_line),
		cmocka_unit_test(test_rejects_duplicate_rule_names_with_line),
		cmocka_unit_test(test_rejects_wrong_types_with_line),
		cmocka_unit_test(test_rejects_aliases_with_line),
		cmocka_unit_test(test_rejects_empty_and_non_mapping_documents),
		cmocka_unit_test(test_rejects_nul_bytes),
		cmocka_unit_test(test_syntax_error_has_line),
		cmocka_unit_test(test_rejects_oversized_document),
		cmocka_unit_test(test_survives_deep_nesting),
		cmocka_unit_test(test_survives_truncation_and_mutation),
		cmocka_unit_test(test_default_allow_when_nothing_matches),
		cmocka_unit_test(test_default_deny_is_allow_list_mode),
		cmocka_unit_test(test_path_rule_matches_exact_path_only),
		cmocka_unit_test(test_glob_rule_matches_pattern),
		cmocka_unit_test(test_identity_rule_catches_hardlink_under_other_name),
		cmocka_unit_test(test_sha256_rule_catches_renamed_copy),
		cmocka_unit_test(test_deny_beats_allow),
		cmocka_unit_test(test_deny_reported_by_kind_order),
		cmocka_unit_test(test_allow_reported_by_kind_order),
		cmocka_unit_test(test_earliest_rule_wins_within_kind),
		cmocka_unit_test(test_parent_rule_needs_parent),
		cmocka_unit_test(test_parent_glob_constraint),
		cmocka_unit_test(test_file_only_false_when_parent_rule_target_matches),
		cmocka_unit_test(test_file_only_false_even_when_a_plain_deny_also_matches),
		cmocka_unit_test(test_need_hash_when_hash_rule_could_decide),
		cmocka_unit_test(test_no_need_hash_after_identity_deny),
		cmocka_unit_test(test_no_need_hash_without_hash_rules),
		cmocka_unit_test(test_allow_only_hash_rules_need_no_hash_once_denied),
		cmocka_unit_test(test_unknown_hash_with_parent_hash_rule_is_not_file_only),
		cmocka_unit_test(test_identity_path_rule_inactive_until_resolved),
		cmocka_unit_test(test_resolve_again_follows_replaced_file),
		cmocka_unit_test(test_kernel_deny_lists_unconstrained_identity_and_path_denies),
		cmocka_unit_test(test_path_rule_follows_its_file_through_a_hard_link),
		cmocka_unit_test(test_unresolvable_path_rule_still_matches_by_name),
		cmocka_unit_test(test_glob_literal_dir),
		cmocka_unit_test(test_glob_index_finds_globs_under_different_dirs),
		cmocka_unit_test(test_glob_index_root_dir_globs),
		cmocka_unit_test(test_glob_index_double_star_matches_deep_paths),
		cmocka_unit_test(test_glob_index_keeps_file_order_across_dirs),
		cmocka_unit_test(test_glob_index_later_deny_beats_earlier_allow),
		cmocka_unit_test(test_glob_index_parent_rules_still_set_target_hit),
		cmocka_unit_test(test_glob_index_matches_linear_reference),
		cmocka_unit_test(test_glob_index_path_through_many_glob_dirs),
		cmocka_unit_test(test_names_of_enums),
		cmocka_unit_test(test_default_policy_watches_without_breaking_the_host),
		cmocka_unit_test(test_example_policies_parse_and_decide),
		cmocka_unit_test(test_ten_thousand_rules_parse_and_evaluate),
		cmocka_unit_test(test_ten_thousand_rules_with_thousand_globs_evaluate),
		cmocka_unit_test(test_hundred_thousand_rules_parse_quickly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

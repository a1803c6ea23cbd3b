// SPDX-License-Identifier: Apache-2.0
/*
 * sysguardctl policy test POLICY --exe PATH: the verdict the daemon would
 * give, from the daemon's own decision code and the facts it would have.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/policy_tools.h"
#include "report/json.h"

enum { OPT_EXE = 256, OPT_PARENT, OPT_UID, OPT_CGROUP, OPT_POLICY_DIR };

static const struct sg_cli_cmd test_cmd = { "policy test",
	"sysguardctl policy test POLICY --exe PATH [--parent PATH] [--uid N] [--cgroup PATH]\n"
	"                        [--policy-dir DIR] [-o table|json]\n"
	"\n"
	"Prints the decision (allow, deny or audit) and the rule that made it, as the\n"
	"daemon would decide an exec of PATH started by a process running --parent, from\n"
	"the daemon's own decision code. No daemon needed.\n"
	"\n"
	"      --exe=PATH        the program run\n"
	"      --parent=PATH     the program of the process that runs it\n"
	"      --uid=N           the user it runs as\n"
	"      --cgroup=PATH     its cgroup, shown in the JSON\n"
	"      --policy-dir=DIR  merge the policy fragments DIR/*.yaml into POLICY, as\n"
	"                        sysguardd --policy-dir does\n"
	"  -o, --output=FORMAT   table (default) or json\n"
	"  -h, --help            this help\n" };

struct test_args {
	const char *policy, *exe, *parent, *cgroup, *dir;
	unsigned long uid;
	bool has_uid;
	enum sg_cli_output out;
};

/* An exit code, or -1 to go on. */
static int parse_args(int argc, char **argv, struct test_args *a)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		{ "exe", required_argument, NULL, OPT_EXE },
		{ "parent", required_argument, NULL, OPT_PARENT },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "policy-dir", required_argument, NULL, OPT_POLICY_DIR },
		{ 0 },
	};
	char *end;
	int c;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&test_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		switch (c) {
		case OPT_EXE:
			a->exe = optarg;
			break;
		case OPT_PARENT:
			a->parent = optarg;
			break;
		case OPT_UID:
			errno = 0;
			a->uid = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-')
				return sg_cli_usage_error(&test_cmd, "--uid needs a number, not '%s'", optarg);
			a->has_uid = true;
			break;
		case OPT_CGROUP:
			a->cgroup = optarg;
			break;
		case OPT_POLICY_DIR:
			a->dir = optarg;
			break;
		case 'o':
			if (!sg_cli_parse_output(&test_cmd, optarg, &a->out))
				return SG_EXIT_USAGE;
			break;
		default:
			return sg_cli_bad_option(&test_cmd, argc, argv, c);
		}
	}
	if (optind + 1 != argc || !a->exe)
		return sg_cli_usage_error(&test_cmd, "needs one POLICY and --exe PATH");
	a->policy = argv[optind];
	return -1;
}

/* The exec's facts as the daemon would have them: real names, identity, parent. */
static int build_facts(const struct test_args *a, struct sg_exec_facts *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (!realpath(a->exe, f->path) || stat(f->path, &st)) {
		fprintf(stderr, "sysguardctl policy test: %s: %s\n", a->exe, strerror(errno));
		return -errno;
	}
	f->has_path = true;
	f->path_len = strlen(f->path);
	f->id.dev = st.st_dev;
	f->id.ino = st.st_ino;
	f->has_id = true;
	if (a->parent) {
		/* The daemon reads the parent's /proc/PID/exe: a real name too. */
		if (!realpath(a->parent, f->parent_path)) {
			fprintf(stderr, "sysguardctl policy test: --parent %s: %s\n", a->parent,
				strerror(errno));
			return -errno;
		}
		f->has_parent = true;
	}
	f->uid = (uid_t)a->uid;
	f->filename = a->exe;
	f->filename_len = strlen(a->exe);
	return 0;
}

static const char *decision_of(const struct sg_verdict *v)
{
	if (v->action == SG_ACTION_ALLOW && v->audit)
		return "audit";
	return sg_action_name(v->action);
}

static void print_json(const struct test_args *a, enum sg_mode mode, const struct sg_exec_facts *f,
		       const struct sg_verdict *v)
{
	const struct sg_rule *r = v->action == SG_ACTION_ALLOW && v->audit ? v->audit : v->rule;
	struct sg_json j;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_str(&j, "decision", decision_of(v));
	sg_json_kv_str(&j, "mode", sg_mode_name(mode));
	sg_json_kv_bool(&j, "blocked", v->action == SG_ACTION_DENY && mode == SG_MODE_ENFORCE);
	sg_json_key(&j, "rule");
	if (r) {
		sg_json_begin_object(&j);
		sg_json_kv_u64(&j, "id", r->id);
		sg_json_kv_str(&j, "name", r->name);
		sg_json_kv_str(&j, "kind", sg_match_kind_name(r->kind));
		sg_json_kv_u64(&j, "line", r->line);
		sg_json_kv_bytes(&j, "file", r->source, strlen(r->source));
		if (r->fragment)
			sg_json_kv_str(&j, "fragment", r->fragment);
		sg_json_end_object(&j);
	} else {
		sg_json_null(&j);
	}
	sg_json_kv_bool(&j, "default_action", !r);
	if (f->reason)
		sg_json_kv_str(&j, "reason", f->reason);
	sg_json_kv_bytes(&j, "exe", f->path, f->path_len);
	if (f->has_sha256)
		sg_json_kv_hex(&j, "sha256", f->sha256, sizeof(f->sha256));
	if (f->has_parent)
		sg_json_kv_bytes(&j, "parent", f->parent_path, strlen(f->parent_path));
	if (a->has_uid)
		sg_json_kv_u64(&j, "uid", a->uid);
	if (a->cgroup)
		sg_json_kv_str(&j, "cgroup", a->cgroup);
	sg_json_end_object(&j);
	printf("%.*s\n", (int)j.len, j.buf);
	sg_json_free(&j);
}

static void print_text(const struct test_args *a, enum sg_mode mode, const struct sg_exec_facts *f,
		       const struct sg_verdict *v)
{
	const struct sg_rule *r = v->action == SG_ACTION_ALLOW && v->audit ? v->audit : v->rule;

	printf("%s", decision_of(v));
	if (r && r->fragment)
		printf(" by rule %u \"%s\" of fragment %s (%s:%u, %s)\n", r->id, r->name, r->fragment,
		       r->source, r->line, sg_match_kind_name(r->kind));
	else if (r)
		printf(" by rule %u \"%s\" (%s:%u, %s)\n", r->id, r->name, r->source, r->line,
		       sg_match_kind_name(r->kind));
	else if (f->reason)
		printf(" (%s)\n", f->reason);
	else
		printf(" by the default\n");
	printf("exe %s\n", f->path);
	if (f->has_sha256) {
		printf("sha256 ");
		for (size_t i = 0; i < sizeof(f->sha256); i++)
			printf("%02x", f->sha256[i]);
		printf("\n");
	}
	if (f->has_parent)
		printf("parent %s\n", f->parent_path);
	if (v->action == SG_ACTION_DENY)
		printf("mode %s: %s\n", sg_mode_name(mode),
		       mode == SG_MODE_ENFORCE ? "the exec is stopped" : "recorded, not stopped");
	else if (v->audit)
		printf("mode %s: runs; recorded as a would-be deny\n", sg_mode_name(mode));
}

int sg_cmd_policy_test(const struct sg_cli *cli, int argc, char **argv)
{
	struct test_args a = { 0 };
	struct sg_policy *p = NULL;
	struct sg_exec_facts f;
	struct sg_verdict v;
	struct sg_engine e;
	int rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (sg_cli_load_policy_dir(a.policy, a.dir, &p, stderr))
		return SG_EXIT_FAILED;
	if (build_facts(&a, &f) || sg_cli_engine_init(&e, p)) {
		sg_policy_free(p);
		return SG_EXIT_FAILED;
	}
	sg_cli_decide(&e, &f, &v);
	if (a.out == SG_OUT_JSON)
		print_json(&a, sg_policy_mode(p), &f, &v);
	else
		print_text(&a, sg_policy_mode(p), &f, &v);
	sg_cli_engine_free(&e);
	sg_policy_free(p);
	return SG_EXIT_OK;
}

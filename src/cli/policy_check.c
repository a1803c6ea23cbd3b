// SPDX-License-Identifier: Apache-2.0
/* sysguardctl policy check FILE...: parse errors and lint warnings, gcc-style. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/policy_tools.h"
#include "policy/lint.h"

enum { OPT_WARNINGS_OK = 256, OPT_POLICY_DIR };

static const struct sg_cli_cmd check_cmd = { "policy check",
	"sysguardctl policy check [--warnings-ok] [--policy-dir DIR] FILE...\n"
	"\n"
	"Reads each policy FILE as the daemon would and reports every error and warning\n"
	"as FILE:LINE:COL: error|warning: MESSAGE, or \"FILE: ok, N rules\". Exit 0 when\n"
	"clean, 1 on any error or warning.\n"
	"\n"
	"      --warnings-ok     exit 0 when there are warnings but no errors\n"
	"      --policy-dir=DIR  merge the policy fragments DIR/*.yaml into each FILE, as\n"
	"                        sysguardd --policy-dir does; errors name the fragment\n"
	"  -h, --help            this help\n" };

/* This host's view of a name in a rule. */
static enum sg_lint_path probe_host(const char *path, char *real, size_t cap, void *ctx)
{
	char buf[PATH_MAX];
	struct stat st;

	if (lstat(path, &st))
		return SG_LINT_PATH_ABSENT;
	if (!realpath(path, buf))
		return SG_LINT_PATH_ABSENT;	/* a dangling symlink: nothing there */
	if (strcmp(buf, path)) {
		snprintf(real, cap, "%s", buf);
		return SG_LINT_PATH_ALIAS;
	}
	if (stat(path, &st))
		return SG_LINT_PATH_ABSENT;
	if (S_ISDIR(st.st_mode))
		return SG_LINT_PATH_DIR;
	return S_ISREG(st.st_mode) ? SG_LINT_PATH_FILE : SG_LINT_PATH_OTHER;
}

struct printer {
	const char *path;
};

static void print_msg(const struct sg_lint_msg *m, void *ctx)
{
	const struct printer *pr = ctx;

	printf("%s:%u:%u: %s: %s\n", m->source ? m->source : pr->path, m->line, m->column,
	       m->error ? "error" : "warning", m->text);
}

int sg_cmd_policy_check(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		{ "warnings-ok", no_argument, NULL, OPT_WARNINGS_OK },
		{ "policy-dir", required_argument, NULL, OPT_POLICY_DIR },
		{ 0 },
	};
	const char *dir = NULL;
	bool warnings_ok = false, errors = false;
	unsigned warnings = 0;
	int c, i;

	if (sg_cli_wants_help(argc, argv, ":h", longs))
		return sg_cli_help(&check_cmd);
	while ((c = sg_cli_next(argc, argv, ":h", longs)) != -1) {
		if (c == OPT_POLICY_DIR)
			dir = optarg;
		else if (c == OPT_WARNINGS_OK)
			warnings_ok = true;
		else
			return sg_cli_bad_option(&check_cmd, argc, argv, c);
	}
	if (optind >= argc)
		return sg_cli_usage_error(&check_cmd, "which policy FILE?");
	for (i = optind; i < argc; i++) {
		struct printer pr = { argv[i] };
		struct sg_policy *p = NULL;
		unsigned n;

		fflush(stdout);
		if (sg_cli_load_policy_dir(argv[i], dir, &p, stdout)) {
			errors = true;
			continue;
		}
		n = sg_policy_lint(p, probe_host, NULL, print_msg, &pr);
		if (!n && sg_policy_fragment_count(p))
			printf("%s: ok, %zu rules with %zu fragments from %s (version %s)\n", argv[i],
			       sg_policy_rule_count(p), sg_policy_fragment_count(p), dir,
			       sg_policy_version(p));
		else if (!n)
			printf("%s: ok, %zu rules\n", argv[i], sg_policy_rule_count(p));
		warnings += n;
		sg_policy_free(p);
	}
	if (errors || (warnings && !warnings_ok))
		return SG_EXIT_FAILED;	/* findings */
	return SG_EXIT_OK;
}

// SPDX-License-Identifier: Apache-2.0
/* sysguardctl policy check FILE...: parse errors and lint warnings, gcc-style. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/policy_tools.h"
#include "policy/lint.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysguardctl policy check [--warnings-ok] FILE...\n"
		"Reports every error and warning as FILE:LINE:COL: error|warning: MESSAGE.\n"
		"Exit 0 when clean, 1 on any error or warning (warnings only with --warnings-ok: 0).\n");
}

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

	printf("%s:%u:%u: %s: %s\n", pr->path, m->line, m->column,
	       m->error ? "error" : "warning", m->text);
}

int sg_cmd_policy_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "warnings-ok", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool warnings_ok = false, errors = false;
	unsigned warnings = 0;
	int c, i;

	optind = 0;	/* 0: a full reset of getopt, whatever parsed argv before */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			warnings_ok = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = optind; i < argc; i++) {
		struct printer pr = { argv[i] };
		struct sg_policy *p = NULL;
		unsigned n;

		fflush(stdout);
		if (sg_cli_load_policy(argv[i], &p, stdout)) {
			errors = true;
			continue;
		}
		n = sg_policy_lint(p, probe_host, NULL, print_msg, &pr);
		if (!n)
			printf("%s: ok, %zu rules\n", argv[i], sg_policy_rule_count(p));
		warnings += n;
		sg_policy_free(p);
	}
	if (errors || (warnings && !warnings_ok))
		return 1;
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Option reading shared by every sysguardctl command (see cli.h). */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sg_cli_getopt_start(void)
{
	/* 0, not 1: glibc then forgets the permutation state of the last vector. */
	optind = 0;
	opterr = 0;
}

int sg_cli_next(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}

bool sg_cli_wants_help(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	/*
	 * A copy: getopt_long moves the arguments it skips behind the options,
	 * and the real pass must see the line as typed, or `x -o` becomes `-o x`
	 * (out of memory: the line itself, moved, still reads right for help).
	 */
	char **copy = calloc((size_t)argc + 1, sizeof(*copy)), **v = copy ? copy : argv;
	bool help = false;
	int c;

	if (copy)
		memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	sg_cli_getopt_start();
	while ((c = sg_cli_next(argc, v, shortopts, longopts)) != -1)
		if (c == 'h')
			help = true;
	sg_cli_getopt_start();
	free(copy);
	return help;
}

int sg_cli_help(const struct sg_cli_cmd *cmd)
{
	printf("usage: %s", cmd->usage);
	return SG_EXIT_OK;
}

static void hint(const struct sg_cli_cmd *cmd)
{
	fprintf(stderr, "try 'sysguardctl %s%s--help'\n", cmd->path, cmd->path[0] ? " " : "");
}

int sg_cli_bad_option(const struct sg_cli_cmd *cmd, int argc, char **argv, int c)
{
	const char *what = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
	const char *name = cmd->path[0] ? cmd->path : "sysguardctl";
	const char *prefix = cmd->path[0] ? "sysguardctl " : "";

	if (c == ':' && optopt && strncmp(what, "--", 2))
		fprintf(stderr, "%s%s: option '-%c' needs a value\n", prefix, name, optopt);
	else if (c == ':')
		fprintf(stderr, "%s%s: option '%s' needs a value\n", prefix, name, what);
	else if (optopt && strncmp(what, "--", 2))
		fprintf(stderr, "%s%s: unknown option '-%c'\n", prefix, name, optopt);
	else
		fprintf(stderr, "%s%s: unknown option '%s'\n", prefix, name, what);
	hint(cmd);
	return SG_EXIT_USAGE;
}

int sg_cli_usage_error(const struct sg_cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sysguardctl%s%s: ", cmd->path[0] ? " " : "", cmd->path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	hint(cmd);
	return SG_EXIT_USAGE;
}

bool sg_cli_parse_output(const struct sg_cli_cmd *cmd, const char *arg, enum sg_cli_output *out)
{
	if (!strcmp(arg, "json")) {
		*out = SG_OUT_JSON;
		return true;
	}
	if (!strcmp(arg, "table")) {
		*out = SG_OUT_TABLE;
		return true;
	}
	sg_cli_usage_error(cmd, "--output is table or json, not '%s'", arg);
	return false;
}

int sg_cli_no_daemon(const struct sg_cli *cli, const char *why)
{
	fprintf(stderr, "sysguardctl: no running sysguardd with --state-dir %s%s%s\n", cli->state_dir,
		why && why[0] ? ": " : "", why ? why : "");
	return SG_EXIT_NO_DAEMON;
}

int sg_cli_help_only(const struct sg_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longs[] = { SG_CLI_OPT_HELP, { 0 } };
	int c;

	if (sg_cli_wants_help(argc, argv, ":h", longs))
		return sg_cli_help(cmd);
	while ((c = sg_cli_next(argc, argv, ":h", longs)) != -1)
		return sg_cli_bad_option(cmd, argc, argv, c);
	return -1;
}

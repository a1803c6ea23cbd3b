// SPDX-License-Identifier: Apache-2.0
/* sysguardctl block add|del|list: the running daemon's block list. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/daemon_state.h"
#include "store/block_list.h"
#include "store/bundle_files.h"

#define LIST_MAX (64u << 20)
#define DEFAULT_TIMEOUT_MS 5000

static const struct sg_cli_cmd block_cmd = { "block",
	"sysguardctl block add PATH | del PATH | list\n"
	"\n"
	"The running daemon's block list: files nobody may write, rename or remove,\n"
	"kept in its --blocklist file so that they stay protected across\n"
	"restarts. Each change is recorded (file_protect) and taken at once (a reload).\n"
	"\n"
	"  add PATH    protect a regular file (named by its real path)\n"
	"  del PATH    stop protecting it\n"
	"  list        the protected files, one a line\n"
	"\n"
	"'sysguardctl block COMMAND --help' tells more.\n" };

static const struct sg_cli_cmd add_cmd = { "block add",
	"sysguardctl block add PATH\n"
	"\n"
	"Adds the regular file PATH (by its real path) to the running daemon's block list\n"
	"and makes the daemon protect it now.\n"
	"\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd del_cmd = { "block del",
	"sysguardctl block del PATH\n"
	"\n"
	"Removes PATH from the running daemon's block list and makes the daemon release it.\n"
	"\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd list_cmd = { "block list",
	"sysguardctl block list\n"
	"\n"
	"The files in the running daemon's block list, one a line.\n"
	"\n"
	"  -h, --help            this help\n" };

/* Only --help, then exactly `want` arguments. An exit code, or -1 to go on. */
static int sub_opts(const struct sg_cli_cmd *cmd, int argc, char **argv, int want)
{
	int rc = sg_cli_help_only(cmd, argc, argv);

	if (rc >= 0)
		return rc;
	if (argc - optind != want)
		return want ? sg_cli_usage_error(cmd, "give one PATH") :
			      sg_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static int list(const char *blocklist)
{
	char err[512], *text = NULL;
	size_t len = 0;
	int rc = sg_file_read_all(blocklist, LIST_MAX, &text, &len, err, sizeof(err));

	if (rc && rc != -ENOENT) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return SG_EXIT_FAILED;
	}
	if (len)
		fwrite(text, 1, len, stdout);
	free(text);
	return SG_EXIT_OK;
}

/* Edits the list file, then has the daemon take it. */
static int edit(const struct sg_cli *cli, const char *blocklist, bool add, const char *arg)
{
	char err[512], resolved[PATH_MAX], *text = NULL, *out = NULL;
	const char *path = arg;
	size_t len = 0, line_len = 0, out_len = 0;
	bool listed;
	struct stat st;
	int rc;

	/* The file itself is protected, by inode: name it by its real path. */
	if (realpath(path, resolved)) {
		path = resolved;
	} else if (add || path[0] != '/') {
		fprintf(stderr, "sysguardctl: %s: %s\n", arg, strerror(errno));
		return SG_EXIT_FAILED;
	}
	if (add && (stat(path, &st) || !S_ISREG(st.st_mode))) {
		fprintf(stderr, "sysguardctl: %s: only regular files can be blocked\n", path);
		return SG_EXIT_FAILED;
	}
	if (strchr(path, '\n')) {
		fprintf(stderr, "sysguardctl: %s: a path with a newline cannot go in the block list\n", arg);
		return SG_EXIT_FAILED;
	}
	rc = sg_file_read_all(blocklist, LIST_MAX, &text, &len, err, sizeof(err));
	if (rc && rc != -ENOENT) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return SG_EXIT_FAILED;
	}
	listed = text && sg_block_list_find(text, len, path, &line_len);
	if (add == listed) {
		printf("%s %s the block list\n", path, add ? "is already in" : "is not in");
		free(text);
		return SG_EXIT_OK;
	}
	rc = add ? sg_block_list_add(text, len, path, &out, &out_len) :
		   sg_block_list_del(text, len, path, &out, &out_len);
	free(text);
	if (rc) {
		fprintf(stderr, "sysguardctl: %s: %s\n", blocklist, strerror(-rc));
		return SG_EXIT_FAILED;
	}
	rc = sg_file_replace(blocklist, out, out_len, 0600, err, sizeof(err));
	free(out);
	if (rc) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return SG_EXIT_FAILED;
	}
	printf("%s %s\n", add ? "blocked" : "unblocked", path);
	return sg_daemon_reload(cli, DEFAULT_TIMEOUT_MS, false);
}

int sg_cmd_block(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = { SG_CLI_OPT_HELP, { 0 } };
	const struct sg_cli_cmd *sub;
	char blocklist[4096];
	int c, rc;

	sg_cli_getopt_start();
	while ((c = sg_cli_next(argc, argv, "+:h", longs)) != -1) {
		if (c == 'h')
			return sg_cli_help(&block_cmd);
		return sg_cli_bad_option(&block_cmd, argc, argv, c);
	}
	if (optind >= argc)
		return sg_cli_usage_error(&block_cmd, "which command? add, del or list");
	argc -= optind;
	argv += optind;
	sub = !strcmp(argv[0], "add") ? &add_cmd : !strcmp(argv[0], "del") ? &del_cmd :
	      !strcmp(argv[0], "list") ? &list_cmd : NULL;
	if (!sub)
		return sg_cli_usage_error(&block_cmd, "unknown command '%s'", argv[0]);
	rc = sub_opts(sub, argc, argv, sub == &list_cmd ? 0 : 1);
	if (rc >= 0)
		return rc;
	/* The list is the daemon's: its file is named in the ready file. */
	if (sg_ready_field(cli->state_dir, "blocklist", blocklist, sizeof(blocklist)))
		return sg_cli_no_daemon(cli, "the block list is the daemon's");
	if (sub == &list_cmd)
		return list(blocklist);
	return edit(cli, blocklist, sub == &add_cmd, argv[optind]);
}

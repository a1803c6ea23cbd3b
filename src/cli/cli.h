/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every sysguardctl command shares: the global options, and one way to
 * read options (getopt_long) that answers --help before anything else and
 * says what was wrong with a command line the same way everywhere.
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/exit_codes.h"

struct sg_cli {
	const char *state_dir;
};

/* A command's words ("policy sign") and its usage text (after "usage: "). */
struct sg_cli_cmd {
	const char *path;
	const char *usage;
};

enum sg_cli_output { SG_OUT_TABLE, SG_OUT_JSON };

/* The options every command knows, for its table. */
#define SG_CLI_OPT_HELP { "help", no_argument, NULL, 'h' }
#define SG_CLI_OPT_OUTPUT { "output", required_argument, NULL, 'o' }

/*
 * True when argv (argv[0]: the command's last word) asks for -h/--help, as
 * getopt_long reads it with these options: `--reason -h` is a reason, not a
 * request for help. argv is left as it is, for the pass that reads it.
 */
bool sg_cli_wants_help(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Prints the command's usage on stdout; SG_EXIT_OK. */
int sg_cli_help(const struct sg_cli_cmd *cmd);

/*
 * Starts reading argv with getopt_long (no messages from getopt itself);
 * then call sg_cli_next() until it returns -1. A ':' or '?' from it means
 * a bad option: pass it to sg_cli_bad_option().
 */
void sg_cli_getopt_start(void);
int sg_cli_next(int argc, char **argv, const char *shortopts, const struct option *longopts);

/*
 * For a command whose only option is --help: usage and SG_EXIT_OK when asked
 * for, SG_EXIT_USAGE on any other option, else -1 (go on: its positional
 * arguments are argv[optind..]).
 */
int sg_cli_help_only(const struct sg_cli_cmd *cmd, int argc, char **argv);

/* "sysguardctl CMD: unknown option '--x'" (or missing argument) and the hint; SG_EXIT_USAGE. */
int sg_cli_bad_option(const struct sg_cli_cmd *cmd, int argc, char **argv, int c);

/* A usage error in the user's words (printf format), then the hint; SG_EXIT_USAGE. */
int sg_cli_usage_error(const struct sg_cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* -o/--output's value; false (after saying so) when it is neither table nor json. */
bool sg_cli_parse_output(const struct sg_cli_cmd *cmd, const char *arg, enum sg_cli_output *out);

/*
 * A command's whole output to -o FILE (created or replaced), or to stdout
 * when path is NULL; says what failed on errs. 0 or a negative errno.
 */
int sg_cli_write_output(const char *path, const char *text, FILE *errs);

/* "no running sysguardd ..." on stderr; SG_EXIT_NO_DAEMON. */
int sg_cli_no_daemon(const struct sg_cli *cli, const char *why);

#endif

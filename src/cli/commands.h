/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysguardctl's commands. Each takes argv with argv[0] its own word, reads
 * its options with getopt_long (cli.h), answers -h/--help before doing
 * anything, and returns an exit code of exit_codes.h.
 */
#ifndef SG_CLI_COMMANDS_H
#define SG_CLI_COMMANDS_H

#include "cli/cli.h"

int sg_cmd_probe(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_status(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_stats(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_events(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_reload(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_reset(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_break_glass(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_policy(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_policy_apply(const struct sg_cli *cli, int argc, char **argv);
/* The policy tools need no daemon; check exits 1 on findings, diff 1 on differences. */
int sg_cmd_policy_check(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_policy_test(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_policy_learn(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_policy_trust(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_policy_diff(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_block(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_shield(const struct sg_cli *cli, int argc, char **argv);
/* fleet status exits 1 when a node is not converged. */
int sg_cmd_fleet(const struct sg_cli *cli, int argc, char **argv);
/* fleet_setup.c: `fleet setup`, the stream and buckets made by the admin. */
int sg_cmd_fleet_setup(const struct sg_cli *cli, int argc, char **argv);

/*
 * The running daemon's status (its ready file, with the uptime from
 * stats.json) as a table or as the ready file's JSON: what status, reload,
 * break-glass and policy apply show. An exit code.
 */
int sg_cli_print_status(const struct sg_cli *cli, enum sg_cli_output out);

#endif

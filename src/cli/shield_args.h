/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sysguardctl shield SUBCOMMAND ...` read with getopt_long, and written back
 * in the one form the Shield's commands take (src/act/shield_ops.c, also run
 * by the daemon through shield.sock): "--max-rules=N" becomes "--max-rules" "N",
 * "-o json" becomes "--json". Values (CIDRs, numbers) are checked there.
 */
#ifndef SG_CLI_SHIELD_ARGS_H
#define SG_CLI_SHIELD_ARGS_H

#include "cli/cli.h"

/* The help of `shield` itself, on out. */
void sg_shield_args_usage(FILE *out);

/*
 * argv[0] is the subcommand. Either an exit code (help printed, usage
 * error said), or -1 with *out (malloc'd array; its strings are argv's) and
 * *out_argc set.
 */
int sg_shield_args(int argc, char **argv, char ***out, int *out_argc);

/* The hint after a usage error the Shield's commands found. */
void sg_shield_args_hint(const char *sub);

#endif

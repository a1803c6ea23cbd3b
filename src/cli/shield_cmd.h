/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SG_CLI_SHIELD_CMD_H
#define SG_CLI_SHIELD_CMD_H

#include <stdio.h>

/* `sysguardctl shield ...`; argv[0] is "shield". Returns the exit status. */
int sg_cli_shield(const char *state_dir, int argc, char **argv);
void sg_cli_shield_usage(FILE *out);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet commands in files of their own, dispatched by fleet_cmd.c; the
 * bus connection they all share is cli/fleet_connect.h.
 */
#ifndef SG_CLI_FLEET_CLI_H
#define SG_CLI_FLEET_CLI_H

#include "cli/cli.h"

/* `fleet events` (fleet_events.c) and `fleet view` (fleet_view.c): exit codes. */
int sg_cmd_fleet_events(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_fleet_view(const struct sg_cli *cli, int argc, char **argv);

#endif

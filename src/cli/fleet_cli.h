/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fleet commands share (fleet_cmd.c owns the connection, so that
 * every fleet command reaches the bus the same way): the URL check, the
 * connection, and the commands in files of their own.
 */
#ifndef SG_CLI_FLEET_CLI_H
#define SG_CLI_FLEET_CLI_H

#include "cli/cli.h"

#ifndef SG_FLEET_NO_NATS
#include <nats/nats.h>

/* Connected with JetStream, or an error printed and both left NULL. */
natsStatus sg_fleet_cli_connect(const char *url, natsConnection **nc, jsCtx **js);
#endif

/* 0 when url is a valid --url, else -1 with a message printed. */
int sg_fleet_cli_check_url(const char *url);

/* `fleet events` (fleet_events.c) and `fleet view` (fleet_view.c): exit codes. */
int sg_cmd_fleet_events(const struct sg_cli *cli, int argc, char **argv);
int sg_cmd_fleet_view(const struct sg_cli *cli, int argc, char **argv);

#endif

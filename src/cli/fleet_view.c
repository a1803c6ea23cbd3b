// SPDX-License-Identifier: Apache-2.0
#include "cli/commands.h"
#include "cli/fleet_cli.h"

int sg_cmd_fleet_view(const struct sg_cli *cli, int argc, char **argv)
{
	return SG_EXIT_FAILED;
}

// SPDX-License-Identifier: Apache-2.0
/* sysguardctl: the operator's tool. The global options, then one command (commands.h). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "version.h"

static const struct {
	const char *name;
	int (*fn)(const struct sg_cli *cli, int argc, char **argv);
} commands[] = {
	{ "probe", sg_cmd_probe },
	{ "status", sg_cmd_status },
	{ "stats", sg_cmd_stats },
	{ "events", sg_cmd_events },
	{ "reload", sg_cmd_reload },
	{ "reset", sg_cmd_reset },
	{ "break-glass", sg_cmd_break_glass },
	{ "policy", sg_cmd_policy },
	{ "block", sg_cmd_block },
	{ "shield", sg_cmd_shield },
	{ "fleet", sg_cmd_fleet },
};

static const struct sg_cli_cmd top = { "",
	"sysguardctl [--state-dir DIR] COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"Commands:\n"
	"  probe                 kernel features and which backends are usable here\n"
	"  status                mode, break glass, policy, uptime, active backends\n"
	"  stats                 counters: decisions, drops, kills, alerts, ...\n"
	"  events [--follow]     recent audit records, or the live stream (needs the API)\n"
	"  reload                make the running daemon reload its policy, and wait for its answer\n"
	"  reset                 remove every program, link and map SysGuard pinned (and the Shield)\n"
	"  break-glass on --reason TEXT | off\n"
	"                        force monitor mode (audited) until switched off\n"
	"  policy keygen|sign|verify|apply\n"
	"                        signed policy bundles; hand a policy to the running daemon\n"
	"  policy check|test|learn|trust|diff\n"
	"                        write and try a policy (no daemon needed)\n"
	"  block add PATH | del PATH | list\n"
	"                        files nobody may change (audited, persistent)\n"
	"  shield [--pin-dir DIR] attach|detach|unload|add|del|load|list|stats|dry-run|gateway\n"
	"                        the XDP ingress deny list\n"
	"  fleet setup|publish|status\n"
	"                        signed bundles to a group of nodes over NATS; the nodes' status\n"
	"\n"
	"Options:\n"
	"      --state-dir=DIR   the daemon's state directory (default /run/sysguard)\n"
	"  -V, --version         print the version\n"
	"  -h, --help            this help; 'sysguardctl COMMAND --help' for a command's\n"
	"\n"
	"status, stats and events print a table; -o json prints the daemon's JSON.\n"
	"\n"
	"Exit codes (every command):\n"
	"  0  success\n"
	"  1  the command failed (the daemon refused it, an I/O error, ...)\n"
	"  2  usage error (unknown command or option, missing or bad argument)\n"
	"  3  no sysguardd running (or reachable) for --state-dir\n"
	"\n"
	"See sysguardctl(8).\n" };

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		{ "state-dir", required_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct sg_cli cli = { .state_dir = "/run/sysguard" };
	size_t i;
	int c;

	/* '+': stop at the command; what follows is its own. */
	sg_cli_getopt_start();
	while ((c = sg_cli_next(argc, argv, "+:hV", longs)) != -1) {
		switch (c) {
		case 'h':
			return sg_cli_help(&top);
		case 'V':
			printf("sysguardctl %s\n", SG_VERSION);
			return SG_EXIT_OK;
		case 's':
			if (!optarg[0])
				return sg_cli_usage_error(&top, "--state-dir needs a directory");
			cli.state_dir = optarg;
			break;
		default:
			return sg_cli_bad_option(&top, argc, argv, c);
		}
	}
	if (optind >= argc)
		return sg_cli_usage_error(&top, "which command?");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(&cli, argc - optind, argv + optind);
	return sg_cli_usage_error(&top, "unknown command '%s'", argv[optind]);
}

// SPDX-License-Identifier: Apache-2.0
/* The Shield's subcommands: their options, help and canonical form (see shield_args.h). */
#include "cli/shield_args.h"

#include <stdlib.h>
#include <string.h>

#include "act/shield.h"

enum { OPT_GENERIC = 256, OPT_MAX_RULES, OPT_V4_BITS, OPT_V6_BITS, OPT_V6_ENTRIES, OPT_MAX_MEMORY, OPT_JSON,
       OPT_ALL };

static const struct option attach_opts[] = {
	SG_CLI_OPT_HELP,
	{ "generic", no_argument, NULL, OPT_GENERIC },
	{ "max-rules", required_argument, NULL, OPT_MAX_RULES },
	{ "v6-entries", required_argument, NULL, OPT_V6_ENTRIES },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "v4-bits", required_argument, NULL, OPT_V4_BITS },
	{ "v6-bits", required_argument, NULL, OPT_V6_BITS },
	{ 0 },
};

static const struct option stats_opts[] = {
	SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
	{ "json", no_argument, NULL, OPT_JSON },
	{ "all", no_argument, NULL, OPT_ALL },
	{ 0 },
};

static const struct option list_opts[] = {
	SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
	{ "json", no_argument, NULL, OPT_JSON },
	{ 0 },
};

static const struct option help_opts[] = { SG_CLI_OPT_HELP, { 0 } };

#define MANY 1000000

static const struct sub {
	struct sg_cli_cmd cmd;
	const char *name;
	const char *shorts;
	const struct option *opts;
	int min_args, max_args;
	const char *args_needed;
} subs[] = {
	{ { "shield attach",
	    "sysguardctl shield attach IFACE [--generic] [--max-rules N] [--v6-entries N] [--max-memory MB]\n"
	    "\n"
	    "Attaches the Shield's XDP program to IFACE (native XDP, or generic with\n"
	    "--generic), creating its maps on first use with these sizes. The maps\n"
	    "hold two lists of that size, so that any list can replace another at once.\n"
	    "\n"
	    "      --generic         generic (skb) XDP, for drivers without native XDP\n"
	    "      --max-rules=N     most CIDRs the deny list holds (default 1000000)\n"
	    "      --v6-entries=N    of which IPv6 at most (default 250000)\n"
	    "      --max-memory=MB   refuse sizes whose maps need more (default 64)\n"
	    "      --v4-bits=B       IPv4 index bits (default: from --max-rules)\n"
	    "      --v6-bits=B       IPv6 index bits (default: from --v6-entries)\n"
	    "  -h, --help            this help\n" },
	  "attach", ":h", attach_opts, 1, 1, "give one IFACE" },
	{ { "shield detach",
	    "sysguardctl shield detach IFACE\n\nDetaches the Shield from IFACE.\n\n"
	    "  -h, --help            this help\n" },
	  "detach", ":h", help_opts, 1, 1, "give one IFACE" },
	{ { "shield unload",
	    "sysguardctl shield unload\n\nDetaches the Shield from every interface and removes its"
	    " pinned maps.\n\n  -h, --help            this help\n" },
	  "unload", ":h", help_opts, 0, 0, NULL },
	{ { "shield add",
	    "sysguardctl shield add CIDR...\n\nAdds CIDRs (IPv4 or IPv6) to the deny list.\n\n"
	    "  -h, --help            this help\n" },
	  "add", ":h", help_opts, 1, MANY, "give at least one CIDR" },
	{ { "shield del",
	    "sysguardctl shield del CIDR...\n\nRemoves CIDRs from the deny list.\n\n"
	    "  -h, --help            this help\n" },
	  "del", ":h", help_opts, 1, MANY, "give at least one CIDR" },
	{ { "shield load",
	    "sysguardctl shield load FILE\n\nReplaces the whole deny list with FILE's CIDRs (one a"
	    " line, # comments), at once:\nno packet sees a half-loaded list; a bad line changes"
	    " nothing.\n\n  -h, --help            this help\n" },
	  "load", ":h", help_opts, 1, 1, "give one FILE" },
	{ { "shield list",
	    "sysguardctl shield list [-o table|json]\n\nEvery CIDR of the deny list with its"
	    " drops.\n\n"
	    "  -o, --output=FORMAT   table (the default) or json (--json)\n"
	    "  -h, --help            this help\n" },
	  "list", ":ho:", list_opts, 0, 0, NULL },
	{ { "shield stats",
	    "sysguardctl shield stats [-o table|json] [--all]\n\nThe Shield's state and counters,"
	    " and the CIDRs that dropped packets.\n\n"
	    "  -o, --output=FORMAT   table (the default) or json (--json)\n"
	    "      --all             every CIDR, also those with no drops\n"
	    "  -h, --help            this help\n" },
	  "stats", ":ho:", stats_opts, 0, 0, NULL },
	{ { "shield dry-run",
	    "sysguardctl shield dry-run on|off\n\nIn dry run the Shield counts what it would drop"
	    " and lets it pass.\n\n  -h, --help            this help\n" },
	  "dry-run", ":h", help_opts, 1, 1, "say on or off" },
	{ { "shield gateway",
	    "sysguardctl shield gateway ADDR|none\n\nAn address the Shield never drops (the"
	    " gateway: a deny list must not cut the host\noff its network), or none.\n\n"
	    "  -h, --help            this help\n" },
	  "gateway", ":h", help_opts, 1, 1, "give one ADDR, or none" },
};

static const struct sg_cli_cmd shield_cmd = { "shield", "" };

void sg_shield_args_usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: sysguardctl shield [--pin-dir DIR] COMMAND ...\n"
		"\n"
		"The Shield: an XDP ingress deny list (pins under %s).\n"
		"Commands:\n", SG_SHIELD_PIN_DIR);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		const char *u = subs[i].cmd.usage + strlen("sysguardctl shield ");
		const char *nl = strchr(u, '\n');

		fprintf(out, "  %.*s\n", (int)(nl - u), u);
	}
	fprintf(out,
		"\n"
		"Sent to the running sysguardd (the one of --state-dir) through its shield.sock,\n"
		"which checks, applies and records each change; interfaces are then those of the\n"
		"daemon's network namespace. With no daemon (or with --pin-dir) the pinned maps are\n"
		"edited directly, which works only where they are not guarded: a daemon on a\n"
		"BPF LSM kernel refuses every other process access to them (docs/shield.md).\n"
		"\n"
		"      --pin-dir=DIR     edit the Shield pinned in DIR, directly\n"
		"  -h, --help            this help\n"
		"'sysguardctl shield COMMAND --help' tells more.\n");
}

void sg_shield_args_hint(const char *sub)
{
	fprintf(stderr, "try 'sysguardctl shield %s --help'\n", sub);
}

/* The option of this val in the subcommand's table (the Shield's commands spell it "--name"). */
static const struct option *find(const struct option *opts, int val)
{
	for (; opts->name; opts++)
		if (opts->val == val)
			return opts;
	return NULL;
}

/* "--" and the option's name, in storage that outlives the call. */
static char *spelled(const struct option *o)
{
	static char names[OPT_ALL - OPT_GENERIC + 1][24];
	char *b = names[o->val - OPT_GENERIC];

	snprintf(b, sizeof(names[0]), "--%s", o->name);
	return b;
}

int sg_shield_args(int argc, char **argv, char ***out, int *out_argc)
{
	const struct sub *s = NULL;
	enum sg_cli_output fmt;
	const struct option *o;
	char **v;
	size_t i;
	int n = 0, c;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[0], subs[i].name))
			s = &subs[i];
	if (!s)
		return sg_cli_usage_error(&shield_cmd, "unknown command '%s'", argv[0]);
	if (sg_cli_wants_help(argc, argv, s->shorts, s->opts))
		return sg_cli_help(&s->cmd);
	v = calloc(2 * (size_t)argc + 1, sizeof(*v));
	if (!v)
		return SG_EXIT_FAILED;
	v[n++] = argv[0];
	while ((c = sg_cli_next(argc, argv, s->shorts, s->opts)) != -1) {
		if (c == ':' || c == '?' || c == 'h') {
			free(v);
			return sg_cli_bad_option(&s->cmd, argc, argv, c);
		}
		if (c == 'o') {
			if (!sg_cli_parse_output(&s->cmd, optarg, &fmt)) {
				free(v);
				return SG_EXIT_USAGE;
			}
			if (fmt == SG_OUT_JSON)
				v[n++] = "--json";
			continue;
		}
		o = find(s->opts, c);
		v[n++] = spelled(o);
		if (o->has_arg == required_argument)
			v[n++] = optarg;
	}
	if (argc - optind < s->min_args || argc - optind > s->max_args) {
		free(v);
		return s->args_needed ? sg_cli_usage_error(&s->cmd, "%s", s->args_needed) :
					sg_cli_usage_error(&s->cmd, "unexpected argument '%s'", argv[optind]);
	}
	for (c = optind; c < argc; c++)
		v[n++] = argv[c];
	*out = v;
	*out_argc = n;
	return -1;
}

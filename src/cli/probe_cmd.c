// SPDX-License-Identifier: Apache-2.0
/* sysguardctl probe: which kernel features, and so which backends, this machine offers. */
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/commands.h"
#include "report/json.h"
#include "sense/probe.h"

static const struct sg_cli_cmd probe_cmd = { "probe",
	"sysguardctl probe [-o table|json]\n"
	"\n"
	"Probes the kernel (no daemon needed) and says which features and which\n"
	"enforcement backends are usable here. Needs root to be accurate.\n"
	"\n"
	"  -o, --output=FORMAT   table (the default) or json (one line)\n"
	"      --json            the same as -o json\n"
	"  -h, --help            this help\n" };

static const struct {
	const char *backend;
	enum sg_feature needs[3];
	unsigned n;
} backends[] = {
	{ "bpf_lsm", { SG_FEAT_BPF_LSM, SG_FEAT_RINGBUF }, 2 },
	{ "fanotify", { SG_FEAT_FAN_EXEC_PERM }, 1 },
	{ "bpf_kill", { SG_FEAT_TP_BTF, SG_FEAT_SEND_SIGNAL, SG_FEAT_RINGBUF }, 3 },
	{ "exec_tracepoint", { SG_FEAT_TP_BTF, SG_FEAT_RINGBUF }, 2 },
};

static bool backend_usable(const struct sg_features *fs, size_t i)
{
	unsigned k;

	for (k = 0; k < backends[i].n; k++)
		if (!fs->f[backends[i].needs[k]].usable)
			return false;
	return true;
}

static void print_table(const struct sg_features *fs)
{
	size_t i;

	printf("%-22s %-8s %s\n", "FEATURE", "USABLE", "DETAIL");
	for (i = 0; i < SG_FEAT_MAX; i++)
		printf("%-22s %-8s %s\n", sg_feature_name(i), fs->f[i].usable ? "yes" : "no",
		       fs->f[i].detail);
	printf("\n%-22s %s\n", "BACKEND", "USABLE");
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		printf("%-22s %s\n", backends[i].backend, backend_usable(fs, i) ? "yes" : "no");
	printf("%-22s %s\n", "pidfd_kill", "yes");
	printf("\nsilent refusals (EPERM, no record): %s\n", sg_probe_silent_refusals(fs));
}

static void print_json(const struct sg_features *fs)
{
	struct sg_json j;
	size_t i;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_probe_to_json(fs, &j);
	sg_json_key(&j, "backends");
	sg_json_begin_object(&j);
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		sg_json_kv_bool(&j, backends[i].backend, backend_usable(fs, i));
	sg_json_kv_bool(&j, "pidfd_kill", true);
	sg_json_end_object(&j);
	sg_json_kv_str(&j, "silent_refusals", sg_probe_silent_refusals(fs));
	sg_json_end_object(&j);
	printf("%.*s\n", (int)j.len, j.buf);
	sg_json_free(&j);
}

int sg_cmd_probe(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	enum sg_cli_output out = SG_OUT_TABLE;
	struct sg_features fs;
	int c;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&probe_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		if (c == 'j')
			out = SG_OUT_JSON;
		else if (c != 'o')
			return sg_cli_bad_option(&probe_cmd, argc, argv, c);
		else if (!sg_cli_parse_output(&probe_cmd, optarg, &out))
			return SG_EXIT_USAGE;
	}
	if (optind < argc)
		return sg_cli_usage_error(&probe_cmd, "unexpected argument '%s'", argv[optind]);
	if (geteuid() != 0)
		fprintf(stderr, "sysguardctl: probe needs root; results below are what this user may do\n");
	sg_probe_run(&fs);
	if (out == SG_OUT_JSON)
		print_json(&fs);
	else
		print_table(&fs);
	return SG_EXIT_OK;
}

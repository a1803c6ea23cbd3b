// SPDX-License-Identifier: Apache-2.0
/* sysguardctl policy diff OLD NEW --log AUDIT_LOG: replay recorded execs through both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/policy_log.h"
#include "cli/policy_tools.h"
#include "policy/diff.h"

enum { OPT_LOG = 256 };

static const struct sg_cli_cmd diff_cmd = { "policy diff",
	"sysguardctl policy diff OLD NEW --log AUDIT_LOG\n"
	"\n"
	"Decides every exec recorded in AUDIT_LOG with both policies and lists what NEW\n"
	"would allow that OLD denied, and the other way round. Exit 0 when nothing\n"
	"changes, 1 when something does.\n"
	"\n"
	"      --log=AUDIT_LOG   the daemon's audit log with the execs to replay\n"
	"  -h, --help            this help\n" };

struct replay {
	struct sg_engine old, new;
	struct sg_diff *d;
};

static int on_exec(const struct sg_jv *rec, void *ctx)
{
	struct replay *r = ctx;
	struct sg_exec_facts f, g;
	struct sg_verdict vo, vn;
	char name[64 + 16];
	size_t i;

	if (!sg_log_exec_facts(rec, &f))
		return 0;
	g = f;
	sg_cli_decide(&r->old, &f, &vo);
	sg_cli_decide(&r->new, &g, &vn);
	if (!f.has_path) {
		snprintf(name, sizeof(name), "(no path) sha256 ");
		for (i = 0; i < 8; i++)
			snprintf(name + strlen(name), sizeof(name) - strlen(name), "%02x", f.sha256[i]);
	}
	return sg_diff_add(r->d, f.has_path ? f.path : name, vo.action == SG_ACTION_DENY,
			   vn.action == SG_ACTION_DENY);
}

int sg_cmd_policy_diff(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		{ "log", required_argument, NULL, OPT_LOG },
		{ 0 },
	};
	struct sg_policy *po = NULL, *pn = NULL;
	struct replay r = { 0 };
	const char *log = NULL;
	uint64_t total, allowed, denied;
	char *text;
	int c, rc = SG_EXIT_FAILED;

	if (sg_cli_wants_help(argc, argv, ":h", longs))
		return sg_cli_help(&diff_cmd);
	while ((c = sg_cli_next(argc, argv, ":h", longs)) != -1) {
		if (c != OPT_LOG)
			return sg_cli_bad_option(&diff_cmd, argc, argv, c);
		log = optarg;
	}
	if (optind + 2 != argc || !log)
		return sg_cli_usage_error(&diff_cmd, "needs OLD, NEW and --log AUDIT_LOG");
	if (sg_cli_load_policy(argv[optind], &po, stderr) ||
	    sg_cli_load_policy(argv[optind + 1], &pn, stderr))
		goto out;
	r.d = sg_diff_new();
	if (!r.d || sg_cli_engine_init(&r.old, po) || sg_cli_engine_init(&r.new, pn))
		goto out;
	if (sg_log_each_exec(log, on_exec, &r, stderr))
		goto out;
	text = sg_diff_render(r.d);
	if (!text)
		goto out;
	fputs(text, stdout);
	free(text);
	sg_diff_counts(r.d, &total, &allowed, &denied);
	rc = allowed || denied ? SG_EXIT_FAILED : SG_EXIT_OK;	/* 1: a difference */
out:
	if (r.old.hashes)
		sg_cli_engine_free(&r.old);
	if (r.new.hashes)
		sg_cli_engine_free(&r.new);
	sg_diff_free(r.d);
	sg_policy_free(po);
	sg_policy_free(pn);
	return rc;
}

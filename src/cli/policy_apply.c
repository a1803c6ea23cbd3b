// SPDX-License-Identifier: Apache-2.0
/*
 * POL-2, FILE-3: `policy apply FILE`: hand a policy or a signed bundle to the
 * running daemon through <state-dir>/policy.inbox. The daemon checks it
 * (signature, key, version, syntax) and writes its own policy file, which
 * self-defence lets nobody else change; this only delivers it and waits for
 * the answer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/daemon_state.h"
#include "store/bundle_files.h"

#define POLL_MS 100
#define DEFAULT_TIMEOUT_MS 5000

enum { OPT_TIMEOUT = 256 };

static const struct sg_cli_cmd apply_cmd = { "policy apply",
	"sysguardctl policy apply [--timeout SECONDS] [-o table|json] FILE\n"
	"\n"
	"Hands FILE (a policy, or a signed bundle) to the running daemon, which checks it\n"
	"and, when it takes it, writes it as its own policy file and runs it. Shows the\n"
	"daemon's status after (exit 0), or why it refused FILE (exit 1).\n"
	"\n"
	"      --timeout=SECONDS how long to wait for the daemon's answer (default 5)\n"
	"  -o, --output=FORMAT   the status shown after: table (default) or json\n"
	"  -h, --help            this help\n" };

/* A bundle's version from its header, 0 for a plain policy: the ready file says when it runs. */
static unsigned long long bundle_version(const char *file)
{
	unsigned long long version = 0;
	char hdr[4096], *b;

	if (sg_read_small(file, hdr, sizeof(hdr)) == 0 && !strncmp(hdr, "sysguard-policy-bundle", 22) &&
	    (b = strstr(hdr, "\nversion: ")))
		sscanf(b + 10, "%llu", &version);
	return version;
}

static int deliver(const struct sg_cli *cli, const char *file)
{
	char path[4200], err[512], *buf = NULL;
	size_t len = 0;
	int rc;

	if (sg_file_read_all(file, 16u << 20, &buf, &len, err, sizeof(err))) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return SG_EXIT_FAILED;
	}
	snprintf(path, sizeof(path), "%s/policy.inbox.result", cli->state_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/policy.inbox", cli->state_dir);
	rc = sg_file_replace(path, buf, len, 0600, err, sizeof(err));
	free(buf);
	if (rc) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return SG_EXIT_FAILED;
	}
	return SG_EXIT_OK;
}

static int apply(const struct sg_cli *cli, const char *file, unsigned timeout_ms,
		 enum sg_cli_output out)
{
	unsigned long long version = bundle_version(file);
	char path[4200], ready[8192], want[64], result[600];
	struct sg_state_stamp before;
	pid_t pid = sg_daemon_pid(cli->state_dir);
	unsigned waited;
	int rc;

	if (pid < 0)
		return sg_cli_no_daemon(cli, NULL);
	sg_state_stamp(cli->state_dir, "ready", &before);
	rc = deliver(cli, file);
	if (rc)
		return rc;
	kill(pid, SIGHUP);
	snprintf(want, sizeof(want), "\"bundle\":{\"version\":%llu,", version);
	for (waited = 0; waited < timeout_ms; waited += POLL_MS) {
		usleep(POLL_MS * 1000);
		snprintf(path, sizeof(path), "%s/policy.inbox.result", cli->state_dir);
		if (sg_read_small(path, result, sizeof(result)) == 0 && strcmp(result, "written")) {
			fprintf(stderr, "sysguardctl: sysguardd refused %s: %s\n", file, result);
			return SG_EXIT_FAILED;
		}
		snprintf(path, sizeof(path), "%s/ready", cli->state_dir);
		if (version ? sg_read_small(path, ready, sizeof(ready)) == 0 && strstr(ready, want)
			    : sg_state_changed(cli->state_dir, "ready", &before))
			return sg_cli_print_status(cli, out);
	}
	fprintf(stderr, "sysguardctl: sysguardd refused %s: see policy_update, policy_error or"
		" policy_bundle_rejected in its audit log\n", file);
	return SG_EXIT_FAILED;
}

int sg_cmd_policy_apply(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0 },
	};
	enum sg_cli_output out = SG_OUT_TABLE;
	unsigned timeout_ms = DEFAULT_TIMEOUT_MS;
	int c;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&apply_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		if (c == 'o') {
			if (!sg_cli_parse_output(&apply_cmd, optarg, &out))
				return SG_EXIT_USAGE;
		} else if (c == OPT_TIMEOUT) {
			if (!sg_parse_timeout(optarg, &timeout_ms))
				return sg_cli_usage_error(&apply_cmd, "--timeout needs seconds, not '%s'", optarg);
		} else {
			return sg_cli_bad_option(&apply_cmd, argc, argv, c);
		}
	}
	if (optind != argc - 1)
		return sg_cli_usage_error(&apply_cmd, "give one FILE");
	return apply(cli, argv[optind], timeout_ms, out);
}

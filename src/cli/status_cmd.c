// SPDX-License-Identifier: Apache-2.0
/*
 * OPS-2: status, stats and events, through the daemon's API when a token is
 * at hand (--token-file or SYSGUARD_API_TOKEN_FILE), else from its state
 * files (status and stats; events need the API). A table by default, the
 * daemon's own JSON with -o json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/daemon_state.h"
#include "cli/show.h"

static const struct sg_cli_cmd status_cmd = { "status",
	"sysguardctl status [-o table|json] [--token-file FILE]\n"
	"\n"
	"The running daemon's mode, break glass, policy version, uptime and active\n"
	"backends. Through the API with a token (--token-file, or SYSGUARD_API_TOKEN_FILE),\n"
	"else from the ready file in --state-dir.\n"
	"\n"
	"  -o, --output=FORMAT   table (the default) or json (the daemon's own JSON)\n"
	"      --token-file=FILE the API token (sysguardd --api-token-file)\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd stats_cmd = { "stats",
	"sysguardctl stats [-o table|json] [--token-file FILE]\n"
	"\n"
	"The daemon's counters: decisions, kernel drops, kills, holds, fanotify, egress,\n"
	"Shield, hash cache, audit, alerts, SIEM. Through the API with a token, else\n"
	"from stats.json in --state-dir.\n"
	"\n"
	"  -o, --output=FORMAT   table (COUNTER VALUE, the default) or json\n"
	"      --token-file=FILE the API token (sysguardd --api-token-file)\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd events_cmd = { "events",
	"sysguardctl events [-f] [-o table|json] --token-file FILE\n"
	"\n"
	"The daemon's last 256 audit records (TIME in UTC, TYPE, DECISION, PID, EXE),\n"
	"through the API; with --follow, every new record as it comes, until the daemon\n"
	"stops. With -o json, the records as the daemon wrote them (with --follow, one\n"
	"JSON object a line).\n"
	"\n"
	"  -f, --follow          keep printing new records\n"
	"  -o, --output=FORMAT   table (the default) or json\n"
	"      --token-file=FILE the API token (or SYSGUARD_API_TOKEN_FILE)\n"
	"  -h, --help            this help\n" };

enum { OPT_TOKEN = 256 };

struct api_opts {
	enum sg_cli_output out;
	const char *token;
	bool follow;
};

/* The options of the three commands; follow only for events. An exit code, or -1 to go on. */
static int read_opts(const struct sg_cli_cmd *cmd, int argc, char **argv, struct api_opts *o)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		{ "token-file", required_argument, NULL, OPT_TOKEN },
		{ "follow", no_argument, NULL, 'f' },
		{ 0 },
	};
	bool events = cmd == &events_cmd;
	const char *shorts = events ? ":ho:f" : ":ho:";
	const struct option *lo = longs;
	struct option no_follow[4];
	int c;

	if (!events) {
		memcpy(no_follow, longs, 3 * sizeof(*longs));
		memset(&no_follow[3], 0, sizeof(no_follow[3]));
		lo = no_follow;
	}
	if (sg_cli_wants_help(argc, argv, shorts, lo))
		return sg_cli_help(cmd);
	o->out = SG_OUT_TABLE;
	o->token = getenv("SYSGUARD_API_TOKEN_FILE");
	o->follow = false;
	while ((c = sg_cli_next(argc, argv, shorts, lo)) != -1) {
		switch (c) {
		case 'o':
			if (!sg_cli_parse_output(cmd, optarg, &o->out))
				return SG_EXIT_USAGE;
			break;
		case OPT_TOKEN:
			o->token = optarg;
			break;
		case 'f':
			o->follow = true;
			break;
		default:
			return sg_cli_bad_option(cmd, argc, argv, c);
		}
	}
	if (optind < argc)
		return sg_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (o->token && !o->token[0])
		o->token = NULL;
	return -1;
}

static void print_json(const char *buf, size_t len)
{
	fwrite(buf, 1, len, stdout);
	if (!len || buf[len - 1] != '\n')
		fputc('\n', stdout);
}

/* The API's answer when a token and its socket are there; 1 = not asked (use the state files). */
static int from_api(const struct sg_cli *cli, const char *token, const char *path, char **buf,
		    size_t *len, int *rc)
{
	char sock[4200];

	snprintf(sock, sizeof(sock), "%s/api.sock", cli->state_dir);
	if (!token || access(sock, F_OK))
		return 1;
	*rc = sg_api_fetch(sock, token, path, buf, len);
	return 0;
}

/* A state file of the running daemon; an exit code. */
static int from_state(const struct sg_cli *cli, const char *name, char **buf, size_t *len,
		      pid_t *pid)
{
	int e;

	*pid = sg_daemon_pid(cli->state_dir);
	if (*pid < 0)
		return sg_cli_no_daemon(cli, "no ready file of a running daemon");
	e = sg_state_read(cli->state_dir, name, buf, len);
	if (e == -ENOENT)
		return sg_cli_no_daemon(cli, "it has not written its state yet");
	if (e) {
		fprintf(stderr, "sysguardctl: %s/%s: %s\n", cli->state_dir, name, strerror(-e));
		return SG_EXIT_FAILED;
	}
	return SG_EXIT_OK;
}

static int show(const char *what, int e)
{
	if (!e)
		return SG_EXIT_OK;
	fprintf(stderr, "sysguardctl: the daemon's %s is not the JSON expected (%s): try -o json\n",
		what, strerror(-e));
	return SG_EXIT_FAILED;
}

int sg_cli_print_status(const struct sg_cli *cli, enum sg_cli_output out)
{
	char *buf = NULL;
	size_t len = 0;
	pid_t pid;
	int rc = from_state(cli, "ready", &buf, &len, &pid);

	if (rc)
		return rc;
	if (out == SG_OUT_JSON)
		print_json(buf, len);
	else
		rc = show("status", sg_show_status(stdout, buf, len, sg_process_uptime_s(pid)));
	free(buf);
	return rc;
}

int sg_cmd_status(const struct sg_cli *cli, int argc, char **argv)
{
	struct api_opts o;
	char *buf = NULL;
	size_t len = 0;
	int rc = read_opts(&status_cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (from_api(cli, o.token, "/status", &buf, &len, &rc))
		return sg_cli_print_status(cli, o.out);
	if (rc == SG_EXIT_OK && o.out == SG_OUT_JSON)
		print_json(buf, len);
	else if (rc == SG_EXIT_OK)
		rc = show("status", sg_show_status(stdout, buf, len, -1));
	free(buf);
	return rc;
}

int sg_cmd_stats(const struct sg_cli *cli, int argc, char **argv)
{
	struct api_opts o;
	char *buf = NULL;
	size_t len = 0;
	pid_t pid;
	int rc = read_opts(&stats_cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (from_api(cli, o.token, "/stats", &buf, &len, &rc))
		rc = from_state(cli, "stats.json", &buf, &len, &pid);
	if (rc == SG_EXIT_OK && o.out == SG_OUT_JSON)
		print_json(buf, len);
	else if (rc == SG_EXIT_OK)
		rc = show("stats", sg_show_stats(stdout, buf, len));
	free(buf);
	return rc;
}

static void follow_json(const char *json, size_t len, void *ctx)
{
	fwrite(json, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static void follow_table(const char *json, size_t len, void *ctx)
{
	if (sg_show_event_row(stdout, json, len))
		fprintf(stderr, "sysguardctl: an event that is not JSON was left out\n");
	fflush(stdout);
}

int sg_cmd_events(const struct sg_cli *cli, int argc, char **argv)
{
	struct api_opts o;
	char sock[4200], *buf = NULL;
	size_t len = 0;
	int rc = read_opts(&events_cmd, argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (!o.token)
		return sg_cli_usage_error(&events_cmd, "events need the API: --token-file FILE"
					  " (the daemon's --api-token-file)");
	snprintf(sock, sizeof(sock), "%s/api.sock", cli->state_dir);
	if (access(sock, F_OK))
		return sg_cli_no_daemon(cli, "no API socket (is it running with --api-token-file?)");
	if (o.follow) {
		if (o.out == SG_OUT_TABLE) {
			sg_show_event_header(stdout);
			fflush(stdout);
		}
		return sg_api_follow(sock, o.token, "/events",
				     o.out == SG_OUT_JSON ? follow_json : follow_table, NULL);
	}
	rc = sg_api_fetch(sock, o.token, "/events", &buf, &len);
	if (rc == SG_EXIT_OK && o.out == SG_OUT_JSON)
		print_json(buf, len);
	else if (rc == SG_EXIT_OK)
		rc = show("events", sg_show_events(stdout, buf, len));
	free(buf);
	return rc;
}

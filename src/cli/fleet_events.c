// SPDX-License-Identifier: Apache-2.0
/*
 * `fleet events` (docs/fleet.md): the fleet's audit records read back from
 * the JetStream stream through a pull consumer filtered on
 * sysguard.<node|*>.<type|*>.
 *
 * With --durable the consumer is kept by the server, and a message is acked
 * only once its line is written and flushed: a restart with the same name
 * resumes with the first record not printed. Messages fetched but not
 * printed (a --max reached, a signal) are nak'ed so that the next run gets
 * them at once instead of after the ack wait. Fetches never ask for more
 * than --max leaves, for the same reason.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/fleet_cli.h"
#include "cli/fleet_connect.h"
#include "report/fleet_record.h"
#include "report/fleet_status.h"
#include "report/json_read.h"

#define EVENTS_STREAM_DEFAULT	"SYSGUARD_EVENTS"
#define FETCH_BATCH		256
/* How long a fetch waits: also how soon a signal is noticed with --follow. */
#define FETCH_WAIT_MS		500

enum { OPT_STREAM = 256, OPT_NODE, OPT_TYPE, OPT_DURABLE, OPT_FOLLOW, OPT_MAX };

static const struct sg_cli_cmd events_cmd = { "fleet events",
	"sysguardctl fleet events --url URLS [--follow] [--node N] [--type T] [--durable NAME]\n"
	"                         [--stream S] [--max N] [-o json|text]\n"
	"\n"
	"Prints the fleet's audit records from the JetStream stream, oldest first,\n"
	"one JSON object a line as the nodes published them. Without --follow it\n"
	"exits once it printed what is there; with it, it waits for new records\n"
	"until SIGINT or SIGTERM. With --durable the server remembers how far the\n"
	"consumer NAME got: the next run with that name resumes after the last\n"
	"record printed.\n"
	"\n"
	SG_CLI_FLEET_CONN_HELP
	"  -f, --follow          wait for new records\n"
	"      --node=N          only node N's records (its --node-id)\n"
	"      --type=T          only records of type T (exec, file_open, ...)\n"
	"      --durable=NAME    a durable consumer: resume where the last run stopped\n"
	"      --stream=S        the stream (default " EVENTS_STREAM_DEFAULT ")\n"
	"  -n, --max=N           stop after N records\n"
	"  -o, --output=FORMAT   json (default: the records as stored) or text\n"
	"  -h, --help            this help\n" };

struct events_opts {
	struct sg_fleet_conn_config conn;
	const char *stream, *node, *type, *durable;
	bool follow, text;
	uint64_t max;		/* 0: no limit */
};

#ifndef SG_FLEET_NO_NATS

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* sysguard.<node>.<type>, each made a token the way the daemon makes them. */
static int filter_subject(const struct events_opts *o, char *out, size_t outlen)
{
	char node[256] = "*", type[128] = "*";
	int n;

	if (o->node)
		sg_fleet_token(node, sizeof(node), o->node, strlen(o->node));
	if (o->type)
		sg_fleet_token(type, sizeof(type), o->type, strlen(o->type));
	n = snprintf(out, outlen, "sysguard.%s.%s", node, type);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

static void print_text(const char *subject, const char *data, int len)
{
	const char *node = subject + strlen("sysguard."), *dot = strchr(node, '.');
	const char *ts = NULL, *decision = NULL, *exe = NULL;
	const struct sg_jv *proc;
	struct sg_jv v;
	bool parsed = !sg_jv_parse(data, (size_t)len, &v) && v.type == SG_JV_OBJ;

	if (parsed) {
		ts = sg_jv_str(sg_jv_get(&v, "ts"));
		decision = sg_jv_str(sg_jv_get(&v, "decision"));
		if (!decision)
			decision = sg_jv_str(sg_jv_get(&v, "action"));
		proc = sg_jv_get(&v, "process");
		exe = proc && proc->type == SG_JV_OBJ ? sg_jv_str(sg_jv_get(proc, "exe")) : NULL;
	}
	printf("%-30s %-20.*s %-16s %-8s %s\n", ts ? ts : "-", dot ? (int)(dot - node) : 0, node,
	       dot ? dot + 1 : "-", decision ? decision : "-", exe ? exe : "");
	if (parsed)
		sg_jv_free(&v);
}

/* false when stdout is gone (a closed pipe): nothing more can be printed. */
static bool print_one(const struct events_opts *o, natsMsg *m)
{
	const char *data = natsMsg_GetData(m);
	int len = natsMsg_GetDataLength(m);

	if (o->text)
		print_text(natsMsg_GetSubject(m), data, len);
	else
		printf("%.*s\n", len, data);
	return fflush(stdout) == 0 && !ferror(stdout);
}

static void fail(const char *what, natsStatus s, jsErrCode jerr)
{
	const char *last = nats_GetLastError(NULL);

	fprintf(stderr, "sysguardctl fleet events: %s: %s", what,
		last && *last ? last : natsStatus_GetText(s));
	if (jerr)
		fprintf(stderr, " (JetStream error %d)", (int)jerr);
	fputc('\n', stderr);
}

static natsStatus subscribe(const struct events_opts *o, jsCtx *js, natsSubscription **sub)
{
	jsSubOptions so;
	jsErrCode jerr = 0;
	char subject[400];
	natsStatus s;

	if (filter_subject(o, subject, sizeof(subject)))
		return NATS_INVALID_ARG;
	jsSubOptions_Init(&so);
	so.Stream = o->stream;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	s = js_PullSubscribe(sub, js, subject, o->durable, NULL, &so, &jerr);
	if (s != NATS_OK)
		fail(jerr == JSStreamNotFoundErr ? "no such stream" : "cannot make the consumer", s, jerr);
	return s;
}

/*
 * 1 while the consumer has messages not yet delivered to it, 0 when not,
 * -1 when the bus does not answer. Messages
 * delivered to an earlier run that died before acking come back only after
 * the ack wait: say so rather than exit as if there were none.
 */
static int more_pending(const struct events_opts *o, natsConnection *nc, jsCtx *js,
			natsSubscription *sub)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	int more = -1;

	natsConnection_FlushTimeout(nc, 2000);	/* our own acks first */
	/* libnats 3.4 does not know the name of a durable it bound to rather than made. */
	if (o->durable)
		s = js_GetConsumerInfo(&ci, js, o->stream, o->durable, NULL, &jerr);
	else
		s = natsSubscription_GetConsumerInfo(&ci, sub, NULL, &jerr);
	if (s != NATS_OK) {
		fail("the consumer", s, jerr);
	} else {
		more = ci->NumPending > 0;
		if (!more && ci->NumAckPending > 0)
			fprintf(stderr, "sysguardctl fleet events: %lld record(s) were handed to an "
				"earlier reader that did not acknowledge them; they come again after "
				"the consumer's ack wait (%lld s)\n", (long long)ci->NumAckPending,
				(long long)(ci->Config ? ci->Config->AckWait / 1000000000LL : 0));
	}
	jsConsumerInfo_Destroy(ci);
	return more;
}

/*
 * Print and ack each message; nak the rest once stopped. Returns the exit
 * code, or -1 to go on fetching.
 */
static int take_batch(const struct events_opts *o, natsMsgList *list, uint64_t *printed)
{
	int i, rc = -1;

	for (i = 0; i < list->Count; i++) {
		if (rc < 0 && (stop_signal || (o->max && *printed >= o->max)))
			rc = SG_EXIT_OK;
		if (rc < 0 && !print_one(o, list->Msgs[i]))
			rc = SG_EXIT_FAILED;
		if (rc >= 0) {
			natsMsg_Nak(list->Msgs[i], NULL);
			continue;
		}
		natsMsg_Ack(list->Msgs[i], NULL);
		(*printed)++;
	}
	if (rc < 0 && (stop_signal || (o->max && *printed >= o->max)))
		rc = SG_EXIT_OK;
	return rc;
}

static int read_events(const struct events_opts *o, natsConnection *nc, jsCtx *js)
{
	natsSubscription *sub = NULL;
	natsMsgList list;
	uint64_t printed = 0;
	int batch, more, rc = -1;
	jsErrCode jerr;
	natsStatus s;

	if (subscribe(o, js, &sub) != NATS_OK)
		return SG_EXIT_FAILED;
	while (rc < 0) {
		if (stop_signal) {
			rc = SG_EXIT_OK;
			break;
		}
		batch = FETCH_BATCH;
		if (o->max && o->max - printed < (uint64_t)batch)
			batch = (int)(o->max - printed);
		memset(&list, 0, sizeof(list));
		jerr = 0;
		s = natsSubscription_Fetch(&list, sub, batch, FETCH_WAIT_MS, &jerr);
		if (s == NATS_OK) {
			rc = take_batch(o, &list, &printed);
			natsMsgList_Destroy(&list);
		} else if (s == NATS_TIMEOUT && !o->follow) {
			more = more_pending(o, nc, js, sub);
			if (more <= 0)
				rc = more ? SG_EXIT_FAILED : SG_EXIT_OK;
		} else if (s == NATS_TIMEOUT) {
			continue;
		} else if (s == NATS_CONNECTION_DISCONNECTED || s == NATS_NO_SERVER) {
			/* libnats reconnects; with --follow, keep waiting for it. */
			if (!o->follow) {
				fail("the bus went away", s, jerr);
				rc = SG_EXIT_FAILED;
			}
		} else {
			fail("fetch", s, jerr);
			rc = SG_EXIT_FAILED;
		}
	}
	/* The acks and naks are published asynchronously: get them to the server. */
	if (natsConnection_FlushTimeout(nc, 2000) != NATS_OK && rc == SG_EXIT_OK && o->durable)
		fprintf(stderr, "sysguardctl fleet events: the last acks may not have reached the "
			"bus; the next run may print a few records again\n");
	if (!o->durable)
		natsSubscription_Unsubscribe(sub);	/* the ephemeral consumer goes now */
	natsSubscription_Destroy(sub);
	return rc;
}

static int run(const struct events_opts *o)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sg_cli_fleet_connect("sysguardctl fleet events", &o->conn, &nc, &js) != NATS_OK)
		return SG_EXIT_FAILED;
	rc = read_events(o, nc, js);
	sg_cli_fleet_close(nc, js);
	return rc;
}

#endif

static bool parse_max(const char *arg, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || !v || arg[0] == '-')
		return false;
	*out = v;
	return true;
}

int sg_cmd_fleet_events(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		SG_CLI_FLEET_CONN_OPTS,
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "durable", required_argument, NULL, OPT_DURABLE },
		{ "follow", no_argument, NULL, 'f' },
		{ "max", required_argument, NULL, 'n' },
		{ 0 },
	};
	struct events_opts o = { .stream = EVENTS_STREAM_DEFAULT };
	int c;

	if (sg_cli_wants_help(argc, argv, ":ho:fn:", longs))
		return sg_cli_help(&events_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:fn:", longs)) != -1) {
		if (sg_cli_fleet_conn_opt(&o.conn, c, optarg))
			continue;
		else if (c == OPT_STREAM)
			o.stream = optarg;
		else if (c == OPT_NODE)
			o.node = optarg;
		else if (c == OPT_TYPE)
			o.type = optarg;
		else if (c == OPT_DURABLE)
			o.durable = optarg;
		else if (c == 'f')
			o.follow = true;
		else if (c == 'n') {
			if (!parse_max(optarg, &o.max))
				return sg_cli_usage_error(&events_cmd, "--max needs a number > 0, not '%s'",
							  optarg);
		} else if (c == 'o') {
			if (!strcmp(optarg, "text"))
				o.text = true;
			else if (strcmp(optarg, "json"))
				return sg_cli_usage_error(&events_cmd, "-o is json or text, not '%s'", optarg);
		} else
			return sg_cli_bad_option(&events_cmd, argc, argv, c);
	}
	if (optind != argc)
		return sg_cli_usage_error(&events_cmd, "takes no arguments");
	if (!sg_fleet_name_ok(o.stream))
		return sg_cli_usage_error(&events_cmd, "--stream needs 1-64 letters, digits, '-' or '_'");
	if (o.durable && !sg_fleet_name_ok(o.durable))
		return sg_cli_usage_error(&events_cmd, "--durable needs 1-64 letters, digits, '-' or '_'");
	if ((o.node && !*o.node) || (o.type && !*o.type))
		return sg_cli_usage_error(&events_cmd, "--node and --type need a value");
	if (sg_cli_fleet_conn_check("sysguardctl fleet events", &o.conn))
		return SG_EXIT_USAGE;
#ifdef SG_FLEET_NO_NATS
	fprintf(stderr, "sysguardctl: this build has no NATS client\n");
	return SG_EXIT_FAILED;
#else
	return run(&o);
#endif
}

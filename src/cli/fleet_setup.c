// SPDX-License-Identifier: Apache-2.0
/*
 * `fleet setup` (docs/fleet.md, "Credentials and TLS"): the stream and the
 * two buckets, made by the admin before the nodes start, since a node's
 * user may only look them up. Made as the daemon would make them; what
 * exists already is left as it is.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/commands.h"
#include "cli/fleet_connect.h"
#include "config/config.h"
#include "report/fleet_bus.h"
#include "report/fleet_publish.h"
#include "report/fleet_status.h"

enum { OPT_STREAM = 256, OPT_REPLICAS, OPT_STATUS_TTL, OPT_BUCKET };

static const struct sg_cli_cmd setup_cmd = { "fleet setup",
	"sysguardctl fleet setup --url URLS [--stream NAME] [--replicas N] [--status-ttl S]\n"
	"                        [--bucket NAME]\n"
	"\n"
	"Makes what the nodes use and, with least privilege on the bus, may not make\n"
	"themselves: the stream (subjects sysguard.>), the policy bucket, the status\n"
	"bucket and the status history (fleet view), each unless it exists. Run it\n"
	"as the bus's admin user.\n"
	"\n"
	SG_CLI_FLEET_CONN_HELP
	"      --stream=NAME     the stream (default " SG_FLEET_STREAM_DEFAULT ")\n"
	"      --replicas=N      copies of each, 1-5 (default 1; at most the cluster's size)\n"
	"      --status-ttl=S    status entries expire S seconds after they were written\n"
	"                        (default 30: the nodes' --fleet-status-ttl)\n"
	"      --bucket=NAME     the policy bucket (default " SG_FLEET_POLICY_BUCKET_DEFAULT ")\n"
	"  -h, --help            this help\n" };

#ifdef SG_FLEET_NO_NATS

static int setup(const struct sg_fleet_conn_config *conn, const char *stream, unsigned replicas,
		 unsigned ttl_s, const char *bucket)
{
	fprintf(stderr, "sysguardctl: this build has no NATS client\n");
	return SG_EXIT_FAILED;
}

#else

static int one_bucket(jsCtx *js, const char *bucket, uint8_t history, unsigned ttl_s,
		      unsigned replicas)
{
	kvStore *kv = NULL;
	kvConfig c;
	natsStatus s = js_KeyValue(&kv, js, bucket);

	if (s == NATS_OK) {
		printf("bucket %s: exists\n", bucket);
	} else if (s == NATS_NOT_FOUND) {
		kvConfig_Init(&c);
		c.Bucket = bucket;
		c.History = history;
		c.TTL = (int64_t)ttl_s * 1000000000LL;
		c.Replicas = (int64_t)replicas;
		s = js_CreateKeyValue(&kv, js, &c);
		if (s == NATS_OK)
			printf("bucket %s: made\n", bucket);
	}
	kvStore_Destroy(kv);
	if (s != NATS_OK)
		fprintf(stderr, "sysguardctl fleet setup: bucket %s: %s\n", bucket, sg_fleet_conn_error(s));
	return s == NATS_OK ? 0 : -1;
}

static int setup(const struct sg_fleet_conn_config *conn, const char *stream, unsigned replicas,
		 unsigned ttl_s, const char *bucket)
{
	natsConnection *nc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	jsCtx *js;
	natsStatus s;
	int bad = 0;

	if (sg_cli_fleet_connect("sysguardctl fleet setup", conn, &nc, &js) != NATS_OK)
		return SG_EXIT_FAILED;
	s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s == NATS_OK) {
		printf("stream %s: exists\n", stream);
	} else {
		s = sg_fleet_stream_make(js, stream, replicas);
		if (s == NATS_OK)
			printf("stream %s: made\n", stream);
		else
			fprintf(stderr, "sysguardctl fleet setup: stream %s: %s\n", stream,
				sg_fleet_conn_error(s));
		bad |= s != NATS_OK;
	}
	bad |= one_bucket(js, bucket, SG_FLEET_POLICY_HISTORY, 0, replicas) != 0;
	bad |= one_bucket(js, SG_FLEET_STATUS_BUCKET, 1, ttl_s, replicas) != 0;
	bad |= one_bucket(js, SG_FLEET_HISTORY_BUCKET, SG_FLEET_HISTORY_VALUES, SG_FLEET_HISTORY_TTL_S,
			  replicas) != 0;
	sg_cli_fleet_close(nc, js);
	return bad ? SG_EXIT_FAILED : SG_EXIT_OK;
}

#endif

int sg_cmd_fleet_setup(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		SG_CLI_FLEET_CONN_OPTS,
		{ "stream", required_argument, NULL, OPT_STREAM },
		{ "replicas", required_argument, NULL, OPT_REPLICAS },
		{ "status-ttl", required_argument, NULL, OPT_STATUS_TTL },
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ 0 },
	};
	const char *stream = SG_FLEET_STREAM_DEFAULT, *bucket = SG_FLEET_POLICY_BUCKET_DEFAULT;
	struct sg_fleet_conn_config conn = { 0 };
	unsigned replicas = 1, ttl = SG_FLEET_STATUS_TTL_DEFAULT;
	int c;

	if (sg_cli_wants_help(argc, argv, ":h", longs))
		return sg_cli_help(&setup_cmd);
	while ((c = sg_cli_next(argc, argv, ":h", longs)) != -1) {
		if (sg_cli_fleet_conn_opt(&conn, c, optarg))
			continue;
		else if (c == OPT_STREAM)
			stream = optarg;
		else if (c == OPT_BUCKET)
			bucket = optarg;
		else if (c == OPT_REPLICAS) {
			if (sg_config_uint(optarg, 1, 5, &replicas))
				return sg_cli_usage_error(&setup_cmd, "--replicas must be 1-5");
		} else if (c == OPT_STATUS_TTL) {
			if (sg_config_uint(optarg, 1, SG_FLEET_STATUS_TTL_MAX, &ttl))
				return sg_cli_usage_error(&setup_cmd, "--status-ttl must be 1-%u seconds",
							  SG_FLEET_STATUS_TTL_MAX);
		} else
			return sg_cli_bad_option(&setup_cmd, argc, argv, c);
	}
	if (optind != argc)
		return sg_cli_usage_error(&setup_cmd, "takes no arguments");
	if (!sg_fleet_name_ok(stream) || !sg_fleet_name_ok(bucket))
		return sg_cli_usage_error(&setup_cmd, "--stream and --bucket need 1-64 letters, digits, "
					  "'-' or '_'");
	if (sg_cli_fleet_conn_check("sysguardctl fleet setup", &conn))
		return SG_EXIT_USAGE;
	return setup(&conn, stream, replicas, ttl, bucket);
}

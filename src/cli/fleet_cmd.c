// SPDX-License-Identifier: Apache-2.0
/*
 * `fleet publish` and `fleet status` (docs/fleet.md): a signed bundle into
 * the policy bucket under policy.<group>, and the nodes' status entries.
 * The bus is not trusted by the nodes (they verify every bundle); the check
 * here only saves an operator from publishing something that is not one.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/fleet_cli.h"
#include "cli/fleet_connect.h"
#include "policy/bundle.h"
#include "report/fleet_status.h"
#include "store/bundle_files.h"

#ifndef SG_FLEET_NO_NATS
#include <nats/nats.h>
#endif

#define MAX_PUB_KEYS	16
#define MAX_NODES	4096

enum { OPT_GROUP = 256, OPT_BUCKET, OPT_PUB, OPT_JSON };

static const struct sg_cli_cmd fleet_cmd = { "fleet",
	"sysguardctl fleet setup|publish|status|events|view [OPTIONS]\n"
	"\n"
	"  setup --url URLS [--stream NAME] [--replicas N] [--status-ttl S]\n"
	"                        make the stream and the buckets (as the bus's admin)\n"
	"  publish --url URLS --group G [--bucket NAME] [--pub PUB...] BUNDLE\n"
	"                        put a signed bundle under policy.G of the policy bucket\n"
	"  status --url URLS [--bucket NAME] [-o table|json | --json]\n"
	"                        the nodes whose status entry has not expired\n"
	"  events [--follow] [--node N] [--type T] [--durable NAME] --url URLS\n"
	"                        the fleet's audit records from the stream\n"
	"  view --url URLS [--step D] [--intervals N]\n"
	"                        nodes, versions and denies per node over time\n"
	"\n"
	"Each takes the bus's credentials and TLS options (see its --help).\n" };

static const struct sg_cli_cmd publish_cmd = { "fleet publish",
	"sysguardctl fleet publish --url URLS --group G [--bucket NAME] [--pub PUB...] BUNDLE\n"
	"\n"
	"Puts BUNDLE, a signed policy bundle, into the policy bucket under key\n"
	"policy.G (the bucket is made when missing, keeping 5 revisions). The nodes\n"
	"of group G verify it with their own trusted keys before they run it.\n"
	"\n"
	SG_CLI_FLEET_CONN_HELP
	"      --group=G         the nodes' --fleet-group\n"
	"      --bucket=NAME     the policy bucket (default " SG_FLEET_POLICY_BUCKET_DEFAULT ")\n"
	"      --pub=PUB         also verify the signature with this public key first\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd status_cmd = { "fleet status",
	"sysguardctl fleet status --url URLS [--bucket NAME] [-o table|json | --json]\n"
	"\n"
	"Lists the nodes whose status entry has not expired: node, group, bundle\n"
	"version in force, whether it is the version published for its group\n"
	"(converged), and when the node last renewed its entry. Exit 1 when a node\n"
	"is not converged.\n"
	"\n"
	SG_CLI_FLEET_CONN_HELP
	"      --bucket=NAME     the policy bucket (default " SG_FLEET_POLICY_BUCKET_DEFAULT ")\n"
	"  -o, --output=FORMAT   table (default) or json; --json is -o json\n"
	"  -h, --help            this help\n" };

/* 0 when buf is a signed bundle (and, with keys, one of them signed it). */
static int check_bundle(const char *path, const char *buf, size_t len,
			const struct sg_bundle_key *keys, size_t nkeys)
{
	struct sg_bundle_verified v;
	enum sg_bundle_status s;
	char msg[512];

	s = sg_bundle_verify(keys, nkeys, buf, len, 0, &v, msg, sizeof(msg));
	/* Without keys, "unknown key" means the format and the signature line are there. */
	if (s == SG_BUNDLE_OK || (!nkeys && s == SG_BUNDLE_UNKNOWN_KEY))
		return 0;
	fprintf(stderr, "sysguardctl fleet publish: %s is not a signed policy bundle that can be "
		"published (%s): %s\n", path, sg_bundle_status_name(s), msg);
	return -1;
}

#ifdef SG_FLEET_NO_NATS

static int publish(const struct sg_fleet_conn_config *conn, const char *bucket, const char *key, const char *buf,
		   size_t len)
{
	fprintf(stderr, "sysguardctl: this build has no NATS client\n");
	return SG_EXIT_FAILED;
}

static int status(const struct sg_fleet_conn_config *conn, const char *bucket, enum sg_cli_output out)
{
	fprintf(stderr, "sysguardctl: this build has no NATS client\n");
	return SG_EXIT_FAILED;
}

#else

static void nats_fail(const char *what, natsStatus s)
{
	fprintf(stderr, "sysguardctl fleet: %s: %s\n", what, sg_fleet_conn_error(s));
}

static void bus_close(natsConnection *nc, jsCtx *js, kvStore *a, kvStore *b)
{
	kvStore_Destroy(a);
	kvStore_Destroy(b);
	sg_cli_fleet_close(nc, js);
}

static int publish(const struct sg_fleet_conn_config *conn, const char *bucket, const char *key, const char *buf,
		   size_t len)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	uint64_t rev = 0;
	kvConfig c;
	natsStatus s;

	s = sg_cli_fleet_connect("sysguardctl fleet", conn, &nc, &js);
	if (s == NATS_OK) {
		s = js_KeyValue(&kv, js, bucket);
		if (s == NATS_NOT_FOUND) {
			kvConfig_Init(&c);
			c.Bucket = bucket;
			c.History = SG_FLEET_POLICY_HISTORY;
			s = js_CreateKeyValue(&kv, js, &c);
		}
		if (s != NATS_OK)
			nats_fail("the policy bucket", s);
	}
	if (s == NATS_OK) {
		s = kvStore_Put(&rev, kv, key, buf, (int)len);
		if (s != NATS_OK)
			nats_fail("publish", s);
	}
	if (s == NATS_OK)
		printf("published %s to %s (revision %llu, version %llu)\n", key, bucket,
		       (unsigned long long)rev,
		       (unsigned long long)sg_fleet_bundle_version(buf, len));
	bus_close(nc, js, kv, NULL);
	return s == NATS_OK ? SG_EXIT_OK : SG_EXIT_FAILED;
}

/* The version published for a group, 0 when none (or the bucket is missing). */
static uint64_t group_version(kvStore *policy, const char *group)
{
	kvEntry *e = NULL;
	char key[96];
	uint64_t v = 0;

	if (!policy || sg_fleet_policy_key(group, key, sizeof(key)))
		return 0;
	if (kvStore_Get(&e, policy, key) == NATS_OK)
		v = sg_fleet_bundle_version(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));
	kvEntry_Destroy(e);
	return v;
}

static void show_one(const struct sg_fleet_status *st, uint64_t want, enum sg_cli_output out,
		     bool first)
{
	bool converged = want && st->policy_version == want;
	time_t seen = (time_t)st->last_seen;
	char when[32];
	struct sg_json j;

	if (out == SG_OUT_JSON) {
		sg_json_init(&j);
		sg_json_begin_object(&j);
		sg_json_kv_str(&j, "node_id", st->node_id);
		sg_json_kv_str(&j, "group", st->group);
		sg_json_kv_u64(&j, "policy_version", st->policy_version);
		sg_json_kv_u64(&j, "group_version", want);
		sg_json_kv_bool(&j, "converged", converged);
		sg_json_kv_str(&j, "backends", st->backends);
		sg_json_kv_u64(&j, "fleet_dropped", st->fleet_dropped);
		sg_json_kv_str(&j, "last_error", st->last_error[0] ? st->last_error : NULL);
		sg_json_kv_u64(&j, "last_seen", st->last_seen);
		sg_json_end_object(&j);
		printf("%s%.*s", first ? "" : ",", (int)j.len, j.buf);
		sg_json_free(&j);
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&seen));
	printf("%-24s %-16s %-10llu %-10s %s\n", st->node_id, st->group,
	       (unsigned long long)st->policy_version, converged ? "yes" : "NO", when);
}

static int show_nodes(kvStore *kv, kvStore *policy, enum sg_cli_output out)
{
	struct sg_fleet_status st;
	kvKeysList keys = { 0 };
	bool all = true, first = true;
	kvEntry *e;
	uint64_t want;
	int i;

	/* No keys (every entry expired) is an empty list, not a failure. */
	if (kvStore_Keys(&keys, kv, NULL) != NATS_OK)
		keys.Count = 0;
	if (out == SG_OUT_JSON)
		printf("[");
	else
		printf("%-24s %-16s %-10s %-10s %s\n", "NODE", "GROUP", "VERSION", "CONVERGED", "LAST SEEN");
	for (i = 0; i < keys.Count && i < MAX_NODES; i++) {
		e = NULL;
		if (strncmp(keys.Keys[i], "node.", 5) || kvStore_Get(&e, kv, keys.Keys[i]) != NATS_OK ||
		    sg_fleet_status_parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &st)) {
			kvEntry_Destroy(e);
			continue;
		}
		kvEntry_Destroy(e);
		want = group_version(policy, st.group);
		all &= want && st.policy_version == want;
		show_one(&st, want, out, first);
		first = false;
	}
	if (out == SG_OUT_JSON)
		printf("]\n");
	kvKeysList_Destroy(&keys);
	return all ? SG_EXIT_OK : SG_EXIT_FAILED;
}

static int status(const struct sg_fleet_conn_config *conn, const char *bucket, enum sg_cli_output out)
{
	natsConnection *nc = NULL;
	kvStore *kv = NULL, *policy = NULL;
	jsCtx *js = NULL;
	natsStatus s;
	int rc = SG_EXIT_FAILED;

	s = sg_cli_fleet_connect("sysguardctl fleet", conn, &nc, &js);
	if (s == NATS_OK) {
		s = js_KeyValue(&kv, js, SG_FLEET_STATUS_BUCKET);
		if (s == NATS_NOT_FOUND)
			fprintf(stderr, "sysguardctl fleet status: no node has written its status yet "
				"(no bucket %s)\n", SG_FLEET_STATUS_BUCKET);
		else if (s != NATS_OK)
			nats_fail("the status bucket", s);
	}
	if (s == NATS_OK) {
		if (js_KeyValue(&policy, js, bucket) != NATS_OK)
			policy = NULL;
		rc = show_nodes(kv, policy, out);
	}
	bus_close(nc, js, kv, policy);
	return rc;
}

#endif

static int read_bundle(const char *path, char **buf, size_t *len)
{
	char err[512];

	if (sg_file_read_all(path, SG_BUNDLE_HEADER_MAX + SG_BUNDLE_POLICY_MAX + 256, buf, len, err,
			     sizeof(err))) {
		fprintf(stderr, "sysguardctl fleet publish: %s\n", err);
		return -1;
	}
	return 0;
}

static int cmd_publish(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		SG_CLI_FLEET_CONN_OPTS,
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "pub", required_argument, NULL, OPT_PUB },
		{ 0 },
	};
	const char *group = NULL, *bucket = SG_FLEET_POLICY_BUCKET_DEFAULT;
	struct sg_fleet_conn_config conn = { 0 };
	struct sg_bundle_key keys[MAX_PUB_KEYS];
	char key[96], err[512], *buf = NULL;
	size_t nkeys = 0, len = 0;
	int c, rc;

	if (sg_cli_wants_help(argc, argv, ":h", longs))
		return sg_cli_help(&publish_cmd);
	while ((c = sg_cli_next(argc, argv, ":h", longs)) != -1) {
		if (sg_cli_fleet_conn_opt(&conn, c, optarg)) {
			continue;
		} else if (c == OPT_GROUP) {
			group = optarg;
		} else if (c == OPT_BUCKET) {
			bucket = optarg;
		} else if (c == OPT_PUB) {
			if (nkeys == MAX_PUB_KEYS)
				return sg_cli_usage_error(&publish_cmd, "at most %d --pub", MAX_PUB_KEYS);
			if (sg_key_read_public(optarg, keys[nkeys].pk, err, sizeof(err))) {
				fprintf(stderr, "sysguardctl fleet publish: %s\n", err);
				return SG_EXIT_FAILED;
			}
			nkeys++;
		} else {
			return sg_cli_bad_option(&publish_cmd, argc, argv, c);
		}
	}
	if (optind != argc - 1)
		return sg_cli_usage_error(&publish_cmd, "give one BUNDLE");
	if (!group || !sg_fleet_name_ok(group))
		return sg_cli_usage_error(&publish_cmd, "--group needs 1-64 letters, digits, '-' or '_'");
	if (!sg_fleet_name_ok(bucket))
		return sg_cli_usage_error(&publish_cmd, "--bucket needs 1-64 letters, digits, '-' or '_'");
	if (sg_cli_fleet_conn_check("sysguardctl fleet", &conn))
		return SG_EXIT_USAGE;
	if (sodium_init() < 0 || read_bundle(argv[optind], &buf, &len))
		return SG_EXIT_FAILED;
	rc = SG_EXIT_FAILED;
	sg_fleet_policy_key(group, key, sizeof(key));
	if (!check_bundle(argv[optind], buf, len, keys, nkeys))
		rc = publish(&conn, bucket, key, buf, len);
	free(buf);
	return rc;
}

static int cmd_status(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		SG_CLI_FLEET_CONN_OPTS,
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
	const char *bucket = SG_FLEET_POLICY_BUCKET_DEFAULT;
	struct sg_fleet_conn_config conn = { 0 };
	enum sg_cli_output out = SG_OUT_TABLE;
	int c;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&status_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		if (sg_cli_fleet_conn_opt(&conn, c, optarg))
			continue;
		else if (c == OPT_BUCKET)
			bucket = optarg;
		else if (c == OPT_JSON)
			out = SG_OUT_JSON;
		else if (c == 'o') {
			if (!sg_cli_parse_output(&status_cmd, optarg, &out))
				return SG_EXIT_USAGE;
		} else
			return sg_cli_bad_option(&status_cmd, argc, argv, c);
	}
	if (optind != argc)
		return sg_cli_usage_error(&status_cmd, "takes no arguments");
	if (!sg_fleet_name_ok(bucket))
		return sg_cli_usage_error(&status_cmd, "--bucket needs 1-64 letters, digits, '-' or '_'");
	if (sg_cli_fleet_conn_check("sysguardctl fleet", &conn))
		return SG_EXIT_USAGE;
	return status(&conn, bucket, out);
}

int sg_cmd_fleet(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = { SG_CLI_OPT_HELP, { 0 } };
	int c;

	sg_cli_getopt_start();
	while ((c = sg_cli_next(argc, argv, "+:h", longs)) != -1) {
		if (c == 'h')
			return sg_cli_help(&fleet_cmd);
		return sg_cli_bad_option(&fleet_cmd, argc, argv, c);
	}
	if (optind >= argc)
		return sg_cli_usage_error(&fleet_cmd, "which command? setup, publish, status, events or view");
	if (!strcmp(argv[optind], "setup"))
		return sg_cmd_fleet_setup(cli, argc - optind, argv + optind);
	if (!strcmp(argv[optind], "publish"))
		return cmd_publish(cli, argc - optind, argv + optind);
	if (!strcmp(argv[optind], "status"))
		return cmd_status(cli, argc - optind, argv + optind);
	if (!strcmp(argv[optind], "events"))
		return sg_cmd_fleet_events(cli, argc - optind, argv + optind);
	if (!strcmp(argv[optind], "view"))
		return sg_cmd_fleet_view(cli, argc - optind, argv + optind);
	return sg_cli_usage_error(&fleet_cmd, "unknown command '%s'", argv[optind]);
}

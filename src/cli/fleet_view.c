// SPDX-License-Identifier: Apache-2.0
/*
 * `fleet view` (docs/fleet.md): every node the history bucket or the
 * status bucket knows, its group, bundle version (converged or not), live
 * or silent, last seen, and its denies per interval.
 *
 * The counts come from the nodes' own cumulative counters, sampled once a
 * minute into the history bucket, rather than from counting deny records in
 * the event stream: the counters count every deny even when its record was
 * dropped, and reading them costs 64 values a node instead of every record
 * of the window. A node's current status entry, renewed every few seconds,
 * is its newest sample.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/fleet_cli.h"
#include "cli/fleet_connect.h"
#include "report/fleet_history.h"
#include "report/fleet_status.h"

#define STEP_DEFAULT		600
#define INTERVALS_DEFAULT	6
#define MAX_NODES		4096
#define MAX_POINTS		(SG_FLEET_HISTORY_VALUES + 1)

enum { OPT_BUCKET = 256, OPT_STEP, OPT_INTERVALS };

static const struct sg_cli_cmd view_cmd = { "fleet view",
	"sysguardctl fleet view --url URLS [--bucket NAME] [--step D] [--intervals N]\n"
	"                       [-o table|json]\n"
	"\n"
	"Every node seen in the last day: group, bundle version in force and\n"
	"whether it is its group's (converged), live (its status entry is there)\n"
	"or silent, when it last wrote, and its denies in each of the last N\n"
	"intervals of D (a '-' where the node wrote nothing to tell). The counts\n"
	"come from the samples the nodes write once a minute (64 kept a node).\n"
	"\n"
	SG_CLI_FLEET_CONN_HELP
	"      --bucket=NAME     the policy bucket (default " SG_FLEET_POLICY_BUCKET_DEFAULT ")\n"
	"      --step=D          interval: 30s, 10m (default), 1h, ...\n"
	"      --intervals=N     how many, the newest last (default 6, at most 48)\n"
	"  -o, --output=FORMAT   table (default) or json\n"
	"  -h, --help            this help\n" };

struct view_opts {
	struct sg_fleet_conn_config conn;
	const char *bucket;
	uint64_t step;
	unsigned intervals;
	enum sg_cli_output out;
};

#ifndef SG_FLEET_NO_NATS

struct node_view {
	struct sg_fleet_status last;	/* the newest sample, or the status entry */
	bool live;
	struct sg_fleet_point p[MAX_POINTS];
	size_t np;
};

static void add_point(struct node_view *v, const struct sg_fleet_status *st)
{
	if (v->np == MAX_POINTS || (v->np && st->last_seen < v->p[v->np - 1].t))
		return;
	v->p[v->np++] = (struct sg_fleet_point){ st->last_seen, st->started, st->denies, st->kills };
	v->last = *st;
}

static bool entry_status(kvEntry *e, struct sg_fleet_status *st)
{
	return kvEntry_Operation(e) == kvOp_Put &&
	       !sg_fleet_status_parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), st);
}

/* The node's samples, oldest first, then its status entry when it has one. */
static void read_node(kvStore *hist, kvStore *status, const char *key, struct node_view *v)
{
	struct sg_fleet_status st;
	kvEntryList list = { 0 };
	kvEntry *e = NULL;
	int i;

	memset(v, 0, sizeof(*v));
	if (hist && kvStore_History(&list, hist, key, NULL) == NATS_OK) {
		for (i = 0; i < list.Count; i++)
			if (entry_status(list.Entries[i], &st))
				add_point(v, &st);
		kvEntryList_Destroy(&list);
	}
	if (status && kvStore_Get(&e, status, key) == NATS_OK && entry_status(e, &st)) {
		v->live = true;
		add_point(v, &st);
		v->last = st;	/* even when a sample of the same second came first */
	}
	kvEntry_Destroy(e);
}

static uint64_t group_version(kvStore *policy, const char *group)
{
	kvEntry *e = NULL;
	char key[96];
	uint64_t ver = 0;

	if (!policy || sg_fleet_policy_key(group, key, sizeof(key)))
		return 0;
	if (kvStore_Get(&e, policy, key) == NATS_OK)
		ver = sg_fleet_bundle_version(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));
	kvEntry_Destroy(e);
	return ver;
}

static void header(const struct view_opts *o)
{
	char lbl[24];
	unsigned i;
	uint64_t back;

	if (o->out == SG_OUT_JSON)
		return;
	printf("%-24s %-12s %-8s %-9s %-6s %-20s", "NODE", "GROUP", "VERSION", "CONVERGED", "STATE",
	       "LAST SEEN");
	/* Each column is named by how long ago its interval began. */
	for (i = 0; i < o->intervals; i++) {
		back = (o->intervals - i) * o->step;
		if (back % 3600 == 0)
			snprintf(lbl, sizeof(lbl), "-%lluh", (unsigned long long)(back / 3600));
		else if (back % 60 == 0)
			snprintf(lbl, sizeof(lbl), "-%llum", (unsigned long long)(back / 60));
		else
			snprintf(lbl, sizeof(lbl), "-%llus", (unsigned long long)back);
		printf(" %7s", lbl);
	}
	printf("\n");
}

static void show(const struct view_opts *o, const struct node_view *v, uint64_t want,
		 const struct sg_fleet_interval *iv, uint64_t end, bool first)
{
	bool converged = want && v->last.policy_version == want;
	time_t seen = (time_t)v->last.last_seen;
	char when[32];
	struct sg_json j;
	unsigned i;

	if (o->out == SG_OUT_JSON) {
		sg_json_init(&j);
		sg_json_begin_object(&j);
		sg_json_kv_str(&j, "node_id", v->last.node_id);
		sg_json_kv_str(&j, "group", v->last.group);
		sg_json_kv_u64(&j, "policy_version", v->last.policy_version);
		sg_json_kv_u64(&j, "group_version", want);
		sg_json_kv_bool(&j, "converged", converged);
		sg_json_kv_bool(&j, "live", v->live);
		sg_json_kv_u64(&j, "last_seen", v->last.last_seen);
		sg_json_kv_u64(&j, "denies_total", v->last.denies);
		sg_json_kv_u64(&j, "kills_total", v->last.kills);
		sg_json_kv_u64(&j, "samples", v->np);
		sg_json_key(&j, "intervals");
		sg_json_begin_array(&j);
		for (i = 0; i < o->intervals; i++) {
			sg_json_begin_object(&j);
			sg_json_kv_u64(&j, "start", end - (o->intervals - i) * o->step);
			if (iv[i].known) {
				sg_json_kv_u64(&j, "denies", iv[i].denies);
				sg_json_kv_u64(&j, "kills", iv[i].kills);
			} else {
				sg_json_kv_str(&j, "denies", NULL);
				sg_json_kv_str(&j, "kills", NULL);
			}
			sg_json_end_object(&j);
		}
		sg_json_end_array(&j);
		sg_json_end_object(&j);
		printf("%s%.*s", first ? "" : ",", (int)j.len, j.buf);
		sg_json_free(&j);
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&seen));
	printf("%-24s %-12s %-8llu %-9s %-6s %-20s", v->last.node_id, v->last.group,
	       (unsigned long long)v->last.policy_version, converged ? "yes" : "NO",
	       v->live ? "live" : "silent", when);
	for (i = 0; i < o->intervals; i++) {
		if (iv[i].known)
			printf(" %7llu", (unsigned long long)iv[i].denies);
		else
			printf(" %7s", "-");
	}
	printf("\n");
}

/* Keys node.* of a bucket, added to keys (no duplicates). */
static void gather_keys(kvStore *kv, char **keys, int *n)
{
	kvKeysList l = { 0 };
	int i, k;

	if (!kv || kvStore_Keys(&l, kv, NULL) != NATS_OK)
		return;	/* no keys: every entry gone */
	for (i = 0; i < l.Count && *n < MAX_NODES; i++) {
		if (strncmp(l.Keys[i], "node.", 5))
			continue;
		for (k = 0; k < *n && strcmp(keys[k], l.Keys[i]); k++)
			;
		if (k == *n && (keys[*n] = strdup(l.Keys[i])))
			(*n)++;
	}
	kvKeysList_Destroy(&l);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A bucket made by someone else with less history covers less time: say so. */
static void check_history(kvStore *hist)
{
	kvStatus *st = NULL;

	if (!hist) {
		fprintf(stderr, "sysguardctl fleet view: no bucket %s (no node of this version has "
			"written yet): counts only from the current status entries\n",
			SG_FLEET_HISTORY_BUCKET);
		return;
	}
	if (kvStore_Status(&st, hist) == NATS_OK && kvStatus_History(st) < SG_FLEET_HISTORY_VALUES)
		fprintf(stderr, "sysguardctl fleet view: bucket %s keeps %lld values a node, not %d: "
			"it covers about %lld minutes\n", SG_FLEET_HISTORY_BUCKET,
			(long long)kvStatus_History(st), SG_FLEET_HISTORY_VALUES,
			(long long)kvStatus_History(st) * SG_FLEET_HISTORY_PERIOD_S / 60);
	kvStatus_Destroy(st);
}

static int show_all(const struct view_opts *o, kvStore *hist, kvStore *status, kvStore *policy)
{
	struct sg_fleet_interval iv[SG_FLEET_INTERVALS_MAX];
	struct node_view *v = malloc(sizeof(*v));
	char **keys = calloc(MAX_NODES, sizeof(*keys));
	/* The newest interval includes this second: a sample written now is in it. */
	uint64_t end = (uint64_t)time(NULL) + 1;
	bool first = true;
	int i, n = 0;

	if (!v || !keys) {
		free(v);
		free(keys);
		fprintf(stderr, "sysguardctl fleet view: out of memory\n");
		return SG_EXIT_FAILED;
	}
	gather_keys(hist, keys, &n);
	gather_keys(status, keys, &n);
	qsort(keys, (size_t)n, sizeof(*keys), cmp_key);
	header(o);
	if (o->out == SG_OUT_JSON)
		printf("{\"end\":%llu,\"step\":%llu,\"nodes\":[", (unsigned long long)end,
		       (unsigned long long)o->step);
	for (i = 0; i < n; i++) {
		read_node(hist, status, keys[i], v);
		free(keys[i]);
		if (!v->np)
			continue;
		sg_fleet_intervals(v->p, v->np, end, o->step, o->intervals, iv);
		show(o, v, group_version(policy, v->last.group), iv, end, first);
		first = false;
	}
	if (o->out == SG_OUT_JSON)
		printf("]}\n");
	free(keys);
	free(v);
	return SG_EXIT_OK;
}

static kvStore *open_kv(jsCtx *js, const char *bucket)
{
	kvStore *kv = NULL;

	if (js_KeyValue(&kv, js, bucket) != NATS_OK)
		return NULL;
	return kv;
}

static int view(const struct view_opts *o)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *hist, *status, *policy;
	int rc;

	if (sg_cli_fleet_connect("sysguardctl fleet view", &o->conn, &nc, &js) != NATS_OK)
		return SG_EXIT_FAILED;
	hist = open_kv(js, SG_FLEET_HISTORY_BUCKET);
	status = open_kv(js, SG_FLEET_STATUS_BUCKET);
	policy = open_kv(js, o->bucket);
	check_history(hist);
	rc = show_all(o, hist, status, policy);
	kvStore_Destroy(hist);
	kvStore_Destroy(status);
	kvStore_Destroy(policy);
	sg_cli_fleet_close(nc, js);
	return rc;
}

#endif

int sg_cmd_fleet_view(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		SG_CLI_FLEET_CONN_OPTS,
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "step", required_argument, NULL, OPT_STEP },
		{ "intervals", required_argument, NULL, OPT_INTERVALS },
		{ 0 },
	};
	struct view_opts o = { .bucket = SG_FLEET_POLICY_BUCKET_DEFAULT, .step = STEP_DEFAULT,
			       .intervals = INTERVALS_DEFAULT, .out = SG_OUT_TABLE };
	char *end;
	long n;
	int c;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&view_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		if (sg_cli_fleet_conn_opt(&o.conn, c, optarg)) {
			continue;
		} else if (c == OPT_BUCKET) {
			o.bucket = optarg;
		} else if (c == OPT_STEP) {
			if (sg_fleet_parse_step(optarg, &o.step))
				return sg_cli_usage_error(&view_cmd, "--step is a duration up to 7d "
							  "(30s, 10m, 1h), not '%s'", optarg);
		} else if (c == OPT_INTERVALS) {
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > SG_FLEET_INTERVALS_MAX)
				return sg_cli_usage_error(&view_cmd, "--intervals is 1-%d, not '%s'",
							  SG_FLEET_INTERVALS_MAX, optarg);
			o.intervals = (unsigned)n;
		} else if (c == 'o') {
			if (!sg_cli_parse_output(&view_cmd, optarg, &o.out))
				return SG_EXIT_USAGE;
		} else {
			return sg_cli_bad_option(&view_cmd, argc, argv, c);
		}
	}
	if (optind != argc)
		return sg_cli_usage_error(&view_cmd, "takes no arguments");
	if (!sg_fleet_name_ok(o.bucket))
		return sg_cli_usage_error(&view_cmd, "--bucket needs 1-64 letters, digits, '-' or '_'");
	if (sg_cli_fleet_conn_check("sysguardctl fleet view", &o.conn))
		return SG_EXIT_USAGE;
#ifdef SG_FLEET_NO_NATS
	fprintf(stderr, "sysguardctl: this build has no NATS client\n");
	return SG_EXIT_FAILED;
#else
	return view(&o);
#endif
}

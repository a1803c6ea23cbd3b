// SPDX-License-Identifier: Apache-2.0
/*
 * Bundle reach (fleet_reach.h). The nodes are sg_fleet_node instances, so
 * the watch, its first-value handling and the status renewals are exactly
 * the daemon's; only what deliver() does differs (it notes the time instead
 * of writing the policy inbox). The value's version, read with the daemon's
 * own sg_fleet_bundle_version, says which put a node saw.
 */
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "fleet_reach.h"
#include "policy/bundle.h"
#include "report/fleet_node.h"
#include "report/fleet_status.h"

#define STOPPERS	64

struct reach_node {
	struct reach *r;
	struct sg_fleet_node *node;
	_Atomic uint64_t seen_ns;	/* when it handed over the current version; 0: not yet */
};

struct reach {
	struct reach_config cfg;
	char key[80];
	natsConnection *nc;
	jsCtx *js;
	kvStore *kv;
	struct reach_node *nodes;
	_Atomic uint64_t version;	/* the value being timed */
	_Atomic unsigned seen;
	uint64_t next_version;
	char *value;
	double *lat;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* On a node's thread, as the daemon's policy inbox writer would be called. */
static void deliver(void *ctx, const char *data, size_t len)
{
	struct reach_node *rn = ctx;
	struct reach *r = rn->r;
	uint64_t zero = 0;

	if (sg_fleet_bundle_version(data, len) != atomic_load(&r->version))
		return;
	if (atomic_compare_exchange_strong(&rn->seen_ns, &zero, mono_ns()))
		atomic_fetch_add(&r->seen, 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static natsStatus open_bus(struct reach *r)
{
	const char *servers[16];
	natsOptions *o = NULL;
	char *urls = strdup(r->cfg.url), *p, *save = NULL;
	int n = 0;
	natsStatus s = urls ? NATS_OK : NATS_NO_MEMORY;

	for (p = urls ? strtok_r(urls, ",", &save) : NULL; p && n < 16; p = strtok_r(NULL, ",", &save))
		servers[n++] = p;
	if (s == NATS_OK)
		s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, "fleet-scale-publisher");
	if (s == NATS_OK)
		s = natsConnection_Connect(&r->nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&r->js, r->nc, NULL);
	if (s == NATS_OK)
		s = js_KeyValue(&r->kv, r->js, r->cfg.bucket);
	natsOptions_Destroy(o);
	free(urls);
	return s;
}

/* A value the daemon would take for a bundle header: magic, version, then bulk. */
static void fill_value(struct reach *r, uint64_t version)
{
	size_t len = r->cfg.value_bytes;
	int n = snprintf(r->value, len, "%s\nversion: %llu\n", SG_BUNDLE_MAGIC,
			 (unsigned long long)version);

	memset(r->value + n, 'x', len - (size_t)n - 1);
	r->value[len - 1] = '\n';
}

/* Put the next version and wait for every node to see it; the times are in r->lat. */
static int put_and_wait(struct reach *r, uint64_t *t_put, double *put_ms, char *err, size_t errlen)
{
	uint64_t v = r->next_version++, deadline, t;
	unsigned i;
	natsStatus s;

	fill_value(r, v);
	for (i = 0; i < r->cfg.nodes; i++)
		atomic_store(&r->nodes[i].seen_ns, 0);
	atomic_store(&r->seen, 0);
	atomic_store(&r->version, v);
	*t_put = mono_ns();
	s = kvStore_Put(NULL, r->kv, r->key, r->value, (int)r->cfg.value_bytes);
	t = mono_ns();
	*put_ms = (double)(t - *t_put) / 1e6;
	if (s != NATS_OK) {
		snprintf(err, errlen, "put %s: %s", r->key, natsStatus_GetText(s));
		return -EIO;
	}
	deadline = *t_put + (uint64_t)r->cfg.timeout_ms * 1000000ull;
	while (atomic_load(&r->seen) < r->cfg.nodes && mono_ns() < deadline)
		usleep(1000);
	return 0;
}

struct reach *reach_start(const struct reach_config *cfg, char *err, size_t errlen)
{
	struct reach *r = calloc(1, sizeof(*r));
	struct sg_fleet_status st = { 0 };
	char id[32];
	uint64_t t_put;
	double put_ms;
	unsigned i;
	natsStatus s;

	if (!r || !(r->nodes = calloc(cfg->nodes, sizeof(*r->nodes))) ||
	    !(r->value = malloc(cfg->value_bytes)) || !(r->lat = calloc(cfg->nodes, sizeof(double)))) {
		snprintf(err, errlen, "out of memory");
		reach_stop(r);
		return NULL;
	}
	r->cfg = *cfg;
	r->next_version = 1;
	sg_fleet_policy_key(cfg->group, r->key, sizeof(r->key));
	s = open_bus(r);
	if (s != NATS_OK) {
		snprintf(err, errlen, "publisher connection: %s", natsStatus_GetText(s));
		reach_stop(r);
		return NULL;
	}
	/* A first value, so that each watcher's start is seen (it hands the current one over). */
	fill_value(r, r->next_version);
	atomic_store(&r->version, r->next_version++);
	s = kvStore_Put(NULL, r->kv, r->key, r->value, (int)cfg->value_bytes);
	if (s != NATS_OK) {
		snprintf(err, errlen, "first put: %s", natsStatus_GetText(s));
		reach_stop(r);
		return NULL;
	}
	for (i = 0; i < cfg->nodes; i++) {
		struct sg_fleet_conn_config conn = { .url = cfg->url };
		struct sg_fleet_node_config nc = {
			.conn = &conn, .node_id = id, .group = cfg->group,
			.policy_bucket = cfg->bucket, .status_ttl_s = cfg->status_ttl_s,
			.status = &st, .deliver = deliver, .ctx = &r->nodes[i],
		};

		if (i)
			usleep(1000000 / cfg->ramp);
		snprintf(id, sizeof(id), "node-%04u", i);
		r->nodes[i].r = r;
		r->nodes[i].node = sg_fleet_node_start(&nc, err, errlen);
		if (!r->nodes[i].node) {
			reach_stop(r);
			return NULL;
		}
	}
	/* Every node connects on its own thread (retrying each second): wait for the last watch. */
	for (i = 0; atomic_load(&r->seen) < cfg->nodes && i < 3000; i++)
		usleep(100 * 1000);
	if (atomic_load(&r->seen) < cfg->nodes) {
		snprintf(err, errlen, "only %u of %u watchers started in 300 s", atomic_load(&r->seen),
			 cfg->nodes);
		reach_stop(r);
		return NULL;
	}
	/* One untimed round: the first put after the start warms every path. */
	if (put_and_wait(r, &t_put, &put_ms, err, errlen)) {
		reach_stop(r);
		return NULL;
	}
	return r;
}

int reach_round(struct reach *r, struct reach_result *out, char *err, size_t errlen)
{
	unsigned i, n = 0;
	uint64_t t_put, seen;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = put_and_wait(r, &t_put, &out->put_ms, err, errlen);
	if (rc)
		return rc;
	for (i = 0; i < r->cfg.nodes; i++) {
		seen = atomic_load(&r->nodes[i].seen_ns);
		if (seen)
			r->lat[n++] = (double)(seen - t_put) / 1e6;
	}
	out->seen = n;
	if (!n)
		return 0;
	qsort(r->lat, n, sizeof(double), cmp_double);
	out->p50_ms = r->lat[(n - 1) / 2];
	out->p99_ms = r->lat[(size_t)((n - 1) * 0.99)];
	out->max_ms = r->lat[n - 1];
	out->all_ms = n == r->cfg.nodes ? out->max_ms : r->cfg.timeout_ms;
	return 0;
}

struct stopper {
	struct reach *r;
	unsigned first;
	bool started;
	pthread_t th;
};

static void *stop_some(void *arg)
{
	struct stopper *sp = arg;
	unsigned i;

	for (i = sp->first; i < sp->r->cfg.nodes; i += STOPPERS)
		sg_fleet_node_stop(sp->r->nodes[i].node);
	return NULL;
}

/* A node takes up to 200 ms to notice its stop: a thousand one by one would take minutes. */
static void stop_nodes(struct reach *r)
{
	struct stopper sp[STOPPERS];
	unsigned i;

	for (i = 0; i < STOPPERS; i++) {
		sp[i] = (struct stopper){ .r = r, .first = i };
		sp[i].started = !pthread_create(&sp[i].th, NULL, stop_some, &sp[i]);
		if (!sp[i].started)
			stop_some(&sp[i]);
	}
	for (i = 0; i < STOPPERS; i++)
		if (sp[i].started)
			pthread_join(sp[i].th, NULL);
}

void reach_stop(struct reach *r)
{
	if (!r)
		return;
	if (r->nodes)
		stop_nodes(r);
	kvStore_Destroy(r->kv);
	jsCtx_Destroy(r->js);
	natsConnection_Destroy(r->nc);
	free(r->lat);
	free(r->value);
	free(r->nodes);
	free(r);
}

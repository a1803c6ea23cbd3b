// SPDX-License-Identifier: Apache-2.0
/*
 * The node's keys in the bus (fleet_node.h), on libnats' key-value API.
 *
 * One thread does both jobs: it waits on the policy watcher for at most the
 * time left until the next status renewal, so neither delays the other by
 * more than that. The first value the watcher gives is the one already in
 * the bucket; when it is the bundle version in force (a restart) it is not
 * handed over again, since the daemon would refuse it as a rollback.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/fleet_node.h"

#ifdef SG_FLEET_NO_NATS

struct sg_fleet_node *sg_fleet_node_start(const struct sg_fleet_node_config *cfg, char *err,
					  size_t errlen)
{
	snprintf(err, errlen, "this build of sysguardd has no NATS client");
	return NULL;
}

void sg_fleet_node_set_status(struct sg_fleet_node *n, const struct sg_fleet_status *s)
{
}

void sg_fleet_node_stop(struct sg_fleet_node *n)
{
}

#else

#include <nats/nats.h>

#define RETRY_MS		1000
#define RECONNECT_WAIT_MS	250
#define CONNECT_TIMEOUT_MS	2000
#define POLICY_HISTORY		5
#define STOP_CHECK_MS		200

struct sg_fleet_node {
	struct sg_fleet_node_config cfg;
	char *url, *node_id, *group, *policy_bucket;
	char status_key[300], policy_key[80];
	const char *servers[16];
	int nservers;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	kvStore *status_kv, *policy_kv, *history_kv;
	kvWatcher *watcher;
	bool initial;			/* the watcher's first values: the bucket as it is */
	uint64_t last_rev;
	bool put_failing, open_failing, sample_failing;
	uint64_t next_put_ms, next_try_ms, next_sample_ms, next_history_try_ms;
	pthread_t thread;
	atomic_bool stop;

	pthread_mutex_t lock;
	struct sg_fleet_status status;	/* under lock */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void warn(struct sg_fleet_node *n, const char *what, natsStatus s)
{
	const char *last = nats_GetLastError(NULL);

	fprintf(stderr, "sysguardd: fleet: %s: %s\n", what, last && *last ? last : natsStatus_GetText(s));
}

static natsStatus connect_bus(struct sg_fleet_node *n)
{
	natsStatus s;

	s = natsOptions_Create(&n->opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(n->opts, n->servers, n->nservers);
	if (s == NATS_OK)
		s = natsOptions_SetName(n->opts, "sysguardd-node");
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(n->opts, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(n->opts, RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(n->opts, CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsConnection_Connect(&n->nc, n->opts);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&n->js, n->nc, NULL);
	if (s != NATS_OK) {
		jsCtx_Destroy(n->js);
		n->js = NULL;
		natsConnection_Destroy(n->nc);
		n->nc = NULL;
		natsOptions_Destroy(n->opts);
		n->opts = NULL;
	}
	return s;
}

/* The bucket, made when missing (whoever comes first makes it with its settings). */
static natsStatus open_bucket(struct sg_fleet_node *n, kvStore **kv, const char *bucket,
			      uint8_t history, int64_t ttl_ns)
{
	natsStatus s = js_KeyValue(kv, n->js, bucket);
	kvConfig c;

	if (s != NATS_NOT_FOUND)
		return s;
	kvConfig_Init(&c);
	c.Bucket = bucket;
	c.History = history;
	c.TTL = ttl_ns;
	s = js_CreateKeyValue(kv, n->js, &c);
	if (s != NATS_OK)
		s = js_KeyValue(kv, n->js, bucket);	/* another node made it first */
	return s;
}

static natsStatus start_watch(struct sg_fleet_node *n)
{
	natsStatus s = NATS_OK;

	if (!n->policy_kv)
		s = open_bucket(n, &n->policy_kv, n->policy_bucket, POLICY_HISTORY, 0);
	if (s == NATS_OK)
		s = kvStore_Watch(&n->watcher, n->policy_kv, n->policy_key, NULL);
	if (s == NATS_OK)
		n->initial = true;
	return s;
}

static void put_entry(struct sg_fleet_node *n, kvStore *kv, bool *failing, const char *what)
{
	struct sg_json j;
	natsStatus s;

	sg_json_init(&j);
	pthread_mutex_lock(&n->lock);
	n->status.last_seen = (uint64_t)time(NULL);
	sg_fleet_status_json(&n->status, &j);
	pthread_mutex_unlock(&n->lock);
	if (!j.oom) {
		s = kvStore_Put(NULL, kv, n->status_key, j.buf, (int)j.len);
		/* Once per failure, not at every renewal while the bus is away. */
		if (s != NATS_OK && !*failing)
			warn(n, what, s);
		*failing = s != NATS_OK;
	}
	sg_json_free(&j);
}

static void put_status(struct sg_fleet_node *n)
{
	put_entry(n, n->status_kv, &n->put_failing, "cannot renew the status entry");
}

static void put_sample(struct sg_fleet_node *n)
{
	put_entry(n, n->history_kv, &n->sample_failing, "cannot write the status history");
}

/* One value of policy.<group>: handed over unless seen, deleted, or the one in force at start. */
static void take_entry(struct sg_fleet_node *n, kvEntry *e)
{
	const char *data = kvEntry_Value(e);
	size_t len = (size_t)kvEntry_ValueLen(e);
	uint64_t in_force;

	if (kvEntry_Operation(e) != kvOp_Put || kvEntry_Revision(e) <= n->last_rev)
		return;
	n->last_rev = kvEntry_Revision(e);
	pthread_mutex_lock(&n->lock);
	in_force = n->status.policy_version;
	pthread_mutex_unlock(&n->lock);
	if (n->initial && in_force && sg_fleet_bundle_version(data, len) == in_force)
		return;
	n->cfg.deliver(n->cfg.ctx, data, len);
}

static void watch_for(struct sg_fleet_node *n, uint64_t ms)
{
	kvEntry *e = NULL;
	natsStatus s;

	s = kvWatcher_Next(&e, n->watcher, (int64_t)(ms ? ms : 1));
	if (s == NATS_OK && !e) {
		n->initial = false;	/* the bucket's state is through */
		return;
	}
	if (s == NATS_OK) {
		take_entry(n, e);
		kvEntry_Destroy(e);
	} else if (s != NATS_TIMEOUT) {
		usleep(100 * 1000);	/* disconnected: libnats resumes the watch once it is back */
	}
}

/* Connect, open what is missing; false while the bus is not there (retried every second). */
static bool ready(struct sg_fleet_node *n, uint64_t now)
{
	natsStatus s = NATS_OK;

	if (n->nc && n->status_kv && (!n->policy_bucket || n->watcher))
		return true;
	if (now < n->next_try_ms)
		return false;
	n->next_try_ms = now + RETRY_MS;
	if (!n->nc)
		s = connect_bus(n);
	if (s == NATS_OK && !n->status_kv)
		s = open_bucket(n, &n->status_kv, SG_FLEET_STATUS_BUCKET, 1,
				(int64_t)n->cfg.status_ttl_s * 1000000000LL);
	if (s == NATS_OK && n->policy_bucket && !n->watcher)
		s = start_watch(n);
	if (s != NATS_OK && s != NATS_NO_SERVER && !n->open_failing)
		warn(n, "the key-value buckets", s);
	n->open_failing = s != NATS_OK;
	return s == NATS_OK;
}

/*
 * The history only feeds `fleet view`: a bus that will not make its bucket
 * (limits, permissions) must not hold back the status entry or the policy
 * watch, so it is opened apart, tried once a sample period.
 */
static void open_history(struct sg_fleet_node *n, uint64_t now)
{
	natsStatus s;

	if (n->history_kv || now < n->next_history_try_ms)
		return;
	n->next_history_try_ms = now + SG_FLEET_HISTORY_PERIOD_S * 1000;
	s = open_bucket(n, &n->history_kv, SG_FLEET_HISTORY_BUCKET, SG_FLEET_HISTORY_VALUES,
			(int64_t)SG_FLEET_HISTORY_TTL_S * 1000000000LL);
	if (s == NATS_OK)
		return;
	n->history_kv = NULL;
	if (!n->sample_failing)
		warn(n, "the status history bucket (fleet view shows no history of this node)", s);
	n->sample_failing = true;
}

static void *node_main(void *arg)
{
	struct sg_fleet_node *n = arg;
	uint64_t period = n->cfg.status_ttl_s * 1000 / 3, now, wait;

	if (period < 500)
		period = 500;
	while (!atomic_load(&n->stop)) {
		now = mono_ms();
		if (!ready(n, now)) {
			usleep(100 * 1000);
			continue;
		}
		if (now >= n->next_put_ms) {
			put_status(n);
			n->next_put_ms = now + period;
		}
		open_history(n, now);
		if (n->history_kv && now >= n->next_sample_ms) {
			put_sample(n);
			n->next_sample_ms = now + SG_FLEET_HISTORY_PERIOD_S * 1000;
		}
		now = mono_ms();
		wait = n->next_put_ms > now ? n->next_put_ms - now : 0;
		/* Bounded, so that a stop never waits for a renewal. */
		if (wait > STOP_CHECK_MS)
			wait = STOP_CHECK_MS;
		if (n->watcher)
			watch_for(n, wait);
		else
			usleep((useconds_t)(wait + 1) * 1000);
	}
	/* The counts at the stop; not when the bus is away (the put would wait for it). */
	if (n->history_kv && natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED)
		put_sample(n);
	return NULL;
}

static int split_urls(struct sg_fleet_node *n)
{
	char *p;

	for (p = strtok(n->url, ","); p && n->nservers < 16; p = strtok(NULL, ","))
		n->servers[n->nservers++] = p;
	return n->nservers ? 0 : -EINVAL;
}

static void node_free(struct sg_fleet_node *n)
{
	kvWatcher_Destroy(n->watcher);
	kvStore_Destroy(n->policy_kv);
	kvStore_Destroy(n->status_kv);
	kvStore_Destroy(n->history_kv);
	jsCtx_Destroy(n->js);
	if (n->nc)
		natsConnection_Close(n->nc);
	natsConnection_Destroy(n->nc);
	natsOptions_Destroy(n->opts);
	pthread_mutex_destroy(&n->lock);
	free(n->url);
	free(n->node_id);
	free(n->group);
	free(n->policy_bucket);
	free(n);
}

struct sg_fleet_node *sg_fleet_node_start(const struct sg_fleet_node_config *cfg, char *err,
					  size_t errlen)
{
	struct sg_fleet_node *n = calloc(1, sizeof(*n));

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->cfg = *cfg;
	n->url = strdup(cfg->url);
	n->node_id = strdup(cfg->node_id);
	n->group = strdup(cfg->group);
	n->policy_bucket = cfg->policy_bucket ? strdup(cfg->policy_bucket) : NULL;
	if (!n->url || !n->node_id || !n->group || (cfg->policy_bucket && !n->policy_bucket) ||
	    split_urls(n) || sg_fleet_status_key(n->node_id, n->status_key, sizeof(n->status_key)) ||
	    sg_fleet_policy_key(n->group, n->policy_key, sizeof(n->policy_key))) {
		snprintf(err, errlen, "out of memory, or names too long");
		goto fail;
	}
	if (cfg->status)
		n->status = *cfg->status;
	snprintf(n->status.node_id, sizeof(n->status.node_id), "%s", n->node_id);
	snprintf(n->status.group, sizeof(n->status.group), "%s", n->group);
	n->status.started = (uint64_t)time(NULL);
	if (pthread_create(&n->thread, NULL, node_main, n)) {
		snprintf(err, errlen, "cannot start the fleet node thread");
		goto fail;
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

void sg_fleet_node_set_status(struct sg_fleet_node *n, const struct sg_fleet_status *s)
{
	uint64_t started;

	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	started = n->status.started;
	n->status = *s;
	n->status.started = started;
	snprintf(n->status.node_id, sizeof(n->status.node_id), "%s", n->node_id);
	snprintf(n->status.group, sizeof(n->status.group), "%s", n->group);
	pthread_mutex_unlock(&n->lock);
}

void sg_fleet_node_stop(struct sg_fleet_node *n)
{
	if (!n)
		return;
	atomic_store(&n->stop, true);
	pthread_join(n->thread, NULL);
	node_free(n);
}

#endif

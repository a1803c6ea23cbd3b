// SPDX-License-Identifier: Apache-2.0
/*
 * The node's keys in the bus (fleet_node.h), on libnats' key-value API.
 *
 * One thread does both jobs: it reads policy.<group> and renews the status
 * entry every third of its TTL, each step short, so neither delays the
 * other. The key is read with a direct get of that one subject, not
 * watched: a watch is a consumer of the whole bucket, and a node allowed to
 * make one could read every group's key; a direct get of one key is a
 * request the server's permissions can allow for that key alone
 * (deploy/nats/node-user.sh). When to read: at once when a put to the key
 * goes by (a plain subscription to the key's own subject, which the
 * permissions can also allow alone), and every POLL_MS whatever happens, for
 * a put that went by while the node was disconnected. The first value read is the one already
 * in the bucket; when it is the bundle version in force (a restart) it is
 * not handed over again, since the daemon would refuse it as a rollback.
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
#define STOP_CHECK_MS		200
/* How often policy.<group> is read: a bundle is in force well within a second. */
#define POLL_MS			2000
/*
 * After a put went by, the key is read again every NOTIFIED_RETRY_MS until
 * the new revision is there, at most NOTIFIED_TRIES times: a direct get may
 * be answered by a replica that has not stored the put yet (bench/fleet: a
 * read at once found the old value, and 1,000 nodes waited for their poll).
 */
#define NOTIFIED_RETRY_MS	50
#define NOTIFIED_TRIES		40

struct sg_fleet_node {
	struct sg_fleet_node_config cfg;
	char *node_id, *group, *policy_bucket;
	char status_key[300], policy_key[80];
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	kvStore *status_kv, *policy_kv, *history_kv;
	natsSubscription *policy_sub;	/* puts to policy.<group> as they go by; NULL: polling only */
	bool initial;			/* no read yet: the bucket as it is at start */
	uint64_t last_rev;
	bool put_failing, open_failing, get_failing, sample_failing;
	uint64_t next_put_ms, next_try_ms, next_poll_ms, next_sample_ms, next_history_try_ms;
	unsigned notified;		/* reads left for the revision a put that went by made */
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

/* A request the server's permissions deny gets no answer at all: say so with the timeout. */
static void warn(struct sg_fleet_node *n, const char *what, natsStatus s)
{
	fprintf(stderr, "sysguardd: fleet: %s: %s%s\n", what, sg_fleet_conn_error(s),
		s == NATS_TIMEOUT ? " (no answer: is it allowed to this node's user? "
		"deploy/nats/node-user.sh)" : "");
}

static natsStatus connect_bus(struct sg_fleet_node *n)
{
	natsStatus s;

	s = natsConnection_Connect(&n->nc, n->opts);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&n->js, n->nc, NULL);
	if (s != NATS_OK) {
		jsCtx_Destroy(n->js);
		n->js = NULL;
		natsConnection_Destroy(n->nc);
		n->nc = NULL;
	}
	return s;
}

/*
 * The bucket, made when missing (whoever comes first makes it with its
 * settings). Looked up first: a node may use a bucket it may not make.
 */
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

static void poll_policy(struct sg_fleet_node *n)
{
	kvEntry *e = NULL;
	natsStatus s;

	s = kvStore_Get(&e, n->policy_kv, n->policy_key);
	if (s == NATS_OK)
		take_entry(n, e);
	kvEntry_Destroy(e);
	/* Once per failure; a key not there (yet, or deleted) is no failure. */
	if (s != NATS_OK && s != NATS_NOT_FOUND && !n->get_failing)
		warn(n, "cannot read the policy key", s);
	n->get_failing = s != NATS_OK && s != NATS_NOT_FOUND;
	if (!n->get_failing)
		n->initial = false;
}

/*
 * A put to policy.<group> is also a message on $KV.<bucket>.policy.<group>:
 * seen there, the key is read at once instead of at the next poll. Only a
 * wake-up: the value is taken from the direct get, with its revision. A
 * server that refuses the subscription leaves the node polling.
 */
static void subscribe_policy(struct sg_fleet_node *n)
{
	char subject[sizeof(n->policy_key) + SG_FLEET_NAME_MAX + 8];

	snprintf(subject, sizeof(subject), "$KV.%s.%s", n->policy_bucket, n->policy_key);
	if (natsConnection_SubscribeSync(&n->policy_sub, n->nc, subject) != NATS_OK)
		n->policy_sub = NULL;
}

/* Up to ms for a put to the policy key to go by; true when one did (all that came, taken). */
static bool policy_put_seen(struct sg_fleet_node *n, uint64_t ms)
{
	natsMsg *m = NULL;
	bool seen = false;

	if (!n->policy_sub) {
		usleep((useconds_t)(ms + 1) * 1000);
		return false;
	}
	while (natsSubscription_NextMsg(&m, n->policy_sub, seen ? 1 : (int64_t)ms + 1) == NATS_OK) {
		natsMsg_Destroy(m);
		m = NULL;
		seen = true;
	}
	return seen;
}

/* Connect, open what is missing; false while the bus is not there (retried every second). */
static bool ready(struct sg_fleet_node *n, uint64_t now)
{
	natsStatus s = NATS_OK;

	if (n->nc && n->status_kv && (!n->policy_bucket || n->policy_kv))
		return true;
	if (now < n->next_try_ms)
		return false;
	n->next_try_ms = now + RETRY_MS;
	if (!n->nc)
		s = connect_bus(n);
	if (s == NATS_OK && !n->status_kv)
		s = open_bucket(n, &n->status_kv, SG_FLEET_STATUS_BUCKET, 1,
				(int64_t)n->cfg.status_ttl_s * 1000000000LL);
	if (s == NATS_OK && n->policy_bucket && !n->policy_kv)
		s = open_bucket(n, &n->policy_kv, n->policy_bucket, SG_FLEET_POLICY_HISTORY, 0);
	if (s == NATS_OK && n->policy_kv && !n->policy_sub)
		subscribe_policy(n);
	if (s != NATS_OK && s != NATS_NO_SERVER && !n->open_failing)
		warn(n, "the key-value buckets", s);
	n->open_failing = s != NATS_OK;
	return s == NATS_OK;
}

/*
 * The history only feeds `fleet view`: a bus that will not make its bucket
 * (limits, permissions) must not hold back the status entry or the policy
 * read, so it is opened apart, tried once a sample period.
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
		if (n->policy_kv && now >= n->next_poll_ms) {
			uint64_t rev = n->last_rev;

			poll_policy(n);
			if (n->last_rev != rev)
				n->notified = 0;
			else if (n->notified)
				n->notified--;
			n->next_poll_ms = now + (n->notified ? NOTIFIED_RETRY_MS : POLL_MS);
		}
		now = mono_ms();
		wait = n->next_put_ms > now ? n->next_put_ms - now : 0;
		if (n->policy_kv && n->next_poll_ms < now + wait)
			wait = n->next_poll_ms > now ? n->next_poll_ms - now : 0;
		/* Bounded, so that a stop never waits for a renewal. */
		if (wait > STOP_CHECK_MS)
			wait = STOP_CHECK_MS;
		if (policy_put_seen(n, wait)) {
			n->next_poll_ms = 0;
			n->notified = NOTIFIED_TRIES;
		}
	}
	/* The counts at the stop; not when the bus is away (the put would wait for it). */
	if (n->history_kv && natsConnection_Status(n->nc) == NATS_CONN_STATUS_CONNECTED)
		put_sample(n);
	return NULL;
}

static void node_free(struct sg_fleet_node *n)
{
	natsSubscription_Destroy(n->policy_sub);
	kvStore_Destroy(n->policy_kv);
	kvStore_Destroy(n->status_kv);
	kvStore_Destroy(n->history_kv);
	jsCtx_Destroy(n->js);
	if (n->nc)
		natsConnection_Close(n->nc);
	natsConnection_Destroy(n->nc);
	natsOptions_Destroy(n->opts);
	pthread_mutex_destroy(&n->lock);
	free(n->node_id);
	free(n->group);
	free(n->policy_bucket);
	free(n);
}

struct sg_fleet_node *sg_fleet_node_start(const struct sg_fleet_node_config *cfg, char *err,
					  size_t errlen)
{
	struct sg_fleet_node *n = calloc(1, sizeof(*n));
	struct sg_fleet_conn_config conn;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&n->lock, NULL);
	n->cfg = *cfg;
	n->cfg.conn = NULL;	/* the caller's; only read here */
	n->initial = true;
	n->node_id = strdup(cfg->node_id);
	n->group = strdup(cfg->group);
	n->policy_bucket = cfg->policy_bucket ? strdup(cfg->policy_bucket) : NULL;
	if (!n->node_id || !n->group || (cfg->policy_bucket && !n->policy_bucket) ||
	    sg_fleet_status_key(n->node_id, n->status_key, sizeof(n->status_key)) ||
	    sg_fleet_policy_key(n->group, n->policy_key, sizeof(n->policy_key))) {
		snprintf(err, errlen, "out of memory, or names too long");
		goto fail;
	}
	conn = *cfg->conn;
	conn.name = "sysguardd-node";
	conn.reconnect_forever = true;
	n->opts = sg_fleet_conn_options(&conn, err, errlen);
	if (!n->opts)
		goto fail;
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

// SPDX-License-Identifier: Apache-2.0
/*
 * Events to JetStream (fleet_publish.h).
 *
 * Every record passes through the spool: the worker appends what is queued
 * to it and publishes batches from its head, taking a batch off once
 * JetStream acknowledged it. One queue in one order, so a node's records
 * reach the stream in the order the audit log has them, whether the bus
 * kept up, was away for an hour or the daemon was killed in between. While
 * the bus keeps up the spool holds only the batch in flight (the page cache
 * absorbs it; nothing is synced); once it falls behind or fails, the spool
 * is synced about once a second. Appending goes on while a batch waits for
 * its acknowledgements, so a slow bus fills the disk, not the queue.
 *
 * Each message carries Nats-Msg-Id <node>.<run>.<event_id>, the run being
 * this daemon's start time: event ids restart at each run, the pair does
 * not. A message re-sent after a lost acknowledgement is dropped by
 * JetStream as a duplicate (within the stream's duplicate window), which is
 * what makes at-least-once publishing store each record once.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/fleet_bus.h"
#include "report/fleet_publish.h"
#include "report/fleet_record.h"
#include "report/spool.h"

#define IDLE_MS			100
#define SYNC_MS			1000
#define DROP_LOG_MS		60000
/* A flood spilled to disk still leaves the worker time to replay between spills. */
#define SPILL_BATCHES		8
#define MSGID_MAX		(SG_FLEET_TOKEN_MAX * 2 + 40)
#define SUBJECT_MAX		(SG_FLEET_TOKEN_MAX * 2 + 16)

struct qrec {
	struct qrec *next;
	size_t len;
	char line[];
};

/* One record of a batch, with what publishing it needs. */
struct item {
	char msgid[MSGID_MAX];
	char subject[SUBJECT_MAX];
	const char *line;
	size_t len;
	bool keep;
};

struct sg_fleet {
	/* Immutable after start. */
	char node[SG_FLEET_TOKEN_MAX];
	char run[17];
	unsigned qcap;
	struct sg_fleet_bus *bus;
	pthread_t thread;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock. */
	struct qrec *qhead, *qtail;
	unsigned qcount;
	bool sleeping, stopping;
	uint64_t stop_deadline_ms;
	struct sg_fleet_stats st;

	/* Worker only. */
	struct sg_spool *spool;
	uint64_t retry_at_ms, synced_at_ms, drop_logged_ms, drops_logged;
	bool replaying;			/* the spool holds records the bus failed to take */
	bool was_ready;
	struct sg_fleet_pace pace;	/* smaller batches, less often, from a bus that is slow */
	struct item items[SG_FLEET_BATCH_MAX];
	struct sg_fleet_msg msgs[SG_FLEET_BATCH_MAX];
	struct sg_spool_rec recs[SG_FLEET_BATCH_MAX];
	struct qrec *batch[SG_FLEET_BATCH_MAX];
};

static const char *const drop_names[SG_FLEET_DROP_MAX] = {
	[SG_FLEET_DROP_QUEUE_FULL] = "queue_full",
	[SG_FLEET_DROP_SPOOL_FULL] = "spool_full",
	[SG_FLEET_DROP_TOO_LARGE] = "too_large",
	[SG_FLEET_DROP_SPOOL_ERROR] = "spool_error",
};

const char *sg_fleet_drop_name(int reason)
{
	return reason >= 0 && reason < SG_FLEET_DROP_MAX ? drop_names[reason] : "unknown";
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Under lock. */
static void count_drop(struct sg_fleet *f, int reason, uint64_t n)
{
	f->st.dropped += n;
	f->st.dropped_by[reason] += n;
}

static void set_error(struct sg_fleet *f, const char *err)
{
	pthread_mutex_lock(&f->lock);
	snprintf(f->st.last_error, sizeof(f->st.last_error), "%s", err);
	pthread_mutex_unlock(&f->lock);
}

/* Only asked of a full queue: an eighth more room is kept for denies, kills and criticals. */
static bool worth_keeping(const char *line, size_t len)
{
	struct sg_fleet_info info;

	return !sg_fleet_record_info(line, len, &info) && info.keep;
}

void sg_fleet_submit(struct sg_fleet *f, const char *line, size_t len)
{
	struct qrec *r;

	if (!f)
		return;
	/* Messages are the JSON object alone, without the log's line end. */
	if (len && line[len - 1] == '\n')
		len--;
	r = malloc(sizeof(*r) + len);
	pthread_mutex_lock(&f->lock);
	f->st.submitted++;
	if (!r || (f->qcount >= f->qcap && !(f->qcount < f->qcap + f->qcap / 8 && worth_keeping(line, len)))) {
		count_drop(f, SG_FLEET_DROP_QUEUE_FULL, 1);
		pthread_mutex_unlock(&f->lock);
		free(r);
		return;
	}
	r->next = NULL;
	r->len = len;
	memcpy(r->line, line, len);
	if (f->qtail)
		f->qtail->next = r;
	else
		f->qhead = r;
	f->qtail = r;
	f->qcount++;
	f->st.queued++;
	/* Only a sleeping worker costs a wake-up: a steady stream costs no system call. */
	if (f->sleeping)
		pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
}

/* Up to max records off the queue's head, still counted as queued. */
static unsigned take(struct sg_fleet *f, struct qrec **v, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&f->lock);
	while (n < max && f->qhead) {
		v[n++] = f->qhead;
		f->qhead = f->qhead->next;
		f->qcount--;
	}
	if (!f->qhead)
		f->qtail = NULL;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The message id and subject of an audit line; false when it is not a record. */
static bool describe(struct sg_fleet *f, struct item *it, const char *line, size_t len)
{
	struct sg_fleet_info info;

	if (sg_fleet_record_info(line, len, &info))
		return false;
	snprintf(it->msgid, sizeof(it->msgid), "%s.%s.%s", f->node, f->run, info.event_id);
	snprintf(it->subject, sizeof(it->subject), "sysguard.%s.%s", f->node, info.type);
	it->line = line;
	it->len = len;
	it->keep = info.keep;
	return true;
}

static void log_drops(struct sg_fleet *f)
{
	uint64_t now = mono_ms(), dropped;

	pthread_mutex_lock(&f->lock);
	dropped = f->st.dropped;
	pthread_mutex_unlock(&f->lock);
	if (dropped == f->drops_logged || now - f->drop_logged_ms < DROP_LOG_MS)
		return;
	fprintf(stderr, "sysguardd: fleet: %" PRIu64 " record(s) dropped since the last report "
		"(%" PRIu64 " in all; see fleet.dropped_by in stats)\n", dropped - f->drops_logged, dropped);
	f->drops_logged = dropped;
	f->drop_logged_ms = now;
}

/* One queued record into the spool: queued -> spooled or dropped. */
static void spool_one(struct sg_fleet *f, const char *line, size_t len)
{
	struct item tmp, *it = NULL;
	char why[SG_FLEET_ERROR_MAX];
	int err = -EINVAL, reason = SG_FLEET_DROP_SPOOL_ERROR;

	if (describe(f, &tmp, line, len)) {
		it = &tmp;
		err = sg_spool_append(f->spool, it->msgid, it->subject, it->line, it->len, it->keep);
	}
	pthread_mutex_lock(&f->lock);
	f->st.queued--;
	if (!err)
		f->st.spooled++;
	else if (err == -ENOSPC)
		reason = SG_FLEET_DROP_SPOOL_FULL;
	else if (err == -EFBIG)
		reason = SG_FLEET_DROP_TOO_LARGE;
	if (err)
		count_drop(f, reason, 1);
	pthread_mutex_unlock(&f->lock);
	if (err && reason == SG_FLEET_DROP_SPOOL_ERROR) {
		snprintf(why, sizeof(why), "spool: %s", it ? strerror(-err) : "not an audit record");
		set_error(f, why);
	}
}

/* What is queued (up to batches batches) goes behind what is spooled. */
static void spill(struct sg_fleet *f, unsigned batches)
{
	unsigned n, i;

	while (batches-- && (n = take(f, f->batch, SG_FLEET_BATCH_MAX))) {
		for (i = 0; i < n; i++) {
			spool_one(f, f->batch[i]->line, f->batch[i]->len);
			free(f->batch[i]);
		}
	}
}

/* While a batch waits for its acknowledgements, new records still reach the disk. */
static void spill_tick(void *ctx)
{
	spill(ctx, SPILL_BATCHES);
}

/* Publish it[0..n); the number acknowledged in front, with the counters updated. */
static unsigned publish(struct sg_fleet *f, struct item *it, unsigned n)
{
	unsigned i, acked = 0, rejected = 0, late = 0;
	char err[SG_FLEET_ERROR_MAX];

	for (i = 0; i < n; i++)
		f->msgs[i] = (struct sg_fleet_msg){ it[i].subject, it[i].msgid, it[i].line, it[i].len };
	err[0] = '\0';
	sg_fleet_bus_publish(f->bus, f->msgs, n, &acked, &rejected, &late, spill_tick, f, err,
			     sizeof(err));
	pthread_mutex_lock(&f->lock);
	f->st.delivered += acked - rejected;
	count_drop(f, SG_FLEET_DROP_TOO_LARGE, rejected);
	f->st.spooled -= acked;
	if (f->replaying)
		f->st.replayed += acked - rejected;
	f->st.late_acks += late;
	if (acked < n) {
		f->st.publish_errors++;
		snprintf(f->st.last_error, sizeof(f->st.last_error), "%s", err);
	}
	pthread_mutex_unlock(&f->lock);
	f->retry_at_ms = mono_ms() + sg_fleet_pace_after(&f->pace, acked, n);
	if (acked < n)
		f->replaying = true;
	return acked;
}

/* A batch from the spool's head, taken off once acknowledged. */
static void replay_batch(struct sg_fleet *f)
{
	uint64_t before = sg_spool_records(f->spool), lost;
	unsigned n = 0, i, acked;
	char why[SG_FLEET_ERROR_MAX];
	int err;

	err = sg_spool_peek(f->spool, f->recs, f->pace.window, &n);
	lost = before - sg_spool_records(f->spool);
	if (err || lost) {
		snprintf(why, sizeof(why), "spool: %s", strerror(err ? -err : EBADMSG));
		pthread_mutex_lock(&f->lock);
		f->st.spooled -= lost;
		count_drop(f, SG_FLEET_DROP_SPOOL_ERROR, lost);
		snprintf(f->st.last_error, sizeof(f->st.last_error), "%s", why);
		pthread_mutex_unlock(&f->lock);
	}
	for (i = 0; i < n; i++) {
		snprintf(f->items[i].msgid, sizeof(f->items[i].msgid), "%s", f->recs[i].msgid);
		snprintf(f->items[i].subject, sizeof(f->items[i].subject), "%s", f->recs[i].subject);
		f->items[i].line = f->recs[i].line;
		f->items[i].len = f->recs[i].len;
	}
	acked = n ? publish(f, f->items, n) : 0;
	if (acked && (err = sg_spool_consume(f->spool, acked, f->recs[acked - 1].end))) {
		snprintf(why, sizeof(why), "spool cursor: %s", strerror(-err));
		set_error(f, why);
	}
	sg_spool_rec_free(f->recs, n);
	if (!sg_spool_records(f->spool))
		f->replaying = false;
}

/* Sleep until a record comes, the stop, or ms; false once stopping is due. */
static bool idle(struct sg_fleet *f, unsigned ms)
{
	struct timespec ts;
	bool go_on;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&f->lock);
	if (!f->qhead && !f->stopping) {
		f->sleeping = true;
		pthread_cond_timedwait(&f->wake, &f->lock, &ts);
		f->sleeping = false;
	}
	go_on = !f->stopping || mono_ms() < f->stop_deadline_ms;
	pthread_mutex_unlock(&f->lock);
	return go_on;
}

static void set_connected(struct sg_fleet *f, bool ready, bool lost)
{
	pthread_mutex_lock(&f->lock);
	f->st.connected = ready;
	f->st.disconnects += lost;
	pthread_mutex_unlock(&f->lock);
}

/* One round; false when the worker should stop. */
static bool step(struct sg_fleet *f)
{
	uint64_t now = mono_ms();
	bool ready, stopping, queued;
	char why[SG_FLEET_ERROR_MAX];

	ready = sg_fleet_bus_ready(f->bus, why, sizeof(why));
	set_connected(f, ready, f->was_ready && !ready);
	/* Back after an outage: the back-off was for a bus that was slow, not gone. */
	if (ready && !f->was_ready) {
		sg_fleet_pace_reconnected(&f->pace);
		f->retry_at_ms = now;
	}
	f->was_ready = ready;
	if (!ready) {
		set_error(f, why);
		f->replaying = f->replaying || sg_spool_records(f->spool);
	}
	pthread_mutex_lock(&f->lock);
	stopping = f->stopping;
	queued = f->qhead != NULL;
	pthread_mutex_unlock(&f->lock);
	/* At the stop, what the bus cannot take now waits in the spool for the next run. */
	if (stopping && (!ready || (!queued && !sg_spool_records(f->spool)) ||
			 now >= f->stop_deadline_ms))
		return false;
	if (queued)
		spill(f, SPILL_BATCHES);
	if (ready && now >= f->retry_at_ms && sg_spool_records(f->spool))
		replay_batch(f);
	else if (!queued)
		return idle(f, f->retry_at_ms > now && f->retry_at_ms - now < IDLE_MS ?
			    (unsigned)(f->retry_at_ms - now) : IDLE_MS);
	return true;
}

/* Under the stats lock what only the worker knows. */
static void note_spool(struct sg_fleet *f)
{
	uint64_t bytes = sg_spool_bytes(f->spool);

	pthread_mutex_lock(&f->lock);
	f->st.spool_bytes = bytes;
	pthread_mutex_unlock(&f->lock);
}

static void *worker(void *arg)
{
	struct sg_fleet *f = arg;
	uint64_t now;

	pthread_setname_np(pthread_self(), "sg-fleet");
	while (step(f)) {
		now = mono_ms();
		/* Records that only pass through are gone before a sync could matter. */
		if (now - f->synced_at_ms >= SYNC_MS &&
		    (f->replaying || sg_spool_records(f->spool) > SG_FLEET_BATCH_MAX)) {
			sg_spool_sync(f->spool);
			f->synced_at_ms = now;
		}
		log_drops(f);
		note_spool(f);
	}
	spill(f, UINT_MAX);
	sg_spool_sync(f->spool);
	return NULL;
}

static int check_config(const struct sg_fleet_config *cfg, char *err, size_t errlen)
{
	if (!cfg->conn || sg_fleet_conn_check(cfg->conn, err, errlen))
		return -EINVAL;
	if (!cfg->spool_dir || !*cfg->spool_dir) {
		snprintf(err, errlen, "the fleet export needs a spool directory");
		return -EINVAL;
	}
	if (cfg->stream && (!*cfg->stream || strlen(cfg->stream) > 64 ||
			    strspn(cfg->stream, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				   "0123456789-_") != strlen(cfg->stream))) {
		snprintf(err, errlen, "fleet stream '%s': 1-64 letters, digits, '-' or '_'", cfg->stream);
		return -EINVAL;
	}
	return 0;
}

static void fleet_free(struct sg_fleet *f)
{
	sg_fleet_bus_close(f->bus);
	sg_spool_close(f->spool);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

struct sg_fleet *sg_fleet_start(const struct sg_fleet_config *cfg, char *err, size_t errlen)
{
	struct sg_fleet_bus_config bc = {
		.conn = cfg->conn,
		.stream = cfg->stream ? cfg->stream : SG_FLEET_STREAM_DEFAULT,
		.replicas = cfg->replicas ? cfg->replicas : 1,
		.ack_wait_ms = SG_FLEET_ACK_WAIT_MS,
	};
	struct sg_fleet *f;
	struct timespec ts;

	if (check_config(cfg, err, errlen))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	f->qcap = cfg->queue ? cfg->queue : SG_FLEET_QUEUE_DEFAULT;
	sg_fleet_pace_init(&f->pace);
	sg_fleet_token(f->node, sizeof(f->node), cfg->node_id, strlen(cfg->node_id));
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(f->run, sizeof(f->run), "%016" PRIx64,
		 (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	if (sg_spool_open(&f->spool, cfg->spool_dir,
			  cfg->spool_max_bytes ? cfg->spool_max_bytes : SG_FLEET_SPOOL_MAX_DEFAULT,
			  err, errlen))
		goto fail;
	f->st.recovered = f->st.spooled = f->st.submitted = sg_spool_records(f->spool);
	f->st.spool_bytes = sg_spool_bytes(f->spool);
	f->bus = sg_fleet_bus_open(&bc, err, errlen);
	if (!f->bus)
		goto fail;
	if (pthread_create(&f->thread, NULL, worker, f)) {
		snprintf(err, errlen, "cannot start the fleet export's thread");
		goto fail;
	}
	return f;
fail:
	fleet_free(f);
	return NULL;
}

void sg_fleet_stats(struct sg_fleet *f, struct sg_fleet_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	*out = f->st;
	pthread_mutex_unlock(&f->lock);
}

void sg_fleet_stop(struct sg_fleet *f, unsigned drain_ms)
{
	struct sg_fleet_stats st;

	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	f->stop_deadline_ms = mono_ms() + drain_ms;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->lock);
	pthread_join(f->thread, NULL);
	sg_fleet_stats(f, &st);
	if (st.spooled)
		fprintf(stderr, "sysguardd: fleet: %" PRIu64 " record(s) left in the spool for the next run\n",
			st.spooled);
	fleet_free(f);
}

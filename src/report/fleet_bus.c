// SPDX-License-Identifier: Apache-2.0
/*
 * NATS JetStream for the fleet export (fleet_bus.h), on libnats.
 *
 * A batch is published with js_PublishMsgAsync and the worker waits up to
 * ack_wait_ms for every acknowledgement before the next batch, so at most
 * one batch is in flight: after a failure the caller re-sends from the first unacknowledged message
 * and, the messages behind it having been in flight with it, a node's records
 * stay in order in the stream unless the stream's leader changed in the
 * middle of a batch (counted as late by the caller).
 *
 * Built without libnats (SG_FLEET_NO_NATS, the static daemon), the export
 * refuses to start.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/fleet_bus.h"

#ifndef SG_FLEET_NO_NATS
#include <nats/nats.h>
#endif

#define STREAM_RETRY_MS		1000
/* As libnats' reconnection wait (fleet_conn.c), until the first connection. */
#define CONNECT_RETRY_MS	250
/* How often the caller's tick runs while a batch waits for acknowledgements. */
#define TICK_MS			5
/* Messages JetStream still remembers by id: a re-send within it is dropped as a duplicate. */
#define DUPLICATE_WINDOW_NS	(120LL * 1000000000LL)

#ifdef SG_FLEET_NO_NATS

struct sg_fleet_bus *sg_fleet_bus_open(const struct sg_fleet_bus_config *cfg, char *err,
				       size_t errlen)
{
	snprintf(err, errlen, "this build of sysguardd has no NATS client");
	return NULL;
}

bool sg_fleet_bus_ready(struct sg_fleet_bus *b, char *err, size_t errlen)
{
	return false;
}

int sg_fleet_bus_publish(struct sg_fleet_bus *b, const struct sg_fleet_msg *v, unsigned n,
			 unsigned *acked, unsigned *rejected, unsigned *late, void (*tick)(void *ctx),
			 void *ctx, char *err, size_t errlen)
{
	return -ENOTSUP;
}

void sg_fleet_bus_close(struct sg_fleet_bus *b)
{
}

#else

/* REJECTED: the bus will never take it (too large for it); the caller drops it. */
enum { SLOT_PENDING, SLOT_OK, SLOT_FAILED, SLOT_REJECTED };

struct sg_fleet_bus {
	char *stream;
	unsigned replicas;
	unsigned ack_wait_ms;
	void (*on_stored)(void *ctx, unsigned i);
	void *on_stored_ctx;
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	atomic_bool stream_ok;		/* cleared at each reconnection */
	uint64_t next_stream_try_ms;	/* and the next first connection attempt */

	pthread_mutex_t lock;
	pthread_cond_t done;
	/* Under lock: the batch in flight. */
	natsMsg *slot_msg[SG_FLEET_BATCH_MAX];
	int slot[SG_FLEET_BATCH_MAX];
	unsigned nslots, resolved;
	bool slot_failed;	/* a message of the batch failed: send no more of it */
	char slot_err[160];
	char conn_err[160];	/* why the last first-connection attempt failed */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libnats' thread: one acknowledgement, or a failure (a JetStream error, a timeout). */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct sg_fleet_bus *b = closure;
	unsigned i;

	pthread_mutex_lock(&b->lock);
	for (i = 0; i < b->nslots; i++) {
		if (b->slot_msg[i] != msg || b->slot[i] != SLOT_PENDING)
			continue;
		b->slot[i] = pa ? SLOT_OK : pae && pae->ErrCode == JSStreamMessageExceedsMaximumErr ?
			     SLOT_REJECTED : SLOT_FAILED;
		if (pa && b->on_stored)
			b->on_stored(b->on_stored_ctx, i);
		b->slot_failed = b->slot_failed || !pa;
		if (!pa && !b->slot_err[0])
			snprintf(b->slot_err, sizeof(b->slot_err), "publish: %s",
				 pae && pae->ErrText ? pae->ErrText :
				 natsStatus_GetText(pae ? pae->Err : NATS_ERR));
		if (++b->resolved == b->nslots)
			pthread_cond_signal(&b->done);
		break;
	}
	pthread_mutex_unlock(&b->lock);
	natsMsg_Destroy(msg);
}

static void on_reconnect(natsConnection *nc, void *closure)
{
	struct sg_fleet_bus *b = closure;

	atomic_store(&b->stream_ok, false);
}

static natsOptions *set_options(struct sg_fleet_bus *b, const struct sg_fleet_conn_config *conn,
				char *err, size_t errlen)
{
	natsOptions *o = sg_fleet_conn_options(conn, err, errlen);
	natsStatus s = o ? NATS_OK : NATS_ERR;

	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnect, b);

	if (s == NATS_OK)
		return o;
	if (o)
		snprintf(err, errlen, "NATS client: %s", natsStatus_GetText(s));
	natsOptions_Destroy(o);
	return NULL;
}

struct sg_fleet_bus *sg_fleet_bus_open(const struct sg_fleet_bus_config *cfg, char *err,
				       size_t errlen)
{
	struct sg_fleet_bus *b = calloc(1, sizeof(*b));
	struct sg_fleet_conn_config conn;

	if (!b || !(b->stream = strdup(cfg->stream))) {
		snprintf(err, errlen, "out of memory");
		free(b);
		return NULL;
	}
	b->replicas = cfg->replicas;
	b->ack_wait_ms = cfg->ack_wait_ms;
	b->on_stored = cfg->on_stored;
	b->on_stored_ctx = cfg->on_stored_ctx;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->done, NULL);
	conn = *cfg->conn;
	conn.name = "sysguardd";
	conn.reconnect_forever = true;
	b->opts = set_options(b, &conn, err, errlen);
	if (!b->opts) {
		sg_fleet_bus_close(b);
		return NULL;
	}
	return b;
}

/*
 * The first connection, on the worker: a server that does not answer would
 * hold the daemon's start for the connect timeout. Tried every
 * CONNECT_RETRY_MS until it succeeds, each attempt on its own rather than
 * with libnats' retry of a failed first connection, which loses the reason
 * (a refused password, a certificate that does not verify) for "no server";
 * err keeps it until the next attempt. Once connected, reconnections are
 * libnats' own (forever).
 */
static bool connect_once(struct sg_fleet_bus *b, char *err, size_t errlen)
{
	jsOptions jo;
	natsStatus s;

	s = natsConnection_Connect(&b->nc, b->opts);
	if (s == NATS_OK)
		s = jsOptions_Init(&jo);
	if (s == NATS_OK) {
		jo.Wait = b->ack_wait_ms;
		jo.PublishAsync.MaxPending = 2 * SG_FLEET_BATCH_MAX;
		jo.PublishAsync.AckHandler = on_ack;
		jo.PublishAsync.AckHandlerClosure = b;
		s = natsConnection_JetStream(&b->js, b->nc, &jo);
	}
	if (s == NATS_OK)
		return true;
	snprintf(b->conn_err, sizeof(b->conn_err), "cannot connect to the bus: %s",
		 sg_fleet_conn_error(s));
	snprintf(err, errlen, "%s", b->conn_err);
	jsCtx_Destroy(b->js);
	b->js = NULL;
	natsConnection_Destroy(b->nc);
	b->nc = NULL;
	return false;
}

natsStatus sg_fleet_stream_make(jsCtx *js, const char *name, unsigned replicas)
{
	const char *subjects[] = { "sysguard.>" };
	jsStreamInfo *si = NULL;
	jsStreamConfig c;
	jsErrCode jerr = 0;
	natsStatus s;

	jsStreamConfig_Init(&c);
	c.Name = name;
	c.Subjects = subjects;
	c.SubjectsLen = 1;
	c.Storage = js_FileStorage;
	c.Replicas = (int64_t)replicas;
	c.Duplicates = DUPLICATE_WINDOW_NS;
	s = js_AddStream(&si, js, &c, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	return jerr == JSStreamNameExistErr ? NATS_OK : s;
}

/*
 * The stream, subjects sysguard.> on files, made unless it exists (whatever
 * its settings). Looked up first: a node may have the right to read the
 * stream's information but not to make streams (docs/fleet.md, "Credentials
 * and TLS"), and then a stream made for it is all it needs.
 */
static bool ensure_stream(struct sg_fleet_bus *b, char *err, size_t errlen)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	s = js_GetStreamInfo(&si, b->js, b->stream, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s == NATS_OK)
		return true;
	if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) {
		snprintf(err, errlen, "cannot look up the stream %s: %s", b->stream,
			 s == NATS_TIMEOUT ? "no answer (is $JS.API.STREAM.INFO of it allowed?)" :
			 sg_fleet_conn_error(s));
		return false;
	}
	s = sg_fleet_stream_make(b->js, b->stream, b->replicas);
	if (s == NATS_OK)
		return true;
	snprintf(err, errlen, "cannot make the stream %s: %s", b->stream, sg_fleet_conn_error(s));
	return false;
}

/* Why, when libnats knows: a server that went away, a reconnection it refused. */
static void not_connected(struct sg_fleet_bus *b, char *err, size_t errlen)
{
	const char *why = NULL;

	natsConnection_GetLastError(b->nc, &why);
	snprintf(err, errlen, "not connected to the bus%s%s", why && *why ? ": " : "",
		 why && *why ? why : "");
}

bool sg_fleet_bus_ready(struct sg_fleet_bus *b, char *err, size_t errlen)
{
	uint64_t now = mono_ms();

	if (!b->nc) {
		if (now < b->next_stream_try_ms) {
			snprintf(err, errlen, "%s", b->conn_err[0] ? b->conn_err : "not connected to the bus");
			return false;
		}
		if (!connect_once(b, err, errlen)) {
			b->next_stream_try_ms = now + CONNECT_RETRY_MS;
			return false;
		}
	}
	if (natsConnection_Status(b->nc) != NATS_CONN_STATUS_CONNECTED) {
		not_connected(b, err, errlen);
		return false;
	}
	if (atomic_load(&b->stream_ok))
		return true;
	if (now < b->next_stream_try_ms) {
		snprintf(err, errlen, "waiting for the stream %s", b->stream);
		return false;
	}
	if (!ensure_stream(b, err, errlen)) {
		b->next_stream_try_ms = now + STREAM_RETRY_MS;
		return false;
	}
	atomic_store(&b->stream_ok, true);
	return true;
}

/* Queue one message to the library; false when it could not take it (marked failed). */
static bool send_one(struct sg_fleet_bus *b, unsigned i, const struct sg_fleet_msg *m)
{
	natsMsg *msg = NULL;
	jsPubOptions po;
	natsStatus s;
	bool stop, lost;

	/*
	 * Behind a message that failed, or over a connection being replaced, a
	 * later one could be stored first (a server killed with the earlier one
	 * unread, a stream between leaders): stopping here keeps that to what
	 * was already sent, and the caller re-sends in order from the failure.
	 */
	lost = natsConnection_Status(b->nc) != NATS_CONN_STATUS_CONNECTED;
	pthread_mutex_lock(&b->lock);
	stop = b->slot_failed || lost;
	if (lost && !b->slot_err[0])
		snprintf(b->slot_err, sizeof(b->slot_err), "publish: the connection to the bus was lost");
	pthread_mutex_unlock(&b->lock);
	if (stop)
		return false;
	s = natsMsg_Create(&msg, m->subject, NULL, m->data, (int)m->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(msg, "Nats-Msg-Id", m->msgid);
	if (s == NATS_OK) {
		/*
		 * No MaxWait: libnats would time the message out on its timer thread,
		 * and on_ack free it, while this thread may still be blocked in
		 * js_PublishMsgAsync writing it to a server that does not read (a
		 * use-after-free seen with 1,000 nodes, bench/fleet). wait_acks
		 * takes back what is left at its deadline, on this thread.
		 */
		jsPubOptions_Init(&po);
		pthread_mutex_lock(&b->lock);
		b->slot_msg[i] = msg;
		b->slot[i] = SLOT_PENDING;
		b->nslots = i + 1;
		pthread_mutex_unlock(&b->lock);
		s = js_PublishMsgAsync(b->js, &msg, &po);
	}
	if (s == NATS_OK)
		return true;
	pthread_mutex_lock(&b->lock);
	if (s == NATS_MAX_PAYLOAD) {
		/* Over the server's max_payload: re-sending would block every record behind it. */
		b->slot_msg[i] = NULL;
		b->slot[i] = SLOT_REJECTED;
		b->nslots = i + 1;
		b->resolved++;
		pthread_mutex_unlock(&b->lock);
		natsMsg_Destroy(msg);
		return true;
	}
	b->nslots = i;
	if (!b->slot_err[0])
		snprintf(b->slot_err, sizeof(b->slot_err), "publish: %s", natsStatus_GetText(s));
	pthread_mutex_unlock(&b->lock);
	natsMsg_Destroy(msg);
	return false;
}

/* Until every sent message is resolved or the deadline; what is left is taken back. */
static void wait_acks(struct sg_fleet_bus *b, void (*tick)(void *ctx), void *ctx)
{
	uint64_t deadline = mono_ms() + b->ack_wait_ms;
	natsMsgList left = { 0 };
	struct timespec ts;
	uint64_t now, step;
	bool done;

	for (;;) {
		/* Without a tick, one wait: a thousand simulated nodes in one process (bench/fleet). */
		now = mono_ms();
		step = tick ? TICK_MS : deadline > now ? deadline - now : 1;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)(step / 1000);
		ts.tv_nsec += (long)(step % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&b->lock);
		if (b->resolved < b->nslots)
			pthread_cond_timedwait(&b->done, &b->lock, &ts);
		done = b->resolved >= b->nslots;
		pthread_mutex_unlock(&b->lock);
		if (done || mono_ms() >= deadline)
			break;
		if (tick)
			tick(ctx);
	}
	if (!done && js_PublishAsyncGetPendingList(&left, b->js) == NATS_OK)
		natsMsgList_Destroy(&left);
}

int sg_fleet_bus_publish(struct sg_fleet_bus *b, const struct sg_fleet_msg *v, unsigned n,
			 unsigned *acked, unsigned *rejected, unsigned *late, void (*tick)(void *ctx),
			 void *ctx, char *err, size_t errlen)
{
	unsigned i, sent = 0;

	*acked = *rejected = *late = 0;
	if (n > SG_FLEET_BATCH_MAX)
		n = SG_FLEET_BATCH_MAX;
	pthread_mutex_lock(&b->lock);
	b->nslots = b->resolved = 0;
	b->slot_failed = false;
	b->slot_err[0] = '\0';
	pthread_mutex_unlock(&b->lock);
	while (sent < n && send_one(b, sent, &v[sent]))
		sent++;
	wait_acks(b, tick, ctx);
	pthread_mutex_lock(&b->lock);
	for (i = 0; i < b->nslots && (b->slot[i] == SLOT_OK || b->slot[i] == SLOT_REJECTED); i++)
		*rejected += b->slot[i] == SLOT_REJECTED;
	*acked = i;
	for (; i < b->nslots; i++)
		*late += b->slot[i] == SLOT_OK;
	if (*acked < n) {
		if (b->slot_err[0])
			snprintf(err, errlen, "%s", b->slot_err);
		else
			snprintf(err, errlen, "publish: no acknowledgement within %u ms", b->ack_wait_ms);
		if (strstr(err, "o responders"))
			atomic_store(&b->stream_ok, false);
	}
	/* Later acknowledgements of this batch match nothing. */
	b->nslots = b->resolved = 0;
	pthread_mutex_unlock(&b->lock);
	return *acked == n ? 0 : -EAGAIN;
}

void sg_fleet_bus_close(struct sg_fleet_bus *b)
{
	if (!b)
		return;
	jsCtx_Destroy(b->js);
	if (b->nc)
		natsConnection_Close(b->nc);
	natsConnection_Destroy(b->nc);
	natsOptions_Destroy(b->opts);
	pthread_cond_destroy(&b->done);
	pthread_mutex_destroy(&b->lock);
	free(b->stream);
	free(b);
}

#endif

void sg_fleet_pace_init(struct sg_fleet_pace *p)
{
	p->window = SG_FLEET_BATCH_MAX;
	p->retry_ms = SG_FLEET_RETRY_MS;
}

unsigned sg_fleet_pace_after(struct sg_fleet_pace *p, unsigned acked, unsigned n)
{
	if (acked >= n) {
		p->window = p->window * 2 < SG_FLEET_BATCH_MAX ? p->window * 2 : SG_FLEET_BATCH_MAX;
		p->retry_ms = SG_FLEET_RETRY_MS;
		return 0;
	}
	p->window = p->window / 2 > SG_FLEET_WINDOW_MIN ? p->window / 2 : SG_FLEET_WINDOW_MIN;
	p->retry_ms = p->retry_ms * 2 < SG_FLEET_RETRY_MAX_MS ? p->retry_ms * 2 : SG_FLEET_RETRY_MAX_MS;
	return p->retry_ms;
}

void sg_fleet_pace_reconnected(struct sg_fleet_pace *p)
{
	p->retry_ms = SG_FLEET_RETRY_MS;
}

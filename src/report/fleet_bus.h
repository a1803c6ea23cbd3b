/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet export's connection to NATS JetStream (docs/fleet.md): connects
 * and reconnects in the background, makes the stream when it is missing
 * (looked up first, so that a node without the right to make streams uses
 * one made for it), and publishes a batch of messages in order, each with
 * its Nats-Msg-Id, waiting for JetStream's acknowledgements. Used by one
 * thread (the export's worker).
 */
#ifndef SG_FLEET_BUS_H
#define SG_FLEET_BUS_H

#include <stdbool.h>
#include <stddef.h>

#include "report/fleet_conn.h"

/* Messages in flight at once; a batch is at most this long. */
#define SG_FLEET_BATCH_MAX	512u

struct sg_fleet_bus_config {
	const struct sg_fleet_conn_config *conn;	/* the servers, credentials, TLS */
	const char *stream;
	unsigned replicas;
	unsigned ack_wait_ms;		/* per message */
	/*
	 * Optional (NULL in the daemon): called on libnats' thread when v[i] of
	 * the batch in flight is stored, for a caller that times each message
	 * (bench/fleet). It must not block or call back into the bus.
	 */
	void (*on_stored)(void *ctx, unsigned i);
	void *on_stored_ctx;
};

struct sg_fleet_msg {
	const char *subject;
	const char *msgid;
	const char *data;
	size_t len;
};

struct sg_fleet_bus;

/*
 * Set up the client; nothing is connected yet (the first sg_fleet_bus_ready
 * connects, so an unreachable bus never holds the caller). NULL with err.
 */
struct sg_fleet_bus *sg_fleet_bus_open(const struct sg_fleet_bus_config *cfg, char *err,
				       size_t errlen);

/*
 * True when connected and the stream is there (made on the first call after
 * each connection). False with the reason in err while not.
 */
bool sg_fleet_bus_ready(struct sg_fleet_bus *b, char *err, size_t errlen);

/*
 * Publish v[0..n) in order and wait for their acknowledgements. *acked: how
 * many of the first ones are done with: stored by JetStream (a duplicate it
 * already had counts) or, *rejected of them, refused for good as too large
 * (the server's max_payload, the stream's max message size); *late: how many after the first failure were stored anyway (they
 * will be stored again, and dropped as duplicates, when the caller re-sends
 * from the first failure). tick(ctx) is called every few milliseconds while
 * waiting (NULL: no tick, no wake-ups before the last acknowledgement). 0
 * when all were acked, else -EAGAIN with err.
 */
int sg_fleet_bus_publish(struct sg_fleet_bus *b, const struct sg_fleet_msg *v, unsigned n,
			 unsigned *acked, unsigned *rejected, unsigned *late, void (*tick)(void *ctx),
			 void *ctx, char *err, size_t errlen);

void sg_fleet_bus_close(struct sg_fleet_bus *b);

/*
 * Pacing a publisher: how many records its next batch may have and how long
 * to wait after a batch that was not stored whole. A bus that did not store
 * a batch in time gets smaller batches, less often, until one is stored
 * whole again; re-sending at once all that an overloaded cluster could not
 * take only adds to its backlog (a thousand nodes doing so made one stop
 * acknowledging anything, bench/fleet).
 */
#define SG_FLEET_RETRY_MS	200u
#define SG_FLEET_RETRY_MAX_MS	3000u
#define SG_FLEET_WINDOW_MIN	16u

struct sg_fleet_pace {
	unsigned window;	/* records the next batch may have */
	unsigned retry_ms;	/* the wait after a batch that was not stored whole */
};

void sg_fleet_pace_init(struct sg_fleet_pace *p);
/* After a batch of n of which the first acked were stored: the wait before the next, in ms. */
unsigned sg_fleet_pace_after(struct sg_fleet_pace *p, unsigned acked, unsigned n);
/* The bus is back after an outage: the back-off was for a slow bus, not a gone one. */
void sg_fleet_pace_reconnected(struct sg_fleet_pace *p);

#ifndef SG_FLEET_NO_NATS
/*
 * Make the fleet's stream as the daemon makes it (subjects sysguard.>, on
 * files, `replicas` copies, the duplicate window); NATS_OK also when it
 * exists already (whatever its settings). For `sysguardctl fleet setup` too.
 */
natsStatus sg_fleet_stream_make(jsCtx *js, const char *name, unsigned replicas);
#endif

#endif

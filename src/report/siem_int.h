/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SIEM export's insides, shared by its two files: siem.c (the queue,
 * the window of records in flight, the worker loop, start and stop) and
 * siem_conn.c (the receiver's address, one TCP or TLS connection, waiting
 * on it). Not for other users: report/siem.h is the interface.
 */
#ifndef SG_SIEM_INT_H
#define SG_SIEM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifndef SG_SIEM_NO_TLS
#include <openssl/ssl.h>
#endif

#include "report/siem.h"
#include "report/syslog5424.h"

#define BACKOFF_MIN_MS		100u
#define BACKOFF_MAX_MS		5000u
#define CONNECT_TIMEOUT_MS	5000u
/* How often to look for acknowledgements while records wait behind a full window. */
#define ACK_POLL_FULL_MS	1
/*
 * While records flow, the worker looks for acknowledgements and new records
 * every TICK_MS, and keeps doing so for TICK_MS after it last wrote; the
 * event loop wakes it only when it would sleep longer than that (or the
 * queue is half full). A steady stream thus costs the event loop no system
 * call at all, and a record waits at most TICK_MS.
 */
#define TICK_MS			10
#define FAIL_SUMMARY_MS		60000u
#define DROP_LOG_MS		60000u
/* Unacknowledged data older than this breaks the connection (TCP_USER_TIMEOUT). */
#define USER_TIMEOUT_MS		30000u
#define WHY_LEN			640

struct rec {
	uint64_t end;		/* connection byte offset just past its frame, once written */
	unsigned writes;	/* times written (more than one: resent) */
	size_t len;
	char line[];
};

struct sg_siem {
	/* Immutable after start. */
	enum sg_siem_transport transport;
	unsigned facility;
	unsigned qcap;
	unsigned port;
	char host[256];
	char server_name[256];
	char hostname[SG_SYSLOG_HOSTNAME_MAX + 1];
	char procid[24];
	char where[300];		/* tcp://host:port, for messages */
	int wake_fd;
#ifndef SG_SIEM_NO_TLS
	SSL_CTX *ctx;
#endif

	pthread_mutex_t lock;
	/* Under lock. */
	struct rec **ring;
	unsigned head, count;
	unsigned window_n;		/* the worker's window size, for queue_depth */
	bool wake_any;			/* the worker sleeps long: wake it for any record */
	bool wake_half;			/* it can take records: wake it when the queue is half full */
	bool woken;
	struct sg_siem_stats st;

	atomic_bool stopping;
	atomic_uint drain_ms;
	pthread_t thread;

	/* Worker only. */
	int fd;				/* -1: not connected */
#ifndef SG_SIEM_NO_TLS
	SSL *ssl;
#endif
	uint64_t written;		/* bytes written on this TCP connection */
	struct rec *win[SG_SIEM_INFLIGHT_MAX];
	unsigned whead, wcount;
	unsigned wsent;			/* of the window, written on this connection */
	char *frame;
	size_t frame_cap;
	bool ever_connected;
	uint64_t conn_since_ms;		/* when the current connection was made */
	uint64_t linger_until_ms;	/* keep ticking until then: records are flowing */
	unsigned backoff_ms;		/* 0: the last connection proved itself */
	uint64_t next_try_ms;
	uint64_t stop_deadline_ms;	/* 0: not stopping */
	bool failing;
	uint64_t burst_errors, unreported, last_log_ms;
	char last_err[WHY_LEN];
	uint64_t drops_logged, last_drop_log_ms;
};

static inline uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* siem_conn.c: the wait on the wake-up descriptor, the stop, and one connection. */
void siem_drain_wake(struct sg_siem *s);
bool siem_stop_due(struct sg_siem *s, uint64_t now);
bool siem_is_ip_literal(const char *s);
uint64_t siem_conn_written(struct sg_siem *s);
void siem_conn_close(struct sg_siem *s);
int siem_conn_open(struct sg_siem *s, char *why, size_t whylen);
int siem_conn_write(struct sg_siem *s, const char *buf, size_t len, char *why, size_t whylen);
int siem_conn_check(struct sg_siem *s, char *why, size_t whylen);
#ifndef SG_SIEM_NO_TLS
int siem_setup_tls(struct sg_siem *s, const struct sg_siem_config *cfg, char *err, size_t errlen);
#endif

#endif

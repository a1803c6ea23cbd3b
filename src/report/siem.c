// SPDX-License-Identifier: Apache-2.0
/*
 * SIEM export (OPS-4): audit records as RFC 5424 syslog over TCP or TLS.
 *
 * The event loop's side, sg_siem_submit(), copies the line and appends it to
 * a ring of `queue` records under a mutex, dropping (and counting) the oldest
 * when the ring is full; it writes the worker's eventfd only when the worker
 * would otherwise sleep longer than TICK_MS (or the ring is half full), so a
 * steady stream costs it no system call. Nothing else runs on the event loop.
 *
 * The worker moves records from the ring into an in-flight window of at most
 * SG_SIEM_INFLIGHT_MAX, writes each as one octet-counted frame and keeps it
 * until the receiver's TCP has acknowledged its last byte: bytes written on
 * the connection minus SIOCOUTQ (written but unacknowledged) is how far the
 * peer got. A record leaves the window, counted as sent, only then. When the
 * connection breaks, everything still in the window is written again on the
 * next connection (counted as resent): delivery is at least once, and the
 * receiver can tell a repeat by the event_id in the structured data. What
 * TCP cannot tell us is whether a receiver that acknowledged bytes also
 * processed them before it died; that is the limit of plain syslog over
 * TCP (docs/siem.md).
 *
 * Accounting: submitted = sent + dropped + queue_depth at every instant,
 * where queue_depth is ring + window; sg_siem_stats() reads all of it under
 * the one lock that every move between those states takes.
 *
 * Reconnects back off from 100 ms to 5 s. Failures are logged once when a
 * burst starts, then summarised at most once a minute, and once more when a
 * connection has proved itself again (as the alert dispatcher does).
 */
#include "report/siem.h"

#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SG_SIEM_NO_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#include "report/siem_int.h"

/* ------------------------------------------------------------------ */
/* The event loop's side.                                              */

static void count_dropped(struct sg_siem *s)
{
	pthread_mutex_lock(&s->lock);
	s->st.submitted++;
	s->st.dropped++;
	pthread_mutex_unlock(&s->lock);
}

void sg_siem_submit(struct sg_siem *s, const char *line, size_t len)
{
	struct rec *r, *old = NULL;
	uint64_t one = 1;
	bool wake;

	if (!s || !line || !len)
		return;
	if (len > SG_SIEM_RECORD_MAX) {
		count_dropped(s);
		return;
	}
	r = malloc(sizeof(*r) + len);
	if (!r) {
		count_dropped(s);
		return;
	}
	r->end = 0;
	r->writes = 0;
	r->len = len;
	memcpy(r->line, line, len);

	pthread_mutex_lock(&s->lock);
	s->st.submitted++;
	if (s->count == s->qcap) {
		old = s->ring[s->head];
		s->head = (s->head + 1) % s->qcap;
		s->count--;
		s->st.dropped++;
	}
	s->ring[(s->head + s->count) % s->qcap] = r;
	s->count++;
	wake = !s->woken && (s->wake_any || (s->wake_half && s->count * 2 >= s->qcap));
	if (wake)
		s->woken = true;
	pthread_mutex_unlock(&s->lock);
	free(old);
	if (wake && write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* The eventfd counter cannot overflow at one write per sleep; nothing to do. */
	}
}

void sg_siem_stats(struct sg_siem *s, struct sg_siem_stats *out)
{
	if (!s) {
		memset(out, 0, sizeof(*out));
		return;
	}
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	out->queue_depth = s->count + s->window_n;
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ */
/* The worker: records.                                                */

static struct rec **win_at(struct sg_siem *s, unsigned i)
{
	return &s->win[(s->whead + i) % SG_SIEM_INFLIGHT_MAX];
}

/* Move queued records into the window while it has room. */
static void pull(struct sg_siem *s)
{
	pthread_mutex_lock(&s->lock);
	while (s->count && s->wcount < SG_SIEM_INFLIGHT_MAX) {
		*win_at(s, s->wcount) = s->ring[s->head];
		s->head = (s->head + 1) % s->qcap;
		s->count--;
		s->wcount++;
		s->window_n++;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Retire the written records the receiver's TCP has acknowledged; true when there were any. */
static bool check_acks(struct sg_siem *s)
{
	uint64_t total = siem_conn_written(s), acked;
	unsigned n = 0, i;
	int outq = 0;

	if (!s->wsent || ioctl(s->fd, SIOCOUTQ, &outq) < 0 || outq < 0)
		return false;
	acked = total >= (uint64_t)outq ? total - (uint64_t)outq : 0;
	while (n < s->wsent && (*win_at(s, n))->end <= acked)
		n++;
	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		free(*win_at(s, i));
		*win_at(s, i) = NULL;
	}
	s->whead = (s->whead + n) % SG_SIEM_INFLIGHT_MAX;
	s->wcount -= n;
	s->wsent -= n;
	pthread_mutex_lock(&s->lock);
	s->window_n -= n;
	s->st.sent += n;
	pthread_mutex_unlock(&s->lock);
	return true;
}

static size_t frame_of(struct sg_siem *s, const struct rec *r)
{
	char ts[SG_SYSLOG_TS_LEN], eid[SG_SYSLOG_EVENT_ID_MAX + 1];
	char type[SG_SYSLOG_MSGID_MAX + 1];
	struct sg_syslog_record f;
	struct sg_syslog_hdr h = {
		.facility = s->facility,
		.hostname = s->hostname,
		.app_name = "sysguard",
		.procid = s->procid,
	};
	size_t n;

	sg_syslog_record_fields(r->line, r->len, &f);
	h.severity = sg_syslog_severity(f.severity, f.severity_len);
	if (sg_syslog_timestamp(ts, f.ts, f.ts_len))
		h.timestamp = ts;
	if (f.type) {
		n = f.type_len < sizeof(type) - 1 ? f.type_len : sizeof(type) - 1;
		memcpy(type, f.type, n);
		type[n] = '\0';
		h.msgid = type;
	}
	if (f.event_id) {
		n = f.event_id_len < sizeof(eid) - 1 ? f.event_id_len : sizeof(eid) - 1;
		memcpy(eid, f.event_id, n);
		eid[n] = '\0';
		h.event_id = eid;
	}
	return sg_syslog_frame(&s->frame, &s->frame_cap, &h, r->line, r->len);
}

/* Write the window's records not yet written on this connection. 0 or -errno with why. */
static int send_window(struct sg_siem *s, char *why, size_t whylen)
{
	struct rec *r;
	unsigned resent;
	size_t n;
	int rc;

	while (s->wsent < s->wcount) {
		r = *win_at(s, s->wsent);
		n = frame_of(s, r);
		if (!n) {
			snprintf(why, whylen, "out of memory for a frame");
			return -ENOMEM;
		}
		rc = siem_conn_write(s, s->frame, n, why, whylen);
		if (rc)
			return rc;
		r->end = siem_conn_written(s);
		resent = r->writes++ ? 1 : 0;
		s->wsent++;
		if (resent) {
			pthread_mutex_lock(&s->lock);
			s->st.resent++;
			pthread_mutex_unlock(&s->lock);
		}
		s->linger_until_ms = mono_ms() + TICK_MS;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The worker: telling the operator.                                   */

static void set_connected(struct sg_siem *s, bool on)
{
	pthread_mutex_lock(&s->lock);
	s->st.connected = on;
	if (on && s->ever_connected)
		s->st.reconnects++;
	pthread_mutex_unlock(&s->lock);
	if (on)
		s->ever_connected = true;
}

static uint64_t dropped_now(struct sg_siem *s)
{
	uint64_t d;

	pthread_mutex_lock(&s->lock);
	d = s->st.dropped;
	pthread_mutex_unlock(&s->lock);
	return d;
}

/* A failed attempt (broke = false) or a lost connection (broke = true). */
static void note_failure(struct sg_siem *s, bool broke, const char *why, uint64_t now)
{
	pthread_mutex_lock(&s->lock);
	s->st.errors++;
	pthread_mutex_unlock(&s->lock);
	snprintf(s->last_err, sizeof(s->last_err), "%s", why);
	s->burst_errors++;
	if (!s->failing) {
		s->failing = true;
		s->unreported = 0;
		s->last_log_ms = now;
		if (broke)
			fprintf(stderr, "sysguardd: siem: connection to %s lost: %s; reconnecting "
				"(%u records written but not acknowledged will be sent again)\n",
				s->where, why, s->wsent);
		else
			fprintf(stderr, "sysguardd: siem: cannot connect to %s: %s (retrying, at most "
				"%u s apart; records wait in a queue of %u, the oldest dropped and counted "
				"when it is full; while this lasts, failures are summarised once a minute)\n",
				s->where, why, BACKOFF_MAX_MS / 1000, s->qcap);
		return;
	}
	s->unreported++;
	if (now - s->last_log_ms >= FAIL_SUMMARY_MS) {
		fprintf(stderr, "sysguardd: siem: %llu more failures with %s in the last %llu s "
			"(last error: %s); %llu records dropped so far\n",
			(unsigned long long)s->unreported, s->where,
			(unsigned long long)((now - s->last_log_ms) / 1000), s->last_err,
			(unsigned long long)dropped_now(s));
		s->unreported = 0;
		s->last_log_ms = now;
	}
}

/*
 * A connection ends a burst of failures only once it has proved itself: the
 * receiver acknowledged records, or it stood for BACKOFF_MAX_MS. One that a
 * receiver accepts and drops at once (a listener going away, an ACL) stays
 * part of the burst, so it neither logs a line nor resets the backoff.
 */
static void check_recovered(struct sg_siem *s, bool acked, uint64_t now)
{
	if (!s->failing && !s->backoff_ms)
		return;
	if (!acked && now - s->conn_since_ms < BACKOFF_MAX_MS)
		return;
	if (s->failing)
		fprintf(stderr, "sysguardd: siem: connected to %s after %llu failure%s; "
			"%llu records dropped so far\n", s->where,
			(unsigned long long)s->burst_errors, s->burst_errors == 1 ? "" : "s",
			(unsigned long long)dropped_now(s));
	s->failing = false;
	s->burst_errors = 0;
	s->unreported = 0;
	s->backoff_ms = 0;
}

/* LOG-4 in spirit: a full queue is said, at most once a minute. */
static void note_drops(struct sg_siem *s, uint64_t now)
{
	uint64_t d = dropped_now(s);

	if (d == s->drops_logged)
		return;
	if (s->drops_logged && now - s->last_drop_log_ms < DROP_LOG_MS)
		return;
	fprintf(stderr, "sysguardd: siem: %llu records dropped (queue of %u full, oldest first, or "
		"a record over %u bytes); %llu in all (siem.dropped)\n",
		(unsigned long long)(d - s->drops_logged), s->qcap, SG_SIEM_RECORD_MAX,
		(unsigned long long)d);
	s->drops_logged = d;
	s->last_drop_log_ms = now;
}

static void backoff(struct sg_siem *s, uint64_t now)
{
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->next_try_ms = now + s->backoff_ms;
}

static void lose_connection(struct sg_siem *s, const char *why, uint64_t now)
{
	siem_conn_close(s);
	set_connected(s, false);
	if (!atomic_load(&s->stopping)) {
		note_failure(s, true, why, now);
		/* Not at once: a dying listener may still complete a handshake it then resets. */
		backoff(s, now);
	}
	s->wsent = 0;		/* the whole window goes again on the next connection */
}

/* ------------------------------------------------------------------ */
/* The worker loop.                                                    */

static void try_connect(struct sg_siem *s, uint64_t now)
{
	char why[WHY_LEN];

	if (siem_conn_open(s, why, sizeof(why))) {
		if (atomic_load(&s->stopping))
			return;
		note_failure(s, false, why, now);
		backoff(s, mono_ms());
		return;
	}
	if (!s->ever_connected && !s->failing)
		fprintf(stderr, "sysguardd: siem: connected to %s\n", s->where);
	set_connected(s, true);
	s->conn_since_ms = mono_ms();
	s->wsent = 0;
}

static bool drained(struct sg_siem *s)
{
	bool empty;

	pthread_mutex_lock(&s->lock);
	empty = !s->count;
	pthread_mutex_unlock(&s->lock);
	return empty && !s->wcount;
}

static void *worker(void *arg)
{
	struct sg_siem *s = arg;
	char why[WHY_LEN];
	struct pollfd p[2];
	uint64_t now, until;
	bool sleep_ok, acked;
	int timeout, n;

	for (;;) {
		now = mono_ms();
		if (atomic_load(&s->stopping)) {
			if (siem_stop_due(s, now) || s->fd < 0 || drained(s))
				break;
		}
		if (s->fd < 0 && now >= s->next_try_ms && !atomic_load(&s->stopping))
			try_connect(s, now);
		if (s->fd >= 0) {
			acked = check_acks(s);
			pull(s);
			if (send_window(s, why, sizeof(why)))
				lose_connection(s, why, mono_ms());
			else
				check_recovered(s, check_acks(s) || acked, mono_ms());
		}
		now = mono_ms();
		note_drops(s, now);

		if (s->fd < 0)
			until = s->next_try_ms;
		else if (s->wcount == SG_SIEM_INFLIGHT_MAX)
			until = now + ACK_POLL_FULL_MS;
		else if (s->wcount)
			until = now + TICK_MS;
		else if (now < s->linger_until_ms)
			until = s->linger_until_ms;
		else if (s->failing || s->backoff_ms)
			until = s->conn_since_ms + BACKOFF_MAX_MS;	/* check_recovered() */
		else
			until = 0;
		if (s->stop_deadline_ms && (!until || s->stop_deadline_ms < until))
			until = s->stop_deadline_ms;
		timeout = until ? (until > now ? (int)(until - now) : 0) : -1;

		pthread_mutex_lock(&s->lock);
		sleep_ok = !s->count || s->fd < 0 || s->wcount == SG_SIEM_INFLIGHT_MAX;
		s->wake_half = s->fd >= 0 && s->wcount < SG_SIEM_INFLIGHT_MAX;
		s->wake_any = s->wake_half && (timeout < 0 || timeout > TICK_MS);
		pthread_mutex_unlock(&s->lock);
		if (!sleep_ok)
			continue;

		p[0] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = s->fd, .events = POLLIN | POLLRDHUP };
		n = poll(p, s->fd >= 0 ? 2 : 1, timeout);

		pthread_mutex_lock(&s->lock);
		s->wake_any = false;
		s->wake_half = false;
		s->woken = false;
		pthread_mutex_unlock(&s->lock);
		if (n > 0 && p[0].revents)
			siem_drain_wake(s);
		if (n > 0 && s->fd >= 0 && p[1].revents && siem_conn_check(s, why, sizeof(why)))
			lose_connection(s, why, mono_ms());
	}

	if (s->fd >= 0) {
		check_acks(s);
		siem_conn_close(s);
		set_connected(s, false);
	}
	note_drops(s, s->last_drop_log_ms + DROP_LOG_MS);	/* what the last minute did not say yet */
	pthread_mutex_lock(&s->lock);
	n = (int)(s->count + s->window_n);
	pthread_mutex_unlock(&s->lock);
	if (n)
		fprintf(stderr, "sysguardd: siem: stopping with %d records not acknowledged by %s "
			"(they are in the audit log)\n", n, s->where);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop.                                                     */

static void free_siem(struct sg_siem *s)
{
	unsigned i;

	if (s->ring) {
		for (i = 0; i < s->count; i++)
			free(s->ring[(s->head + i) % s->qcap]);
		free(s->ring);
	}
	for (i = 0; i < s->wcount; i++)
		free(*win_at(s, i));
	free(s->frame);
#ifndef SG_SIEM_NO_TLS
	SSL_CTX_free(s->ctx);
#endif
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int check_file(const char *what, const char *path, char *err, size_t errlen)
{
	if (path && access(path, R_OK)) {
		snprintf(err, errlen, "siem: cannot read %s %s: %s", what, path, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

static int check_config(const struct sg_siem_config *cfg, char *err, size_t errlen)
{
	bool tls = cfg->transport == SG_SIEM_TLS;

	if (cfg->transport != SG_SIEM_TCP && !tls) {
		snprintf(err, errlen, "siem: transport must be tcp or tls");
		return -EINVAL;
	}
#ifdef SG_SIEM_NO_TLS
	if (tls) {
		snprintf(err, errlen, "siem: transport tls is not available: this sysguardd was "
			 "built without OpenSSL (use the regular build, or transport tcp)");
		return -EINVAL;
	}
#endif
	if (cfg->queue > SG_SIEM_QUEUE_MAX) {
		snprintf(err, errlen, "siem: queue %u is above the maximum %u", cfg->queue,
			 SG_SIEM_QUEUE_MAX);
		return -EINVAL;
	}
	if (cfg->facility > 23) {
		snprintf(err, errlen, "siem: facility %u is not 0-23", cfg->facility);
		return -EINVAL;
	}
	if (!tls && (cfg->ca_file || cfg->server_name || cfg->cert_file || cfg->key_file)) {
		snprintf(err, errlen, "siem: ca_file, server_name, cert_file and key_file apply "
			 "only to transport tls");
		return -EINVAL;
	}
	if (!cfg->cert_file != !cfg->key_file) {
		snprintf(err, errlen, "siem: a client certificate needs both cert_file and key_file");
		return -EINVAL;
	}
	if (cfg->server_name && (!*cfg->server_name || strlen(cfg->server_name) > 253)) {
		snprintf(err, errlen, "siem: server_name must be 1-253 characters");
		return -EINVAL;
	}
	if (check_file("CA file", cfg->ca_file, err, errlen) ||
	    check_file("certificate", cfg->cert_file, err, errlen) ||
	    check_file("key", cfg->key_file, err, errlen))
		return -EINVAL;
	return 0;
}


struct sg_siem *sg_siem_start(const struct sg_siem_config *cfg, char *err, size_t errlen)
{
	sigset_t all, old;
	struct sg_siem *s;
	char why[200];
	int rc;

	if (check_config(cfg, err, errlen))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "siem: out of memory");
		return NULL;
	}
	s->fd = -1;
	s->wake_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	atomic_init(&s->stopping, false);
	atomic_init(&s->drain_ms, 0);
	s->transport = cfg->transport;
	s->facility = cfg->facility;
	s->qcap = cfg->queue ? cfg->queue : SG_SIEM_QUEUE_DEFAULT;
	if (sg_siem_parse_address(cfg->address, cfg->transport == SG_SIEM_TLS ? 6514 : 514,
				  s->host, sizeof(s->host), &s->port, why, sizeof(why))) {
		snprintf(err, errlen, "siem: %s", why);
		goto fail;
	}
	if (strchr(s->host, ':'))
		snprintf(s->where, sizeof(s->where), "%s://[%s]:%u",
			 cfg->transport == SG_SIEM_TLS ? "tls" : "tcp", s->host, s->port);
	else
		snprintf(s->where, sizeof(s->where), "%s://%s:%u",
			 cfg->transport == SG_SIEM_TLS ? "tls" : "tcp", s->host, s->port);
#ifdef SG_SIEM_NO_TLS
	if (!siem_is_ip_literal(s->host)) {
		snprintf(err, errlen, "siem: this sysguardd is the static build, which resolves no "
			 "host names: give an IP address, not '%s'", s->host);
		goto fail;
	}
#endif
	snprintf(s->server_name, sizeof(s->server_name), "%s",
		 cfg->server_name ? cfg->server_name : s->host);
	snprintf(s->hostname, sizeof(s->hostname), "%s", cfg->hostname ? cfg->hostname : "");
	snprintf(s->procid, sizeof(s->procid), "%ld", (long)getpid());
	s->ring = calloc(s->qcap, sizeof(*s->ring));
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!s->ring || s->wake_fd < 0) {
		snprintf(err, errlen, "siem: %s", !s->ring ? "out of memory" : strerror(errno));
		goto fail;
	}
#ifndef SG_SIEM_NO_TLS
	if (cfg->transport == SG_SIEM_TLS && siem_setup_tls(s, cfg, err, errlen))
		goto fail;
#endif
	/* Signals are the event loop's business: the worker must never take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, worker, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "siem: cannot start the worker thread: %s", strerror(rc));
		goto fail;
	}
	pthread_setname_np(s->thread, "sg-siem");
	return s;
fail:
	free_siem(s);
	return NULL;
}

void sg_siem_stop(struct sg_siem *s, unsigned drain_ms)
{
	uint64_t one = 1;

	if (!s)
		return;
	atomic_store(&s->drain_ms, drain_ms);
	atomic_store(&s->stopping, true);
	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* The worker also sees `stopping` at its next timeout. */
	}
	pthread_join(s->thread, NULL);
	free_siem(s);
}

// SPDX-License-Identifier: Apache-2.0
#include "report/api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>


#include "report/bearer.h"
#include "report/dashboard.h"
#include "report/feed.h"

#ifdef SG_API_NO_MHD
/* Static builds (the VM test) have no libmicrohttpd: the API refuses to start. */
int sg_api_start(struct sg_api **out, const char *unix_path, unsigned tcp_port,
		 const char *token, struct sg_feed *feed, char *err, size_t errlen)
{
	snprintf(err, errlen, "this build has no monitoring API (built without libmicrohttpd)");
	return -ENOTSUP;
}
void sg_api_stop(struct sg_api *a) {}
void sg_api_set_status(struct sg_api *a, const char *json, size_t len) {}
void sg_api_set_stats(struct sg_api *a, const char *json, size_t len) {}
void sg_api_set_metrics(struct sg_api *a, const char *text, size_t len) {}
#else
#include <microhttpd.h>

struct text {
	char *buf;
	size_t len;
};

struct sg_api {
	struct MHD_Daemon *unix_d, *tcp_d;
	char unix_path[108];
	uint8_t token_hash[SG_BEARER_HASH_LEN];
	pthread_mutex_t lock;
	struct text status, stats, metrics;
	struct sg_feed *feed;		/* the records, shared with the gRPC service */
	bool stopping;
	struct timespec started;	/* CLOCK_MONOTONIC, for /status uptime */
};

struct stream {
	struct sg_api *a;
	uint64_t seq;			/* next event this client gets */
	uint64_t skipped;		/* records it was too slow for (the feed moved on) */
	char *pending;			/* formatted but not yet delivered */
	size_t pending_len, pending_off;
};

static void set_text(struct sg_api *a, struct text *t, const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return;		/* keep the previous snapshot */
	memcpy(copy, s, len);
	copy[len] = '\0';
	pthread_mutex_lock(&a->lock);
	free(t->buf);
	t->buf = copy;
	t->len = len;
	pthread_mutex_unlock(&a->lock);
}

void sg_api_set_status(struct sg_api *a, const char *json, size_t len)
{
	if (a)
		set_text(a, &a->status, json, len);
}

void sg_api_set_stats(struct sg_api *a, const char *json, size_t len)
{
	if (a)
		set_text(a, &a->stats, json, len);
}

void sg_api_set_metrics(struct sg_api *a, const char *text, size_t len)
{
	if (a)
		set_text(a, &a->metrics, text, len);
}

static bool authorized(struct sg_api *a, struct MHD_Connection *c)
{
	return sg_bearer_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
			    a->token_hash);
}

/* On every answer: no sniffing, no framing, no referrer, scripts only from the daemon. */
static void secure_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", SG_DASHBOARD_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	secure_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"sysguard\"");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* An embedded dashboard file: public (it holds no data), revalidated on each load. */
static enum MHD_Result reply_asset(struct MHD_Connection *c, const struct sg_asset *f)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(f->len, (void *)f->data,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	secure_headers(r);
	MHD_add_response_header(r, "Content-Type", f->type);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result redirect_to_dashboard(struct MHD_Connection *c)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	secure_headers(r);
	MHD_add_response_header(r, "Location", SG_DASHBOARD_PREFIX);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_FOUND, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct sg_api *a, struct MHD_Connection *c, struct text *t,
				  const char *type)
{
	enum MHD_Result ret;

	pthread_mutex_lock(&a->lock);
	if (t->buf)
		ret = reply(c, MHD_HTTP_OK, type, t->buf, t->len);
	else
		ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
			    "{\"error\":\"not ready\"}\n", 21);
	pthread_mutex_unlock(&a->lock);
	return ret;
}

/* The ready snapshot with the uptime put in front: {"uptime_s":N,...}. */
static enum MHD_Result reply_status(struct sg_api *a, struct MHD_Connection *c)
{
	struct timespec now;
	enum MHD_Result ret;
	char head[48], *buf;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	n = snprintf(head, sizeof(head), "{\"uptime_s\":%lld,", (long long)(now.tv_sec - a->started.tv_sec));
	pthread_mutex_lock(&a->lock);
	if (!a->status.buf || a->status.len < 2 || a->status.buf[0] != '{') {
		pthread_mutex_unlock(&a->lock);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
			     "{\"error\":\"not ready\"}\n", 21);
	}
	buf = malloc(n + a->status.len);
	if (buf) {
		memcpy(buf, head, n);
		memcpy(buf + n, a->status.buf + 1, a->status.len - 1);
	}
	pthread_mutex_unlock(&a->lock);
	if (!buf)
		return MHD_NO;
	ret = reply(c, MHD_HTTP_OK, "application/json", buf, n + a->status.len - 1);
	free(buf);
	return ret;
}

struct array {
	char *buf;
	size_t len, cap;
	bool failed;
};

/* Called under the feed's lock: append one record to the JSON array. */
static void append_record(void *ctx, const char *line, size_t len)
{
	struct array *a = ctx;
	size_t need = a->len + len + 4;
	char *nb;

	if (a->failed)
		return;
	if (need > a->cap) {
		nb = realloc(a->buf, need * 2);
		if (!nb) {
			a->failed = true;
			return;
		}
		a->buf = nb;
		a->cap = need * 2;
	}
	if (a->len > 1)
		a->buf[a->len++] = ',';
	memcpy(a->buf + a->len, line, len);
	a->len += len;
}

static enum MHD_Result reply_events(struct sg_api *a, struct MHD_Connection *c)
{
	struct array arr = { .cap = 64 };
	uint64_t pos = sg_feed_live(a->feed), skipped = 0;
	enum MHD_Result ret;

	arr.buf = malloc(arr.cap);
	if (!arr.buf)
		return MHD_NO;
	arr.buf[arr.len++] = '[';
	pos = pos > SG_API_EVENTS ? pos - SG_API_EVENTS : 0;
	sg_feed_read(a->feed, &pos, SG_API_EVENTS, 0, &skipped, append_record, &arr);
	arr.buf[arr.len++] = ']';
	arr.buf[arr.len++] = '\n';
	ret = reply(c, MHD_HTTP_OK, "application/json", arr.buf, arr.len);
	free(arr.buf);
	return ret;
}

/* Called under the feed's lock: the record as one SSE frame. */
static void frame_record(void *ctx, const char *line, size_t len)
{
	struct stream *st = ctx;

	st->pending = malloc(len + 16);
	if (st->pending)
		st->pending_len = (size_t)snprintf(st->pending, len + 16, "data: %.*s\n\n", (int)len, line);
}

/* SSE: one "data:" frame per record; a comment every second keeps proxies and clients awake. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	struct sg_api *a = st->a;
	bool stopping;
	size_t n;
	int rc;

	if (!st->pending) {
		/* A slow client skips what left the feed; the audit log has it. */
		rc = sg_feed_read(a->feed, &st->seq, 1, 1000, &st->skipped, frame_record, st);
		pthread_mutex_lock(&a->lock);
		stopping = a->stopping;
		pthread_mutex_unlock(&a->lock);
		if (rc == -ESHUTDOWN || stopping) {
			free(st->pending);
			st->pending = NULL;
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (rc == 0) {
			st->pending = strdup(": keepalive\n\n");
			st->pending_len = st->pending ? strlen(st->pending) : 0;
		}
		st->pending_off = 0;
		if (!st->pending)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = st->pending_len - st->pending_off;
	if (n > max)
		n = max;
	memcpy(out, st->pending + st->pending_off, n);
	st->pending_off += n;
	if (st->pending_off == st->pending_len) {
		free(st->pending);
		st->pending = NULL;
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls;

	free(st->pending);
	free(st);
}

static enum MHD_Result reply_stream(struct sg_api *a, struct MHD_Connection *c)
{
	struct stream *st = calloc(1, sizeof(*st));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!st)
		return MHD_NO;
	st->a = a;
	st->seq = sg_feed_live(a->feed);	/* from now on */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
	if (!r) {
		free(st);
		return MHD_NO;
	}
	secure_headers(r);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct sg_api *a = cls;
	const char *accept, *follow;
	struct sg_asset asset;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json",
			     "{\"error\":\"read-only API: GET only\"}\n", 36);
	/*
	 * The dashboard's page and scripts before the token check: a browser
	 * cannot send the token when it loads a page, and they hold no data.
	 */
	if (sg_dashboard_asset(url, &asset) == 0)
		return reply_asset(c, &asset);
	if (sg_dashboard_count() && (!strcmp(url, "/") || !strcmp(url, "/dashboard")))
		return redirect_to_dashboard(c);
	if (!authorized(a, c))
		return reply(c, MHD_HTTP_UNAUTHORIZED, "application/json",
			     "{\"error\":\"missing or wrong bearer token\"}\n", 42);
	if (!strcmp(url, "/health"))
		return reply(c, MHD_HTTP_OK, "application/json", "{\"status\":\"ok\"}\n", 16);
	if (!strcmp(url, "/status"))
		return reply_status(a, c);
	if (!strcmp(url, "/stats"))
		return reply_text(a, c, &a->stats, "application/json");
	if (!strcmp(url, "/metrics"))
		return reply_text(a, c, &a->metrics, "text/plain; version=0.0.4");
	if (!strcmp(url, "/events")) {
		accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
		follow = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "follow");
		if ((accept && strstr(accept, "text/event-stream")) || (follow && !strcmp(follow, "1")))
			return reply_stream(a, c);
		return reply_events(a, c);
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "application/json", "{\"error\":\"no such endpoint\"}\n", 29);
}

static int unix_listener(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "api socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* Only root may connect: the token is the second lock, the mode the first. */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(path, 0600) || listen(fd, 64)) {
		int e = -errno;

		snprintf(err, errlen, "api socket %s: %s", path, strerror(-e));
		close(fd);
		return e;
	}
	return fd;
}

/* The Unix socket and the TCP port; 0 or -errno with err set (the caller stops a). */
static int start_listeners(struct sg_api *a, unsigned flags, const char *unix_path, unsigned tcp_port,
			   char *err, size_t errlen)
{
	int fd;

	if (unix_path) {
		fd = unix_listener(unix_path, err, errlen);
		if (fd < 0)
			return fd;
		snprintf(a->unix_path, sizeof(a->unix_path), "%s", unix_path);
		a->unix_d = MHD_start_daemon(flags, 0, NULL, NULL, handle, a,
					     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
		if (!a->unix_d) {
			close(fd);
			snprintf(err, errlen, "api: cannot serve on %s", unix_path);
			return -EIO;
		}
	}
	if (tcp_port) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(tcp_port),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		a->tcp_d = MHD_start_daemon(flags, tcp_port, NULL, NULL, handle, a,
					    MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
		if (!a->tcp_d) {
			snprintf(err, errlen, "api: cannot listen on 127.0.0.1:%u", tcp_port);
			return -EADDRINUSE;
		}
	}
	return 0;
}

int sg_api_start(struct sg_api **out, const char *unix_path, unsigned tcp_port,
		 const char *token, struct sg_feed *feed, char *err, size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	sigset_t all, old;
	struct sg_api *a;
	int rc;

	if (!token || strlen(token) < 16) {
		snprintf(err, errlen, "api token must be at least 16 characters");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->feed = feed;
	pthread_mutex_init(&a->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a->started);
	sg_bearer_hash(token, a->token_hash);
	/*
	 * Signals are the event loop's business: libmicrohttpd's threads inherit
	 * this mask, and a SIGTERM one of them took would kill the daemon without
	 * its clean stop (pins left enforcing).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = start_listeners(a, flags, unix_path, tcp_port, err, errlen);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		sg_api_stop(a);
		return rc;
	}
	*out = a;
	return 0;
}

void sg_api_stop(struct sg_api *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_mutex_unlock(&a->lock);
	if (a->unix_d)
		MHD_stop_daemon(a->unix_d);
	if (a->tcp_d)
		MHD_stop_daemon(a->tcp_d);
	if (a->unix_path[0])
		unlink(a->unix_path);
	free(a->status.buf);
	free(a->stats.buf);
	free(a->metrics.buf);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
#endif

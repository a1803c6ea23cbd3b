// SPDX-License-Identifier: Apache-2.0
/*
 * Alert dispatcher (ALERT-1..6).
 *
 * sg_alerts_submit() runs on the event loop and does only memory work under a
 * mutex the worker holds for a few pointer moves: it drops duplicates (same
 * executable and severity within the window), takes a token from the bucket,
 * and copies the event into a ring of SG_ALERT_QUEUE_LEN preallocated
 * entries, overwriting the oldest when full. Filtering before the queue means
 * a storm of one binary's denies cannot push another binary's alert out.
 *
 * The worker swaps the oldest entry for its own spare, builds the payload and
 * POSTs it with libcurl (TLS verified, whole request bounded by the timeout).
 *
 * Accounting: every submitted deny or action_error lands in exactly one of
 * deduplicated, rate_limited or queued; every queued one ends in exactly one
 * of sent, failed or overflow_dropped, or is still pending (in the ring, or
 * the one request in flight). So at any instant
 *   submitted = sent + failed + deduplicated + rate_limited + overflow_dropped + pending
 *   queued    = sent + failed + overflow_dropped + pending,  pending <= QUEUE_LEN + 1
 * and sg_alerts_stats() reads all counters under one lock, so a snapshot
 * satisfies both.
 */
#include "report/alert.h"

#include <string.h>

int sg_alert_format_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "slack"))
		return SG_ALERT_SLACK;
	if (!strcmp(s, "teams"))
		return SG_ALERT_TEAMS;
	return -1;
}

#ifdef SG_ALERT_NO_CURL
/* Builds without libcurl (the static daemon for the LSM VM) have no webhooks. */
#include <stdio.h>

struct sg_alerts {
	int unused;
};

struct sg_alerts *sg_alerts_start(const struct sg_alert_config *cfg, char *err, size_t errlen)
{
	snprintf(err, errlen, "alerts are not available: this sysguardd was built without libcurl");
	return NULL;
}

void sg_alerts_submit(struct sg_alerts *a, const struct sg_alert_event *ev)
{
}

void sg_alerts_stats(struct sg_alerts *a, struct sg_alert_stats *out)
{
	memset(out, 0, sizeof(*out));
}

void sg_alerts_stop(struct sg_alerts *a)
{
}

void sg_alerts_set_clock(struct sg_alerts *a, uint64_t (*now_ns)(void *ctx), void *ctx)
{
}

#else

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "report/alert_payload.h"
#include "report/json.h"

#define NS_PER_MS		1000000ull
#define NS_PER_S		1000000000ull
#define MINUTE_NS		(60 * NS_PER_S)
#define FAIL_SUMMARY_NS		(60 * NS_PER_S)
#define DEFAULT_TIMEOUT_MS	5000u
#define PER_MINUTE_MAX		1000000u
#define DEDUP_WINDOW_MAX_S	(7 * 24 * 3600u)
/*
 * Dedup memory: DEDUP_SETS sets of DEDUP_WAYS keys. Only queued alerts are
 * remembered and the bucket admits at most per_minute * (1 + window / 60)
 * of them per window, so at the default figures a live key is never evicted;
 * when one is, its next alert passes dedup and meets the bucket.
 */
#define DEDUP_SETS		1024u
#define DEDUP_WAYS		4u
#define WHY_LEN			(CURL_ERROR_SIZE + 64)

/* An event as the worker will need it; filled from sg_alert_event on submit. */
struct alert_entry {
	uint64_t ts_ns;
	size_t exe_len;
	char kind[16];
	char event_id[24];
	char severity[16];
	char action[64];
	char rule[128];
	char node_id[256];
	char policy_version[256];
	char detail[256];
	char exe[4096];
};

struct dedup_slot {
	uint64_t key;		/* 0: empty */
	uint64_t last_ns;	/* when an alert with this key was last queued */
};

struct sg_alerts {
	/* Immutable after start. */
	enum sg_alert_format format;
	uint64_t dedup_window_ns;	/* 0: no dedup */
	uint64_t per_minute;		/* 0: no rate limit */
	char *url;
	char *ca_bundle;
	char where[256];		/* scheme://host[:port] for messages: the URL may hold a secret */
	uint8_t hash_key[crypto_shorthash_KEYBYTES];

	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock. */
	uint64_t (*now)(void *ctx);
	void *now_ctx;
	struct alert_entry *ring[SG_ALERT_QUEUE_LEN];
	unsigned head, count;
	bool in_flight;
	bool have_bucket_ts;
	uint64_t bucket;		/* credit; one token = MINUTE_NS, full = per_minute tokens */
	uint64_t bucket_ts;
	struct dedup_slot dedup[DEDUP_SETS * DEDUP_WAYS];
	struct sg_alert_stats st;

	atomic_bool stopping;
	pthread_t thread;

	/* Worker only. */
	struct alert_entry *spare;
	CURL *curl;
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
	struct sg_json body;
	bool failing;			/* the last delivery failed */
	uint64_t burst_failed;		/* failures since the last success */
	uint64_t unreported;		/* failures not yet in a log line */
	uint64_t last_log_ns;
	char last_err[WHY_LEN];
};

static uint64_t monotonic_ns(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ALERT-6: only deny and enforce-failure events are alerts. */
/*
 * Denies, enforcement failures, lost events (ring buffer full), and the
 * daemon dropping to monitor mode by itself: what an operator must hear of.
 */
static bool alertable(const char *kind)
{
	static const char *const kinds[] = { "deny", "action_error", "ringbuf_drops",
					     "guard_tripped", "recovery_mode" };
	size_t i;

	for (i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Dedup and rate limit: called with the lock held.                    */

/*
 * The executable goes through keyed SipHash, so nobody can choose a name
 * that collides with (and silences) another; the severity is one of a few
 * words we chose, so FNV-1a mixes it in at no cost.
 */
static uint64_t dedup_key(const struct sg_alerts *a, const struct sg_alert_event *ev)
{
	uint64_t h, hs = 0xcbf29ce484222325ull;
	const unsigned char *p;

	crypto_shorthash((unsigned char *)&h, (const unsigned char *)(ev->exe ? ev->exe : ""),
			 ev->exe ? ev->exe_len : 0, a->hash_key);
	for (p = (const unsigned char *)(ev->severity ? ev->severity : ""); *p; p++)
		hs = (hs ^ *p) * 0x100000001b3ull;
	h ^= hs * 0x9e3779b97f4a7c15ull;
	return h ? h : 1;
}

static struct dedup_slot *dedup_set(struct sg_alerts *a, uint64_t key)
{
	return &a->dedup[(key % DEDUP_SETS) * DEDUP_WAYS];
}

static bool dedup_hit(struct sg_alerts *a, uint64_t key, uint64_t now)
{
	struct dedup_slot *s = dedup_set(a, key);
	unsigned i;

	if (!a->dedup_window_ns)
		return false;
	for (i = 0; i < DEDUP_WAYS; i++)
		if (s[i].key == key)
			return now - s[i].last_ns < a->dedup_window_ns;
	return false;
}

/* Remember key as queued at now; evicts the least recently queued key of its set. */
static void dedup_note(struct sg_alerts *a, uint64_t key, uint64_t now)
{
	struct dedup_slot *s = dedup_set(a, key), *victim = s;
	unsigned i;

	if (!a->dedup_window_ns)
		return;
	for (i = 0; i < DEDUP_WAYS; i++) {
		if (s[i].key == key) {
			victim = &s[i];
			goto set;
		}
	}
	for (i = 0; i < DEDUP_WAYS; i++) {
		if (!s[i].key) {
			victim = &s[i];
			break;
		}
		if (s[i].last_ns < victim->last_ns)
			victim = &s[i];
	}
set:
	victim->key = key;
	victim->last_ns = now;
}

/*
 * Token bucket with capacity per_minute that refills continuously at
 * per_minute a minute. Credit is kept in token * MINUTE_NS units so the
 * refill (elapsed_ns * per_minute) is exact integer arithmetic.
 */
static bool bucket_take(struct sg_alerts *a, uint64_t now)
{
	uint64_t full = a->per_minute * MINUTE_NS, elapsed;

	if (!a->per_minute)
		return true;
	if (!a->have_bucket_ts) {
		a->bucket = full;
		a->bucket_ts = now;
		a->have_bucket_ts = true;
	} else if (now > a->bucket_ts) {
		elapsed = now - a->bucket_ts;
		if (elapsed > MINUTE_NS)
			elapsed = MINUTE_NS;	/* a minute refills all; also keeps the product in range */
		a->bucket += elapsed * a->per_minute;
		if (a->bucket > full)
			a->bucket = full;
		a->bucket_ts = now;
	}
	if (a->bucket < MINUTE_NS)
		return false;
	a->bucket -= MINUTE_NS;
	return true;
}

/* ------------------------------------------------------------------ */
/* The event loop's side.                                              */

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void entry_fill(struct alert_entry *e, const struct sg_alert_event *ev)
{
	e->ts_ns = ev->ts_ns;
	e->exe_len = ev->exe ? ev->exe_len : 0;
	if (e->exe_len > sizeof(e->exe))
		e->exe_len = sizeof(e->exe);
	memcpy(e->exe, ev->exe ? ev->exe : "", e->exe_len);
	copy_str(e->kind, sizeof(e->kind), ev->kind);
	copy_str(e->event_id, sizeof(e->event_id), ev->event_id);
	copy_str(e->severity, sizeof(e->severity), ev->severity);
	copy_str(e->action, sizeof(e->action), ev->action);
	copy_str(e->rule, sizeof(e->rule), ev->rule);
	copy_str(e->node_id, sizeof(e->node_id), ev->node_id);
	copy_str(e->policy_version, sizeof(e->policy_version), ev->policy_version);
	copy_str(e->detail, sizeof(e->detail), ev->detail);
}

void sg_alerts_submit(struct sg_alerts *a, const struct sg_alert_event *ev)
{
	uint64_t key, now;
	unsigned tail;

	if (!a || !ev || !alertable(ev->kind))
		return;
	key = dedup_key(a, ev);
	pthread_mutex_lock(&a->lock);
	now = a->now(a->now_ctx);
	if (dedup_hit(a, key, now)) {
		a->st.deduplicated++;
		goto out;
	}
	if (!bucket_take(a, now)) {
		a->st.rate_limited++;
		goto out;
	}
	dedup_note(a, key, now);
	if (a->count == SG_ALERT_QUEUE_LEN) {
		a->head = (a->head + 1) % SG_ALERT_QUEUE_LEN;
		a->count--;
		a->st.overflow_dropped++;
	}
	tail = (a->head + a->count) % SG_ALERT_QUEUE_LEN;
	entry_fill(a->ring[tail], ev);
	a->count++;
	a->st.queued++;
	pthread_cond_signal(&a->wake);
out:
	pthread_mutex_unlock(&a->lock);
}

void sg_alerts_stats(struct sg_alerts *a, struct sg_alert_stats *out)
{
	if (!a) {
		memset(out, 0, sizeof(*out));
		return;
	}
	pthread_mutex_lock(&a->lock);
	*out = a->st;
	out->pending = a->count + (a->in_flight ? 1 : 0);
	pthread_mutex_unlock(&a->lock);
}

void sg_alerts_set_clock(struct sg_alerts *a, uint64_t (*now_ns)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&a->lock);
	a->now = now_ns ? now_ns : monotonic_ns;
	a->now_ctx = ctx;
	pthread_mutex_unlock(&a->lock);
}

/* ------------------------------------------------------------------ */
/* The worker.                                                         */

static size_t discard_body(char *p, size_t size, size_t n, void *ctx)
{
	return size * n;
}

/* Lets sg_alerts_stop() cut a hanging request short instead of waiting it out. */
static int xfer_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
			 curl_off_t ultotal, curl_off_t ulnow)
{
	struct sg_alerts *a = ctx;

	return atomic_load(&a->stopping);
}

static struct sg_alert_event entry_event(const struct alert_entry *e)
{
	return (struct sg_alert_event){
		.kind = e->kind,
		.event_id = e->event_id,
		.node_id = e->node_id,
		.severity = e->severity,
		.exe = e->exe_len ? e->exe : NULL,
		.exe_len = e->exe_len,
		.rule = e->rule[0] ? e->rule : NULL,
		.policy_version = e->policy_version[0] ? e->policy_version : NULL,
		.action = e->action[0] ? e->action : NULL,
		.detail = e->detail[0] ? e->detail : NULL,
		.ts_ns = e->ts_ns,
	};
}

/* POST one alert. 0 on a 2xx answer; otherwise -errno and the reason in why. */
static int deliver(struct sg_alerts *a, const struct alert_entry *e, char *why, size_t whylen)
{
	struct sg_alert_event ev = entry_event(e);
	long code = 0;
	CURLcode rc;
	int err;

	err = sg_alert_payload(&a->body, a->format, &ev);
	if (err) {
		snprintf(why, whylen, "cannot build the payload: %s", strerror(-err));
		return err;
	}
	curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, a->body.buf);
	curl_easy_setopt(a->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->body.len);
	a->curl_err[0] = '\0';
	rc = curl_easy_perform(a->curl);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", a->curl_err[0] ? a->curl_err : curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(why, whylen, "HTTP status %ld", code);
		return -EIO;
	}
	return 0;
}

/*
 * ALERT-6: one line when a burst of failures starts, then at most one summary
 * line a minute while it lasts, and one line when deliveries work again.
 */
static void note_result(struct sg_alerts *a, int err, const char *why, const char *event_id,
			uint64_t now)
{
	if (err && atomic_load(&a->stopping))
		return;		/* cut short by sg_alerts_stop(): not a delivery problem */
	if (!err) {
		if (a->failing)
			fprintf(stderr, "sysguardd: alerts: delivery to %s works again after %llu failed\n",
				a->where, (unsigned long long)a->burst_failed);
		a->failing = false;
		a->burst_failed = 0;
		a->unreported = 0;
		return;
	}
	a->burst_failed++;
	snprintf(a->last_err, sizeof(a->last_err), "%s", why);
	if (!a->failing) {
		a->failing = true;
		a->unreported = 0;
		a->last_log_ns = now;
		fprintf(stderr, "sysguardd: alerts: delivery to %s failed: %s (alert %s dropped; "
			"while this lasts, failures are summarised once a minute)\n",
			a->where, why, event_id);
		return;
	}
	a->unreported++;
	if (now - a->last_log_ns >= FAIL_SUMMARY_NS) {
		fprintf(stderr, "sysguardd: alerts: %llu more deliveries to %s failed in the last %llu s "
			"(last error: %s)\n", (unsigned long long)a->unreported, a->where,
			(unsigned long long)((now - a->last_log_ns) / NS_PER_S), a->last_err);
		a->unreported = 0;
		a->last_log_ns = now;
	}
}

static void *worker(void *arg)
{
	struct sg_alerts *a = arg;
	struct alert_entry *e;
	char why[WHY_LEN];
	uint64_t now;
	int err;

	for (;;) {
		pthread_mutex_lock(&a->lock);
		while (!a->count && !atomic_load(&a->stopping))
			pthread_cond_wait(&a->wake, &a->lock);
		if (atomic_load(&a->stopping)) {
			pthread_mutex_unlock(&a->lock);
			break;
		}
		e = a->ring[a->head];
		a->ring[a->head] = a->spare;
		a->spare = e;
		a->head = (a->head + 1) % SG_ALERT_QUEUE_LEN;
		a->count--;
		a->in_flight = true;
		pthread_mutex_unlock(&a->lock);

		err = deliver(a, e, why, sizeof(why));

		pthread_mutex_lock(&a->lock);
		a->in_flight = false;
		if (err)
			a->st.failed++;
		else
			a->st.sent++;
		now = a->now(a->now_ctx);
		pthread_mutex_unlock(&a->lock);
		note_result(a, err, why, e->event_id, now);
	}
	if (a->unreported)
		fprintf(stderr, "sysguardd: alerts: %llu more deliveries to %s failed (last error: %s)\n",
			(unsigned long long)a->unreported, a->where, a->last_err);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Start and stop.                                                     */

/* Checks the URL and keeps only "scheme://host[:port]" for messages. */
static int parse_url(struct sg_alerts *a, const char *url, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL, *port = NULL;
	CURLU *u;
	int ret = -EINVAL;

	if (!url || !*url) {
		snprintf(err, errlen, "alerts: no webhook URL (--alert-url or alerts.url)");
		return -EINVAL;
	}
	u = curl_url();
	if (!u) {
		snprintf(err, errlen, "alerts: out of memory");
		return -ENOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "alerts: the webhook URL is not a valid URL; "
			 "give http://host/path or https://host/path");
		goto out;
	}
	if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
		snprintf(err, errlen, "alerts: the webhook URL uses scheme '%s'; only http and https "
			 "are supported", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port)
		snprintf(a->where, sizeof(a->where), "%s://%s:%s", scheme, host, port);
	else
		snprintf(a->where, sizeof(a->where), "%s://%s", scheme, host);
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ret;
}

static int setup_curl(struct sg_alerts *a, unsigned timeout_ms, char *err, size_t errlen)
{
	CURLcode rc = CURLE_OK;

	a->curl = curl_easy_init();
	a->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (a->headers) {
		struct curl_slist *h = curl_slist_append(a->headers, "Expect:");

		if (h)
			a->headers = h;
		else
			rc = CURLE_OUT_OF_MEMORY;
	}
	if (!a->curl || !a->headers || rc) {
		snprintf(err, errlen, "alerts: cannot set up libcurl (out of memory)");
		return -ENOMEM;
	}
#define SET(opt, val) do { if (!rc) rc = curl_easy_setopt(a->curl, opt, val); } while (0)
	SET(CURLOPT_URL, a->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_HTTPHEADER, a->headers);
	SET(CURLOPT_USERAGENT, "sysguard-alerts/1");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (a->ca_bundle)
		SET(CURLOPT_CAINFO, a->ca_bundle);
	SET(CURLOPT_WRITEFUNCTION, discard_body);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, xfer_progress);
	SET(CURLOPT_XFERINFODATA, a);
	SET(CURLOPT_ERRORBUFFER, a->curl_err);
#undef SET
	if (rc) {
		snprintf(err, errlen, "alerts: libcurl refused an option: %s", curl_easy_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

static void free_alerts(struct sg_alerts *a)
{
	unsigned i;

	if (a->curl)
		curl_easy_cleanup(a->curl);
	curl_slist_free_all(a->headers);
	sg_json_free(&a->body);
	for (i = 0; i < SG_ALERT_QUEUE_LEN; i++)
		free(a->ring[i]);
	free(a->spare);
	free(a->url);
	free(a->ca_bundle);
	pthread_cond_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	free(a);
	curl_global_cleanup();
}

static int check_config(const struct sg_alert_config *cfg, char *err, size_t errlen)
{
	if (cfg->format != SG_ALERT_SLACK && cfg->format != SG_ALERT_TEAMS) {
		snprintf(err, errlen, "alerts: format must be slack or teams");
		return -EINVAL;
	}
	if (cfg->per_minute > PER_MINUTE_MAX) {
		snprintf(err, errlen, "alerts: per-minute cap %u is above the maximum %u",
			 cfg->per_minute, PER_MINUTE_MAX);
		return -EINVAL;
	}
	if (cfg->dedup_window_s > DEDUP_WINDOW_MAX_S) {
		snprintf(err, errlen, "alerts: dedup window %u s is above the maximum %u s (a week)",
			 cfg->dedup_window_s, DEDUP_WINDOW_MAX_S);
		return -EINVAL;
	}
	if (cfg->ca_bundle && access(cfg->ca_bundle, R_OK)) {
		snprintf(err, errlen, "alerts: cannot read CA bundle %s: %s", cfg->ca_bundle,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

struct sg_alerts *sg_alerts_start(const struct sg_alert_config *cfg, char *err, size_t errlen)
{
	sigset_t all, old;
	struct sg_alerts *a;
	unsigned i;
	int rc;

	if (check_config(cfg, err, errlen))
		return NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "alerts: libsodium failed to initialise");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "alerts: libcurl failed to initialise");
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		curl_global_cleanup();
		snprintf(err, errlen, "alerts: out of memory");
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	sg_json_init(&a->body);
	atomic_init(&a->stopping, false);
	a->now = monotonic_ns;
	a->format = cfg->format;
	a->dedup_window_ns = (uint64_t)cfg->dedup_window_s * NS_PER_S;
	a->per_minute = cfg->per_minute;
	randombytes_buf(a->hash_key, sizeof(a->hash_key));
	a->url = cfg->url ? strdup(cfg->url) : NULL;
	a->ca_bundle = cfg->ca_bundle ? strdup(cfg->ca_bundle) : NULL;
	if ((cfg->url && !a->url) || (cfg->ca_bundle && !a->ca_bundle))
		goto oom;
	for (i = 0; i < SG_ALERT_QUEUE_LEN; i++)
		if (!(a->ring[i] = malloc(sizeof(struct alert_entry))))
			goto oom;
	a->spare = malloc(sizeof(struct alert_entry));
	if (!a->spare)
		goto oom;
	if (parse_url(a, a->url, err, errlen) ||
	    setup_curl(a, cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS, err, errlen))
		goto fail;

	/* Signals are the event loop's business: the worker must never take one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&a->thread, NULL, worker, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "alerts: cannot start the worker thread: %s", strerror(rc));
		goto fail;
	}
	pthread_setname_np(a->thread, "sg-alerts");
	return a;
oom:
	snprintf(err, errlen, "alerts: out of memory");
fail:
	free_alerts(a);
	return NULL;
}

void sg_alerts_stop(struct sg_alerts *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	atomic_store(&a->stopping, true);
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	pthread_join(a->thread, NULL);
	free_alerts(a);
}

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * In-memory feed of audit records for the gRPC service (report/feed.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/feed.h"
#include "report/json_read.h"

struct text {
	char *buf;
	size_t len, cap;
	uint64_t event_id;	/* 0: not a record with an id */
};

struct sg_feed {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct text *ring;
	size_t cap;
	uint64_t next;		/* position of the next record pushed */
	struct text status, stats;
	bool stopping;
};

struct sg_feed *sg_feed_new(size_t records)
{
	struct sg_feed *f;
	pthread_condattr_t ca;

	if (records == 0 || records > SG_FEED_RECORDS_MAX)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->ring = calloc(records, sizeof(*f->ring));
	if (!f->ring) {
		free(f);
		return NULL;
	}
	f->cap = records;
	pthread_mutex_init(&f->lock, NULL);
	/* Readers wait with timeouts; a clock the wall time can move would make them spin or hang. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->changed, &ca);
	pthread_condattr_destroy(&ca);
	return f;
}

void sg_feed_free(struct sg_feed *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->cap; i++)
		free(f->ring[i].buf);
	free(f->ring);
	free(f->status.buf);
	free(f->stats.buf);
	pthread_cond_destroy(&f->changed);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* Keep the buffer between uses: a full ring then costs no allocation per record. */
static int set_text(struct text *t, const char *s, size_t len)
{
	if (len + 1 > t->cap) {
		size_t cap = len + 1 < 512 ? 512 : len + 1;
		char *b = realloc(t->buf, cap);

		if (!b)
			return -ENOMEM;
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf, s, len);
	t->buf[len] = '\0';
	t->len = len;
	return 0;
}

/*
 * The event id is the record's first member (audit.c writes it first, as 16
 * hex digits): read it here without a JSON parse, so that the event loop's
 * copy stays a memcpy.
 */
static uint64_t leading_event_id(const char *line, size_t len)
{
	static const char key[] = "{\"event_id\":\"";
	uint64_t id = 0;
	size_t i;

	if (len < sizeof(key) - 1 + 17 || memcmp(line, key, sizeof(key) - 1))
		return 0;
	for (i = sizeof(key) - 1; i < sizeof(key) - 1 + 16; i++) {
		char c = line[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return 0;
		id = id << 4 | d;
	}
	return line[i] == '"' ? id : 0;
}

void sg_feed_push(struct sg_feed *f, const char *line, size_t len)
{
	struct text *t;

	if (!f)
		return;
	while (len && line[len - 1] == '\n')
		len--;
	pthread_mutex_lock(&f->lock);
	t = &f->ring[f->next % f->cap];
	if (set_text(t, line, len) == 0) {
		t->event_id = leading_event_id(line, len);
	} else {
		/* Keep the position honest: an empty slot reads as skipped, not as an old record. */
		t->len = 0;
		t->event_id = 0;
	}
	f->next++;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

static void set_doc(struct sg_feed *f, struct text *t, const char *json, size_t len)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	if (set_text(t, json, len))
		t->len = 0;
	pthread_mutex_unlock(&f->lock);
}

void sg_feed_set_status(struct sg_feed *f, const char *json, size_t len)
{
	if (f)
		set_doc(f, &f->status, json, len);
}

void sg_feed_set_stats(struct sg_feed *f, const char *json, size_t len)
{
	if (f)
		set_doc(f, &f->stats, json, len);
}

void sg_feed_stop(struct sg_feed *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

uint64_t sg_feed_live(struct sg_feed *f)
{
	uint64_t pos;

	pthread_mutex_lock(&f->lock);
	pos = f->next;
	pthread_mutex_unlock(&f->lock);
	return pos;
}

static uint64_t oldest_pos(const struct sg_feed *f)
{
	return f->next > f->cap ? f->next - f->cap : 0;
}

int sg_feed_after_event(struct sg_feed *f, uint64_t event_id, uint64_t *pos, uint64_t *oldest)
{
	uint64_t p, first;
	int rc = -ERANGE;

	pthread_mutex_lock(&f->lock);
	first = oldest_pos(f);
	*oldest = 0;
	for (p = first; p < f->next; p++) {
		const struct text *t = &f->ring[p % f->cap];

		if (!*oldest && t->event_id)
			*oldest = t->event_id;
		if (t->event_id == event_id) {
			*pos = p + 1;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int sg_feed_read(struct sg_feed *f, uint64_t *pos, unsigned max, int timeout_ms,
		 uint64_t *skipped, sg_feed_copy_fn copy, void *ctx)
{
	struct timespec until;
	unsigned n = 0;
	uint64_t first;

	deadline_in(&until, timeout_ms);
	pthread_mutex_lock(&f->lock);
	while (!f->stopping && *pos >= f->next) {
		if (pthread_cond_timedwait(&f->changed, &f->lock, &until) == ETIMEDOUT)
			break;
	}
	if (f->stopping) {
		pthread_mutex_unlock(&f->lock);
		return -ESHUTDOWN;
	}
	first = oldest_pos(f);
	if (*pos < first) {
		*skipped += first - *pos;
		*pos = first;
	}
	while (n < max && *pos < f->next) {
		const struct text *t = &f->ring[*pos % f->cap];

		if (t->len)
			copy(ctx, t->buf, t->len);
		else
			++*skipped;	/* a record that could not be copied in */
		++*pos;
		n++;
	}
	pthread_mutex_unlock(&f->lock);
	return (int)n;
}

static char *copy_doc(struct sg_feed *f, const struct text *t)
{
	char *s = NULL;

	pthread_mutex_lock(&f->lock);
	if (t->len)
		s = strndup(t->buf, t->len);
	pthread_mutex_unlock(&f->lock);
	return s;
}

char *sg_feed_status(struct sg_feed *f)
{
	return copy_doc(f, &f->status);
}

char *sg_feed_stats(struct sg_feed *f)
{
	return copy_doc(f, &f->stats);
}

void sg_feed_extent(struct sg_feed *f, uint64_t *newest_event_id, uint64_t *held)
{
	uint64_t p;

	pthread_mutex_lock(&f->lock);
	*held = f->next - oldest_pos(f);
	*newest_event_id = 0;
	for (p = f->next; p > oldest_pos(f); p--) {
		const struct text *t = &f->ring[(p - 1) % f->cap];

		if (t->event_id) {
			*newest_event_id = t->event_id;
			break;
		}
	}
	pthread_mutex_unlock(&f->lock);
}

static void copy_str(char *out, size_t len, const struct sg_jv *v)
{
	const char *s = sg_jv_str(v);

	snprintf(out, len, "%s", s ? s : "");
}

int sg_feed_meta_parse(const char *line, size_t len, struct sg_feed_meta *m)
{
	const struct sg_jv *c;
	struct sg_jv v;
	const char *id;
	char *end;

	memset(m, 0, sizeof(*m));
	if (sg_jv_parse(line, len, &v))
		return -EINVAL;
	id = v.type == SG_JV_OBJ ? sg_jv_str(sg_jv_get(&v, "event_id")) : NULL;
	if (!id || !*id) {
		sg_jv_free(&v);
		return -EINVAL;
	}
	errno = 0;
	m->event_id = strtoull(id, &end, 16);
	if (errno || *end) {
		sg_jv_free(&v);
		return -EINVAL;
	}
	copy_str(m->type, sizeof(m->type), sg_jv_get(&v, "type"));
	copy_str(m->severity, sizeof(m->severity), sg_jv_get(&v, "severity"));
	copy_str(m->decision, sizeof(m->decision), sg_jv_get(&v, "decision"));
	copy_str(m->ts, sizeof(m->ts), sg_jv_get(&v, "ts"));
	copy_str(m->node_id, sizeof(m->node_id), sg_jv_get(&v, "node_id"));
	/* Records name the container inside their process object (container_record.c). */
	c = sg_jv_get(sg_jv_get(&v, "process"), "container");
	if (!c || c->type != SG_JV_OBJ)
		c = sg_jv_get(&v, "container");
	if (c && c->type == SG_JV_OBJ) {
		copy_str(m->container_id, sizeof(m->container_id), sg_jv_get(c, "id"));
		copy_str(m->pod_name, sizeof(m->pod_name), sg_jv_get(c, "pod_name"));
		copy_str(m->pod_namespace, sizeof(m->pod_namespace), sg_jv_get(c, "pod_namespace"));
	}
	sg_jv_free(&v);
	return 0;
}

int sg_feed_severity_rank(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "info"))
		return 0;
	if (!strcmp(name, "warning"))
		return 1;
	if (!strcmp(name, "critical"))
		return 2;
	return -1;
}

#define CONTAINER_PREFIX_MIN 12

const char *sg_feed_filter_check(const struct sg_feed_filter *flt)
{
	size_t n = flt->container_id ? strlen(flt->container_id) : 0;

	/* A short prefix would match containers the caller did not mean. */
	if (n && n < CONTAINER_PREFIX_MIN)
		return "container_id must be a full id or a prefix of at least 12 characters";
	return NULL;
}

static bool any_of(const char *const *v, size_t n, const char *s)
{
	size_t i;

	if (!n)
		return true;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static bool same_or_any(const char *want, const char *have)
{
	return !want || !*want || !strcmp(want, have);
}

bool sg_feed_filter_match(const struct sg_feed_filter *flt, const struct sg_feed_meta *m)
{
	size_t n;

	if (!any_of(flt->types, flt->ntypes, m->type))
		return false;
	if (flt->min_severity >= 0 && sg_feed_severity_rank(m->severity) < flt->min_severity)
		return false;
	/* A record without a decision (a daemon note) is not one of the decisions asked for. */
	if (flt->ndecisions && (!m->decision[0] || !any_of(flt->decisions, flt->ndecisions, m->decision)))
		return false;
	n = flt->container_id ? strlen(flt->container_id) : 0;
	if (n && strncmp(m->container_id, flt->container_id, n))
		return false;
	return same_or_any(flt->pod_name, m->pod_name) && same_or_any(flt->pod_namespace, m->pod_namespace);
}

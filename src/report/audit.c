// SPDX-License-Identifier: Apache-2.0
/*
 * Audit log writer (LOG-1, LOG-2).
 *
 * Ordering: the mutex is taken in sg_audit_begin() and released in
 * sg_audit_commit(), so the event id is assigned and the line is written in
 * one critical section. That is what makes lines appear in the file in
 * strictly increasing event_id order across threads; assigning ids under one
 * lock and writing under another would let a later id overtake an earlier
 * one. The price is that a caller must commit every record it begins, on the
 * same thread, and do no I/O in between (building the record is in-memory
 * work). Records are built in the caller's own struct sg_json, so the lock
 * covers formatting of one record, not a shared buffer. Committing only
 * copies the line into each destination's queue: the write(2) happens on
 * the destination's own thread, so a stalled reader never holds this lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "report/counters.h"

/* "2026-11-23T16:40:01.123456789Z" plus NUL */
#define SG_TS_LEN 31

void sg_node_id_default(char *buf, size_t len, const char *override)
{
	char host[HOST_NAME_MAX + 1];

	if (!buf || !len)
		return;
	if (override && override[0]) {
		snprintf(buf, len, "%s", override);
		return;
	}
	/* gethostname() need not NUL-terminate a truncated name. */
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if (host[0]) {
			snprintf(buf, len, "%s", host);
			return;
		}
	}
	snprintf(buf, len, "unknown");
}

void sg_audit_report_drops(struct sg_audit *a)
{
	uint64_t n, total;
	struct sg_json j;
	unsigned i;

	for (i = 0; i < a->nsinks; i++) {
		n = sg_audit_sink_take_drops(&a->sinks[i], &total);
		if (!n)
			continue;
		sg_json_init(&j);
		sg_audit_begin(a, &j, "audit_dropped", SG_SEV_WARNING);
		sg_json_kv_str(&j, "sink", a->sinks[i].name);
		sg_json_kv_u64(&j, "dropped", n);
		sg_json_kv_u64(&j, "dropped_total", total);
		sg_audit_commit(a, &j);
		sg_json_free(&j);
	}
}

int sg_audit_add_sink(struct sg_audit *a, const char *name, int fd, bool own_fd, size_t cap)
{
	struct sg_audit_sink *s;
	int err;

	if (a->nsinks >= SG_AUDIT_MAX_SINKS)
		return -ENOSPC;
	s = &a->sinks[a->nsinks];
	err = sg_audit_sink_start(s, name, fd, own_fd, cap);
	if (err)
		return err;
	a->nsinks++;
	return 0;
}

int sg_audit_open(struct sg_audit *a, const char *path, bool to_stdout,
		  const char *node_id)
{
	int err, fd;

	memset(a, 0, sizeof(*a));
	a->next_event_id = 1;
	sg_node_id_default(a->node_id, sizeof(a->node_id), node_id);
	err = -pthread_mutex_init(&a->lock, NULL);
	if (err)
		return err;
	if (path) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = -errno;
			goto out;
		}
		err = sg_audit_add_sink(a, "file", fd, true, 0);
		if (err) {
			close(fd);
			goto out;
		}
		a->path = strdup(path);
		if (!a->path) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (to_stdout) {
		err = sg_audit_add_sink(a, "stdout", STDOUT_FILENO, false, 0);
		if (err)
			goto out;
	}
	return 0;
out:
	sg_audit_close(a);
	return err;
}

int sg_audit_reopen(struct sg_audit *a)
{
	unsigned i;
	int fd;

	if (!a->path)
		return 0;
	fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* Under the audit lock: the switch falls between two records, in event_id order. */
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->nsinks; i++)
		if (!strcmp(a->sinks[i].name, "file"))
			break;
	if (i < a->nsinks)
		sg_audit_sink_switch_fd(&a->sinks[i], fd);
	pthread_mutex_unlock(&a->lock);
	if (i == a->nsinks)
		close(fd);
	return 0;
}

int sg_audit_flush(struct sg_audit *a, int timeout_ms)
{
	unsigned i;
	int err = 0;

	for (i = 0; i < a->nsinks; i++)
		if (sg_audit_sink_flush(&a->sinks[i], timeout_ms))
			err = -ETIMEDOUT;
	return err;
}

void sg_audit_close(struct sg_audit *a)
{
	unsigned i;

	for (i = 0; i < a->nsinks; i++)
		sg_audit_sink_stop(&a->sinks[i], 1000);
	a->nsinks = 0;
	free(a->path);
	a->path = NULL;
	pthread_mutex_destroy(&a->lock);
}

void sg_audit_stats(struct sg_audit *a, struct sg_audit_stats *out)
{
	struct sg_audit_sink_stats ss;
	unsigned i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < a->nsinks; i++) {
		sg_audit_sink_stats(&a->sinks[i], &ss);
		out->write_errors += ss.write_errors;
		out->dropped += ss.dropped;
		out->lines_cut += ss.lines_cut;
	}
}

void sg_audit_counters(struct sg_audit *a, struct sg_counters_audit *c)
{
	unsigned i;

	memset(c, 0, sizeof(*c));
	sg_audit_stats(a, &c->total);
	for (i = 0; i < a->nsinks && i < SG_AUDIT_MAX_SINKS; i++) {
		snprintf(c->sinks[i].name, sizeof(c->sinks[i].name), "%s", a->sinks[i].name);
		sg_audit_sink_stats(&a->sinks[i], &c->sinks[i].st);
	}
	c->nsinks = i;
}

void sg_audit_set_policy_version(struct sg_audit *a, const char *version)
{
	pthread_mutex_lock(&a->lock);
	snprintf(a->policy_version, sizeof(a->policy_version), "%s",
		 version ? version : "");
	pthread_mutex_unlock(&a->lock);
}

const char *sg_severity_name(enum sg_severity s)
{
	switch (s) {
	case SG_SEV_INFO:
		return "info";
	case SG_SEV_WARNING:
		return "warning";
	case SG_SEV_CRITICAL:
		return "critical";
	}
	/* An out-of-range value is a bug; err on the loud side. */
	return "critical";
}

enum sg_severity sg_severity_for(bool denied, bool enforce, bool mitigation_failed)
{
	if (mitigation_failed)
		return SG_SEV_CRITICAL;
	if (denied)
		return enforce ? SG_SEV_CRITICAL : SG_SEV_WARNING;
	return SG_SEV_INFO;
}

/* Nine decimal digits of v (below 10^9), most significant first. */
static void put_nanos(char *out, uint32_t v)
{
	int i;

	for (i = 8; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * RFC 3339 UTC with nanoseconds from CLOCK_REALTIME. Under the audit lock:
 * the date and time of day change once a second, so they are formatted
 * then, not for every record.
 */
static void format_ts(struct sg_audit *a, char out[SG_TS_LEN])
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts)) {
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	if (!a->ts_second[0] || a->ts_sec != (int64_t)ts.tv_sec) {
		if (!gmtime_r(&ts.tv_sec, &tm)) {
			ts.tv_sec = 0;
			ts.tv_nsec = 0;
			gmtime_r(&ts.tv_sec, &tm);
		}
		if (strftime(a->ts_second, sizeof(a->ts_second), "%Y-%m-%dT%H:%M:%S", &tm) != 19)
			snprintf(a->ts_second, sizeof(a->ts_second), "0000-00-00T00:00:00");
		a->ts_sec = (int64_t)ts.tv_sec;
	}
	memcpy(out, a->ts_second, 19);
	out[19] = '.';
	put_nanos(out + 20, (uint32_t)(ts.tv_nsec % 1000000000));
	out[29] = 'Z';
	out[30] = '\0';
}

static void format_event_id(char out[17], uint64_t id)
{
	static const char hexdig[] = "0123456789abcdef";
	int i;

	for (i = 15; i >= 0; i--) {
		out[i] = hexdig[id & 0xf];
		id >>= 4;
	}
	out[16] = '\0';
}

uint64_t sg_audit_begin(struct sg_audit *a, struct sg_json *j, const char *type,
			enum sg_severity sev)
{
	char id[17], ts[SG_TS_LEN];
	uint64_t event_id;

	pthread_mutex_lock(&a->lock);
	event_id = a->next_event_id++;
	format_event_id(id, event_id);
	format_ts(a, ts);

	sg_json_reset(j);
	sg_json_begin_object(j);
	sg_json_kv_str(j, "event_id", id);
	sg_json_kv_str(j, "ts", ts);
	sg_json_kv_str(j, "node_id", a->node_id);
	sg_json_kv_str(j, "policy_version",
		       a->policy_version[0] ? a->policy_version : NULL);
	sg_json_kv_str(j, "type", type ? type : "unknown");
	sg_json_kv_str(j, "severity", sg_severity_name(sev));
	return event_id;
}

/* Copy s into out as JSON-safe ASCII; anything else becomes '?'. */
static void ascii_safe(char *out, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char)c : '?';
	}
	out[i] = '\0';
}

/*
 * The record the caller built is unusable (allocation failure, or objects
 * left open): write a minimal one under the same event id instead of losing
 * the event silently. Built on the stack, so it cannot fail for lack of
 * memory.
 */
static size_t format_fallback(struct sg_audit *a, const char *reason,
			      char *out, size_t len)
{
	char id[17], ts[SG_TS_LEN], node[sizeof(a->node_id)];
	char version[sizeof(a->policy_version) + 2];
	char pv[sizeof(a->policy_version)];
	int n;

	format_event_id(id, a->next_event_id - 1);
	format_ts(a, ts);
	ascii_safe(node, sizeof(node), a->node_id);
	if (a->policy_version[0]) {
		ascii_safe(pv, sizeof(pv), a->policy_version);
		snprintf(version, sizeof(version), "\"%s\"", pv);
	} else {
		snprintf(version, sizeof(version), "null");
	}
	n = snprintf(out, len,
		     "{\"event_id\":\"%s\",\"ts\":\"%s\",\"node_id\":\"%s\","
		     "\"policy_version\":%s,\"type\":\"audit_error\","
		     "\"severity\":\"critical\",\"error\":\"%s\"}\n",
		     id, ts, node, version, reason);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

int sg_audit_commit(struct sg_audit *a, struct sg_json *j)
{
	char fallback[sizeof(a->node_id) + sizeof(a->policy_version) + 256];
	const char *line;
	unsigned i;
	size_t len;
	int err = 0;

	sg_json_end_object(j);
	sg_json_end_line(j);
	len = j->len;
	if (j->oom || j->depth || !len) {
		len = format_fallback(a, j->oom ? "record_oom" : "record_malformed",
				      fallback, sizeof(fallback));
		line = fallback;
	} else {
		line = j->buf;
	}
	for (i = 0; i < a->nsinks; i++)
		if (sg_audit_sink_push(&a->sinks[i], line, len))
			err = -ENOBUFS;
	if (a->on_line)
		a->on_line(a->on_line_ctx, line, len);
	pthread_mutex_unlock(&a->lock);
	return err;
}

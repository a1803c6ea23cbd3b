/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert dispatcher (ALERT-1..6): webhooks for deny and enforce-failure
 * events. The event loop only ever calls sg_alerts_submit(), which copies the
 * event into a bounded queue and returns at once; a dedicated worker thread
 * deduplicates, rate-limits and POSTs. Nothing exists unless alerts are
 * enabled, so a daemon without --alert-enabled pays nothing.
 */
#ifndef SG_ALERT_H
#define SG_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_ALERT_QUEUE_LEN 128

enum sg_alert_format {
	SG_ALERT_SLACK = 0,
	SG_ALERT_TEAMS = 1,
};

struct sg_alert_config {
	const char *url;		/* http:// or https:// */
	enum sg_alert_format format;
	unsigned dedup_window_s;	/* same (exe, severity) within this window: dropped */
	unsigned per_minute;		/* token bucket: capacity and refill per minute */
	const char *ca_bundle;		/* NULL: the system's CAs; TLS is always verified */
	unsigned timeout_ms;		/* whole request, connect included */
};

/* What an alert says; strings are copied on submit. */
struct sg_alert_event {
	const char *kind;		/* "deny", "action_error", "ringbuf_drops", "guard_tripped",
					 * "recovery_mode"; anything else is not an alert */
	const char *event_id;		/* 16 hex digits, as in the audit log */
	const char *node_id;
	const char *severity;		/* "warning" or "critical" */
	const char *exe;		/* may hold any byte; NULL when none */
	size_t exe_len;
	const char *rule;		/* rule name, NULL when none */
	const char *policy_version;
	const char *action;		/* what was done: "deny_exec", "kill_at_exec", ... */
	const char *detail;		/* free text, NULL when none */
	uint64_t ts_ns;			/* CLOCK_REALTIME */
};

struct sg_alert_stats {
	uint64_t queued;		/* accepted into the queue */
	uint64_t sent;			/* delivered (2xx) */
	uint64_t failed;		/* delivery failed (network, TLS, non-2xx) */
	uint64_t deduplicated;		/* dropped by the dedup window */
	uint64_t rate_limited;		/* dropped by the token bucket */
	uint64_t overflow_dropped;	/* oldest entry dropped because the queue was full */
	/*
	 * Not a counter: queued but not yet sent or failed (in the queue or in
	 * flight, at most SG_ALERT_QUEUE_LEN + 1). Every submitted deny or
	 * action_error is in exactly one of sent, failed, deduplicated,
	 * rate_limited, overflow_dropped, pending; and
	 * queued = sent + failed + overflow_dropped + pending.
	 */
	uint64_t pending;
};

struct sg_alerts;

/* Validate cfg and start the worker. NULL on error, with a message in err. */
struct sg_alerts *sg_alerts_start(const struct sg_alert_config *cfg, char *err, size_t errlen);

/* Never blocks on the network or the worker; drops the oldest when full. */
void sg_alerts_submit(struct sg_alerts *a, const struct sg_alert_event *ev);

/* A consistent snapshot (all fields read under one lock); zeros when a is NULL. */
void sg_alerts_stats(struct sg_alerts *a, struct sg_alert_stats *out);

/*
 * Tests: replace the CLOCK_MONOTONIC clock (ns) behind the dedup window, the
 * token bucket and the failure log. NULL restores it.
 */
void sg_alerts_set_clock(struct sg_alerts *a, uint64_t (*now_ns)(void *ctx), void *ctx);

/* Stop the worker (waits at most one request timeout) and free everything. */
void sg_alerts_stop(struct sg_alerts *a);

/* "slack" / "teams" -> format; -1 when unknown. */
int sg_alert_format_parse(const char *s);

#endif

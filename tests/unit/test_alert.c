// SPDX-License-Identifier: Apache-2.0
/*
 * The alert dispatcher (ALERT-1..6): payload shapes, the dedup window, the
 * token bucket under an injected clock, the queue dropping its oldest entry,
 * the counters adding up, and the worker against dead, hanging and live
 * loopback endpoints run by the test itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "report/alert.h"
#include "report/alert_payload.h"
#include "json_check.h"

#define NS_PER_S 1000000000ull
#define FFFD "\xef\xbf\xbd"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

struct fake_clock {
	uint64_t ns;
};

static uint64_t fake_now(void *ctx)
{
	struct fake_clock *c = ctx;

	return __atomic_load_n(&c->ns, __ATOMIC_SEQ_CST);
}

static void clock_set(struct fake_clock *c, uint64_t ns)
{
	__atomic_store_n(&c->ns, ns, __ATOMIC_SEQ_CST);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A deny event for exe with a 16-hex-digit id made from n. */
struct ev_buf {
	char id[17];
	char exe[64];
	struct sg_alert_event ev;
};

static const struct sg_alert_event *deny_event(struct ev_buf *b, unsigned n, const char *exe,
					       const char *severity)
{
	snprintf(b->id, sizeof(b->id), "%016x", n);
	snprintf(b->exe, sizeof(b->exe), "%s", exe);
	b->ev = (struct sg_alert_event){
		.kind = "deny",
		.event_id = b->id,
		.node_id = "node-a",
		.severity = severity,
		.exe = b->exe,
		.exe_len = strlen(b->exe),
		.rule = "deny-it",
		.policy_version = "v7",
		.action = "deny_exec",
		.detail = "enforce",
		.ts_ns = 1700000000ull * NS_PER_S,
	};
	return &b->ev;
}

/* A distinct executable per n, so dedup never merges them. */
static const struct sg_alert_event *nth_event(struct ev_buf *b, unsigned n)
{
	char exe[64];

	snprintf(exe, sizeof(exe), "/usr/bin/tool-%u", n);
	return deny_event(b, n, exe, "critical");
}

/* 127.0.0.1:port listening socket (backlog 256); the port in *port. */
static int listen_loopback(int *port, bool do_listen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 256), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Accept one request on lfd, answer `status`, return the body (malloc'd). */
static char *serve_one(int lfd, int status)
{
	char *buf = malloc(65536), *hdr_end, *cl, resp[128];
	size_t len = 0, need = 0;
	ssize_t n;
	int c;

	assert_non_null(buf);
	assert_true(wait_readable(lfd, 10000));
	c = accept(lfd, NULL, NULL);
	assert_true(c >= 0);
	for (;;) {
		n = read(c, buf + len, 65535 - len);
		assert_true(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end)
			continue;
		cl = strcasestr(buf, "\r\nContent-Length:");
		assert_non_null(cl);
		need = (size_t)(hdr_end + 4 - buf) + strtoul(cl + 17, NULL, 10);
		if (len >= need)
			break;
	}
	snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		 status);
	assert_int_equal(write(c, resp, strlen(resp)), (ssize_t)strlen(resp));
	close(c);
	memmove(buf, hdr_end + 4, len - (size_t)(hdr_end + 4 - buf) + 1);
	return buf;
}

/* The event id of a Slack body ("Event ID\n<16 hex>"), as a number. */
static unsigned body_event(const char *body)
{
	const char *p = strstr(body, "Event ID\\n");

	assert_non_null(p);
	return (unsigned)strtoul(p + strlen("Event ID\\n"), NULL, 16);
}

static struct sg_alerts *start(const char *url, unsigned window_s, unsigned per_minute,
			       unsigned timeout_ms)
{
	struct sg_alert_config cfg = {
		.url = url,
		.format = SG_ALERT_SLACK,
		.dedup_window_s = window_s,
		.per_minute = per_minute,
		.timeout_ms = timeout_ms,
	};
	char err[256] = "";
	struct sg_alerts *a = sg_alerts_start(&cfg, err, sizeof(err));

	if (!a)
		fail_msg("sg_alerts_start: %s", err);
	return a;
}

static struct sg_alert_stats stats(struct sg_alerts *a)
{
	struct sg_alert_stats s;

	sg_alerts_stats(a, &s);
	return s;
}

/* The accounting rule of alert.h, on one snapshot. */
static void assert_accounts(const struct sg_alert_stats *s, uint64_t submitted)
{
	assert_int_equal(s->sent + s->failed + s->deduplicated + s->rate_limited +
			 s->overflow_dropped + s->pending, submitted);
	assert_int_equal(s->queued, s->sent + s->failed + s->overflow_dropped + s->pending);
	assert_true(s->pending <= SG_ALERT_QUEUE_LEN + 1);
}

static void wait_settled(struct sg_alerts *a, uint64_t settled)
{
	uint64_t deadline = mono_ms() + 15000;
	struct sg_alert_stats s;

	for (;;) {
		s = stats(a);
		if (s.sent + s.failed >= settled)
			return;
		if (mono_ms() > deadline)
			fail_msg("only %llu of %llu deliveries settled",
				 (unsigned long long)(s.sent + s.failed), (unsigned long long)settled);
		sleep_ms(5);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, 65535, f) < 65535);
	fclose(f);
	return buf;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Build a payload and check it is one JSON object with no raw newline. */
static void render(struct sg_json *j, enum sg_alert_format fmt, const struct sg_alert_event *ev)
{
	sg_json_init(j);
	assert_int_equal(sg_alert_payload(j, fmt, ev), 0);
	assert_null(memchr(j->buf, '\n', j->len));
	assert_true(jc_parse(j->buf, j->len, NULL));
}

static void assert_has(const struct sg_json *j, const char *needle)
{
	if (!strstr(j->buf, needle))
		fail_msg("payload lacks %s\npayload: %s", needle, j->buf);
}

/* ------------------------------------------------------------------ */
/* Payloads                                                            */

static void test_slack_payload_has_text_and_blocks_with_every_field(void **state)
{
	const struct jc_member *m;
	struct ev_buf b;
	struct sg_json j;
	struct jc_doc d;

	render(&j, SG_ALERT_SLACK, deny_event(&b, 0xabc, "/usr/bin/nc", "critical"));
	assert_true(jc_parse(j.buf, j.len, &d));
	assert_int_equal(d.n, 2);
	m = jc_get(&d, "text");
	assert_non_null(m);
	assert_int_equal(m->kind, JC_STRING);
	assert_string_equal(m->str, "[critical] SysGuard denied an exec on node-a: /usr/bin/nc "
			    "(rule deny-it, policy v7, event 0000000000000abc)");
	m = jc_get(&d, "blocks");
	assert_non_null(m);
	assert_int_equal(m->kind, JC_ARRAY);
	jc_doc_free(&d);

	assert_has(&j, "{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
		   "\"text\":\"SysGuard denied an exec\",\"emoji\":false}}");
	assert_has(&j, "{\"type\":\"section\",\"fields\":[");
	assert_has(&j, "\"text\":\"Event ID\\n0000000000000abc\"");
	assert_has(&j, "\"text\":\"Node\\nnode-a\"");
	assert_has(&j, "\"text\":\"Severity\\ncritical\"");
	assert_has(&j, "\"text\":\"Executable\\n/usr/bin/nc\"");
	assert_has(&j, "\"text\":\"Rule\\ndeny-it\"");
	assert_has(&j, "\"text\":\"Policy version\\nv7\"");
	assert_has(&j, "\"text\":\"Action\\ndeny_exec\"");
	assert_has(&j, "\"text\":\"Detail\\nenforce\"");
	assert_has(&j, "\"text\":\"Time\\n2023-11-14T22:13:20Z\"");
	assert_null(strstr(j.buf, "mrkdwn"));
	sg_json_free(&j);
}

static void test_teams_payload_is_a_message_with_an_adaptive_card(void **state)
{
	const struct jc_member *m;
	struct ev_buf b;
	struct sg_json j;
	struct jc_doc d;

	render(&j, SG_ALERT_TEAMS, deny_event(&b, 0xabc, "/usr/bin/nc", "critical"));
	assert_true(jc_parse(j.buf, j.len, &d));
	m = jc_get(&d, "type");
	assert_non_null(m);
	assert_string_equal(m->str, "message");
	m = jc_get(&d, "attachments");
	assert_non_null(m);
	assert_int_equal(m->kind, JC_ARRAY);
	jc_doc_free(&d);

	assert_has(&j, "\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card.adaptive\","
		   "\"contentUrl\":null,\"content\":{");
	assert_has(&j, "\"type\":\"AdaptiveCard\",\"version\":\"1.4\",\"body\":[");
	assert_has(&j, "{\"type\":\"TextBlock\",\"text\":\"SysGuard denied an exec\"");
	assert_has(&j, "\"color\":\"Attention\"");
	assert_has(&j, "{\"type\":\"FactSet\",\"facts\":[");
	assert_has(&j, "{\"title\":\"Event ID\",\"value\":\"0000000000000abc\"}");
	assert_has(&j, "{\"title\":\"Node\",\"value\":\"node-a\"}");
	assert_has(&j, "{\"title\":\"Severity\",\"value\":\"critical\"}");
	assert_has(&j, "{\"title\":\"Executable\",\"value\":\"/usr/bin/nc\"}");
	assert_has(&j, "{\"title\":\"Rule\",\"value\":\"deny-it\"}");
	assert_has(&j, "{\"title\":\"Policy version\",\"value\":\"v7\"}");
	assert_has(&j, "{\"title\":\"Action\",\"value\":\"deny_exec\"}");
	sg_json_free(&j);
}

static void test_enforce_failure_has_its_own_title_and_warning_color(void **state)
{
	struct ev_buf b;
	struct sg_json j;

	deny_event(&b, 1, "/bin/x", "warning");
	b.ev.kind = "action_error";
	b.ev.rule = NULL;
	b.ev.exe = NULL;
	b.ev.policy_version = NULL;
	b.ev.detail = NULL;
	render(&j, SG_ALERT_TEAMS, &b.ev);
	assert_has(&j, "\"text\":\"SysGuard enforcement failed\"");
	assert_has(&j, "\"color\":\"Warning\"");
	assert_has(&j, "{\"title\":\"Executable\",\"value\":\"(unknown)\"}");
	assert_has(&j, "{\"title\":\"Rule\",\"value\":\"(none)\"}");
	assert_has(&j, "{\"title\":\"Policy version\",\"value\":\"(none)\"}");
	assert_null(strstr(j.buf, "Detail"));
	sg_json_free(&j);
}

/* An attacker names the binary: it must stay data in both formats. */
static void test_hostile_exe_stays_data(void **state)
{
	static const char exe[] = "/tmp/<!channel> \"x\"\n&\xff\x01*b*";
	const struct jc_member *m;
	enum sg_alert_format fmt;
	struct ev_buf b;
	struct sg_json j;
	struct jc_doc d;

	deny_event(&b, 2, "", "critical");
	b.ev.exe = exe;
	b.ev.exe_len = sizeof(exe) - 1;
	for (fmt = SG_ALERT_SLACK; fmt <= SG_ALERT_TEAMS; fmt++) {
		render(&j, fmt, &b.ev);
		assert_has(&j, "\\\"x\\\"\\n&" FFFD "\\u0001*b*");
		if (fmt == SG_ALERT_SLACK) {
			assert_true(jc_parse(j.buf, j.len, &d));
			m = jc_get(&d, "text");
			assert_non_null(m);
			assert_non_null(strstr(m->str, "/tmp/&lt;!channel&gt; \"x\"\n&amp;" FFFD "\x01*b*"));
			assert_null(strchr(m->str, '<'));
			jc_doc_free(&d);
		}
		sg_json_free(&j);
	}
}

/* Slack refuses a field over 2000 characters: long values are cut on a character boundary. */
static void test_long_exe_is_clipped_on_a_character_boundary(void **state)
{
	char *exe = malloc(4096);
	struct ev_buf b;
	struct sg_json j;
	size_t i;
	const char *p, *q;

	assert_non_null(exe);
	exe[0] = '/';
	for (i = 1; i + 1 < 4096; i += 2)
		memcpy(exe + i, "\xc3\xa9", 2);	/* é */
	deny_event(&b, 3, "", "critical");
	b.ev.exe = exe;
	b.ev.exe_len = i;
	render(&j, SG_ALERT_SLACK, &b.ev);
	assert_null(strstr(j.buf, FFFD));
	p = strstr(j.buf, "\"text\":\"Executable\\n");
	assert_non_null(p);
	p += strlen("\"text\":\"Executable\\n");
	q = strchr(p, '"');
	assert_true((size_t)(q - p) <= SG_ALERT_VALUE_MAX);
	assert_true((size_t)(q - p) > SG_ALERT_VALUE_MAX - 8);
	assert_memory_equal(q - 3, "\xe2\x80\xa6", 3);
	sg_json_free(&j);
	free(exe);
}

static void test_format_names(void **state)
{
	struct ev_buf b;
	struct sg_json j;

	assert_int_equal(sg_alert_format_parse("slack"), SG_ALERT_SLACK);
	assert_int_equal(sg_alert_format_parse("teams"), SG_ALERT_TEAMS);
	assert_int_equal(sg_alert_format_parse("Slack"), -1);
	assert_int_equal(sg_alert_format_parse(""), -1);
	assert_int_equal(sg_alert_format_parse(NULL), -1);
	sg_json_init(&j);
	assert_int_equal(sg_alert_payload(&j, (enum sg_alert_format)7, deny_event(&b, 1, "/x", "critical")),
			 -EINVAL);
	sg_json_free(&j);
}

/* ------------------------------------------------------------------ */
/* Configuration                                                       */

static void expect_refused(struct sg_alert_config *cfg, const char *want, const char *secret)
{
	char err[256] = "";
	struct sg_alerts *a = sg_alerts_start(cfg, err, sizeof(err));

	if (a) {
		sg_alerts_stop(a);
		fail_msg("started with a bad config (want '%s')", want);
	}
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
	if (secret)
		assert_null(strstr(err, secret));
}

static void test_start_refuses_bad_config(void **state)
{
	struct sg_alert_config cfg = { .url = "ftp://example.com/hook-SECRET", .per_minute = 10 };

	expect_refused(&cfg, "only http and https", "SECRET");
	cfg.url = NULL;
	expect_refused(&cfg, "no webhook URL", NULL);
	cfg.url = "not a url SECRET";
	expect_refused(&cfg, "not a valid URL", "SECRET");
	cfg.url = "https://example.com/hook";
	cfg.format = (enum sg_alert_format)9;
	expect_refused(&cfg, "slack or teams", NULL);
	cfg.format = SG_ALERT_TEAMS;
	cfg.ca_bundle = "/nonexistent/ca.pem";
	expect_refused(&cfg, "cannot read CA bundle /nonexistent/ca.pem", NULL);
	cfg.ca_bundle = NULL;
	cfg.per_minute = 2000000;
	expect_refused(&cfg, "per-minute cap", NULL);
}

static void test_submit_to_no_dispatcher_is_a_no_op(void **state)
{
	struct sg_alert_stats s;
	struct ev_buf b;

	sg_alerts_submit(NULL, nth_event(&b, 1));
	sg_alerts_stats(NULL, &s);
	assert_int_equal(s.queued + s.pending, 0);
	sg_alerts_stop(NULL);
}

/* ------------------------------------------------------------------ */
/* Gates: dedup, token bucket, kinds. A dead port: nothing is ever sent. */

struct dead {
	int fd;
	char url[64];
};

/* A bound, non-listening port: connecting is refused at once. */
static void dead_port(struct dead *d)
{
	int port;

	d->fd = listen_loopback(&port, false);
	snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d/hook", port);
}

/* ringbuf_drops was refused here once: lost events were never alerted. */
static void test_only_the_alert_kinds_are_alerts(void **state)
{
	struct sg_alert_stats s;
	struct ev_buf b;
	struct dead d;
	struct sg_alerts *a;

	dead_port(&d);
	a = start(d.url, 0, 0, 1000);
	nth_event(&b, 1);
	b.ev.kind = "allow";
	sg_alerts_submit(a, &b.ev);
	b.ev.kind = "policy_reload";
	sg_alerts_submit(a, &b.ev);
	b.ev.kind = NULL;
	sg_alerts_submit(a, &b.ev);
	sg_alerts_submit(a, NULL);
	s = stats(a);
	assert_int_equal(s.queued + s.deduplicated + s.rate_limited, 0);
	b.ev.kind = "deny";
	sg_alerts_submit(a, &b.ev);
	nth_event(&b, 2);
	b.ev.kind = "action_error";
	sg_alerts_submit(a, &b.ev);
	nth_event(&b, 3);
	b.ev.kind = "ringbuf_drops";
	sg_alerts_submit(a, &b.ev);
	nth_event(&b, 4);
	b.ev.kind = "guard_tripped";
	sg_alerts_submit(a, &b.ev);
	nth_event(&b, 5);
	b.ev.kind = "recovery_mode";
	sg_alerts_submit(a, &b.ev);
	assert_int_equal(stats(a).queued, 5);
	sg_alerts_stop(a);
	close(d.fd);
}

static void test_dedup_on_exe_and_severity_within_the_window(void **state)
{
	struct fake_clock c = { 1000 * NS_PER_S };
	struct sg_alert_stats s;
	struct ev_buf b;
	struct dead d;
	struct sg_alerts *a;

	dead_port(&d);
	a = start(d.url, 10, 0, 1000);
	sg_alerts_set_clock(a, fake_now, &c);
	sg_alerts_submit(a, deny_event(&b, 1, "/bin/a", "critical"));
	sg_alerts_submit(a, deny_event(&b, 2, "/bin/a", "critical"));
	sg_alerts_submit(a, deny_event(&b, 3, "/bin/a", "critical"));
	s = stats(a);
	assert_int_equal(s.queued, 1);
	assert_int_equal(s.deduplicated, 2);

	/* Another severity or another executable is another key. */
	sg_alerts_submit(a, deny_event(&b, 4, "/bin/a", "warning"));
	sg_alerts_submit(a, deny_event(&b, 5, "/bin/b", "critical"));
	/* A prefix is not the same executable. */
	sg_alerts_submit(a, deny_event(&b, 6, "/bin/a2", "critical"));
	assert_int_equal(stats(a).queued, 4);

	clock_set(&c, 1009 * NS_PER_S + NS_PER_S / 2);
	sg_alerts_submit(a, deny_event(&b, 7, "/bin/a", "critical"));
	assert_int_equal(stats(a).deduplicated, 3);
	/* The window counts from the alert that was queued, not from the last repeat. */
	clock_set(&c, 1010 * NS_PER_S);
	sg_alerts_submit(a, deny_event(&b, 8, "/bin/a", "critical"));
	s = stats(a);
	assert_int_equal(s.queued, 5);
	assert_int_equal(s.deduplicated, 3);
	sg_alerts_submit(a, deny_event(&b, 9, "/bin/a", "critical"));
	assert_int_equal(stats(a).deduplicated, 4);
	wait_settled(a, 5);
	s = stats(a);
	assert_accounts(&s, 9);
	sg_alerts_stop(a);
	close(d.fd);
}

static void test_dedup_window_zero_disables_dedup(void **state)
{
	struct ev_buf b;
	struct dead d;
	struct sg_alerts *a;
	unsigned i;

	dead_port(&d);
	a = start(d.url, 0, 0, 1000);
	for (i = 0; i < 5; i++)
		sg_alerts_submit(a, deny_event(&b, i, "/bin/a", "critical"));
	assert_int_equal(stats(a).queued, 5);
	assert_int_equal(stats(a).deduplicated, 0);
	sg_alerts_stop(a);
	close(d.fd);
}

static void test_token_bucket_holds_cap_and_refills_over_a_minute(void **state)
{
	struct fake_clock c = { 5 * NS_PER_S };
	struct sg_alert_stats s;
	struct ev_buf b;
	struct dead d;
	struct sg_alerts *a;
	unsigned i, n = 0;

	dead_port(&d);
	a = start(d.url, 0, 6, 1000);
	sg_alerts_set_clock(a, fake_now, &c);
	/* Starts full: capacity = cap. */
	for (i = 0; i < 10; i++)
		sg_alerts_submit(a, nth_event(&b, n++));
	s = stats(a);
	assert_int_equal(s.queued, 6);
	assert_int_equal(s.rate_limited, 4);

	/* 6 a minute = one every 10 s, continuously: nothing after 9.999 s ... */
	clock_set(&c, 15 * NS_PER_S - 1);
	sg_alerts_submit(a, nth_event(&b, n++));
	assert_int_equal(stats(a).queued, 6);
	/* ... one at 10 s (the 9.999 s already earned count) ... */
	clock_set(&c, 15 * NS_PER_S);
	sg_alerts_submit(a, nth_event(&b, n++));
	sg_alerts_submit(a, nth_event(&b, n++));
	s = stats(a);
	assert_int_equal(s.queued, 7);
	assert_int_equal(s.rate_limited, 6);
	/* ... three after 30 s more ... */
	clock_set(&c, 45 * NS_PER_S);
	for (i = 0; i < 5; i++)
		sg_alerts_submit(a, nth_event(&b, n++));
	assert_int_equal(stats(a).queued, 10);
	/* ... and never more than the cap, however long it rested. */
	clock_set(&c, 3600 * NS_PER_S);
	for (i = 0; i < 10; i++)
		sg_alerts_submit(a, nth_event(&b, n++));
	s = stats(a);
	assert_int_equal(s.queued, 16);
	assert_int_equal(s.rate_limited, n - 16);
	wait_settled(a, 16);
	s = stats(a);
	assert_accounts(&s, n);
	sg_alerts_stop(a);
	close(d.fd);
}

/* A rate-limited alert does not open a dedup window: its next repeat may still be sent. */
static void test_rate_limited_alert_is_not_remembered_by_dedup(void **state)
{
	struct fake_clock c = { NS_PER_S };
	struct ev_buf b;
	struct dead d;
	struct sg_alerts *a;

	dead_port(&d);
	a = start(d.url, 300, 1, 1000);
	sg_alerts_set_clock(a, fake_now, &c);
	sg_alerts_submit(a, deny_event(&b, 1, "/bin/a", "critical"));
	sg_alerts_submit(a, deny_event(&b, 2, "/bin/b", "critical"));
	assert_int_equal(stats(a).rate_limited, 1);
	clock_set(&c, 61 * NS_PER_S);
	sg_alerts_submit(a, deny_event(&b, 3, "/bin/b", "critical"));
	assert_int_equal(stats(a).queued, 2);
	assert_int_equal(stats(a).deduplicated, 0);
	sg_alerts_stop(a);
	close(d.fd);
}

/* ------------------------------------------------------------------ */
/* The queue and the worker                                            */

/*
 * With the worker stuck on a request the receiver holds, 199 more alerts
 * overflow the 128-entry queue: the oldest 71 go, the newest 128 are sent
 * in order once the receiver answers.
 */
static void test_full_queue_drops_the_oldest(void **state)
{
	struct sg_alert_stats s;
	struct ev_buf b;
	struct sg_alerts *a;
	char url[64], *body;
	unsigned i, want;
	int lfd, port;

	lfd = listen_loopback(&port, true);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	a = start(url, 0, 0, 20000);
	sg_alerts_submit(a, nth_event(&b, 0));
	/* The worker connected: alert 0 is in flight, the queue is empty. */
	assert_true(wait_readable(lfd, 5000));
	s = stats(a);
	assert_int_equal(s.pending, 1);
	for (i = 1; i < 200; i++)
		sg_alerts_submit(a, nth_event(&b, i));
	s = stats(a);
	assert_int_equal(s.queued, 200);
	assert_int_equal(s.overflow_dropped, 200 - 1 - SG_ALERT_QUEUE_LEN);
	assert_int_equal(s.pending, SG_ALERT_QUEUE_LEN + 1);
	assert_accounts(&s, 200);

	body = serve_one(lfd, 200);
	assert_int_equal(body_event(body), 0);
	free(body);
	for (want = 200 - SG_ALERT_QUEUE_LEN; want < 200; want++) {
		body = serve_one(lfd, 200);
		assert_int_equal(body_event(body), want);
		free(body);
	}
	wait_settled(a, SG_ALERT_QUEUE_LEN + 1);
	s = stats(a);
	assert_int_equal(s.sent, SG_ALERT_QUEUE_LEN + 1);
	assert_int_equal(s.failed, 0);
	assert_int_equal(s.pending, 0);
	assert_accounts(&s, 200);
	sg_alerts_stop(a);
	close(lfd);
}

static void test_non_2xx_answer_counts_as_failed(void **state)
{
	struct sg_alert_stats s;
	struct ev_buf b;
	struct sg_alerts *a;
	char url[64];
	int lfd, port;

	lfd = listen_loopback(&port, true);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	a = start(url, 0, 0, 5000);
	sg_alerts_submit(a, nth_event(&b, 1));
	sg_alerts_submit(a, nth_event(&b, 2));
	free(serve_one(lfd, 500));
	free(serve_one(lfd, 204));
	wait_settled(a, 2);
	s = stats(a);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.sent, 1);
	sg_alerts_stop(a);
	close(lfd);
}

/* Submitting never waits for the worker, even while it waits on the network. */
static void test_submit_does_not_wait_for_a_hanging_endpoint(void **state)
{
	struct timespec t0, t1;
	struct ev_buf b;
	struct sg_alerts *a;
	char url[64];
	unsigned i;
	int lfd, port;
	uint64_t ns, stop_ms;

	lfd = listen_loopback(&port, true);	/* never answers */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	a = start(url, 0, 0, 30000);
	sg_alerts_submit(a, nth_event(&b, 0));
	assert_true(wait_readable(lfd, 5000));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 1; i <= 10000; i++)
		sg_alerts_submit(a, nth_event(&b, i));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * NS_PER_S + (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	/* ~0.3 us each here; 50 us each would mean it waited on something. */
	assert_true(ns < 10000ull * 50000);
	/* Stop cuts the hanging request short instead of waiting 30 s. */
	stop_ms = mono_ms();
	sg_alerts_stop(a);
	assert_true(mono_ms() - stop_ms < 3000);
	close(lfd);
}

/*
 * A dead endpoint: every alert fails, the dispatcher carries on, and stderr
 * gets one line for the burst, then one summary a minute; never the URL's
 * path, which for Slack and Teams is the secret.
 */
static void test_dead_endpoint_fails_and_logs_once_per_burst(void **state)
{
	char path[] = "/tmp/sg-alert-stderr-XXXXXX", url[96], *log;
	struct fake_clock c = { 100 * NS_PER_S };
	struct sg_alert_stats s;
	struct sg_alerts *a;
	struct ev_buf b;
	int fd, saved, port, dfd;
	unsigned i;

	dfd = listen_loopback(&port, false);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/services/T0/B0/SECRET", port);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_int_equal(dup2(fd, 2), 2);

	a = start(url, 0, 0, 2000);
	sg_alerts_set_clock(a, fake_now, &c);
	for (i = 0; i < 20; i++)
		sg_alerts_submit(a, nth_event(&b, i));
	wait_settled(a, 20);
	clock_set(&c, 130 * NS_PER_S);
	sg_alerts_submit(a, nth_event(&b, 20));
	wait_settled(a, 21);
	clock_set(&c, 161 * NS_PER_S);
	sg_alerts_submit(a, nth_event(&b, 21));
	wait_settled(a, 22);
	s = stats(a);
	sg_alerts_stop(a);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	log = slurp(path);
	unlink(path);
	close(dfd);

	assert_int_equal(s.failed, 22);
	assert_int_equal(s.sent, 0);
	assert_accounts(&s, 22);
	if (count_lines(log) != 2 || !strstr(log, "delivery to http://127.0.0.1:") ||
	    !strstr(log, "failed: ") || !strstr(log, "21 more deliveries") || strstr(log, "SECRET") ||
	    strstr(log, "/services"))
		fail_msg("unexpected stderr:\n%s", log);
	free(log);
}

/* A storm through every gate: each submitted alert is in exactly one counter. */
static void test_storm_counters_add_up(void **state)
{
	struct fake_clock c = { NS_PER_S };
	struct sg_alert_stats s;
	struct sg_alerts *a;
	struct ev_buf b;
	char url[64];
	unsigned i;
	int lfd, port;

	lfd = listen_loopback(&port, true);	/* holds the first request */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	a = start(url, 5, 600, 30000);
	sg_alerts_set_clock(a, fake_now, &c);
	for (i = 0; i < 20000; i++) {
		char exe[32];

		/* 20 s of 1000 denies a second over 500 executables. */
		clock_set(&c, NS_PER_S + (uint64_t)i * 1000000);
		snprintf(exe, sizeof(exe), "/opt/storm/%u", i % 500);
		sg_alerts_submit(a, deny_event(&b, i, exe, "critical"));
		if (i % 1000 == 999) {
			s = stats(a);
			assert_accounts(&s, i + 1);
		}
	}
	s = stats(a);
	assert_accounts(&s, 20000);
	assert_int_equal(s.queued + s.deduplicated + s.rate_limited, 20000);
	/* Capacity 600, plus 10 a second over the 20 s: the bucket never gave more. */
	assert_true(s.queued <= 800);
	assert_true(s.queued >= 790);
	assert_true(s.deduplicated > 0);
	assert_true(s.rate_limited > 0);
	assert_true(s.overflow_dropped > 0);
	sg_alerts_stop(a);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slack_payload_has_text_and_blocks_with_every_field),
		cmocka_unit_test(test_teams_payload_is_a_message_with_an_adaptive_card),
		cmocka_unit_test(test_enforce_failure_has_its_own_title_and_warning_color),
		cmocka_unit_test(test_hostile_exe_stays_data),
		cmocka_unit_test(test_long_exe_is_clipped_on_a_character_boundary),
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_start_refuses_bad_config),
		cmocka_unit_test(test_submit_to_no_dispatcher_is_a_no_op),
		cmocka_unit_test(test_only_the_alert_kinds_are_alerts),
		cmocka_unit_test(test_dedup_on_exe_and_severity_within_the_window),
		cmocka_unit_test(test_dedup_window_zero_disables_dedup),
		cmocka_unit_test(test_token_bucket_holds_cap_and_refills_over_a_minute),
		cmocka_unit_test(test_rate_limited_alert_is_not_remembered_by_dedup),
		cmocka_unit_test(test_full_queue_drops_the_oldest),
		cmocka_unit_test(test_non_2xx_answer_counts_as_failed),
		cmocka_unit_test(test_submit_does_not_wait_for_a_hanging_endpoint),
		cmocka_unit_test(test_dead_endpoint_fails_and_logs_once_per_burst),
		cmocka_unit_test(test_storm_counters_add_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

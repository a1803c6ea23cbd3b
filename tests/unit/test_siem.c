// SPDX-License-Identifier: Apache-2.0
/*
 * The SIEM exporter (OPS-4) against loopback receivers run by the test:
 * settings are checked at start, records arrive in order as RFC 6587 frames
 * holding the exact line, a full queue drops its oldest and counts it, the
 * worker reconnects when a receiver appears, records the receiver's TCP had
 * not acknowledged when the connection broke are sent again, and a stop
 * never hangs on a dead receiver. submitted = sent + dropped + queue_depth
 * is checked in every snapshot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "report/siem.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 127.0.0.1 socket, bound (and listening when asked); the port in *port. */
static int loopback(int *port, bool do_listen, int rcvbuf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (rcvbuf)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static int accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, ms), 1);
	return accept(lfd, NULL, NULL);
}

static struct sg_siem *start_tcp(int port, unsigned queue)
{
	char addr[64], err[256] = "";
	struct sg_siem_config cfg = {
		.address = addr,
		.transport = SG_SIEM_TCP,
		.queue = queue,
		.facility = 16,
		.hostname = "unit-node",
	};
	struct sg_siem *s;

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	s = sg_siem_start(&cfg, err, sizeof(err));
	if (!s)
		fail_msg("start: %s", err);
	return s;
}

static struct sg_siem_stats stats_of(struct sg_siem *s)
{
	struct sg_siem_stats st;

	sg_siem_stats(s, &st);
	assert_int_equal(st.submitted, st.sent + st.dropped + st.queue_depth);
	return st;
}

static void wait_sent(struct sg_siem *s, uint64_t sent, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	struct sg_siem_stats st;

	for (;;) {
		st = stats_of(s);
		if (st.sent >= sent)
			return;
		if (mono_ms() > end)
			fail_msg("sent %llu, want %llu", (unsigned long long)st.sent,
				 (unsigned long long)sent);
		usleep(5000);
	}
}

static void record(char *buf, size_t len, unsigned n)
{
	snprintf(buf, len, "{\"event_id\":\"%016x\",\"ts\":\"2026-11-23T16:40:01.123456789Z\","
		 "\"node_id\":\"unit-node\",\"policy_version\":null,\"type\":\"exec\","
		 "\"severity\":\"critical\",\"n\":%u,\"pad\":\"%0*d\"}\n", n, n, 120, 0);
}

/* Reads octet-counted frames from a connection. */
struct reader {
	int fd;
	char buf[1 << 16];
	size_t len;
};

/* The next frame's SYSLOG-MSG into out (NUL-terminated); false at EOF or after ms. */
static bool next_frame(struct reader *r, char *out, size_t outlen, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	size_t count, hl;
	char *sp, *e;
	ssize_t n;

	for (;;) {
		sp = memchr(r->buf, ' ', r->len);
		if (sp) {
			count = strtoul(r->buf, &e, 10);
			assert_ptr_equal(e, sp);
			hl = (size_t)(sp - r->buf) + 1;
			if (r->len >= hl + count) {
				assert_true(count < outlen);
				memcpy(out, sp + 1, count);
				out[count] = '\0';
				memmove(r->buf, r->buf + hl + count, r->len - hl - count);
				r->len -= hl + count;
				return true;
			}
		}
		if (mono_ms() > end || poll(&p, 1, 50) < 0)
			return false;
		if (!p.revents)
			continue;
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
		if (n <= 0)
			return false;
		r->len += (size_t)n;
	}
}

/* The n in a received message's JSON. */
static unsigned msg_n(const char *msg)
{
	const char *p = strstr(msg, "\"n\":");

	assert_non_null(p);
	return (unsigned)strtoul(p + 4, NULL, 10);
}

/* ------------------------------------------------------------------ */

static void test_address_forms(void **state)
{
	char host[256], err[256];
	unsigned port = 0;

	assert_int_equal(sg_siem_parse_address("siem.example.com:6514", 1, host, sizeof(host), &port,
					       err, sizeof(err)), 0);
	assert_string_equal(host, "siem.example.com");
	assert_int_equal(port, 6514);
	assert_int_equal(sg_siem_parse_address("10.0.0.1", 514, host, sizeof(host), &port, err,
					       sizeof(err)), 0);
	assert_string_equal(host, "10.0.0.1");
	assert_int_equal(port, 514);
	assert_int_equal(sg_siem_parse_address("[::1]:1514", 1, host, sizeof(host), &port, err,
					       sizeof(err)), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 1514);
	assert_int_equal(sg_siem_parse_address("[fe80::1]", 6514, host, sizeof(host), &port, err,
					       sizeof(err)), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 6514);
}

static void test_bad_addresses_are_refused_with_a_reason(void **state)
{
	static const char *const bad[] = {
		"", ":514", "host:", "host:0", "host:65536", "host:+5", "host: 5", "host:5x",
		"::1:514", "[::1", "[::1]514", "[::g]:514", "[]:514", "ho st:514", "host/x:1",
		"host\n:514",
	};
	char host[256], err[256];
	unsigned port;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sg_siem_parse_address(bad[i], 514, host, sizeof(host), &port, err,
						       sizeof(err)), -EINVAL);
		assert_true(err[0]);
	}
	assert_int_equal(sg_siem_parse_address(NULL, 514, host, sizeof(host), &port, err,
					       sizeof(err)), -EINVAL);
	assert_int_equal(sg_siem_parse_address("abcdefghij:1", 514, host, 8, &port, err,
					       sizeof(err)), -EINVAL);
	assert_int_equal(sg_siem_transport_parse("tcp"), SG_SIEM_TCP);
	assert_int_equal(sg_siem_transport_parse("tls"), SG_SIEM_TLS);
	assert_int_equal(sg_siem_transport_parse("udp"), -1);
	assert_int_equal(sg_siem_transport_parse(NULL), -1);
}

static void expect_refused(const struct sg_siem_config *cfg, const char *needle)
{
	char err[512] = "";

	assert_null(sg_siem_start(cfg, err, sizeof(err)));
	if (!strstr(err, needle))
		fail_msg("error '%s' does not say '%s'", err, needle);
}

static void test_start_refuses_bad_config(void **state)
{
	char notpem[] = "/tmp/sg-siem-notpem-XXXXXX";
	struct sg_siem_config c = { .address = "127.0.0.1:1", .transport = SG_SIEM_TCP };
	int fd;

	fd = mkstemp(notpem);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a certificate\n", 18), 18);
	close(fd);

	c.address = "bad host:1";
	expect_refused(&c, "host name");
	c.address = "127.0.0.1:1";
	c.queue = SG_SIEM_QUEUE_MAX + 1;
	expect_refused(&c, "queue");
	c.queue = 0;
	c.facility = 24;
	expect_refused(&c, "facility");
	c.facility = 0;
	c.transport = 7;
	expect_refused(&c, "transport");
	c.transport = SG_SIEM_TCP;
	c.ca_file = notpem;
	expect_refused(&c, "only to transport tls");
	c.transport = SG_SIEM_TLS;
	c.ca_file = "/nonexistent/ca.pem";
	expect_refused(&c, "cannot read CA file /nonexistent/ca.pem");
	c.ca_file = notpem;
	expect_refused(&c, "CA file");
	c.ca_file = NULL;
	c.cert_file = notpem;
	expect_refused(&c, "both cert_file and key_file");
	c.key_file = notpem;
	expect_refused(&c, "certificate");
	c.cert_file = c.key_file = NULL;
	c.server_name = "";
	expect_refused(&c, "server_name");
	unlink(notpem);
}

static void test_no_exporter_is_a_no_op(void **state)
{
	struct sg_siem_stats st;

	sg_siem_submit(NULL, "{}\n", 3);
	sg_siem_stats(NULL, &st);
	assert_int_equal(st.submitted, 0);
	assert_false(st.connected);
	sg_siem_stop(NULL, 0);
}

static void test_records_arrive_in_order_as_exact_frames(void **state)
{
	static struct reader r;
	char line[512], msg[1024], *json;
	struct sg_siem_stats st;
	struct sg_siem *s;
	int lfd, port;
	unsigned i;

	lfd = loopback(&port, true, 0);
	s = start_tcp(port, 0);
	r.fd = accept_within(lfd, 5000);
	r.len = 0;
	assert_true(r.fd >= 0);
	for (i = 1; i <= 500; i++) {
		record(line, sizeof(line), i);
		sg_siem_submit(s, line, strlen(line));
	}
	for (i = 1; i <= 500; i++) {
		assert_true(next_frame(&r, msg, sizeof(msg), 5000));
		/* authpriv is not asked for here: local0 (16) * 8 + crit (2) = 130 */
		assert_memory_equal(msg, "<130>1 2026-11-23T16:40:01.123456Z unit-node sysguard ", 54);
		json = strstr(msg, "\"] {");
		assert_non_null(json);
		json += 3;
		record(line, sizeof(line), i);
		line[strlen(line) - 1] = '\0';
		assert_string_equal(json, line);
	}
	wait_sent(s, 500, 5000);
	st = stats_of(s);
	assert_true(st.connected);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.resent, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.queue_depth, 0);
	sg_siem_stop(s, 1000);
	/* A clean stop closes the connection. */
	assert_false(next_frame(&r, msg, sizeof(msg), 2000));
	close(r.fd);
	close(lfd);
}

static void test_full_queue_drops_the_oldest_then_reconnects(void **state)
{
	static struct reader r;
	char line[512], msg[1024];
	struct sg_siem_stats st;
	struct sg_siem *s;
	int lfd, port;
	unsigned i;

	/* Bound, not listening: every connection attempt is refused. */
	lfd = loopback(&port, false, 0);
	s = start_tcp(port, 4);
	for (i = 1; i <= 10; i++) {
		record(line, sizeof(line), i);
		sg_siem_submit(s, line, strlen(line));
	}
	st = stats_of(s);
	assert_int_equal(st.submitted, 10);
	assert_int_equal(st.dropped, 6);
	assert_int_equal(st.queue_depth, 4);
	assert_int_equal(st.sent, 0);
	usleep(300 * 1000);
	st = stats_of(s);
	assert_false(st.connected);
	assert_true(st.errors >= 1);

	/* The receiver appears: the four newest arrive, in order, within the 5 s backoff cap. */
	assert_int_equal(listen(lfd, 16), 0);
	r.fd = accept_within(lfd, 7000);
	r.len = 0;
	assert_true(r.fd >= 0);
	for (i = 7; i <= 10; i++) {
		assert_true(next_frame(&r, msg, sizeof(msg), 5000));
		assert_int_equal(msg_n(msg), i);
	}
	wait_sent(s, 4, 5000);
	st = stats_of(s);
	assert_true(st.connected);
	assert_int_equal(st.dropped, 6);
	assert_int_equal(st.reconnects, 0);	/* the first connection that worked */
	sg_siem_stop(s, 1000);
	close(r.fd);
	close(lfd);
}

static void test_unacknowledged_records_are_sent_again_after_a_break(void **state)
{
	static struct reader r;
	char line[512], msg[1024];
	unsigned i, first, total = 3000;
	struct sg_siem_stats st;
	struct sg_siem *s;
	int lfd, port, c1;

	/* A receiver that takes little and reads nothing: most records stay unacknowledged. */
	lfd = loopback(&port, true, 4096);
	s = start_tcp(port, total);
	c1 = accept_within(lfd, 5000);
	assert_true(c1 >= 0);
	for (i = 1; i <= total; i++) {
		record(line, sizeof(line), i);
		sg_siem_submit(s, line, strlen(line));
	}
	usleep(500 * 1000);
	st = stats_of(s);
	assert_true(st.queue_depth > SG_SIEM_INFLIGHT_MAX);
	/* Close with unread data: a reset. What was acknowledged but never read is lost to TCP. */
	close(c1);

	r.fd = accept_within(lfd, 5000);
	r.len = 0;
	assert_true(r.fd >= 0);
	assert_true(next_frame(&r, msg, sizeof(msg), 5000));
	first = msg_n(msg);
	/* Only what fit in the dead receiver's buffer is missing; the rest comes, in order. */
	assert_true(first >= 1 && first < 100);
	for (i = first + 1; i <= total; i++) {
		assert_true(next_frame(&r, msg, sizeof(msg), 5000));
		assert_int_equal(msg_n(msg), i);
	}
	wait_sent(s, total, 5000);
	st = stats_of(s);
	assert_int_equal(st.sent, total);
	assert_int_equal(st.dropped, 0);
	assert_true(st.resent > 0);
	assert_true(st.resent <= SG_SIEM_INFLIGHT_MAX);
	assert_int_equal(st.reconnects, 1);
	assert_true(st.errors >= 1);
	print_message("break: %u records lost in the dead receiver's buffer, %llu resent\n",
		      first - 1, (unsigned long long)st.resent);
	sg_siem_stop(s, 1000);
	close(r.fd);
	close(lfd);
}

static void test_stop_does_not_hang_on_a_dead_receiver(void **state)
{
	char line[512];
	struct sg_siem *s;
	int lfd, port;
	uint64_t t0;

	lfd = loopback(&port, false, 0);
	s = start_tcp(port, 8);
	record(line, sizeof(line), 1);
	sg_siem_submit(s, line, strlen(line));
	usleep(200 * 1000);
	t0 = mono_ms();
	sg_siem_stop(s, 3000);
	/* Not connected: nothing to drain into, so no waiting for the drain time. */
	assert_true(mono_ms() - t0 < 1000);
	close(lfd);
}

static void test_stop_gives_up_on_a_receiver_that_does_not_read(void **state)
{
	char line[512];
	struct sg_siem *s;
	int lfd, port, c;
	uint64_t t0;
	unsigned i;

	lfd = loopback(&port, true, 4096);
	s = start_tcp(port, 2000);
	c = accept_within(lfd, 5000);
	for (i = 1; i <= 2000; i++) {
		record(line, sizeof(line), i);
		sg_siem_submit(s, line, strlen(line));
	}
	usleep(200 * 1000);
	t0 = mono_ms();
	sg_siem_stop(s, 300);
	assert_true(mono_ms() - t0 < 1500);
	close(c);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_forms),
		cmocka_unit_test(test_bad_addresses_are_refused_with_a_reason),
		cmocka_unit_test(test_start_refuses_bad_config),
		cmocka_unit_test(test_no_exporter_is_a_no_op),
		cmocka_unit_test(test_records_arrive_in_order_as_exact_frames),
		cmocka_unit_test(test_full_queue_drops_the_oldest_then_reconnects),
		cmocka_unit_test(test_unacknowledged_records_are_sent_again_after_a_break),
		cmocka_unit_test(test_stop_does_not_hang_on_a_dead_receiver),
		cmocka_unit_test(test_stop_gives_up_on_a_receiver_that_does_not_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

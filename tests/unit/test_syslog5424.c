// SPDX-License-Identifier: Apache-2.0
/*
 * RFC 5424 / RFC 6587 formatting for the SIEM export (OPS-4): the octet
 * count is the message's length, header fields are PRINTUSASCII and cut to
 * their RFC lengths whatever they hold, the structured data escapes '"', '\'
 * and ']', the message is the audit line byte for byte, and the common
 * fields are read from real audit records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/audit.h"
#include "report/json.h"
#include "report/syslog5424.h"

static const char record[] =
	"{\"event_id\":\"000000000000002a\",\"ts\":\"2026-11-23T16:40:01.123456789Z\","
	"\"node_id\":\"node-1\",\"policy_version\":\"v1\",\"type\":\"exec\","
	"\"severity\":\"critical\",\"decision\":\"deny\"}\n";

static struct sg_syslog_hdr hdr(void)
{
	return (struct sg_syslog_hdr){
		.facility = 10,
		.severity = 2,
		.timestamp = "2026-11-23T16:40:01.123456Z",
		.hostname = "node-1",
		.app_name = "sysguard",
		.procid = "4242",
		.msgid = "exec",
		.event_id = "000000000000002a",
	};
}

/* Frame of msg with h; checks the octet count and returns the SYSLOG-MSG (caller frees). */
static char *frame_body(const struct sg_syslog_hdr *h, const char *msg, size_t msglen,
			size_t *body_len)
{
	char *buf = NULL, *end;
	size_t cap = 0, n, count;

	n = sg_syslog_frame(&buf, &cap, h, msg, msglen);
	assert_true(n > 0);
	assert_int_equal(buf[n], '\0');
	count = strtoul(buf, &end, 10);
	assert_true(end > buf && *end == ' ');
	assert_true(buf[0] != '0');
	end++;
	assert_int_equal(count, n - (size_t)(end - buf));
	*body_len = count;
	memmove(buf, end, count + 1);
	return buf;
}

static void test_frame_is_octet_counted_rfc5424_with_the_line_as_msg(void **state)
{
	struct sg_syslog_hdr h = hdr();
	size_t len;
	char *body = frame_body(&h, record, sizeof(record) - 1, &len);
	const char *want_hdr = "<82>1 2026-11-23T16:40:01.123456Z node-1 sysguard 4242 exec "
			       "[sysguard@32473 event_id=\"000000000000002a\"] ";

	/* authpriv (10) * 8 + crit (2) = 82; the line's '\n' is not part of MSG. */
	assert_int_equal(len, strlen(want_hdr) + sizeof(record) - 2);
	assert_memory_equal(body, want_hdr, strlen(want_hdr));
	assert_memory_equal(body + strlen(want_hdr), record, sizeof(record) - 2);
	assert_null(memchr(body, '\n', len));
	free(body);
}

static void test_message_with_newlines_stays_one_frame(void **state)
{
	static const char msg[] = "line one\nline two\n\nend";
	struct sg_syslog_hdr h = hdr();
	size_t len;
	char *body = frame_body(&h, msg, sizeof(msg) - 1, &len);

	/* The count covers the embedded newlines: a receiver never splits on them. */
	assert_int_equal(len, strlen(body));
	assert_non_null(strstr(body, "line one\nline two\n\nend"));
	assert_int_equal(body[len - 1], 'd');
	free(body);
}

static void test_nil_values_and_empty_message(void **state)
{
	struct sg_syslog_hdr h = { .facility = 16, .severity = 6 };
	size_t len;
	char *body = frame_body(&h, "", 0, &len);

	assert_string_equal(body, "<134>1 - - - - - -");
	free(body);
}

static void test_hostile_header_fields_are_printusascii_and_cut(void **state)
{
	char host[400], msgid[100];
	struct sg_syslog_hdr h = hdr();
	const char *p, *fields[6];
	size_t len, i, n = 0;
	char *body;

	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memcpy(host, "evil host\n<13>1 forged\xff", 23);
	memset(msgid, 'm', sizeof(msgid) - 1);
	msgid[sizeof(msgid) - 1] = '\0';
	msgid[3] = ' ';
	h.hostname = host;
	h.msgid = msgid;
	h.app_name = "app\tname";
	body = frame_body(&h, "{}", 2, &len);
	/* Split the header on spaces: exactly 6 fields before the SD, none with a control byte. */
	for (p = body, i = 0; i < 6; i++) {
		fields[i] = p;
		p = strchr(p, ' ');
		assert_non_null(p);
		p++;
		n = (size_t)(p - fields[i] - 1);
		if (i == 2)
			assert_int_equal(n, SG_SYSLOG_HOSTNAME_MAX);
		if (i == 3)
			assert_memory_equal(fields[i], "app_name ", n + 1);
		if (i == 5)
			assert_int_equal(n, SG_SYSLOG_MSGID_MAX);
	}
	assert_memory_equal(fields[2], "evil_host_<13>1_forged_hhh", 26);
	assert_memory_equal(fields[5], "mmm_mmm", 7);
	for (i = 0; i < (size_t)(p - body); i++)
		assert_true(body[i] == ' ' || (body[i] >= 33 && body[i] <= 126));
	assert_memory_equal(p, "[sysguard@32473 ", 16);
	free(body);
}

static void test_sd_param_value_escapes_quote_backslash_bracket(void **state)
{
	struct sg_syslog_hdr h = hdr();
	size_t len;
	char *body;

	h.event_id = "a\"b\\c]d\n\xc3\xa9";
	body = frame_body(&h, "x", 1, &len);
	assert_non_null(strstr(body, " [sysguard@32473 event_id=\"a\\\"b\\\\c\\]d???\"] x"));
	free(body);
}

static void test_pri_from_facility_and_severity(void **state)
{
	struct sg_syslog_hdr h = hdr();
	size_t len;
	char *body;

	h.facility = 23;
	h.severity = 7;
	body = frame_body(&h, "x", 1, &len);
	assert_memory_equal(body, "<191>1 ", 7);
	free(body);
	h.facility = 0;
	h.severity = 0;
	body = frame_body(&h, "x", 1, &len);
	assert_memory_equal(body, "<0>1 ", 5);
	free(body);
}

static void test_frame_buffer_grows_and_is_reused(void **state)
{
	struct sg_syslog_hdr h = hdr();
	size_t cap = 0, n, big_len = 200000;
	char *buf = NULL, *big = malloc(big_len);

	assert_non_null(big);
	memset(big, 'x', big_len);
	n = sg_syslog_frame(&buf, &cap, &h, "{}", 2);
	assert_true(n > 0 && cap > n);
	n = sg_syslog_frame(&buf, &cap, &h, big, big_len);
	assert_true(n > big_len && cap > n);
	assert_memory_equal(buf + n - big_len, big, big_len);
	assert_int_equal(strtoul(buf, NULL, 10), n - (size_t)(strchr(buf, ' ') - buf) - 1);
	free(buf);
	free(big);
}

static void test_timestamp_is_microseconds_utc(void **state)
{
	char out[SG_SYSLOG_TS_LEN];

	assert_int_equal(sg_syslog_timestamp(out, "2026-11-23T16:40:01.123456789Z", 30), 27);
	assert_string_equal(out, "2026-11-23T16:40:01.123456Z");
	/* Truncated, not rounded: .9999999 stays in its second. */
	sg_syslog_timestamp(out, "2026-12-31T23:59:59.999999999Z", 30);
	assert_string_equal(out, "2026-12-31T23:59:59.999999Z");
	assert_int_equal(sg_syslog_timestamp(out, "2026-11-23T16:40:01Z", 20), 27);
	assert_string_equal(out, "2026-11-23T16:40:01.000000Z");
	assert_int_equal(sg_syslog_timestamp(out, "2026-11-23T16:40:01.5Z", 22), 27);
	assert_string_equal(out, "2026-11-23T16:40:01.500000Z");
	/* Not our shape: no timestamp (the header then says "-"). */
	assert_int_equal(sg_syslog_timestamp(out, "2026-11-23T16:40:01.123+01:00", 29), 0);
	assert_string_equal(out, "");
	assert_int_equal(sg_syslog_timestamp(out, "2026-11-23 16:40:01Z", 20), 0);
	assert_int_equal(sg_syslog_timestamp(out, "2026-11-23T16:40:01.Z", 21), 0);
	assert_int_equal(sg_syslog_timestamp(out, "2026-11-23T16:40:0x.1Z", 22), 0);
	assert_int_equal(sg_syslog_timestamp(out, NULL, 0), 0);
}

static void test_severity_map(void **state)
{
	assert_int_equal(sg_syslog_severity("critical", 8), 2);
	assert_int_equal(sg_syslog_severity("warning", 7), 4);
	assert_int_equal(sg_syslog_severity("info", 4), 6);
	assert_int_equal(sg_syslog_severity("informational", 13), 3);
	assert_int_equal(sg_syslog_severity("info", 3), 3);
	assert_int_equal(sg_syslog_severity(NULL, 0), 3);
}

static void test_facility_names(void **state)
{
	assert_int_equal(sg_syslog_facility_parse("kern"), 0);
	assert_int_equal(sg_syslog_facility_parse("authpriv"), 10);
	assert_int_equal(sg_syslog_facility_parse("local0"), 16);
	assert_int_equal(sg_syslog_facility_parse("local7"), 23);
	assert_int_equal(sg_syslog_facility_parse("local8"), -1);
	assert_int_equal(sg_syslog_facility_parse("AUTHPRIV"), -1);
	assert_int_equal(sg_syslog_facility_parse(""), -1);
	assert_int_equal(sg_syslog_facility_parse(NULL), -1);
	assert_string_equal(sg_syslog_facility_name(10), "authpriv");
	assert_string_equal(sg_syslog_facility_name(24), "?");
}

static void assert_field(const char *v, size_t n, const char *want)
{
	assert_non_null(v);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

static void test_fields_of_a_record(void **state)
{
	struct sg_syslog_record f;

	assert_int_equal(sg_syslog_record_fields(record, sizeof(record) - 1, &f), 0);
	assert_field(f.event_id, f.event_id_len, "000000000000002a");
	assert_field(f.ts, f.ts_len, "2026-11-23T16:40:01.123456789Z");
	assert_field(f.type, f.type_len, "exec");
	assert_field(f.severity, f.severity_len, "critical");
}

static void test_fields_only_at_top_level_and_strings(void **state)
{
	static const char line[] =
		" { \"process\" : {\"type\":\"inner\",\"ts\":\"x\",\"a\":[1,{\"b\":\"}]\"}]},"
		"\"note\":\"\\\"type\\\":\\\"fake\\\"\",\"event_id\":42,\"n\":-1.5e3,\"t\":true,"
		"\"type\" : \"policy_reload\",\"severity\":\"info\",\"type\":\"second\"}";
	struct sg_syslog_record f;

	assert_int_equal(sg_syslog_record_fields(line, sizeof(line) - 1, &f), 0);
	assert_field(f.type, f.type_len, "policy_reload");
	assert_field(f.severity, f.severity_len, "info");
	assert_null(f.event_id);	/* a number, not a string */
	assert_null(f.ts);		/* only inside "process" */
}

static void test_fields_of_garbage_are_rejected(void **state)
{
	static const char *const bad[] = {
		"", "[]", "\"x\"", "{", "{\"a\"", "{\"a\":", "{\"a\":\"b", "{\"a\":\"b\"",
		"{\"a\":\"b\",}", "{\"a\" \"b\"}", "{a:1}", "{\"a\":{\"b\":1}",
	};
	struct sg_syslog_record f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sg_syslog_record_fields(bad[i], strlen(bad[i]), &f), -EINVAL);
	assert_int_equal(sg_syslog_record_fields("{}", 2, &f), 0);
	assert_null(f.type);
	assert_int_equal(sg_syslog_record_fields(NULL, 0, &f), -EINVAL);
}

/* A line as the audit writer makes it, with a hostile exe: framed intact, fields found. */
static void test_real_audit_line_round_trips(void **state)
{
	static const char exe[] = "/tmp/evil\" ]name\n\xff\xfe";
	char path[] = "/tmp/sg-syslog-XXXXXX", line[8192], *body;
	struct sg_syslog_record f;
	struct sg_syslog_hdr h = hdr();
	struct sg_audit a;
	struct sg_json j;
	size_t len, n;
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sg_audit_open(&a, path, false, "node \"1\""), 0);
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "exec", SG_SEV_WARNING);
	sg_json_kv_bytes(&j, "exe", exe, sizeof(exe) - 1);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_json_free(&j);
	sg_audit_close(&a);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	unlink(path);
	n = strlen(line);
	assert_int_equal(line[n - 1], '\n');

	assert_int_equal(sg_syslog_record_fields(line, n, &f), 0);
	assert_field(f.type, f.type_len, "exec");
	assert_field(f.event_id, f.event_id_len, "0000000000000001");
	assert_int_equal(sg_syslog_severity(f.severity, f.severity_len), 4);
	body = frame_body(&h, line, n, &len);
	assert_memory_equal(body + len - (n - 1), line, n - 1);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_is_octet_counted_rfc5424_with_the_line_as_msg),
		cmocka_unit_test(test_message_with_newlines_stays_one_frame),
		cmocka_unit_test(test_nil_values_and_empty_message),
		cmocka_unit_test(test_hostile_header_fields_are_printusascii_and_cut),
		cmocka_unit_test(test_sd_param_value_escapes_quote_backslash_bracket),
		cmocka_unit_test(test_pri_from_facility_and_severity),
		cmocka_unit_test(test_frame_buffer_grows_and_is_reused),
		cmocka_unit_test(test_timestamp_is_microseconds_utc),
		cmocka_unit_test(test_severity_map),
		cmocka_unit_test(test_facility_names),
		cmocka_unit_test(test_fields_of_a_record),
		cmocka_unit_test(test_fields_only_at_top_level_and_strings),
		cmocka_unit_test(test_fields_of_garbage_are_rejected),
		cmocka_unit_test(test_real_audit_line_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

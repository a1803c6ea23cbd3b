// SPDX-License-Identifier: Apache-2.0
/* One counters snapshot, two renderers: stats.json as it always was, and Prometheus text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/counters.h"
#include "report/prom_text.h"
#include "json_check.h"

/* The counters behind a stats.json a real daemon (0.9.0, before the snapshot) wrote. */
static void fill_like_daemon(struct sg_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->uptime_s = 2;
	snprintf(c->version, sizeof(c->version), "0.9.0");
	snprintf(c->mode, sizeof(c->mode), "enforce");
	snprintf(c->policy_version, sizeof(c->policy_version), "e2e-1");
	c->backend[SG_BACKEND_FANOTIFY] = true;
	c->backend[SG_BACKEND_PIDFD_KILL] = true;
	c->decisions = (struct sg_counters_decisions){ .events = 87, .allowed = 82, .denied = 1,
						      .mitigations = 1 };
	c->kernel[SG_CNT_EXEC_SEEN] = 34;
	c->deny_entries = 1;
	c->fanotify = (struct sg_counters_fanotify){ .active = true, .events = 49, .allowed = 48,
						    .denied = 1, .ignore_marks = 12, .filesystems = 6 };
	c->egress = (struct sg_counters_egress){ .present = true, .prefixes = 1 };
	c->file_audit = (struct sg_counters_file_audit){ .present = true, .active = true, .selectors = 1 };
	c->audit.nsinks = 1;
	snprintf(c->audit.sinks[0].name, sizeof(c->audit.sinks[0].name), "file");
	c->audit.sinks[0].st.written = 58;
	c->alerts_present = true;
	c->alerts = (struct sg_alert_stats){ .queued = 1, .failed = 1 };
	c->siem_present = true;
	c->siem = (struct sg_siem_stats){ .submitted = 58, .errors = 5, .queue_depth = 58 };
	c->files.present = true;
	snprintf(c->files.backend, sizeof(c->files.backend), "fanotify");
}

static const char daemon_stats_json[] =
	"{\"uptime_s\":2,\"policy_version\":\"e2e-1\",\"decisions\":{\"events\":87,\"decode_errors\":0,"
	"\"allowed\":82,\"denied\":1,\"audited\":0,\"mitigations\":1,\"mitigation_failures\":0,\"hash_errors\":0,"
	"\"held\":0,\"resumed\":0,\"resume_wait_us\":0},\"kernel\":{\"ringbuf_drops\":0,\"execs_seen\":34,\"kills\":0,\"kill_failures\":0,"
	"\"holds\":0,\"lsm_denies\":0,\"gate_kills\":0,\"library_kills\":0,\"library_unchecked\":0,\"deny_entries\":1},\"fanotify\":{\"active\":true,"
	"\"events\":49,\"allowed\":48,\"denied\":1,\"ignore_marks\":12,\"response_errors\":0,"
	"\"filesystems\":6},\"egress\":{\"denied\":0,\"matched\":0,\"ringbuf_drops\":0,\"prefixes\":1},"
	"\"file_audit\":{\"active\":true,\"selectors\":1,\"selected_opens\":0,\"deduplicated\":0,"
	"\"records\":0,\"ringbuf_drops\":0,\"decode_errors\":0},\"shield\":{\"loaded\":false},"
	"\"hash_cache\":{\"hits\":0,\"misses\":0,\"stale\":0,\"evictions\":0,\"entries\":0},"
	"\"audit_write_errors\":0,\"audit\":{\"dropped\":0,\"write_errors\":0,\"lines_cut\":0,"
	"\"file\":{\"written\":58,\"dropped\":0,\"write_errors\":0,\"lines_cut\":0,\"queued_bytes\":0}},"
	"\"alerts\":{\"queued\":1,\"sent\":0,\"failed\":1,\"deduplicated\":0,\"rate_limited\":0,"
	"\"overflow_dropped\":0},\"siem\":{\"connected\":false,\"submitted\":58,\"sent\":0,\"dropped\":0,"
	"\"resent\":0,\"reconnects\":0,\"errors\":5,\"queue_depth\":58},\"files\":{\"backend\":\"fanotify\","
	"\"protected\":0,\"immutable\":0,\"denied\":0,\"allowed_reads\":0,\"protect_errors\":0,"
	"\"create_watched\":0,\"create_undone\":0,\"watched\":0,\"integrity_events\":0,"
	"\"integrity_overflows\":0,\"tamper_detected\":0,\"restored\":0,\"restore_failed\":0,"
	"\"foreign_refused\":0,\"overmounts_removed\":0,\"overmount_remove_failed\":0}}";

static char *render_json(const struct sg_counters *c)
{
	struct sg_json j;
	char *s;

	sg_json_init(&j);
	sg_counters_json(c, &j);
	s = strndup(j.buf, j.len);
	sg_json_free(&j);
	return s;
}

static char *render_prom(const struct sg_counters *c)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(sg_counters_prometheus(c, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void test_json_is_what_the_daemon_wrote_before(void **state)
{
	struct sg_counters c;
	char *s;

	fill_like_daemon(&c);
	s = render_json(&c);
	assert_string_equal(s, daemon_stats_json);
	free(s);
}

static void test_json_leaves_out_what_is_not_running(void **state)
{
	struct sg_counters c;
	struct jc_doc doc;
	char *s;

	memset(&c, 0, sizeof(c));
	s = render_json(&c);
	assert_true(jc_parse(s, strlen(s), &doc));
	jc_doc_free(&doc);
	assert_null(strstr(s, "\"egress\""));
	assert_null(strstr(s, "\"file_audit\""));
	assert_null(strstr(s, "\"alerts\""));
	assert_null(strstr(s, "\"siem\""));
	assert_null(strstr(s, "\"files\""));
	assert_non_null(strstr(s, "\"audit\":{\"dropped\":0,\"write_errors\":0,\"lines_cut\":0}"));
	free(s);
	c.shield.state = SG_SHIELD_BUSY;
	s = render_json(&c);
	assert_non_null(strstr(s, "\"shield\":{\"loaded\":true,\"busy\":true}"));
	free(s);
	c.shield.state = SG_SHIELD_UNREADABLE;
	s = render_json(&c);
	assert_non_null(strstr(s, "\"shield\":{\"loaded\":true},"));
	free(s);
}

static void fill_shield(struct sg_counters *c)
{
	static struct sg_counters_shield_cidr cidrs[2] = {
		{ "10.0.0.0/8", 300 }, { "fd00::/8", 7 },
	};

	c->shield.state = SG_SHIELD_LOADED;
	c->shield.active_set = 1;
	c->shield.dry_run = false;
	snprintf(c->shield.attached[0], sizeof(c->shield.attached[0]), "eth0");
	c->shield.nattached = 1;
	c->shield.rules = 2;
	c->shield.max_rules = 204800;
	c->shield.map_bytes = 4096;
	c->shield.cnt[SG_SH_CNT_PKTS] = 1000;
	c->shield.cnt[SG_SH_CNT_DROPPED] = 307;
	c->shield.cnt[SG_SH_CNT_NON_IP] = 3;
	c->shield.cidrs = cidrs;
	c->shield.ncidrs = 2;
}

static void test_json_shield_is_the_shield_stats_object(void **state)
{
	struct sg_counters c;
	char *s;

	memset(&c, 0, sizeof(c));
	fill_shield(&c);
	s = render_json(&c);
	assert_non_null(strstr(s, "\"shield\":{\"loaded\":true,\"active_set\":1,\"dry_run\":false,"
			       "\"gateway\":null,\"attached\":[\"eth0\"],\"rules\":2,\"max_rules\":204800,"
			       "\"map_bytes\":4096,\"counters\":{\"packets\":1000,\"dropped\":307,"
			       "\"dry_run_matches\":0,\"gateway_passes\":0,\"non_ip\":3},"
			       "\"cidrs\":[{\"cidr\":\"10.0.0.0/8\",\"hits\":300},{\"cidr\":\"fd00::/8\",\"hits\":7}]}"));
	free(s);
	snprintf(c.shield.gateway, sizeof(c.shield.gateway), "10.0.0.1");
	s = render_json(&c);
	assert_non_null(strstr(s, "\"gateway\":\"10.0.0.1\""));
	free(s);
}

/* Each expected line must be a whole line of text. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_prometheus_families_and_labels(void **state)
{
	struct sg_counters c;
	char *t;

	fill_like_daemon(&c);
	fill_shield(&c);
	c.kernel[SG_CNT_KILLS] = 4;
	c.kernel[SG_CNT_RB_DROPS] = 9;
	c.egress.denied = 5;
	c.egress.ringbuf_drops = 2;
	c.files.denied = 3;
	c.audit.sinks[0].st.dropped = 6;
	c.decisions.resumed = 3;
	c.decisions.resume_wait_ns = 250001234;
	t = render_prom(&c);
	assert_line(t, "sysguard_exec_resumed_total 3");
	assert_line(t, "# TYPE sysguard_exec_resume_wait_seconds_total counter");
	assert_line(t, "sysguard_exec_resume_wait_seconds_total 0.250001234");
	assert_line(t, "# HELP sysguard_exec_decisions_total Program starts decided, by decision; "
		       "mode is the mode in force now.");
	assert_line(t, "# TYPE sysguard_exec_decisions_total counter");
	assert_line(t, "sysguard_exec_decisions_total{decision=\"allow\",mode=\"enforce\"} 82");
	assert_line(t, "sysguard_exec_decisions_total{decision=\"deny\",mode=\"enforce\"} 1");
	assert_line(t, "# TYPE sysguard_build_info gauge");
	assert_line(t, "sysguard_build_info{version=\"0.9.0\"} 1");
	assert_line(t, "sysguard_policy_info{version=\"e2e-1\",mode=\"enforce\"} 1");
	assert_line(t, "# TYPE sysguard_uptime_seconds gauge");
	assert_line(t, "sysguard_uptime_seconds 2");
	assert_line(t, "sysguard_backend_active{backend=\"fanotify\"} 1");
	assert_line(t, "sysguard_backend_active{backend=\"bpf_lsm\"} 0");
	assert_line(t, "sysguard_kernel_events_total{event=\"kill\"} 4");
	assert_line(t, "sysguard_kernel_events_total{event=\"exec\"} 34");
	assert_line(t, "sysguard_ringbuf_dropped_total{ring=\"exec\"} 9");
	assert_line(t, "sysguard_ringbuf_dropped_total{ring=\"egress\"} 2");
	assert_line(t, "sysguard_ringbuf_dropped_total{ring=\"file_audit\"} 0");
	assert_line(t, "sysguard_fanotify_events_total{result=\"deny\"} 1");
	assert_line(t, "sysguard_fanotify_events_total{result=\"allow\"} 48");
	assert_line(t, "sysguard_fanotify_events_total{result=\"other\"} 0");
	assert_line(t, "sysguard_egress_denies_total 5");
	assert_line(t, "sysguard_shield_dropped_packets_total{cidr=\"10.0.0.0/8\"} 300");
	assert_line(t, "sysguard_shield_dropped_packets_total{cidr=\"fd00::/8\"} 7");
	assert_line(t, "sysguard_shield_matched_packets_total{verdict=\"dropped\"} 307");
	assert_line(t, "sysguard_shield_attached{interface=\"eth0\"} 1");
	assert_line(t, "# TYPE sysguard_shield_map_bytes gauge");
	assert_line(t, "sysguard_file_denies_total 3");
	assert_line(t, "sysguard_audit_records_total{sink=\"file\"} 58");
	assert_line(t, "sysguard_audit_dropped_total{sink=\"file\"} 6");
	assert_line(t, "sysguard_alerts_total{result=\"failed\"} 1");
	assert_line(t, "sysguard_siem_queue_depth 58");
	assert_line(t, "sysguard_siem_errors_total 5");
	assert_line(t, "sysguard_files_backend_info{backend=\"fanotify\"} 1");
	free(t);
}

/* The text format's rules: HELP then TYPE before a family's samples, one family once, names. */
static void test_prometheus_every_family_is_described_and_named_by_the_rules(void **state)
{
	char seen[128][96], fam[96] = "", type[16] = "";
	struct sg_counters c;
	size_t nseen = 0, i, samples = 0;
	char *t, *line, *save = NULL;

	fill_like_daemon(&c);
	fill_shield(&c);
	t = render_prom(&c);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%95s", fam), 1);
			for (i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], fam);
			assert_true(nseen < 128);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", fam);
			type[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line + 7, "%95s %15s", name, type), 2);
			assert_string_equal(name, fam);
			if (!strcmp(type, "counter"))
				assert_string_equal(fam + strlen(fam) - 6, "_total");
			else
				assert_string_equal(type, "gauge");
			continue;
		}
		assert_int_not_equal(line[0], '#');
		assert_int_equal(sscanf(line, "%95[a-z_]", name), 1);
		assert_string_equal(name, fam);
		assert_true(type[0]);
		assert_true(!strncmp(name, "sysguard_", 9));
		if (strcmp(type, "counter"))
			assert_null(strstr(name, "_total"));
		samples++;
	}
	assert_true(nseen > 60);
	assert_true(samples > nseen);
	free(t);
}

static void test_label_values_are_escaped(void **state)
{
	struct sg_counters c;
	char buf[64], *t;

	sg_prom_escape("a\"b\\c\nd", buf, sizeof(buf));
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	/* Not UTF-8: the format is UTF-8, so each bad byte becomes U+FFFD. */
	sg_prom_escape("x\xff\xc3(y\xc3\xa9", buf, sizeof(buf));
	assert_string_equal(buf, "x\xef\xbf\xbd\xef\xbf\xbd(y\xc3\xa9");
	/* Overlong and surrogate encodings are not UTF-8 either. */
	sg_prom_escape("\xc0\xaf\xed\xa0\x80", buf, sizeof(buf));
	assert_string_equal(buf, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* Cut short, never in the middle of an escape. */
	sg_prom_escape("ab\"cd", buf, 4);
	assert_string_equal(buf, "ab");
	sg_prom_escape("\xc3\xa9\xc3\xa9", buf, 4);
	assert_string_equal(buf, "\xc3\xa9");

	memset(&c, 0, sizeof(c));
	snprintf(c.version, sizeof(c.version), "0.9.0");
	snprintf(c.mode, sizeof(c.mode), "monitor");
	snprintf(c.policy_version, sizeof(c.policy_version), "v\"1\\\nx");
	c.audit.nsinks = 1;
	snprintf(c.audit.sinks[0].name, sizeof(c.audit.sinks[0].name), "st\"dout");
	t = render_prom(&c);
	assert_line(t, "sysguard_policy_info{version=\"v\\\"1\\\\\\nx\",mode=\"monitor\"} 1");
	assert_line(t, "sysguard_audit_records_total{sink=\"st\\\"dout\"} 0");
	assert_line(t, "sysguard_exec_decisions_total{decision=\"deny\",mode=\"monitor\"} 0");
	assert_null(strstr(t, "sysguard_egress_"));
	assert_null(strstr(t, "sysguard_siem_"));
	assert_line(t, "sysguard_shield_loaded 0");
	assert_null(strstr(t, "sysguard_shield_dropped_packets_total"));
	free(t);
}

/* The fleet export's object and families, with drops by reason; documented like the rest. */
static void test_fleet_counters(void **state)
{
	struct sg_counters c;
	char *s, doc[65536];
	FILE *f = fopen("docs/api.md", "r");
	size_t n;

	assert_non_null(f);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	memset(&c, 0, sizeof(c));
	c.fleet_present = true;
	c.fleet = (struct sg_fleet_stats){ .submitted = 10, .delivered = 6, .dropped = 3, .spooled = 1,
					   .dropped_by = { [SG_FLEET_DROP_SPOOL_FULL] = 3 },
					   .disconnects = 2 };
	s = render_json(&c);
	assert_non_null(strstr(s, "\"fleet\":{\"connected\":false,\"submitted\":10,\"delivered\":6,"
			       "\"dropped\":3,\"dropped_by\":{\"queue_full\":0,\"spool_full\":3,"
			       "\"too_large\":0,\"spool_error\":0},\"queued\":0,\"spooled\":1,"));
	assert_non_null(strstr(s, "\"late_acks\":0,\"disconnects\":2,\"last_error\":null}"));
	free(s);
	s = render_prom(&c);
	assert_line(s, "sysguard_fleet_dropped_total{reason=\"spool_full\"} 3");
	assert_line(s, "sysguard_fleet_delivered_total 6");
	assert_line(s, "sysguard_fleet_spooled 1");
	assert_line(s, "sysguard_fleet_disconnects_total 2");
	assert_non_null(strstr(doc, "| `sysguard_fleet_dropped_total` | counter |"));
	assert_non_null(strstr(doc, "| `sysguard_fleet_spooled` | gauge |"));
	free(s);
}

/* docs/api.md has a row "| `name` | type |" for every family (make unit runs from the top). */
static void test_every_family_is_documented(void **state)
{
	struct sg_counters c;
	char *t, *line, *save = NULL, doc[65536], row[160];
	FILE *f = fopen("docs/api.md", "r");
	size_t n;

	assert_non_null(f);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	fill_like_daemon(&c);
	fill_shield(&c);
	t = render_prom(&c);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96], type[16];

		if (strncmp(line, "# TYPE ", 7))
			continue;
		assert_int_equal(sscanf(line + 7, "%95s %15s", name, type), 2);
		snprintf(row, sizeof(row), "| `%s` | %s |", name, type);
		if (!strstr(doc, row))
			fail_msg("docs/api.md has no row %s", row);
	}
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_is_what_the_daemon_wrote_before),
		cmocka_unit_test(test_json_leaves_out_what_is_not_running),
		cmocka_unit_test(test_json_shield_is_the_shield_stats_object),
		cmocka_unit_test(test_prometheus_families_and_labels),
		cmocka_unit_test(test_prometheus_every_family_is_described_and_named_by_the_rules),
		cmocka_unit_test(test_label_values_are_escaped),
		cmocka_unit_test(test_every_family_is_documented),
		cmocka_unit_test(test_fleet_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

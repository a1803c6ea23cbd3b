// SPDX-License-Identifier: Apache-2.0
/* What the daemon says about itself in its state directory: ready (status) and stats.json. */
#include <fcntl.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "act/shield_stats.h"
#include "report/metrics.h"

void daemon_write_state(struct daemon *d, const char *name, struct sg_json *j)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d->opt.state_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, j->buf, j->len) == (ssize_t)j->len && write(fd, "\n", 1) == 1)
		rename(tmp, path);
	else
		unlink(tmp);
	close(fd);
}

static void backends_json(struct daemon *d, struct sg_json *j)
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;

	sg_json_key(j, "backends");
	sg_json_begin_array(j);
	if (d->kern.lsm_attached && enforce)
		sg_json_str(j, "bpf_lsm");
	if (d->fan_up)
		sg_json_str(j, "fanotify");
	if (d->kern_up && enforce && !d->opt.no_kill && d->features.f[SG_FEAT_SEND_SIGNAL].usable)
		sg_json_str(j, "bpf_kill");
	if (enforce && !d->opt.no_pidfd)
		sg_json_str(j, "pidfd_kill");
	if (d->egress_up && enforce)
		sg_json_str(j, "egress");
	if (d->fa.attached)
		sg_json_str(j, "file_audit");
	sg_json_end_array(j);
}

void daemon_write_ready(struct daemon *d)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_i64(&j, "pid", getpid());
	sg_json_kv_str(&j, "version", SG_VERSION);
	sg_json_kv_str(&j, "mode", sg_mode_name(sg_engine_mode(&d->engine)));
	sg_json_kv_bool(&j, "break_glass", d->break_glass);
	/* Why the mode is monitor when the policy says enforce: the guard or a recovery start. */
	sg_json_kv_bool(&j, "guard_tripped", d->guard.tripped);
	if (d->recovery[0])
		sg_json_kv_str(&j, "recovery", d->recovery);
	sg_json_kv_str(&j, "policy_version", sg_policy_version(d->engine.policy));
	if (d->opt.policy_path)
		sg_json_kv_bytes(&j, "policy_path", d->opt.policy_path, strlen(d->opt.policy_path));
	if (d->bundle.version) {
		sg_json_key(&j, "bundle");
		sg_json_begin_object(&j);
		sg_json_kv_u64(&j, "version", d->bundle.version);
		sg_json_kv_str(&j, "key_id", d->bundle.key_id);
		sg_json_end_object(&j);
	}
	backends_json(d, &j);
	sg_json_kv_str(&j, "files_backend", d->files ? sg_files_backend(d->files) : "none");
	sg_json_kv_bool(&j, "self_defence", d->files && daemon_self_defence_on(d) && !d->break_glass);
	sg_json_kv_bytes(&j, "blocklist", d->opt.blocklist, strlen(d->opt.blocklist));
	sg_json_end_object(&j);
	daemon_write_state(d, "ready", &j);
	sg_api_set_status(d->api, j.buf, j.len);
	sg_json_free(&j);
}

static void check_drops(struct daemon *d, const uint64_t *k)
{
	struct sg_json j;
	uint64_t id;

	if (k[SG_CNT_RB_DROPS] == d->rb_drops_seen)
		return;
	/* LOG-4: a lost event is counted and said, never silent. */
	sg_json_init(&j);
	id = sg_audit_begin(&d->audit, &j, "ringbuf_drops", SG_SEV_WARNING);
	sg_json_kv_u64(&j, "dropped", k[SG_CNT_RB_DROPS] - d->rb_drops_seen);
	sg_json_kv_u64(&j, "total", k[SG_CNT_RB_DROPS]);
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	if (d->alerts) {
		char eid[17], detail[96];
		struct sg_alert_event ev = {
			.kind = "ringbuf_drops",
			.event_id = eid,
			.node_id = d->audit.node_id,
			.severity = "warning",
			.policy_version = d->audit.policy_version,
			.action = "none",
			.detail = detail,
		};

		snprintf(eid, sizeof(eid), "%016llx", (unsigned long long)id);
		snprintf(detail, sizeof(detail), "%llu exec events lost (ring buffer full)",
			 (unsigned long long)(k[SG_CNT_RB_DROPS] - d->rb_drops_seen));
		sg_alerts_submit(d->alerts, &ev);
	}
	d->rb_drops_seen = k[SG_CNT_RB_DROPS];
}

void daemon_write_stats(struct daemon *d)
{
	static const char *const knames[SG_CNT_MAX] = {
		"ringbuf_drops", "execs_seen", "kills", "kill_failures", "holds", "lsm_denies",
		"gate_kills",
	};
	const struct sg_engine_stats *s = &d->engine.stats;
	uint64_t k[SG_CNT_MAX] = { 0 };
	struct sg_hash_cache_stats hs;
	struct sg_audit_stats aus;
	uint64_t nk[SG_NCNT_MAX];
	struct sg_json j;
	int i;

	if (d->kern_up && sg_exec_bpf_counters(&d->kern, k) == 0)
		check_drops(d, k);
	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "uptime_s", (daemon_now_ms(CLOCK_MONOTONIC) - d->started_ns) / 1000);
	sg_json_kv_str(&j, "policy_version", sg_policy_version(d->engine.policy));
	sg_json_key(&j, "decisions");
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "events", s->events);
	sg_json_kv_u64(&j, "decode_errors", s->decode_errors);
	sg_json_kv_u64(&j, "allowed", s->allowed);
	sg_json_kv_u64(&j, "denied", s->denied);
	sg_json_kv_u64(&j, "mitigations", s->mitigations);
	sg_json_kv_u64(&j, "mitigation_failures", s->mitigation_failures);
	sg_json_kv_u64(&j, "hash_errors", s->hash_errors);
	sg_json_kv_u64(&j, "held", s->held);
	sg_json_end_object(&j);
	sg_json_key(&j, "kernel");
	sg_json_begin_object(&j);
	for (i = 0; i < SG_CNT_MAX; i++)
		sg_json_kv_u64(&j, knames[i], k[i]);
	sg_json_kv_u64(&j, "deny_entries", d->kern.deny_count);
	sg_json_end_object(&j);
	sg_json_key(&j, "fanotify");
	sg_json_begin_object(&j);
	sg_json_kv_bool(&j, "active", d->fan_up);
	sg_json_kv_u64(&j, "events", d->fan.stats.events);
	sg_json_kv_u64(&j, "allowed", d->fan.stats.allowed);
	sg_json_kv_u64(&j, "denied", d->fan.stats.denied);
	sg_json_kv_u64(&j, "ignore_marks", d->fan.stats.ignore_marks);
	sg_json_kv_u64(&j, "response_errors", d->fan.stats.response_errors);
	sg_json_kv_u64(&j, "filesystems", d->fan.stats.filesystems);
	sg_json_end_object(&j);
	if (d->egress_up && sg_egress_counters(&d->egress, nk) == 0) {
		sg_json_key(&j, "egress");
		sg_json_begin_object(&j);
		sg_json_kv_u64(&j, "denied", nk[SG_NCNT_DENIES]);
		sg_json_kv_u64(&j, "matched", nk[SG_NCNT_MATCHES]);
		sg_json_kv_u64(&j, "ringbuf_drops", nk[SG_NCNT_RB_DROPS]);
		sg_json_kv_u64(&j, "prefixes", d->egress.prefixes);
		sg_json_end_object(&j);
	}
	if (d->fa_loaded)
		sg_open_audit_report_stats(&d->fa, &j);
	/* NET-2: the Shield lives in pinned maps (sysguardctl shield); report what is loaded. */
	sg_shield_stats_pinned(SG_SHIELD_PIN_DIR, SG_SHIELD_STATS_MAX_CIDRS, &j);
	sg_hash_cache_stats(d->engine.hashes, &hs);
	sg_json_key(&j, "hash_cache");
	sg_json_begin_object(&j);
	sg_json_kv_u64(&j, "hits", hs.hits);
	sg_json_kv_u64(&j, "misses", hs.misses);
	sg_json_kv_u64(&j, "stale", hs.stale);
	sg_json_kv_u64(&j, "evictions", hs.evictions);
	sg_json_kv_u64(&j, "entries", hs.entries);
	sg_json_end_object(&j);
	sg_audit_report_drops(&d->audit);
	sg_audit_stats(&d->audit, &aus);
	sg_json_kv_u64(&j, "audit_write_errors", aus.write_errors);
	sg_audit_stats_json(&d->audit, &j);
	if (d->alerts) {
		struct sg_alert_stats as;

		sg_alerts_stats(d->alerts, &as);
		sg_json_key(&j, "alerts");
		sg_json_begin_object(&j);
		sg_json_kv_u64(&j, "queued", as.queued);
		sg_json_kv_u64(&j, "sent", as.sent);
		sg_json_kv_u64(&j, "failed", as.failed);
		sg_json_kv_u64(&j, "deduplicated", as.deduplicated);
		sg_json_kv_u64(&j, "rate_limited", as.rate_limited);
		sg_json_kv_u64(&j, "overflow_dropped", as.overflow_dropped);
		sg_json_end_object(&j);
	}
	if (d->siem) {
		struct sg_siem_stats ss;

		sg_siem_stats(d->siem, &ss);
		sg_json_key(&j, "siem");
		sg_json_begin_object(&j);
		sg_json_kv_bool(&j, "connected", ss.connected);
		sg_json_kv_u64(&j, "submitted", ss.submitted);
		sg_json_kv_u64(&j, "sent", ss.sent);
		sg_json_kv_u64(&j, "dropped", ss.dropped);
		sg_json_kv_u64(&j, "resent", ss.resent);
		sg_json_kv_u64(&j, "reconnects", ss.reconnects);
		sg_json_kv_u64(&j, "errors", ss.errors);
		sg_json_kv_u64(&j, "queue_depth", ss.queue_depth);
		sg_json_end_object(&j);
	}
	if (d->files)
		sg_files_stats_json(d->files, &j);
	sg_json_end_object(&j);
	daemon_write_state(d, "stats.json", &j);
	if (d->api) {
		char *text;
		size_t len;

		sg_api_set_stats(d->api, j.buf, j.len);
		if (sg_metrics_from_stats(j.buf, j.len, &text, &len) == 0) {
			sg_api_set_metrics(d->api, text, len);
			free(text);
		}
	}
	sg_json_free(&j);
}

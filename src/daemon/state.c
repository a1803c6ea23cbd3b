// SPDX-License-Identifier: Apache-2.0
/* What the daemon says about itself in its state directory: ready (status) and stats.json. */
#include <fcntl.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "act/shield_stats.h"
#include "report/counters.h"
#include "report/metrics_http.h"

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

/* Which backends work now: the ready file's list and /metrics' sysguard_backend_active. */
static void backends_active(struct daemon *d, bool on[SG_BACKEND_MAX])
{
	bool enforce = sg_engine_mode(&d->engine) == SG_MODE_ENFORCE;

	on[SG_BACKEND_BPF_LSM] = d->kern.lsm_attached && enforce;
	on[SG_BACKEND_FANOTIFY] = d->fan_up;
	on[SG_BACKEND_BPF_KILL] = d->kern_up && enforce && !d->opt.no_kill &&
				  d->features.f[SG_FEAT_SEND_SIGNAL].usable;
	on[SG_BACKEND_PIDFD_KILL] = enforce && !d->opt.no_pidfd;
	on[SG_BACKEND_EGRESS] = d->egress_up && enforce;
	on[SG_BACKEND_FILE_AUDIT] = d->fa.attached;
}

static void backends_json(struct daemon *d, struct sg_json *j)
{
	bool on[SG_BACKEND_MAX];
	int b;

	backends_active(d, on);
	sg_json_key(j, "backends");
	sg_json_begin_array(j);
	for (b = 0; b < SG_BACKEND_MAX; b++)
		if (on[b])
			sg_json_str(j, sg_backend_name(b));
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
		sg_json_kv_bytes(&j, "policy_path", daemon_shown_path(d->opt.policy_path),
				 strlen(daemon_shown_path(d->opt.policy_path)));
	if (d->opt.policy_dir) {
		const struct sg_policy *p = d->engine.policy;
		size_t i, n = p ? sg_policy_fragment_count(p) : 0;

		sg_json_kv_bytes(&j, "policy_dir", daemon_shown_path(d->opt.policy_dir),
				 strlen(daemon_shown_path(d->opt.policy_dir)));
		/* The names of the fragments in force, in merge order (a list, as status shows it). */
		sg_json_key(&j, "policy_fragments");
		sg_json_begin_array(&j);
		for (i = 0; i < n; i++)
			sg_json_str(&j, sg_policy_fragment_name(p, i));
		sg_json_end_array(&j);
	}
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
	sg_json_kv_bytes(&j, "blocklist", daemon_shown_path(d->opt.blocklist),
			 strlen(daemon_shown_path(d->opt.blocklist)));
	sg_json_end_object(&j);
	daemon_write_state(d, "ready", &j);
	sg_api_set_status(d->api, j.buf, j.len);
	sg_feed_set_status(d->feed, j.buf, j.len);
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
		char detail[96];

		snprintf(detail, sizeof(detail), "%llu exec events lost (ring buffer full)",
			 (unsigned long long)(k[SG_CNT_RB_DROPS] - d->rb_drops_seen));
		daemon_alert(d, id, "ringbuf_drops", "warning", "none", detail);
	}
	d->rb_drops_seen = k[SG_CNT_RB_DROPS];
}

void daemon_collect_counters(struct daemon *d, struct sg_counters *c)
{
	const struct sg_engine_stats *s = &d->engine.stats;
	uint64_t nk[SG_NCNT_MAX];

	memset(c, 0, sizeof(*c));
	c->uptime_s = (daemon_now_ms(CLOCK_MONOTONIC) - d->started_ns) / 1000;
	snprintf(c->version, sizeof(c->version), "%s", SG_VERSION);
	snprintf(c->mode, sizeof(c->mode), "%s", sg_mode_name(sg_engine_mode(&d->engine)));
	snprintf(c->policy_version, sizeof(c->policy_version), "%s", sg_policy_version(d->engine.policy));
	backends_active(d, c->backend);
	c->decisions = (struct sg_counters_decisions){
		.events = s->events,
		.decode_errors = s->decode_errors,
		.allowed = s->allowed,
		.denied = s->denied,
		.mitigations = s->mitigations,
		.mitigation_failures = s->mitigation_failures,
		.hash_errors = s->hash_errors,
		.held = s->held,
		.resumed = s->resumed,
		.resume_wait_ns = s->resume_wait_ns,
		.audited = s->audited,
	};
	if (d->kern_up && sg_exec_bpf_counters(&d->kern, c->kernel) == 0)
		check_drops(d, c->kernel);
	else
		memset(c->kernel, 0, sizeof(c->kernel));
	c->deny_entries = d->kern.deny_count;
	c->fanotify = (struct sg_counters_fanotify){
		.active = d->fan_up,
		.events = d->fan.stats.events,
		.allowed = d->fan.stats.allowed,
		.denied = d->fan.stats.denied,
		.ignore_marks = d->fan.stats.ignore_marks,
		.response_errors = d->fan.stats.response_errors,
		.filesystems = d->fan.stats.filesystems,
	};
	if (d->egress_up && sg_egress_counters(&d->egress, nk) == 0)
		c->egress = (struct sg_counters_egress){
			.present = true,
			.denied = nk[SG_NCNT_DENIES],
			.matched = nk[SG_NCNT_MATCHES],
			.ringbuf_drops = nk[SG_NCNT_RB_DROPS],
			.prefixes = d->egress.prefixes,
		};
	if (d->fa_loaded)
		sg_open_audit_stats(&d->fa, &c->file_audit);
	/* NET-2: the Shield lives in pinned maps (sysguardctl shield); report what is loaded. */
	sg_shield_counters_pinned(SG_SHIELD_PIN_DIR, SG_SHIELD_STATS_MAX_CIDRS, &c->shield);
	sg_hash_cache_stats(d->engine.hashes, &c->hash_cache);
	sg_audit_report_drops(&d->audit);
	sg_audit_counters(&d->audit, &c->audit);
	if (d->alerts) {
		c->alerts_present = true;
		sg_alerts_stats(d->alerts, &c->alerts);
	}
	if (d->siem) {
		c->siem_present = true;
		sg_siem_stats(d->siem, &c->siem);
	}
	if (d->fleet) {
		c->fleet_present = true;
		sg_fleet_stats(d->fleet, &c->fleet);
	}
	if (d->files)
		sg_files_counters(d->files, &c->files);
}

/* Once a stats tick: one snapshot, written as stats.json and served as /stats and /metrics. */
void daemon_write_stats(struct daemon *d)
{
	struct sg_counters c;
	struct sg_json j;
	char *text;
	size_t len;

	daemon_collect_counters(d, &c);
	daemon_fleet_node_status(d, &c);
	sg_json_init(&j);
	sg_counters_json(&c, &j);
	daemon_write_state(d, "stats.json", &j);
	sg_api_set_stats(d->api, j.buf, j.len);
	sg_feed_set_stats(d->feed, j.buf, j.len);
	sg_json_free(&j);
	if ((d->api || d->metrics) && sg_counters_prometheus(&c, &text, &len) == 0) {
		sg_api_set_metrics(d->api, text, len);
		sg_metrics_http_set(d->metrics, text, len);
		free(text);
	}
	sg_counters_free(&c);
}

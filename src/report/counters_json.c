// SPDX-License-Identifier: Apache-2.0
/* stats.json from the counters snapshot: the names and order stats readers have always seen. */
#include <stdlib.h>

#include "report/counters.h"

static const char *const backend_names[SG_BACKEND_MAX] = {
	[SG_BACKEND_BPF_LSM] = "bpf_lsm", [SG_BACKEND_FANOTIFY] = "fanotify",
	[SG_BACKEND_BPF_KILL] = "bpf_kill", [SG_BACKEND_PIDFD_KILL] = "pidfd_kill",
	[SG_BACKEND_EGRESS] = "egress", [SG_BACKEND_FILE_AUDIT] = "file_audit",
};

const char *sg_backend_name(int b)
{
	return b >= 0 && b < SG_BACKEND_MAX ? backend_names[b] : "?";
}

void sg_counters_free(struct sg_counters *c)
{
	free(c->shield.cidrs);
	c->shield.cidrs = NULL;
	c->shield.ncidrs = 0;
}

static void decisions_json(const struct sg_counters_decisions *s, struct sg_json *j)
{
	sg_json_key(j, "decisions");
	sg_json_begin_object(j);
	sg_json_kv_u64(j, "events", s->events);
	sg_json_kv_u64(j, "decode_errors", s->decode_errors);
	sg_json_kv_u64(j, "allowed", s->allowed);
	sg_json_kv_u64(j, "denied", s->denied);
	sg_json_kv_u64(j, "audited", s->audited);
	sg_json_kv_u64(j, "mitigations", s->mitigations);
	sg_json_kv_u64(j, "mitigation_failures", s->mitigation_failures);
	sg_json_kv_u64(j, "hash_errors", s->hash_errors);
	sg_json_kv_u64(j, "held", s->held);
	sg_json_kv_u64(j, "resumed", s->resumed);
	sg_json_kv_u64(j, "resume_wait_us", s->resume_wait_ns / 1000);
	sg_json_end_object(j);
}

static void kernel_json(const struct sg_counters *c, struct sg_json *j)
{
	static const char *const knames[SG_CNT_MAX] = {
		[SG_CNT_RB_DROPS] = "ringbuf_drops", [SG_CNT_EXEC_SEEN] = "execs_seen",
		[SG_CNT_KILLS] = "kills", [SG_CNT_KILL_FAILED] = "kill_failures",
		[SG_CNT_HOLDS] = "holds", [SG_CNT_LSM_DENIES] = "lsm_denies",
		[SG_CNT_GATE_KILLS] = "gate_kills", [SG_CNT_LIB_KILLS] = "library_kills",
		[SG_CNT_LIB_UNCHECKED] = "library_unchecked",
	};
	int i;

	sg_json_key(j, "kernel");
	sg_json_begin_object(j);
	for (i = 0; i < SG_CNT_MAX; i++)
		sg_json_kv_u64(j, knames[i], c->kernel[i]);
	sg_json_kv_u64(j, "deny_entries", c->deny_entries);
	sg_json_end_object(j);
}

static void fanotify_json(const struct sg_counters_fanotify *f, struct sg_json *j)
{
	sg_json_key(j, "fanotify");
	sg_json_begin_object(j);
	sg_json_kv_bool(j, "active", f->active);
	sg_json_kv_u64(j, "events", f->events);
	sg_json_kv_u64(j, "allowed", f->allowed);
	sg_json_kv_u64(j, "denied", f->denied);
	sg_json_kv_u64(j, "ignore_marks", f->ignore_marks);
	sg_json_kv_u64(j, "response_errors", f->response_errors);
	sg_json_kv_u64(j, "filesystems", f->filesystems);
	sg_json_end_object(j);
}

static void egress_json(const struct sg_counters_egress *e, struct sg_json *j)
{
	sg_json_key(j, "egress");
	sg_json_begin_object(j);
	sg_json_kv_u64(j, "denied", e->denied);
	sg_json_kv_u64(j, "matched", e->matched);
	sg_json_kv_u64(j, "ringbuf_drops", e->ringbuf_drops);
	sg_json_kv_u64(j, "prefixes", e->prefixes);
	sg_json_end_object(j);
}

static void file_audit_json(const struct sg_counters_file_audit *f, struct sg_json *j)
{
	sg_json_key(j, "file_audit");
	sg_json_begin_object(j);
	sg_json_kv_bool(j, "active", f->active);
	sg_json_kv_u64(j, "selectors", f->selectors);
	sg_json_kv_u64(j, "selected_opens", f->selected_opens);
	sg_json_kv_u64(j, "deduplicated", f->deduplicated);
	sg_json_kv_u64(j, "records", f->records);
	sg_json_kv_u64(j, "ringbuf_drops", f->ringbuf_drops);
	sg_json_kv_u64(j, "decode_errors", f->decode_errors);
	sg_json_end_object(j);
}

/* The same object `sysguardctl shield stats --json` prints, with only the CIDRs that have hits. */
static void shield_json(const struct sg_counters_shield *s, struct sg_json *j)
{
	static const char *const cnt_name[SG_SH_CNT_MAX] = {
		[SG_SH_CNT_PKTS] = "packets", [SG_SH_CNT_DROPPED] = "dropped",
		[SG_SH_CNT_DRY_MATCH] = "dry_run_matches", [SG_SH_CNT_GW_PASS] = "gateway_passes",
		[SG_SH_CNT_NON_IP] = "non_ip",
	};
	size_t i;
	int k;

	sg_json_key(j, "shield");
	sg_json_begin_object(j);
	sg_json_kv_bool(j, "loaded", s->state != SG_SHIELD_ABSENT);
	if (s->state == SG_SHIELD_BUSY)
		sg_json_kv_bool(j, "busy", true);
	if (s->state != SG_SHIELD_LOADED) {
		sg_json_end_object(j);
		return;
	}
	sg_json_kv_u64(j, "active_set", s->active_set);
	sg_json_kv_bool(j, "dry_run", s->dry_run);
	if (s->gateway[0]) {
		sg_json_kv_str(j, "gateway", s->gateway);
	} else {
		sg_json_key(j, "gateway");
		sg_json_null(j);
	}
	sg_json_key(j, "attached");
	sg_json_begin_array(j);
	for (i = 0; i < s->nattached; i++)
		sg_json_str(j, s->attached[i]);
	sg_json_end_array(j);
	sg_json_kv_u64(j, "rules", s->rules);
	sg_json_kv_u64(j, "max_rules", s->max_rules);
	sg_json_kv_u64(j, "map_bytes", s->map_bytes);
	sg_json_key(j, "counters");
	sg_json_begin_object(j);
	for (k = 0; k < SG_SH_CNT_MAX; k++)
		sg_json_kv_u64(j, cnt_name[k], s->cnt[k]);
	sg_json_end_object(j);
	sg_json_key(j, "cidrs");
	sg_json_begin_array(j);
	for (i = 0; i < s->ncidrs; i++) {
		sg_json_begin_object(j);
		sg_json_kv_str(j, "cidr", s->cidrs[i].cidr);
		sg_json_kv_u64(j, "hits", s->cidrs[i].hits);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
}

static void hash_cache_json(const struct sg_hash_cache_stats *h, struct sg_json *j)
{
	sg_json_key(j, "hash_cache");
	sg_json_begin_object(j);
	sg_json_kv_u64(j, "hits", h->hits);
	sg_json_kv_u64(j, "misses", h->misses);
	sg_json_kv_u64(j, "stale", h->stale);
	sg_json_kv_u64(j, "evictions", h->evictions);
	sg_json_kv_u64(j, "entries", h->entries);
	sg_json_end_object(j);
}

static void audit_json(const struct sg_counters_audit *a, struct sg_json *j)
{
	unsigned i;

	sg_json_kv_u64(j, "audit_write_errors", a->total.write_errors);
	sg_json_key(j, "audit");
	sg_json_begin_object(j);
	sg_json_kv_u64(j, "dropped", a->total.dropped);
	sg_json_kv_u64(j, "write_errors", a->total.write_errors);
	sg_json_kv_u64(j, "lines_cut", a->total.lines_cut);
	for (i = 0; i < a->nsinks; i++) {
		const struct sg_audit_sink_stats *ss = &a->sinks[i].st;

		sg_json_key(j, a->sinks[i].name);
		sg_json_begin_object(j);
		sg_json_kv_u64(j, "written", ss->written);
		sg_json_kv_u64(j, "dropped", ss->dropped);
		sg_json_kv_u64(j, "write_errors", ss->write_errors);
		sg_json_kv_u64(j, "lines_cut", ss->lines_cut);
		sg_json_kv_u64(j, "queued_bytes", ss->queued_bytes);
		sg_json_end_object(j);
	}
	sg_json_end_object(j);
}

static void alerts_json(const struct sg_alert_stats *as, struct sg_json *j)
{
	sg_json_key(j, "alerts");
	sg_json_begin_object(j);
	sg_json_kv_u64(j, "queued", as->queued);
	sg_json_kv_u64(j, "sent", as->sent);
	sg_json_kv_u64(j, "failed", as->failed);
	sg_json_kv_u64(j, "deduplicated", as->deduplicated);
	sg_json_kv_u64(j, "rate_limited", as->rate_limited);
	sg_json_kv_u64(j, "overflow_dropped", as->overflow_dropped);
	sg_json_end_object(j);
}

static void siem_json(const struct sg_siem_stats *ss, struct sg_json *j)
{
	sg_json_key(j, "siem");
	sg_json_begin_object(j);
	sg_json_kv_bool(j, "connected", ss->connected);
	sg_json_kv_u64(j, "submitted", ss->submitted);
	sg_json_kv_u64(j, "sent", ss->sent);
	sg_json_kv_u64(j, "dropped", ss->dropped);
	sg_json_kv_u64(j, "resent", ss->resent);
	sg_json_kv_u64(j, "reconnects", ss->reconnects);
	sg_json_kv_u64(j, "errors", ss->errors);
	sg_json_kv_u64(j, "queue_depth", ss->queue_depth);
	sg_json_end_object(j);
}

static void fleet_json(const struct sg_fleet_stats *fs, struct sg_json *j)
{
	int i;

	sg_json_key(j, "fleet");
	sg_json_begin_object(j);
	sg_json_kv_bool(j, "connected", fs->connected);
	sg_json_kv_u64(j, "submitted", fs->submitted);
	sg_json_kv_u64(j, "delivered", fs->delivered);
	sg_json_kv_u64(j, "dropped", fs->dropped);
	sg_json_key(j, "dropped_by");
	sg_json_begin_object(j);
	for (i = 0; i < SG_FLEET_DROP_MAX; i++)
		sg_json_kv_u64(j, sg_fleet_drop_name(i), fs->dropped_by[i]);
	sg_json_end_object(j);
	sg_json_kv_u64(j, "queued", fs->queued);
	sg_json_kv_u64(j, "spooled", fs->spooled);
	sg_json_kv_u64(j, "spool_bytes", fs->spool_bytes);
	sg_json_kv_u64(j, "replayed", fs->replayed);
	sg_json_kv_u64(j, "recovered", fs->recovered);
	sg_json_kv_u64(j, "publish_errors", fs->publish_errors);
	sg_json_kv_u64(j, "late_acks", fs->late_acks);
	sg_json_kv_u64(j, "disconnects", fs->disconnects);
	sg_json_kv_str(j, "last_error", fs->last_error[0] ? fs->last_error : NULL);
	sg_json_end_object(j);
}

static void files_json(const struct sg_counters_files *f, struct sg_json *j)
{
	sg_json_key(j, "files");
	sg_json_begin_object(j);
	sg_json_kv_str(j, "backend", f->backend);
	sg_json_kv_u64(j, "protected", f->protected_files);
	sg_json_kv_u64(j, "immutable", f->immutable);
	sg_json_kv_u64(j, "denied", f->denied);
	sg_json_kv_u64(j, "allowed_reads", f->allowed_reads);
	sg_json_kv_u64(j, "protect_errors", f->protect_errors);
	sg_json_kv_u64(j, "create_watched", f->create_watched);
	sg_json_kv_u64(j, "create_undone", f->create_undone);
	sg_json_kv_u64(j, "watched", f->watched);
	sg_json_kv_u64(j, "integrity_events", f->integrity_events);
	sg_json_kv_u64(j, "integrity_overflows", f->integrity_overflows);
	sg_json_kv_u64(j, "tamper_detected", f->tamper_detected);
	sg_json_kv_u64(j, "restored", f->restored);
	sg_json_kv_u64(j, "restore_failed", f->restore_failed);
	sg_json_kv_u64(j, "foreign_refused", f->foreign_refused);
	sg_json_kv_u64(j, "overmounts_removed", f->overmounts_removed);
	sg_json_kv_u64(j, "overmount_remove_failed", f->overmount_remove_failed);
	sg_json_end_object(j);
}

void sg_counters_json(const struct sg_counters *c, struct sg_json *j)
{
	sg_json_begin_object(j);
	sg_json_kv_u64(j, "uptime_s", c->uptime_s);
	sg_json_kv_str(j, "policy_version", c->policy_version);
	decisions_json(&c->decisions, j);
	kernel_json(c, j);
	fanotify_json(&c->fanotify, j);
	if (c->egress.present)
		egress_json(&c->egress, j);
	if (c->file_audit.present)
		file_audit_json(&c->file_audit, j);
	shield_json(&c->shield, j);
	hash_cache_json(&c->hash_cache, j);
	audit_json(&c->audit, j);
	if (c->alerts_present)
		alerts_json(&c->alerts, j);
	if (c->siem_present)
		siem_json(&c->siem, j);
	if (c->fleet_present)
		fleet_json(&c->fleet, j);
	if (c->files.present)
		files_json(&c->files, j);
	sg_json_end_object(j);
}

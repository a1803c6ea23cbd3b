// SPDX-License-Identifier: Apache-2.0
/*
 * /metrics from the counters snapshot. Names follow Prometheus' rules:
 * counters end in _total, time is in seconds and sizes in bytes, and what
 * tells samples of one family apart is a label, not a name. Each family is
 * described in docs/api.md.
 */
#include <errno.h>
#include <stdlib.h>

#include "report/counters.h"
#include "report/prom_text.h"

#define C "counter"
#define G "gauge"

static void one_label(struct sg_prom *p, const char *name, const char *type, const char *help,
		      const char *key, const char *const *vals, const uint64_t *nums, size_t n)
{
	size_t i;

	sg_prom_family(p, name, type, help);
	for (i = 0; i < n; i++)
		sg_prom_sample(p, name, key, vals[i], NULL, NULL, nums[i]);
}

static void identity(const struct sg_counters *c, struct sg_prom *p)
{
	int b;

	sg_prom_family(p, "sysguard_build_info", G, "The running sysguardd's version (always 1).");
	sg_prom_sample(p, "sysguard_build_info", "version", c->version, NULL, NULL, 1);
	sg_prom_family(p, "sysguard_policy_info", G, "The policy in force and the mode it runs in (always 1).");
	sg_prom_sample(p, "sysguard_policy_info", "version", c->policy_version, "mode", c->mode, 1);
	sg_prom_one(p, "sysguard_uptime_seconds", G, "Seconds since the daemon started.", c->uptime_s);
	sg_prom_family(p, "sysguard_backend_active", G, "1 when this enforcement or audit backend is working now, else 0.");
	for (b = 0; b < SG_BACKEND_MAX; b++)
		sg_prom_sample(p, "sysguard_backend_active", "backend", sg_backend_name(b), NULL, NULL,
			       c->backend[b]);
}

static void exec(const struct sg_counters *c, struct sg_prom *p)
{
	static const char *const kev[SG_CNT_MAX] = {
		[SG_CNT_RB_DROPS] = NULL, [SG_CNT_EXEC_SEEN] = "exec", [SG_CNT_KILLS] = "kill",
		[SG_CNT_KILL_FAILED] = "kill_failure", [SG_CNT_HOLDS] = "hold",
		[SG_CNT_LSM_DENIES] = "lsm_deny", [SG_CNT_GATE_KILLS] = "gate_kill",
		[SG_CNT_LIB_KILLS] = "library_kill", [SG_CNT_LIB_UNCHECKED] = "library_unchecked",
	};
	const struct sg_counters_decisions *d = &c->decisions;
	int i;

	sg_prom_family(p, "sysguard_exec_decisions_total", C,
		       "Program starts decided, by decision; mode is the mode in force now.");
	sg_prom_sample(p, "sysguard_exec_decisions_total", "decision", "allow", "mode", c->mode, d->allowed);
	sg_prom_sample(p, "sysguard_exec_decisions_total", "decision", "deny", "mode", c->mode, d->denied);
	/* Allowed, recorded as a would-be deny by an action: audit rule on trial. */
	sg_prom_sample(p, "sysguard_exec_decisions_total", "decision", "audit", "mode", c->mode, d->audited);
	sg_prom_one(p, "sysguard_exec_events_total", C, "Exec events read from the kernel.", d->events);
	sg_prom_one(p, "sysguard_exec_decode_errors_total", C, "Exec events that could not be read.",
		    d->decode_errors);
	sg_prom_family(p, "sysguard_exec_mitigations_total", C,
		       "Actions taken against denied programs (kill, refusal), by result.");
	sg_prom_sample(p, "sysguard_exec_mitigations_total", "result", "ok", NULL, NULL, d->mitigations);
	sg_prom_sample(p, "sysguard_exec_mitigations_total", "result", "failed", NULL, NULL,
		       d->mitigation_failures);
	sg_prom_one(p, "sysguard_exec_hash_errors_total", C,
		    "Programs whose SHA-256 could not be computed (hash rules did not match them).",
		    d->hash_errors);
	sg_prom_one(p, "sysguard_exec_held_total", C,
		    "Program starts held in the kernel until the daemon decided.", d->held);
	sg_prom_one(p, "sysguard_exec_resumed_total", C,
		    "Held program starts the daemon let go on.", d->resumed);
	sg_prom_one_seconds(p, "sysguard_exec_resume_wait_seconds_total", C,
			    "Time held program starts waited, from the exec to the daemon's go-ahead.",
			    d->resume_wait_ns);
	sg_prom_one(p, "sysguard_exec_deny_entries", G,
		    "Denied programs the kernel knows by identity (in-kernel deny list entries).",
		    c->deny_entries);
	sg_prom_family(p, "sysguard_kernel_events_total", C,
		       "What the kernel side did: execs seen, kills, failed kills, holds, BPF LSM denies, "
		       "kills of held processes that ran anyway.");
	for (i = 0; i < SG_CNT_MAX; i++)
		if (kev[i])
			sg_prom_sample(p, "sysguard_kernel_events_total", "event", kev[i], NULL, NULL,
				       c->kernel[i]);
}

static void rings(const struct sg_counters *c, struct sg_prom *p)
{
	sg_prom_family(p, "sysguard_ringbuf_dropped_total", C,
		       "Records lost because a kernel ring buffer was full, by ring.");
	sg_prom_sample(p, "sysguard_ringbuf_dropped_total", "ring", "exec", NULL, NULL,
		       c->kernel[SG_CNT_RB_DROPS]);
	if (c->egress.present)
		sg_prom_sample(p, "sysguard_ringbuf_dropped_total", "ring", "egress", NULL, NULL,
			       c->egress.ringbuf_drops);
	if (c->file_audit.present)
		sg_prom_sample(p, "sysguard_ringbuf_dropped_total", "ring", "file_audit", NULL, NULL,
			       c->file_audit.ringbuf_drops);
}

static void fanotify(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_counters_fanotify *f = &c->fanotify;
	const char *res[] = { "allow", "deny", "other" };
	uint64_t other = f->events - f->allowed - f->denied;
	uint64_t n[] = { f->allowed, f->denied, f->events >= f->allowed + f->denied ? other : 0 };

	one_label(p, "sysguard_fanotify_events_total", C,
		  "fanotify permission events answered: program starts allowed or denied, other events let through.",
		  "result", res, n, 3);
	sg_prom_one(p, "sysguard_fanotify_response_errors_total", C,
		    "fanotify answers the kernel did not take.", f->response_errors);
	sg_prom_one(p, "sysguard_fanotify_ignore_marks_total", C,
		    "Allowed files marked so the kernel stops asking about them.", f->ignore_marks);
	sg_prom_one(p, "sysguard_fanotify_filesystems", G, "Filesystems fanotify watches.", f->filesystems);
}

static void egress(const struct sg_counters *c, struct sg_prom *p)
{
	if (!c->egress.present)
		return;
	sg_prom_one(p, "sysguard_egress_denies_total", C, "Outgoing connections and sends refused.",
		    c->egress.denied);
	sg_prom_one(p, "sysguard_egress_matches_total", C,
		    "Outgoing connections and sends an egress rule matched (denied, audited or would-deny).",
		    c->egress.matched);
	sg_prom_one(p, "sysguard_egress_prefixes", G, "Address prefixes in the egress rules loaded.",
		    c->egress.prefixes);
}

static void file_audit(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_counters_file_audit *f = &c->file_audit;

	if (!f->present)
		return;
	sg_prom_one(p, "sysguard_file_audit_selectors", G, "file_audit selectors in the policy.", f->selectors);
	sg_prom_one(p, "sysguard_file_audit_opens_total", C, "Successful opens by processes file_audit selects.",
		    f->selected_opens);
	sg_prom_one(p, "sysguard_file_audit_deduplicated_total", C,
		    "Of those, opens already recorded for that process, file and access.", f->deduplicated);
	sg_prom_one(p, "sysguard_file_audit_records_total", C, "file_open records sent by the kernel.",
		    f->records);
	sg_prom_one(p, "sysguard_file_audit_decode_errors_total", C, "file_open records that could not be read.",
		    f->decode_errors);
}

static void shield(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_counters_shield *s = &c->shield;
	const char *verdict[] = { "dropped", "dry_run", "gateway_pass" };
	uint64_t n[] = { s->cnt[SG_SH_CNT_DROPPED], s->cnt[SG_SH_CNT_DRY_MATCH], s->cnt[SG_SH_CNT_GW_PASS] };
	size_t i;

	sg_prom_one(p, "sysguard_shield_loaded", G, "1 when the Shield (XDP deny list) is loaded.",
		    s->state != SG_SHIELD_ABSENT);
	if (s->state != SG_SHIELD_LOADED)
		return;
	sg_prom_one(p, "sysguard_shield_dry_run", G, "1 when the Shield only counts what it would drop.",
		    s->dry_run);
	sg_prom_one(p, "sysguard_shield_rules", G, "CIDRs in the Shield's deny list.", s->rules);
	sg_prom_one(p, "sysguard_shield_max_rules", G, "CIDRs the Shield's maps can hold.", s->max_rules);
	sg_prom_one(p, "sysguard_shield_map_bytes", G, "Memory of the Shield's maps.", s->map_bytes);
	sg_prom_family(p, "sysguard_shield_attached", G, "Interfaces the Shield is attached to (always 1).");
	for (i = 0; i < s->nattached; i++)
		sg_prom_sample(p, "sysguard_shield_attached", "interface", s->attached[i], NULL, NULL, 1);
	sg_prom_one(p, "sysguard_shield_packets_total", C, "IPv4 and IPv6 packets the Shield looked up.",
		    s->cnt[SG_SH_CNT_PKTS]);
	one_label(p, "sysguard_shield_matched_packets_total", C,
		  "Packets from a denied CIDR: dropped, let through in dry run, or let through from the gateway.",
		  "verdict", verdict, n, 3);
	sg_prom_one(p, "sysguard_shield_non_ip_packets_total", C, "Packets that are not IP, let through.",
		    s->cnt[SG_SH_CNT_NON_IP]);
	sg_prom_family(p, "sysguard_shield_dropped_packets_total", C,
		       "Packets dropped (would be, in dry run) per denied CIDR; only CIDRs with drops, "
		       "and only for lists of at most 20000 CIDRs.");
	for (i = 0; i < s->ncidrs; i++)
		sg_prom_sample(p, "sysguard_shield_dropped_packets_total", "cidr", s->cidrs[i].cidr, NULL,
			       NULL, s->cidrs[i].hits);
}

static void hash_cache(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_hash_cache_stats *h = &c->hash_cache;

	sg_prom_family(p, "sysguard_hash_cache_lookups_total", C, "Program hash cache lookups, by result.");
	sg_prom_sample(p, "sysguard_hash_cache_lookups_total", "result", "hit", NULL, NULL, h->hits);
	sg_prom_sample(p, "sysguard_hash_cache_lookups_total", "result", "miss", NULL, NULL, h->misses);
	sg_prom_one(p, "sysguard_hash_cache_stale_total", C,
		    "Of the misses, files changed since they were hashed.", h->stale);
	sg_prom_one(p, "sysguard_hash_cache_evictions_total", C, "Hashes dropped to make room.", h->evictions);
	sg_prom_one(p, "sysguard_hash_cache_entries", G, "Hashes in the cache.", h->entries);
}

static void audit_sinks(const struct sg_counters *c, struct sg_prom *p, const char *name,
			const char *type, const char *help, size_t off)
{
	unsigned i;

	sg_prom_family(p, name, type, help);
	for (i = 0; i < c->audit.nsinks; i++)
		sg_prom_sample(p, name, "sink", c->audit.sinks[i].name, NULL, NULL,
			       *(const uint64_t *)((const char *)&c->audit.sinks[i].st + off));
}

static void audit(const struct sg_counters *c, struct sg_prom *p)
{
	audit_sinks(c, p, "sysguard_audit_records_total", C, "Audit records written, by destination.",
		    offsetof(struct sg_audit_sink_stats, written));
	audit_sinks(c, p, "sysguard_audit_dropped_total", C,
		    "Audit records lost (queue full or write failed), by destination.",
		    offsetof(struct sg_audit_sink_stats, dropped));
	audit_sinks(c, p, "sysguard_audit_write_errors_total", C, "Failed or short writes, by destination.",
		    offsetof(struct sg_audit_sink_stats, write_errors));
	audit_sinks(c, p, "sysguard_audit_lines_cut_total", C,
		    "Partly written records removed or ended, by destination.",
		    offsetof(struct sg_audit_sink_stats, lines_cut));
	audit_sinks(c, p, "sysguard_audit_queue_bytes", G, "Audit records waiting to be written, by destination.",
		    offsetof(struct sg_audit_sink_stats, queued_bytes));
}

static void alerts(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_alert_stats *a = &c->alerts;
	const char *res[] = { "sent", "failed", "deduplicated", "rate_limited", "overflow_dropped" };
	uint64_t n[] = { a->sent, a->failed, a->deduplicated, a->rate_limited, a->overflow_dropped };

	if (!c->alerts_present)
		return;
	sg_prom_one(p, "sysguard_alerts_queued_total", C, "Alerts accepted for delivery.", a->queued);
	one_label(p, "sysguard_alerts_total", C,
		  "Alerts by outcome: delivered, failed, dropped as a repeat, over the rate, or as the oldest of a full queue.",
		  "result", res, n, 5);
	sg_prom_one(p, "sysguard_alerts_queue_depth", G, "Alerts accepted but not yet sent or failed.", a->pending);
}

static void siem(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_siem_stats *s = &c->siem;

	if (!c->siem_present)
		return;
	sg_prom_one(p, "sysguard_siem_connected", G, "1 when a connection to the SIEM receiver is up.", s->connected);
	sg_prom_one(p, "sysguard_siem_submitted_total", C, "Audit records handed to the SIEM export.", s->submitted);
	sg_prom_one(p, "sysguard_siem_sent_total", C, "Records the receiver acknowledged.", s->sent);
	sg_prom_one(p, "sysguard_siem_dropped_total", C, "Records dropped (queue full, or too long).", s->dropped);
	sg_prom_one(p, "sysguard_siem_resent_total", C, "Records sent again after a connection broke.", s->resent);
	sg_prom_one(p, "sysguard_siem_reconnects_total", C, "Connections made after the first.", s->reconnects);
	sg_prom_one(p, "sysguard_siem_errors_total", C, "Failed connection attempts and broken connections.",
		    s->errors);
	sg_prom_one(p, "sysguard_siem_queue_depth", G, "Records queued or in flight, not yet acknowledged.",
		    s->queue_depth);
}

static void fleet(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_fleet_stats *s = &c->fleet;
	const char *names[SG_FLEET_DROP_MAX];
	int i;

	if (!c->fleet_present)
		return;
	for (i = 0; i < SG_FLEET_DROP_MAX; i++)
		names[i] = sg_fleet_drop_name(i);
	sg_prom_one(p, "sysguard_fleet_connected", G, "1 when connected to the bus and the stream is there.",
		    s->connected);
	sg_prom_one(p, "sysguard_fleet_submitted_total", C,
		    "Audit records handed to the fleet export (with those found in the spool at start).", s->submitted);
	sg_prom_one(p, "sysguard_fleet_delivered_total", C, "Records JetStream acknowledged.", s->delivered);
	one_label(p, "sysguard_fleet_dropped_total", C, "Records dropped, by reason.", "reason", names,
		  s->dropped_by, SG_FLEET_DROP_MAX);
	sg_prom_one(p, "sysguard_fleet_queued", G, "Records in memory, on the way to the spool.", s->queued);
	sg_prom_one(p, "sysguard_fleet_spooled", G, "Records in the on-disk spool, not yet acknowledged.", s->spooled);
	sg_prom_one(p, "sysguard_fleet_spool_bytes", G, "Bytes of the spool not yet delivered.", s->spool_bytes);
	sg_prom_one(p, "sysguard_fleet_replayed_total", C, "Records delivered after waiting out a bus failure in the spool.", s->replayed);
	sg_prom_one(p, "sysguard_fleet_publish_errors_total", C, "Batches the bus did not fully acknowledge.",
		    s->publish_errors);
	sg_prom_one(p, "sysguard_fleet_late_acks_total", C,
		    "Records stored behind an earlier one that failed (out of order in the stream).", s->late_acks);
	sg_prom_one(p, "sysguard_fleet_disconnects_total", C,
		    "Times the bus or the stream went away after being there.", s->disconnects);
}

static void files(const struct sg_counters *c, struct sg_prom *p)
{
	const struct sg_counters_files *f = &c->files;

	if (!f->present)
		return;
	sg_prom_family(p, "sysguard_files_backend_info", G, "How protected files are guarded (always 1).");
	sg_prom_sample(p, "sysguard_files_backend_info", "backend", f->backend, NULL, NULL, 1);
	sg_prom_one(p, "sysguard_files_protected", G, "Files under protection.", f->protected_files);
	sg_prom_one(p, "sysguard_files_immutable", G, "Protected files carrying the immutable flag.", f->immutable);
	sg_prom_one(p, "sysguard_file_denies_total", C,
		    "Operations on protected files refused (or that would be, in monitor mode).", f->denied);
	sg_prom_one(p, "sysguard_files_allowed_reads_total", C, "Opens of protected files for reading let through.",
		    f->allowed_reads);
	sg_prom_one(p, "sysguard_files_protect_errors_total", C, "Files that could not be protected.",
		    f->protect_errors);
	sg_prom_one(p, "sysguard_files_create_watched", G, "Absent protected paths watched for creation.",
		    f->create_watched);
	sg_prom_one(p, "sysguard_files_create_undone_total", C, "Files created at a protected path and removed.",
		    f->create_undone);
	sg_prom_one(p, "sysguard_files_integrity_watched", G, "Files watched for changes.", f->watched);
	sg_prom_one(p, "sysguard_files_integrity_events_total", C, "Change events on watched files.",
		    f->integrity_events);
	sg_prom_one(p, "sysguard_files_integrity_overflows_total", C, "Times the change-event queue overflowed.",
		    f->integrity_overflows);
	sg_prom_one(p, "sysguard_files_tamper_detected_total", C, "Changes to the daemon's own files found (self-defence).",
		    f->tamper_detected);
	sg_prom_one(p, "sysguard_files_restored_total", C, "Changed files of the daemon's put back from its copy.", f->restored);
	sg_prom_one(p, "sysguard_files_restore_failed_total", C, "Changed files of the daemon's that could not be put back.",
		    f->restore_failed);
	sg_prom_one(p, "sysguard_files_foreign_refused_total", C,
		    "Files of the daemon's refused because another file stood in their place.", f->foreign_refused);
	sg_prom_one(p, "sysguard_files_overmounts_removed_total", C, "Mounts over the daemon's files removed.",
		    f->overmounts_removed);
	sg_prom_one(p, "sysguard_files_overmount_remove_failed_total", C,
		    "Mounts over the daemon's files that could not be removed.", f->overmount_remove_failed);
}

int sg_counters_prometheus(const struct sg_counters *c, char **out, size_t *len)
{
	struct sg_prom p = { 0 };

	identity(c, &p);
	exec(c, &p);
	rings(c, &p);
	fanotify(c, &p);
	egress(c, &p);
	file_audit(c, &p);
	shield(c, &p);
	hash_cache(c, &p);
	audit(c, &p);
	alerts(c, &p);
	siem(c, &p);
	fleet(c, &p);
	files(c, &p);
	if (p.oom) {
		free(p.buf);
		return -ENOMEM;
	}
	*out = p.buf;
	*len = p.len;
	return 0;
}

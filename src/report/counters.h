/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's counters at one instant: filled once per stats tick from the
 * engine and the backends, then written out twice from the same numbers, as
 * stats.json (and the API's /stats) and as Prometheus text (/metrics). Plain
 * data: no pointer into the daemon, so the renderers can be tested alone.
 */
#ifndef SG_COUNTERS_H
#define SG_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shield_abi.h"
#include "sysguard.h"
#include "net/cidr.h"
#include "policy/hash_cache.h"
#include "report/alert.h"
#include "report/audit.h"
#include "report/fleet_publish.h"
#include "report/json.h"
#include "report/siem.h"

/* The backends a stats reader can see on or off, in this order (also the ready file's order). */
enum sg_backend_id {
	SG_BACKEND_BPF_LSM,
	SG_BACKEND_FANOTIFY,
	SG_BACKEND_BPF_KILL,
	SG_BACKEND_PIDFD_KILL,
	SG_BACKEND_EGRESS,
	SG_BACKEND_FILE_AUDIT,
	SG_BACKEND_MAX,
};

const char *sg_backend_name(int b);

struct sg_counters_decisions {
	uint64_t events, decode_errors, allowed, denied, audited, mitigations, mitigation_failures,
		 hash_errors, held, resumed, resume_wait_ns;
};

struct sg_counters_fanotify {
	bool active;
	uint64_t events, allowed, denied, ignore_marks, response_errors, filesystems;
};

struct sg_counters_egress {
	bool present;			/* the egress program is loaded */
	uint64_t denied, matched, ringbuf_drops, prefixes;
};

struct sg_counters_file_audit {
	bool present;			/* loaded (rules asked for it) */
	bool active;			/* attached */
	uint64_t selectors, selected_opens, deduplicated, records, ringbuf_drops, decode_errors;
};

enum sg_shield_state {
	SG_SHIELD_ABSENT,		/* nothing pinned */
	SG_SHIELD_BUSY,			/* an editor held the lock: the next tick reports */
	SG_SHIELD_UNREADABLE,		/* pinned but could not be read */
	SG_SHIELD_LOADED,
};

#define SG_SHIELD_MAX_ATTACHED 64

struct sg_counters_shield_cidr {
	char cidr[SG_CIDR_STRLEN];
	uint64_t hits;			/* drops, or would-be drops in dry run */
};

struct sg_counters_shield {
	enum sg_shield_state state;
	uint32_t active_set;
	bool dry_run;
	char gateway[SG_CIDR_STRLEN];	/* "" when none */
	char attached[SG_SHIELD_MAX_ATTACHED][16];
	size_t nattached;
	uint64_t rules, max_rules, map_bytes;
	uint64_t cnt[SG_SH_CNT_MAX];
	/* Only the rules with hits; malloc'd, freed by sg_counters_free. */
	struct sg_counters_shield_cidr *cidrs;
	size_t ncidrs;
};

struct sg_counters_audit_sink {
	char name[16];
	struct sg_audit_sink_stats st;
};

struct sg_counters_audit {
	struct sg_audit_stats total;
	struct sg_counters_audit_sink sinks[SG_AUDIT_MAX_SINKS];
	unsigned nsinks;
};

struct sg_counters_files {
	bool present;			/* file protection runs */
	char backend[16];
	uint64_t protected_files, immutable, denied, allowed_reads, protect_errors;
	uint64_t create_watched, create_undone, watched;
	uint64_t integrity_events, integrity_overflows, tamper_detected, restored, restore_failed;
	uint64_t foreign_refused, overmounts_removed, overmount_remove_failed;
};

struct sg_counters {
	uint64_t uptime_s;
	char version[32];
	char mode[16];			/* "monitor" / "enforce" */
	char policy_version[96];	/* SG_POLICY_VERSION_MAX */
	bool backend[SG_BACKEND_MAX];
	struct sg_counters_decisions decisions;
	uint64_t kernel[SG_CNT_MAX];	/* enum sg_counter */
	uint64_t deny_entries;
	struct sg_counters_fanotify fanotify;
	struct sg_counters_egress egress;
	struct sg_counters_file_audit file_audit;
	struct sg_counters_shield shield;
	struct sg_hash_cache_stats hash_cache;
	struct sg_counters_audit audit;
	bool alerts_present;
	struct sg_alert_stats alerts;
	bool siem_present;
	struct sg_siem_stats siem;
	bool fleet_present;
	struct sg_fleet_stats fleet;
	struct sg_counters_files files;
};

void sg_counters_free(struct sg_counters *c);

/* The stats.json object (field names and order are read by tests and `sysguardctl stats`). */
void sg_counters_json(const struct sg_counters *c, struct sg_json *j);

/*
 * Prometheus text exposition (version 0.0.4): every family with # HELP and
 * # TYPE. Malloc'd text in *out (caller frees); 0 or -ENOMEM.
 */
int sg_counters_prometheus(const struct sg_counters *c, char **out, size_t *len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records of the file-open audit (FILE-4): {"type":"file_open",...} and its companions. */
#ifndef SG_FILE_OPEN_RECORD_H
#define SG_FILE_OPEN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/alert.h"
#include "report/audit.h"
#include "report/json.h"
#include "sense/open_event.h"

/*
 * One "file_open" record: severity info, decision "audit" (observe-only,
 * nothing is ever denied), the rule that selected the process, the file
 * (basename as exact bytes: a name that is not UTF-8 also gets name_hex),
 * the access and the process. Returns its event id.
 */
uint64_t sg_record_file_open(struct sg_audit *a, const struct sg_open_facts *f);

/*
 * One "file_audit_rule_inactive" record (warning): a file_audit: rule whose
 * executable or cgroup could not be resolved, left out while the others
 * work. `why` says what is wrong and what to do.
 */
uint64_t sg_record_file_audit_inactive(struct sg_audit *a, const char *rule, unsigned line,
				       bool is_cgroup, const char *target, const char *why);

/*
 * LOG-4: one "ringbuf_drops" record (warning) for the ring buffer `ring`,
 * `dropped` since the last one, `total` so far; alerted when `alerts` is
 * not NULL.
 */
uint64_t sg_record_ringbuf_drops(struct sg_audit *a, struct sg_alerts *alerts, const char *ring,
				 uint64_t dropped, uint64_t total);

#endif

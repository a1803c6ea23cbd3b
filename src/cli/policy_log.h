/* SPDX-License-Identifier: Apache-2.0 */
/* Reading exec records back from an audit log (docs/audit-log.md), for learn and diff. */
#ifndef SG_POLICY_LOG_H
#define SG_POLICY_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "report/json_read.h"
#include "sense/facts.h"

/* Calls fn for each "exec" record, in log order; a non-zero return stops. 0, or -errno. */
typedef int (*sg_exec_record_fn)(const struct sg_jv *rec, void *ctx);
int sg_log_each_exec(const char *path, sg_exec_record_fn fn, void *ctx, FILE *errs);

/*
 * The facts of a recorded exec: path (exact bytes, from exe_hex when
 * present), dev+inode, sha256 when it was computed, parent path. A fileless
 * exec has no path. Returns false when the record has neither path nor hash.
 */
bool sg_log_exec_facts(const struct sg_jv *rec, struct sg_exec_facts *f);

/* The record's decision: "allow", "deny" or "audit" (NULL when absent). */
const char *sg_log_decision(const struct sg_jv *rec);

#endif

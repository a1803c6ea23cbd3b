/* SPDX-License-Identifier: Apache-2.0 */
/* Audit records for exec decisions and the mitigations that enforce them (EXEC-5). */
#ifndef SG_EXEC_RECORD_H
#define SG_EXEC_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "report/alert.h"
#include "report/audit.h"
#include "sense/facts.h"

/*
 * One "exec" record: the decision, the rule, the process. `enforced_by` names
 * the backend that stopped it, or NULL. A deny is also handed to `alerts`
 * (NULL when alerts are off). Returns the record's event id.
 */
uint64_t sg_record_exec(struct sg_audit *a, struct sg_alerts *alerts,
			const struct sg_exec_facts *f, const struct sg_verdict *v,
			enum sg_mode mode, const char *enforced_by);

/*
 * One "mitigation" record for an action taken on `decision_id`; when err is
 * non-zero it is an "action_error" record with severity critical, and alerted.
 */
uint64_t sg_record_mitigation(struct sg_audit *a, struct sg_alerts *alerts,
			      const struct sg_exec_facts *f, uint64_t decision_id,
			      const char *backend, const char *action, int err);

/*
 * A filesystem fanotify had not marked was found by an exec the kernel held
 * (mounted in another namespace): marked now, or why not (err).
 */
void sg_record_fs_mark(struct sg_audit *a, const struct sg_exec_facts *f, int err);

/*
 * An interpreter the policy does not list by path was found in f's exec:
 * `how` "copy" (the content of a listed one) or "container" (a container's
 * file at a listed path); language its argv syntax. err: it could not be
 * held from now on (its run is denied).
 */
void sg_record_interpreter_found(struct sg_audit *a, const struct sg_exec_facts *f,
				 const char *how, const char *language, int err);

/*
 * Hand the record `id` to the alert dispatcher (ALERT-5 fields: its event
 * id, node, severity, executable, rule, policy_version). No-op without alerts.
 */
void sg_record_alert(struct sg_audit *a, struct sg_alerts *alerts, const char *kind,
		     uint64_t id, enum sg_severity sev, const char *exe, size_t exe_len,
		     const char *rule, const char *action, const char *detail);

/* The process fields shared by exec records: {"pid":..,"exe":..,"args":[..],..}. */
void sg_record_process(struct sg_json *j, const struct sg_exec_facts *f);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Webhook bodies for the alert dispatcher (ALERT-5): a Slack message (`text`
 * plus `blocks`) or a Teams message whose attachment is an Adaptive Card.
 * Pure: no I/O, no clock; every string goes through the JSON builder, so any
 * byte an executable name holds is escaped or replaced, never injected.
 */
#ifndef SG_ALERT_PAYLOAD_H
#define SG_ALERT_PAYLOAD_H

#include "report/alert.h"
#include "report/json.h"

/*
 * Longest value, in bytes, a payload carries for one field. Longer values
 * are cut on a UTF-8 boundary and end in "…": Slack refuses a block field
 * over 2000 characters, and the audit record (same event_id) has it all.
 */
#define SG_ALERT_VALUE_MAX 1900

/* Field titles, in payload order; the same in both formats. */
#define SG_ALERT_T_EVENT_ID	"Event ID"
#define SG_ALERT_T_NODE		"Node"
#define SG_ALERT_T_SEVERITY	"Severity"
#define SG_ALERT_T_EXE		"Executable"
#define SG_ALERT_T_RULE		"Rule"
#define SG_ALERT_T_POLICY	"Policy version"
#define SG_ALERT_T_ACTION	"Action"
#define SG_ALERT_T_DETAIL	"Detail"
#define SG_ALERT_T_TIME		"Time"

/*
 * Replace j's content with the body for ev in format fmt: one JSON object, no
 * trailing newline. 0, or -ENOMEM when the builder ran out of memory, or
 * -EINVAL for an unknown format.
 */
int sg_alert_payload(struct sg_json *j, enum sg_alert_format fmt,
		     const struct sg_alert_event *ev);

/* The headline of an alert of this kind, e.g. "SysGuard denied an exec". */
const char *sg_alert_title(const char *kind);

#endif

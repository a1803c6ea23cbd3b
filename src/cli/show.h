/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysguardctl's tables: the daemon's JSON (ready file or /status, stats.json
 * or /stats, audit records) as aligned text. Every value is shown with its
 * control and direction-changing characters escaped, so that a hostile file
 * name can neither forge a row nor rewrite the terminal.
 */
#ifndef SG_CLI_SHOW_H
#define SG_CLI_SHOW_H

#include <stddef.h>
#include <stdio.h>

/*
 * status: one "name  value" row per field (nested objects flattened, lists
 * joined); uptime_s as a duration. uptime_s >= 0 adds an uptime row first
 * (the ready file has none). 0, or -EINVAL when json is not an object.
 */
int sg_show_status(FILE *out, const char *json, size_t len, long long uptime_s);

/* stats: COUNTER VALUE, one row per number at any depth ("decisions.denied"). 0 or -EINVAL. */
int sg_show_stats(FILE *out, const char *json, size_t len);

/* events: an array of audit records as TIME TYPE DECISION PID EXE. 0 or -EINVAL. */
int sg_show_events(FILE *out, const char *json, size_t len);

/* The same, one record at a time (events --follow): fixed widths, the header first. */
void sg_show_event_header(FILE *out);
int sg_show_event_row(FILE *out, const char *json, size_t len);

/* s[0..len) with control, bidi and line-separator characters escaped, padded to width code points. */
void sg_show_cell(FILE *out, const char *s, size_t len, int width);

#endif

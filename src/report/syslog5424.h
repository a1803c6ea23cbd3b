/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 5424 syslog messages in RFC 6587 octet-counting frames ("LEN SP MSG"),
 * built from audit lines for the SIEM export (OPS-4, docs/siem.md). Pure
 * formatting: no I/O, no clock, no allocation except growing the frame
 * buffer the caller owns.
 *
 *   LEN SP <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [sysguard@32473 event_id="..."] JSON
 *
 * Header fields are PRINTUSASCII only and cut to the RFC's lengths, so no
 * byte of a record can forge a header; the MSG is the audit line as written
 * (without its '\n'), and the octet count means a receiver never has to look
 * inside it to find where it ends.
 */
#ifndef SG_SYSLOG5424_H
#define SG_SYSLOG5424_H

#include <stddef.h>

#define SG_SYSLOG_HOSTNAME_MAX	255
#define SG_SYSLOG_APPNAME_MAX	48
#define SG_SYSLOG_PROCID_MAX	128
#define SG_SYSLOG_MSGID_MAX	32
/* SD-ID for our parameters: name@PEN, with the RFC 5612 documentation PEN (docs/siem.md). */
#define SG_SYSLOG_SD_ID		"sysguard@32473"
#define SG_SYSLOG_EVENT_ID_MAX	64	/* bytes of event_id kept for the SD parameter */
/* "2026-11-23T16:40:01.123456Z" plus NUL */
#define SG_SYSLOG_TS_LEN	28

/* What the header says; NULL or "" strings are written as the NILVALUE "-". */
struct sg_syslog_hdr {
	unsigned facility;		/* 0..23 */
	unsigned severity;		/* 0..7 */
	const char *timestamp;		/* RFC 3339, e.g. from sg_syslog_timestamp() */
	const char *hostname;
	const char *app_name;
	const char *procid;
	const char *msgid;
	const char *event_id;		/* NULL: STRUCTURED-DATA is "-" */
};

/* The common fields of an audit line: pointers into it, NULL when absent. */
struct sg_syslog_record {
	const char *event_id, *ts, *type, *severity;
	size_t event_id_len, ts_len, type_len, severity_len;
};

/*
 * Find the top-level string members event_id, ts, type and severity of a
 * JSON object (the audit record); values are returned as their raw (still
 * JSON-escaped) text. 0, or -EINVAL when line is not a JSON object; fields
 * not found are NULL either way.
 */
int sg_syslog_record_fields(const char *line, size_t len, struct sg_syslog_record *out);

/*
 * An audit timestamp ("YYYY-MM-DDTHH:MM:SS[.fraction]Z") as an RFC 5424
 * TIMESTAMP with exactly six fractional digits (truncated, never rounded up
 * into the next second). Returns its length, or 0 when ts does not have that
 * shape (out is then "").
 */
size_t sg_syslog_timestamp(char out[SG_SYSLOG_TS_LEN], const char *ts, size_t len);

/* Syslog severity of an audit severity: critical 2, warning 4, info 6; unknown 3 (err). */
unsigned sg_syslog_severity(const char *sev, size_t len);

/* "kern".."local7" -> 0..23; -1 when unknown. */
int sg_syslog_facility_parse(const char *name);
const char *sg_syslog_facility_name(unsigned facility);

/*
 * Write the octet-counted frame of one message into *buf (grown with
 * realloc as needed; *cap is its size). A trailing '\n' of msg is not part
 * of the message. Returns the frame length, or 0 when memory ran out (*buf
 * stays valid).
 */
size_t sg_syslog_frame(char **buf, size_t *cap, const struct sg_syslog_hdr *h,
		       const char *msg, size_t msglen);

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * RFC 5424 header and RFC 6587 octet-counting frame for the SIEM export.
 *
 * Everything that goes into the header comes from the record or the daemon's
 * settings and is treated as hostile: a field is PRINTUSASCII (33..126) or it
 * is replaced byte by byte, it is cut to its RFC length, and an empty one is
 * the NILVALUE. The SD parameter value escapes '"', '\' and ']' (RFC 5424
 * section 6.3.3). The message itself is never touched: it is the audit line,
 * already valid UTF-8 JSON without raw control characters (LOG-1).
 */
#include "report/syslog5424.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Worst case: <191>1 + TIMESTAMP + 255 + 48 + 128 + 32 + SD with every byte escaped. */
#define HDR_MAX	1024

static const char *const facility_names[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

int sg_syslog_facility_parse(const char *name)
{
	unsigned i;

	if (!name)
		return -1;
	for (i = 0; i < sizeof(facility_names) / sizeof(facility_names[0]); i++)
		if (!strcmp(name, facility_names[i]))
			return (int)i;
	return -1;
}

const char *sg_syslog_facility_name(unsigned facility)
{
	return facility < 24 ? facility_names[facility] : "?";
}

static bool raw_is(const char *s, size_t len, const char *word)
{
	return s && len == strlen(word) && !memcmp(s, word, len);
}

unsigned sg_syslog_severity(const char *sev, size_t len)
{
	if (raw_is(sev, len, "critical"))
		return 2;
	if (raw_is(sev, len, "warning"))
		return 4;
	if (raw_is(sev, len, "info"))
		return 6;
	/* Not one of ours: a bug or a newer record type; better loud than lost in the noise. */
	return 3;
}

/* ------------------------------------------------------------------ */
/* Reading the common fields of an audit line.                         */

static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* s[i] is '"': the index of the closing quote, or len when there is none. */
static size_t string_end(const char *s, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i;
	}
	return len;
}

/* Skip one value starting at s[i]; the index after it, or len when it is cut short. */
static size_t skip_value(const char *s, size_t i, size_t len)
{
	unsigned depth = 0;

	if (i >= len)
		return len;
	if (s[i] == '"') {
		i = string_end(s, i, len);
		return i < len ? i + 1 : len;
	}
	for (; i < len; i++) {
		char c = s[i];

		if (c == '"') {
			i = string_end(s, i, len);
			if (i == len)
				return len;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (!depth)
				return i;	/* the end of the enclosing object */
			if (!--depth)
				return i + 1;
		} else if (c == ',' && !depth) {
			return i;
		}
	}
	return len;
}

int sg_syslog_record_fields(const char *line, size_t len, struct sg_syslog_record *out)
{
	static const char *const names[] = { "event_id", "ts", "type", "severity" };
	const char **val[] = { &out->event_id, &out->ts, &out->type, &out->severity };
	size_t *vlen[] = { &out->event_id_len, &out->ts_len, &out->type_len, &out->severity_len };
	size_t i, k, kend, vend;
	unsigned f;

	memset(out, 0, sizeof(*out));
	if (!line)
		return -EINVAL;
	i = skip_ws(line, 0, len);
	if (i >= len || line[i] != '{')
		return -EINVAL;
	i = skip_ws(line, i + 1, len);
	if (i < len && line[i] == '}')
		return 0;
	while (i < len) {
		if (line[i] != '"')
			return -EINVAL;
		k = i + 1;
		kend = string_end(line, i, len);
		if (kend == len)
			return -EINVAL;
		i = skip_ws(line, kend + 1, len);
		if (i >= len || line[i] != ':')
			return -EINVAL;
		i = skip_ws(line, i + 1, len);
		if (i >= len)
			return -EINVAL;
		vend = skip_value(line, i, len);
		if (vend == len)
			return -EINVAL;
		if (line[i] == '"') {
			for (f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
				if (!*val[f] && raw_is(line + k, kend - k, names[f])) {
					*val[f] = line + i + 1;
					*vlen[f] = vend - i - 2;
				}
			}
		}
		i = skip_ws(line, vend, len);
		if (i < len && line[i] == '}')
			return 0;
		if (i >= len || line[i] != ',')
			return -EINVAL;
		i = skip_ws(line, i + 1, len);
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Header.                                                             */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

size_t sg_syslog_timestamp(char out[SG_SYSLOG_TS_LEN], const char *ts, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, nfrac = 0;

	out[0] = '\0';
	if (!ts || len < sizeof(shape) || ts[len - 1] != 'Z')	/* 19 characters and the Z */
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !is_digit(ts[i]) : ts[i] != shape[i])
			return 0;
	if (i < len - 1) {
		if (ts[i] != '.')
			return 0;
		for (i++; i < len - 1; i++, nfrac++)
			if (!is_digit(ts[i]))
				return 0;
		if (!nfrac)
			return 0;
	}
	memcpy(out, ts, 19);
	out[19] = '.';
	for (i = 0; i < 6; i++)
		out[20 + i] = i < nfrac ? ts[20 + i] : '0';
	out[26] = 'Z';
	out[27] = '\0';
	return 27;
}

struct hbuf {
	char *p;
	size_t len, cap;
};

static void put_c(struct hbuf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
}

static void put_s(struct hbuf *b, const char *s)
{
	while (*s)
		put_c(b, *s++);
}

/* One header field: PRINTUSASCII, at most max bytes, "-" when empty. */
static void put_field(struct hbuf *b, const char *s, size_t max)
{
	size_t i;

	put_c(b, ' ');
	if (!s || !*s) {
		put_c(b, '-');
		return;
	}
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		put_c(b, c >= 33 && c <= 126 ? (char)c : '_');
	}
}

/* PARAM-VALUE: printable ASCII, with '"', '\' and ']' escaped. */
static void put_param(struct hbuf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\' || c == ']')
			put_c(b, '\\');
		put_c(b, c >= 32 && c <= 126 ? (char)c : '?');
	}
}

static size_t header(char *out, size_t cap, const struct sg_syslog_hdr *h)
{
	struct hbuf b = { .p = out, .cap = cap };
	char pri[8];

	snprintf(pri, sizeof(pri), "<%u>1", (h->facility % 24) * 8 + (h->severity % 8));
	put_s(&b, pri);
	put_field(&b, h->timestamp, SG_SYSLOG_TS_LEN + 8);
	put_field(&b, h->hostname, SG_SYSLOG_HOSTNAME_MAX);
	put_field(&b, h->app_name, SG_SYSLOG_APPNAME_MAX);
	put_field(&b, h->procid, SG_SYSLOG_PROCID_MAX);
	put_field(&b, h->msgid, SG_SYSLOG_MSGID_MAX);
	if (h->event_id) {
		put_s(&b, " [" SG_SYSLOG_SD_ID " event_id=\"");
		put_param(&b, h->event_id, SG_SYSLOG_EVENT_ID_MAX);
		put_s(&b, "\"]");
	} else {
		put_s(&b, " -");
	}
	out[b.len] = '\0';
	return b.len;
}

size_t sg_syslog_frame(char **buf, size_t *cap, const struct sg_syslog_hdr *h,
		       const char *msg, size_t msglen)
{
	char hdr[HDR_MAX], count[24];
	size_t hlen, body, clen, total;

	if (msglen && msg[msglen - 1] == '\n')
		msglen--;
	hlen = header(hdr, sizeof(hdr), h);
	body = hlen + (msglen ? 1 + msglen : 0);
	clen = (size_t)snprintf(count, sizeof(count), "%zu ", body);
	total = clen + body;
	if (total + 1 > *cap) {
		char *p = realloc(*buf, total + 1);

		if (!p)
			return 0;
		*buf = p;
		*cap = total + 1;
	}
	memcpy(*buf, count, clen);
	memcpy(*buf + clen, hdr, hlen);
	if (msglen) {
		(*buf)[clen + hlen] = ' ';
		memcpy(*buf + clen + hlen + 1, msg, msglen);
	}
	(*buf)[total] = '\0';
	return total;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Slack and Teams webhook bodies. Both carry the same facts under the same
 * titles. Values are shown as plain text (Slack `plain_text`, Teams facts),
 * never as Slack mrkdwn, so an executable named "<!channel>" or "*x*" is
 * displayed, not interpreted; the Slack `text` fallback, which Slack always
 * parses, has &, < and > escaped as its documentation asks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/alert_payload.h"

#define ELLIPSIS "\xe2\x80\xa6"	/* U+2026 */
#define NFIELDS 9

struct field {
	const char *title;
	const char *s;
	size_t n;
};

/* A value no longer than SG_ALERT_VALUE_MAX bytes, cut before a UTF-8 continuation byte. */
struct clipped {
	char buf[SG_ALERT_VALUE_MAX + 1];
	const char *s;
	size_t n;
};

static void clip(struct clipped *c, const char *s, size_t n)
{
	size_t keep;

	c->s = s;
	c->n = n;
	if (n <= SG_ALERT_VALUE_MAX)
		return;
	keep = SG_ALERT_VALUE_MAX - (sizeof(ELLIPSIS) - 1);
	while (keep && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(c->buf, s, keep);
	memcpy(c->buf + keep, ELLIPSIS, sizeof(ELLIPSIS) - 1);
	c->s = c->buf;
	c->n = keep + sizeof(ELLIPSIS) - 1;
}

const char *sg_alert_title(const char *kind)
{
	if (kind && !strcmp(kind, "deny"))
		return "SysGuard denied an exec";
	if (kind && !strcmp(kind, "action_error"))
		return "SysGuard enforcement failed";
	if (kind && !strcmp(kind, "guard_tripped"))
		return "SysGuard went back to monitor mode (policy guard)";
	if (kind && !strcmp(kind, "recovery_mode"))
		return "SysGuard started in monitor mode";
	return "SysGuard alert";
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "(none)";
}

/* RFC 3339 UTC, seconds precision: chat readers need no nanoseconds. */
static void format_time(char out[32], uint64_t ts_ns)
{
	time_t t = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(out, "(unknown)");
}

/* The facts, in order; returns how many. Values point into ev, clips or tbuf. */
static size_t collect(const struct sg_alert_event *ev, struct field f[NFIELDS],
		      struct clipped clips[NFIELDS], char tbuf[32])
{
	size_t n = 0, i;

	f[n++] = (struct field){ SG_ALERT_T_EVENT_ID, or_none(ev->event_id), 0 };
	f[n++] = (struct field){ SG_ALERT_T_NODE, or_none(ev->node_id), 0 };
	f[n++] = (struct field){ SG_ALERT_T_SEVERITY, or_none(ev->severity), 0 };
	if (ev->exe && ev->exe_len)
		f[n++] = (struct field){ SG_ALERT_T_EXE, ev->exe, ev->exe_len };
	else
		f[n++] = (struct field){ SG_ALERT_T_EXE, "(unknown)", 0 };
	f[n++] = (struct field){ SG_ALERT_T_RULE, or_none(ev->rule), 0 };
	f[n++] = (struct field){ SG_ALERT_T_POLICY, or_none(ev->policy_version), 0 };
	f[n++] = (struct field){ SG_ALERT_T_ACTION, or_none(ev->action), 0 };
	if (ev->detail && *ev->detail)
		f[n++] = (struct field){ SG_ALERT_T_DETAIL, ev->detail, 0 };
	format_time(tbuf, ev->ts_ns);
	f[n++] = (struct field){ SG_ALERT_T_TIME, tbuf, 0 };
	for (i = 0; i < n; i++) {
		clip(&clips[i], f[i].s, f[i].n ? f[i].n : strlen(f[i].s));
		f[i].s = clips[i].s;
		f[i].n = clips[i].n;
	}
	return n;
}

/* Append s[0..n) to out with Slack's three control characters escaped. */
static char *slack_escape(char *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			out = stpcpy(out, "&amp;");
			break;
		case '<':
			out = stpcpy(out, "&lt;");
			break;
		case '>':
			out = stpcpy(out, "&gt;");
			break;
		default:
			*out++ = s[i];
		}
	}
	return out;
}

/*
 * "[critical] SysGuard denied an exec on NODE: EXE (rule R, policy V, event ID)":
 * what a notification shows. NULL when out of memory.
 */
static char *slack_text(const char *title, const struct field *f, size_t n, size_t *len)
{
	static const char *const order[] = {
		SG_ALERT_T_SEVERITY, SG_ALERT_T_NODE, SG_ALERT_T_EXE, SG_ALERT_T_RULE,
		SG_ALERT_T_POLICY, SG_ALERT_T_EVENT_ID,
	};
	static const char *const before[] = { "[", "] ", " on ", ": ", " (rule ", ", policy ", ", event " };
	const struct field *v[6] = { 0 };
	size_t cap = strlen(title) + 64, i, k;
	char *buf, *p;

	for (i = 0; i < 6; i++)
		for (k = 0; k < n; k++)
			if (!strcmp(f[k].title, order[i]))
				v[i] = &f[k];
	for (i = 0; i < 6; i++)
		cap += 5 * v[i]->n + 16;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	p = stpcpy(buf, before[0]);
	p = slack_escape(p, v[0]->s, v[0]->n);
	p = stpcpy(p, before[1]);
	p = stpcpy(p, title);
	for (i = 1; i < 6; i++) {
		p = stpcpy(p, before[i + 1]);
		p = slack_escape(p, v[i]->s, v[i]->n);
	}
	p = stpcpy(p, ")");
	*len = (size_t)(p - buf);
	return buf;
}

static void plain_text(struct sg_json *j, const char *s, size_t n)
{
	sg_json_begin_object(j);
	sg_json_kv_str(j, "type", "plain_text");
	sg_json_kv_strn(j, "text", s, n);
	sg_json_kv_bool(j, "emoji", false);
	sg_json_end_object(j);
}

/*
 * {"text": fallback, "blocks": [header, section with one field per fact,
 * context]}. Each field is "Title\nvalue": a title never holds a newline, so
 * the first one splits it.
 */
static int slack(struct sg_json *j, const char *title, const struct field *f, size_t n)
{
	char *text, *cell;
	size_t len, i;

	text = slack_text(title, f, n, &len);
	cell = malloc(SG_ALERT_VALUE_MAX + 64);
	if (!text || !cell) {
		free(text);
		free(cell);
		return -ENOMEM;
	}
	sg_json_begin_object(j);
	sg_json_kv_strn(j, "text", text, len);
	sg_json_key(j, "blocks");
	sg_json_begin_array(j);

	sg_json_begin_object(j);
	sg_json_kv_str(j, "type", "header");
	sg_json_key(j, "text");
	plain_text(j, title, strlen(title));
	sg_json_end_object(j);

	sg_json_begin_object(j);
	sg_json_kv_str(j, "type", "section");
	sg_json_key(j, "fields");
	sg_json_begin_array(j);
	for (i = 0; i < n; i++) {
		len = (size_t)(stpcpy(cell, f[i].title) - cell);
		cell[len++] = '\n';
		memcpy(cell + len, f[i].s, f[i].n);
		plain_text(j, cell, len + f[i].n);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);

	sg_json_begin_object(j);
	sg_json_kv_str(j, "type", "context");
	sg_json_key(j, "elements");
	sg_json_begin_array(j);
	plain_text(j, "sysguard runtime enforcement", strlen("sysguard runtime enforcement"));
	sg_json_end_array(j);
	sg_json_end_object(j);

	sg_json_end_array(j);
	sg_json_end_object(j);
	free(text);
	free(cell);
	return 0;
}

/*
 * {"type": "message", "attachments": [{"contentType":
 * "application/vnd.microsoft.card.adaptive", "content": AdaptiveCard}]}, the
 * shape Teams incoming webhooks and Workflows accept. The card holds a title
 * and a FactSet with the facts.
 */
static int teams(struct sg_json *j, const char *title, const char *severity,
		 const struct field *f, size_t n)
{
	bool critical = severity && !strcmp(severity, "critical");
	size_t i;

	sg_json_begin_object(j);
	sg_json_kv_str(j, "type", "message");
	sg_json_key(j, "attachments");
	sg_json_begin_array(j);
	sg_json_begin_object(j);
	sg_json_kv_str(j, "contentType", "application/vnd.microsoft.card.adaptive");
	sg_json_kv_str(j, "contentUrl", NULL);
	sg_json_key(j, "content");
	sg_json_begin_object(j);
	sg_json_kv_str(j, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
	sg_json_kv_str(j, "type", "AdaptiveCard");
	sg_json_kv_str(j, "version", "1.4");
	sg_json_key(j, "body");
	sg_json_begin_array(j);

	sg_json_begin_object(j);
	sg_json_kv_str(j, "type", "TextBlock");
	sg_json_kv_str(j, "text", title);
	sg_json_kv_str(j, "size", "Medium");
	sg_json_kv_str(j, "weight", "Bolder");
	sg_json_kv_str(j, "color", critical ? "Attention" : "Warning");
	sg_json_kv_bool(j, "wrap", true);
	sg_json_end_object(j);

	sg_json_begin_object(j);
	sg_json_kv_str(j, "type", "FactSet");
	sg_json_key(j, "facts");
	sg_json_begin_array(j);
	for (i = 0; i < n; i++) {
		sg_json_begin_object(j);
		sg_json_kv_str(j, "title", f[i].title);
		sg_json_kv_strn(j, "value", f[i].s, f[i].n);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);

	sg_json_end_array(j);
	sg_json_key(j, "msteams");
	sg_json_begin_object(j);
	sg_json_kv_str(j, "width", "Full");
	sg_json_end_object(j);
	sg_json_end_object(j);
	sg_json_end_object(j);
	sg_json_end_array(j);
	sg_json_end_object(j);
	return 0;
}

int sg_alert_payload(struct sg_json *j, enum sg_alert_format fmt,
		     const struct sg_alert_event *ev)
{
	struct clipped *clips;
	struct field f[NFIELDS];
	const char *title = sg_alert_title(ev->kind);
	char tbuf[32];
	size_t n;
	int err;

	if (fmt != SG_ALERT_SLACK && fmt != SG_ALERT_TEAMS)
		return -EINVAL;
	clips = malloc(NFIELDS * sizeof(*clips));
	if (!clips)
		return -ENOMEM;
	sg_json_reset(j);
	n = collect(ev, f, clips, tbuf);
	if (fmt == SG_ALERT_SLACK)
		err = slack(j, title, f, n);
	else
		err = teams(j, title, ev->severity, f, n);
	free(clips);
	if (!err && (j->oom || j->depth))
		err = -ENOMEM;
	return err;
}

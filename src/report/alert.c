// SPDX-License-Identifier: Apache-2.0
/* Placeholder until the dispatcher lands: refuses to start, so nothing is queued. */
#include "report/alert.h"

#include <stdio.h>
#include <string.h>

struct sg_alerts {
	int unused;
};

struct sg_alerts *sg_alerts_start(const struct sg_alert_config *cfg, char *err, size_t errlen)
{
	snprintf(err, errlen, "alert dispatcher not built yet");
	return NULL;
}

void sg_alerts_submit(struct sg_alerts *a, const struct sg_alert_event *ev)
{
}

void sg_alerts_stats(struct sg_alerts *a, struct sg_alert_stats *out)
{
	memset(out, 0, sizeof(*out));
}

void sg_alerts_stop(struct sg_alerts *a)
{
}

int sg_alert_format_parse(const char *s)
{
	if (!strcmp(s, "slack"))
		return SG_ALERT_SLACK;
	if (!strcmp(s, "teams"))
		return SG_ALERT_TEAMS;
	return -1;
}

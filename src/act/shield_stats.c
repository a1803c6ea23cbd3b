// SPDX-License-Identifier: Apache-2.0
#include "act/shield_stats.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cnt_name[SG_SH_CNT_MAX] = {
	[SG_SH_CNT_PKTS] = "packets", [SG_SH_CNT_DROPPED] = "dropped",
	[SG_SH_CNT_DRY_MATCH] = "dry_run_matches", [SG_SH_CNT_GW_PASS] = "gateway_passes",
	[SG_SH_CNT_NON_IP] = "non_ip",
};

const char *sg_shield_counter_name(int k)
{
	return k >= 0 && k < SG_SH_CNT_MAX && cnt_name[k] ? cnt_name[k] : "?";
}

void sg_shield_gw_text(const struct sg_shield_gw *g, char *buf, size_t len)
{
	struct sg_cidr c = { .family = g->family, .len = g->family == 4 ? 32 : 128 };
	char *slash;

	memcpy(c.addr, g->addr, sizeof(c.addr));
	sg_cidr_format(&c, buf, len);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
}

void sg_shield_stats_json(struct sg_shield *s, const struct sg_shield_status *st,
			  const struct sg_shield_rule_stat *r, size_t n, bool all, struct sg_json *j)
{
	char names[64][IF_NAMESIZE], c[SG_CIDR_STRLEN];
	size_t i, nif = 0;
	int k;

	sg_json_begin_object(j);
	sg_json_kv_bool(j, "loaded", true);
	sg_json_kv_u64(j, "active_set", st->active);
	sg_json_kv_bool(j, "dry_run", st->dry_run);
	if (st->gw.family) {
		sg_shield_gw_text(&st->gw, c, sizeof(c));
		sg_json_kv_str(j, "gateway", c);
	} else {
		sg_json_key(j, "gateway");
		sg_json_null(j);
	}
	sg_json_key(j, "attached");
	sg_json_begin_array(j);
	sg_shield_attached(s, names, 64, &nif);
	for (i = 0; i < nif; i++)
		sg_json_str(j, names[i]);
	sg_json_end_array(j);
	sg_json_kv_u64(j, "rules", st->nrules);
	sg_json_kv_u64(j, "max_rules", st->max_rules);
	sg_json_kv_u64(j, "map_bytes", st->map_bytes);
	sg_json_key(j, "counters");
	sg_json_begin_object(j);
	for (k = 0; k < SG_SH_CNT_MAX; k++)
		sg_json_kv_u64(j, cnt_name[k], st->cnt[k]);
	sg_json_end_object(j);
	sg_json_key(j, "cidrs");
	sg_json_begin_array(j);
	for (i = 0; i < n; i++) {
		if (!all && !r[i].hits)
			continue;
		sg_cidr_format(&r[i].cidr, c, sizeof(c));
		sg_json_begin_object(j);
		sg_json_kv_str(j, "cidr", c);
		sg_json_kv_u64(j, "hits", r[i].hits);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
}

void sg_shield_counters_pinned(const char *pin_dir, size_t max_cidrs, struct sg_counters_shield *c)
{
	char names[SG_SHIELD_MAX_ATTACHED][IF_NAMESIZE];
	struct sg_shield_rule_stat *r = NULL;
	struct sg_shield_status st;
	struct sg_shield *s = NULL;
	size_t i, n = 0, nif = 0;
	char err[256];
	int rc;

	memset(c, 0, sizeof(*c));
	rc = sg_shield_try_open(pin_dir, &s, err, sizeof(err));
	if (!rc && (rc = sg_shield_status(s, &st)))
		sg_shield_close(s);
	if (rc) {
		/* Busy: an editor is swapping the rule set; the next tick reports it. */
		c->state = rc == -ENOENT ? SG_SHIELD_ABSENT
			 : rc == -EWOULDBLOCK ? SG_SHIELD_BUSY : SG_SHIELD_UNREADABLE;
		return;
	}
	c->state = SG_SHIELD_LOADED;
	c->active_set = st.active;
	c->dry_run = st.dry_run;
	if (st.gw.family)
		sg_shield_gw_text(&st.gw, c->gateway, sizeof(c->gateway));
	sg_shield_attached(s, names, SG_SHIELD_MAX_ATTACHED, &nif);
	for (i = 0; i < nif; i++)
		snprintf(c->attached[i], sizeof(c->attached[i]), "%s", names[i]);
	c->nattached = nif;
	c->rules = st.nrules;
	c->max_rules = st.max_rules;
	c->map_bytes = st.map_bytes;
	memcpy(c->cnt, st.cnt, sizeof(c->cnt));
	if (st.nrules <= max_cidrs && sg_shield_rules(s, &r, &n))
		n = 0;
	for (i = 0; i < n; i++)
		if (r[i].hits)
			c->ncidrs++;
	c->cidrs = c->ncidrs ? calloc(c->ncidrs, sizeof(*c->cidrs)) : NULL;
	if (!c->cidrs)
		c->ncidrs = 0;
	for (i = 0, nif = 0; c->cidrs && i < n; i++) {
		if (!r[i].hits)
			continue;
		sg_cidr_format(&r[i].cidr, c->cidrs[nif].cidr, sizeof(c->cidrs[nif].cidr));
		c->cidrs[nif++].hits = r[i].hits;
	}
	free(r);
	sg_shield_close(s);
}

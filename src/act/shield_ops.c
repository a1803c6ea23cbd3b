// SPDX-License-Identifier: Apache-2.0
/* The Shield's commands on its pinned objects (see shield_ops.h). */
#include "act/shield_ops.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "act/shield.h"
#include "act/shield_stats.h"
#include "report/json.h"

#define ERRLEN 512

void sg_shield_ops_usage(FILE *out)
{
	fprintf(out,
		"    attach IFACE [--generic] [--max-rules N] [--v6-entries N] [--max-memory MB]\n"
		"    detach IFACE | unload\n"
		"    add CIDR... | del CIDR... | load FILE | list\n"
		"    stats [--json] [--all] | dry-run on|off | gateway ADDR|none\n");
}

bool sg_shield_op_changes(const char *sub)
{
	static const char *const ro[] = { "list", "stats" };
	size_t i;

	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (!strcmp(sub, ro[i]))
			return false;
	return true;
}

static int fail(const struct sg_shield_run *x, int rc, const char *err)
{
	fprintf(x->err, "sysguardctl: %s\n", err[0] ? err : strerror(-rc));
	/* BPF-7: only the daemon that guards the maps may open them. */
	if (rc == -EPERM)
		fprintf(x->err, "sysguardctl: the Shield maps are guarded by a running sysguardd (BPF LSM):"
			" give sysguardctl its --state-dir so that the change goes through it\n");
	return 1;
}

static int parse_u32(const struct sg_shield_run *x, const char *s, uint32_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || *end || !*s || n > 0xffffffffull) {
		fprintf(x->err, "sysguardctl: '%s' is not a number\n", s);
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

static int cmd_attach(const struct sg_shield_run *x, int argc, char **argv)
{
	struct sg_shield_opts o = {
		.pin_dir = x->pin_dir, .max_rules = SG_SHIELD_DEF_RULES,
		.v6_entries = SG_SHIELD_DEF_V6_ENTRIES, .max_bytes = SG_SHIELD_DEF_MAX_BYTES,
	};
	uint32_t mb = 0;
	const char *ifname = NULL, *mode = "";
	char err[ERRLEN] = "";
	struct sg_shield *s;
	bool generic = false;
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--generic"))
			generic = true, rc = 0;
		else if (!strcmp(argv[i], "--max-rules") && i + 1 < argc)
			rc = parse_u32(x, argv[++i], &o.max_rules);
		else if (!strcmp(argv[i], "--v4-bits") && i + 1 < argc)
			rc = parse_u32(x, argv[++i], &o.v4_bits);
		else if (!strcmp(argv[i], "--max-memory") && i + 1 < argc)
			rc = parse_u32(x, argv[++i], &mb), o.max_bytes = (uint64_t)mb << 20;
		else if (!strcmp(argv[i], "--v6-bits") && i + 1 < argc)
			rc = parse_u32(x, argv[++i], &o.v6_bits);
		else if (!strcmp(argv[i], "--v6-entries") && i + 1 < argc)
			rc = parse_u32(x, argv[++i], &o.v6_entries);
		else if (argv[i][0] != '-' && !ifname)
			ifname = argv[i], rc = 0;
		else
			rc = -1;
		if (rc) {
			fprintf(x->err, "sysguardctl: shield attach: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!ifname) {
		fprintf(x->err, "sysguardctl: shield attach IFACE [--generic] ...\n");
		return 2;
	}
	rc = sg_shield_open(x->pin_dir, &s, err, sizeof(err));
	if (rc == -ENOENT) {
		err[0] = '\0';
		rc = sg_shield_create(&o, &s, err, sizeof(err));
	}
	if (rc)
		return fail(x, rc, err);
	rc = sg_shield_attach(s, ifname, generic, &mode, err, sizeof(err));
	sg_shield_close(s);
	if (rc)
		return fail(x, rc, err);
	fprintf(x->out, "shield: attached to %s (%s XDP)\n", ifname, mode);
	return 0;
}

static int open_or_fail(const struct sg_shield_run *x, struct sg_shield **s)
{
	char err[ERRLEN] = "";
	int rc = sg_shield_open(x->pin_dir, s, err, sizeof(err));

	if (rc)
		fail(x, rc, err);
	return rc;
}

static int parse_args(const struct sg_shield_run *x, int argc, char **argv, struct sg_cidr **out,
		      size_t *n)
{
	char err[ERRLEN];
	int i;

	*out = calloc(argc ? argc : 1, sizeof(**out));
	if (!*out)
		return -1;
	for (i = 0; i < argc; i++)
		if (sg_cidr_parse(argv[i], &(*out)[i], err, sizeof(err))) {
			fprintf(x->err, "sysguardctl: argument %d: %s\n", i + 1, err);
			free(*out);
			return -1;
		}
	*n = argc;
	return 0;
}

static int cmd_edit(const struct sg_shield_run *x, int argc, char **argv, bool del)
{
	char err[ERRLEN] = "";
	struct sg_shield *s;
	struct sg_cidr *v;
	size_t n;
	int rc;

	if (argc < 2) {
		fprintf(x->err, "sysguardctl: shield %s CIDR...\n", argv[0]);
		return 2;
	}
	if (parse_args(x, argc - 1, argv + 1, &v, &n))
		return 2;
	if (open_or_fail(x, &s)) {
		free(v);
		return 1;
	}
	rc = del ? sg_shield_update(s, NULL, 0, v, n, false, err, sizeof(err))
		 : sg_shield_update(s, v, n, NULL, 0, false, err, sizeof(err));
	sg_shield_close(s);
	free(v);
	return rc ? fail(x, rc, err) : 0;
}

static int read_list(const struct sg_shield_run *x, const char *name, struct sg_cidr **v, size_t *n,
		     char *err, size_t errlen)
{
	char why[256];
	int rc;

	if (!x->list)
		return sg_shield_read_list(name, v, n, err, errlen);
	rc = sg_cidr_parse_list(x->list, x->list_len, v, n, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: %s", name, why);
	return rc;
}

static int cmd_load(const struct sg_shield_run *x, int argc, char **argv)
{
	char err[ERRLEN] = "";
	struct sg_cidr *v;
	struct sg_shield *s;
	size_t n;
	int rc;

	if (argc != 2) {
		fprintf(x->err, "sysguardctl: shield load FILE\n");
		return 2;
	}
	rc = read_list(x, argv[1], &v, &n, err, sizeof(err));
	if (rc) {
		fprintf(x->err, "sysguardctl: %s (nothing changed)\n", err);
		return 1;
	}
	if (open_or_fail(x, &s)) {
		free(v);
		return 1;
	}
	rc = sg_shield_update(s, v, n, NULL, 0, true, err, sizeof(err));
	sg_shield_close(s);
	free(v);
	if (rc)
		return fail(x, rc, err);
	fprintf(x->out, "shield: %zu CIDRs loaded from %s\n", n, argv[1]);
	return 0;
}

static void attached(struct sg_shield *s, FILE *out)
{
	char names[64][IF_NAMESIZE];
	size_t n = 0, i;

	sg_shield_attached(s, names, 64, &n);
	for (i = 0; i < n; i++)
		fprintf(out, " %s", names[i]);
}

static void stats_text(const struct sg_shield_run *x, struct sg_shield *s,
		       const struct sg_shield_status *st)
{
	char c[SG_CIDR_STRLEN];
	int k;

	fprintf(x->out, "active set %u, dry run %s, gateway ", st->active, st->dry_run ? "on" : "off");
	if (st->gw.family) {
		sg_shield_gw_text(&st->gw, c, sizeof(c));
		fprintf(x->out, "%s", c);
	} else {
		fprintf(x->out, "none");
	}
	fprintf(x->out, ", attached:");
	attached(s, x->out);
	fprintf(x->out, "\nrules %u of %u, maps %llu bytes\n", st->nrules, st->max_rules,
		(unsigned long long)st->map_bytes);
	for (k = 0; k < SG_SH_CNT_MAX; k++)
		fprintf(x->out, "%-16s %llu\n", sg_shield_counter_name(k), (unsigned long long)st->cnt[k]);
	fprintf(x->out, "\n%-44s %s\n", "CIDR", st->dry_run ? "HITS (dry run: passed)" : "DROPS");
}

static int cmd_stats(const struct sg_shield_run *x, int argc, char **argv, bool list)
{
	bool json = false, all = list;
	struct sg_shield_rule_stat *r = NULL;
	struct sg_shield_status st;
	struct sg_shield *s;
	char c[SG_CIDR_STRLEN];
	size_t n = 0, i;
	int k, rc;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = true;
		else if (!strcmp(argv[k], "--all"))
			all = true;
		else {
			fprintf(x->err, "sysguardctl: shield %s: unknown option '%s'\n", argv[0], argv[k]);
			return 2;
		}
	}
	if (open_or_fail(x, &s))
		return 1;
	rc = sg_shield_status(s, &st);
	if (!rc)
		rc = sg_shield_rules(s, &r, &n);
	if (rc) {
		sg_shield_close(s);
		return fail(x, rc, "");
	}
	if (json) {
		struct sg_json j;

		sg_json_init(&j);
		sg_shield_stats_json(s, &st, r, n, all, &j);
		fprintf(x->out, "%.*s\n", (int)j.len, j.buf);
		sg_json_free(&j);
		goto out;
	}
	if (!list)
		stats_text(x, s, &st);
	for (i = 0; i < n; i++) {
		if (!all && !r[i].hits)
			continue;
		sg_cidr_format(&r[i].cidr, c, sizeof(c));
		fprintf(x->out, "%-44s %llu\n", c, (unsigned long long)r[i].hits);
	}
out:
	free(r);
	sg_shield_close(s);
	return 0;
}

static int cmd_setting(const struct sg_shield_run *x, int argc, char **argv)
{
	bool dry = !strcmp(argv[0], "dry-run");
	struct sg_cidr gw, *g = &gw;
	char err[ERRLEN];
	struct sg_shield *s;

	if (argc != 2 || (dry && strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
		fprintf(x->err, "sysguardctl: shield %s\n", dry ? "dry-run on|off" : "gateway ADDR|none");
		return 2;
	}
	if (!dry && !strcmp(argv[1], "none")) {
		g = NULL;
	} else if (!dry) {
		if (sg_cidr_parse(argv[1], &gw, err, sizeof(err))) {
			fprintf(x->err, "sysguardctl: gateway: %s\n", err);
			return 2;
		}
		if (gw.len != (gw.family == 4 ? 32 : 128)) {
			fprintf(x->err, "sysguardctl: gateway: one address, not a prefix\n");
			return 2;
		}
	}
	if (open_or_fail(x, &s))
		return 1;
	if (dry)
		sg_shield_set_dry_run(s, !strcmp(argv[1], "on"));
	else
		sg_shield_set_gateway(s, g);
	sg_shield_close(s);
	return 0;
}

static int cmd_detach(const struct sg_shield_run *x, int argc, char **argv)
{
	char err[ERRLEN] = "";
	struct sg_shield *s;
	int rc;

	if (argc != 2) {
		fprintf(x->err, "sysguardctl: shield detach IFACE\n");
		return 2;
	}
	if (open_or_fail(x, &s))
		return 1;
	rc = sg_shield_detach(s, argv[1], err, sizeof(err));
	sg_shield_close(s);
	return rc ? fail(x, rc, err) : 0;
}

/* Detaches from every interface of this namespace, then drops the pins. */
static int cmd_unload(const struct sg_shield_run *x)
{
	char names[64][IF_NAMESIZE], err[ERRLEN] = "";
	struct sg_shield *s;
	size_t n = 0, i;
	int rc;

	rc = sg_shield_open(x->pin_dir, &s, err, sizeof(err));
	if (rc == -ENOENT)
		return 0;
	if (rc == -ESTALE) {
		err[0] = '\0';
		rc = sg_shield_remove_stale(x->pin_dir, err, sizeof(err));
		return rc ? fail(x, rc, err) : 0;
	}
	if (rc)
		return fail(x, rc, err);
	sg_shield_attached(s, names, 64, &n);
	for (i = 0; i < n; i++)
		if (sg_shield_detach(s, names[i], err, sizeof(err)))
			fprintf(x->err, "sysguardctl: %s\n", err);
	sg_shield_close(s);
	rc = sg_shield_unpin(x->pin_dir);
	if (rc)
		fprintf(x->err, "sysguardctl: unload %s: %s\n", x->pin_dir, strerror(-rc));
	return rc ? 1 : 0;
}

int sg_shield_run(const struct sg_shield_run *x, int argc, char **argv)
{
	const char *sub = argv[0];

	if (!strcmp(sub, "attach"))
		return cmd_attach(x, argc, argv);
	if (!strcmp(sub, "detach"))
		return cmd_detach(x, argc, argv);
	if (!strcmp(sub, "unload"))
		return argc == 1 ? cmd_unload(x) : 2;
	if (!strcmp(sub, "add") || !strcmp(sub, "del"))
		return cmd_edit(x, argc, argv, !strcmp(sub, "del"));
	if (!strcmp(sub, "load"))
		return cmd_load(x, argc, argv);
	if (!strcmp(sub, "list"))
		return cmd_stats(x, argc, argv, true);
	if (!strcmp(sub, "stats"))
		return cmd_stats(x, argc, argv, false);
	if (!strcmp(sub, "dry-run") || !strcmp(sub, "gateway"))
		return cmd_setting(x, argc, argv);
	fprintf(x->err, "sysguardctl: unknown shield command '%s'\n", sub);
	return 2;
}

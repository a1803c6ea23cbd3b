// SPDX-License-Identifier: Apache-2.0
/* sysguardctl shield: operate the XDP Shield through its pinned objects. */
#include "cli/shield_cmd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/shield.h"
#include "act/shield_stats.h"
#include "report/json.h"

#define ERRLEN 512

static const char *pin_dir = SG_SHIELD_PIN_DIR;

void sg_cli_shield_usage(FILE *out)
{
	fprintf(out,
		"  shield [--pin-dir DIR] SUBCOMMAND   XDP ingress deny list (pins under %s)\n"
		"    attach IFACE [--generic] [--max-rules N] [--v4-chunks N] [--v6-bits N] [--v6-entries N]\n"
		"    detach IFACE | unload\n"
		"    add CIDR... | del CIDR... | load FILE | list\n"
		"    stats [--json] [--all] | dry-run on|off | gateway ADDR|none\n",
		SG_SHIELD_PIN_DIR);
}

static int fail(int rc, const char *err)
{
	fprintf(stderr, "sysguardctl: %s\n", err[0] ? err : strerror(-rc));
	return 1;
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || !*s || x > 0xffffffffull) {
		fprintf(stderr, "sysguardctl: '%s' is not a number\n", s);
		return -1;
	}
	*v = (uint32_t)x;
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	struct sg_shield_opts o = {
		.pin_dir = pin_dir, .max_rules = SG_SHIELD_DEF_RULES,
		.v4_chunks = SG_SHIELD_DEF_CHUNKS, .v6_bits = SG_SHIELD_DEF_V6_BITS,
		.v6_entries = SG_SHIELD_DEF_V6_ENTRIES,
	};
	const char *ifname = NULL, *mode = "";
	char err[ERRLEN] = "";
	struct sg_shield *s;
	bool generic = false;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--generic"))
			generic = true;
		else if (!strcmp(argv[i], "--max-rules") && i + 1 < argc)
			rc = parse_u32(argv[++i], &o.max_rules);
		else if (!strcmp(argv[i], "--v4-chunks") && i + 1 < argc)
			rc = parse_u32(argv[++i], &o.v4_chunks);
		else if (!strcmp(argv[i], "--v6-bits") && i + 1 < argc)
			rc = parse_u32(argv[++i], &o.v6_bits);
		else if (!strcmp(argv[i], "--v6-entries") && i + 1 < argc)
			rc = parse_u32(argv[++i], &o.v6_entries);
		else if (argv[i][0] != '-' && !ifname)
			ifname = argv[i], rc = 0;
		else
			rc = -1;
		if (rc) {
			fprintf(stderr, "sysguardctl: shield attach: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!ifname) {
		fprintf(stderr, "sysguardctl: shield attach IFACE [--generic] ...\n");
		return 2;
	}
	rc = sg_shield_open(pin_dir, &s, err, sizeof(err));
	if (rc == -ENOENT) {
		err[0] = '\0';
		rc = sg_shield_create(&o, &s, err, sizeof(err));
	}
	if (rc)
		return fail(rc, err);
	rc = sg_shield_attach(s, ifname, generic, &mode, err, sizeof(err));
	sg_shield_close(s);
	if (rc)
		return fail(rc, err);
	printf("shield: attached to %s (%s XDP)\n", ifname, mode);
	return 0;
}

static int open_or_fail(struct sg_shield **s)
{
	char err[ERRLEN] = "";
	int rc = sg_shield_open(pin_dir, s, err, sizeof(err));

	if (rc)
		fail(rc, err);
	return rc;
}

static int parse_args(int argc, char **argv, struct sg_cidr **out, size_t *n)
{
	char err[ERRLEN];
	int i;

	*out = calloc(argc ? argc : 1, sizeof(**out));
	if (!*out)
		return -1;
	for (i = 0; i < argc; i++)
		if (sg_cidr_parse(argv[i], &(*out)[i], err, sizeof(err))) {
			fprintf(stderr, "sysguardctl: argument %d: %s\n", i + 1, err);
			free(*out);
			return -1;
		}
	*n = argc;
	return 0;
}

static int cmd_edit(int argc, char **argv, bool del)
{
	char err[ERRLEN] = "";
	struct sg_shield *s;
	struct sg_cidr *v;
	size_t n;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "sysguardctl: shield %s CIDR...\n", argv[0]);
		return 2;
	}
	if (parse_args(argc - 1, argv + 1, &v, &n))
		return 2;
	if (open_or_fail(&s)) {
		free(v);
		return 1;
	}
	rc = del ? sg_shield_update(s, NULL, 0, v, n, false, err, sizeof(err))
		 : sg_shield_update(s, v, n, NULL, 0, false, err, sizeof(err));
	sg_shield_close(s);
	free(v);
	return rc ? fail(rc, err) : 0;
}

static int cmd_load(int argc, char **argv)
{
	char err[ERRLEN] = "";
	struct sg_cidr *v;
	struct sg_shield *s;
	size_t n;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "sysguardctl: shield load FILE\n");
		return 2;
	}
	rc = sg_shield_read_list(argv[1], &v, &n, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "sysguardctl: %s (nothing changed)\n", err);
		return 1;
	}
	if (open_or_fail(&s)) {
		free(v);
		return 1;
	}
	rc = sg_shield_update(s, v, n, NULL, 0, true, err, sizeof(err));
	sg_shield_close(s);
	free(v);
	if (rc)
		return fail(rc, err);
	printf("shield: %zu CIDRs loaded from %s\n", n, argv[1]);
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

static int cmd_stats(int argc, char **argv, bool list)
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
			fprintf(stderr, "sysguardctl: shield %s: unknown option '%s'\n", argv[0], argv[k]);
			return 2;
		}
	}
	if (open_or_fail(&s))
		return 1;
	rc = sg_shield_status(s, &st);
	if (!rc)
		rc = sg_shield_rules(s, &r, &n);
	if (rc) {
		sg_shield_close(s);
		return fail(rc, "");
	}
	if (json) {
		struct sg_json j;

		sg_json_init(&j);
		sg_shield_stats_json(s, &st, r, n, all, &j);
		printf("%.*s\n", (int)j.len, j.buf);
		sg_json_free(&j);
		free(r);
		sg_shield_close(s);
		return 0;
	}
	if (!list) {
		printf("active set %u, dry run %s, gateway ", st.active, st.dry_run ? "on" : "off");
		if (st.gw.family) {
			sg_shield_gw_text(&st.gw, c, sizeof(c));
			printf("%s", c);
		} else {
			printf("none");
		}
		printf(", attached:");
		attached(s, stdout);
		printf("\nrules %u of %u, maps %llu bytes\n", st.nrules, st.max_rules,
		       (unsigned long long)st.map_bytes);
		for (k = 0; k < SG_SH_CNT_MAX; k++)
			printf("%-16s %llu\n", sg_shield_counter_name(k), (unsigned long long)st.cnt[k]);
		printf("\n%-44s %s\n", "CIDR", st.dry_run ? "HITS (dry run: passed)" : "DROPS");
	}
	for (i = 0; i < n; i++) {
		if (!all && !r[i].hits)
			continue;
		sg_cidr_format(&r[i].cidr, c, sizeof(c));
		printf("%-44s %llu\n", c, (unsigned long long)r[i].hits);
	}
	free(r);
	sg_shield_close(s);
	return 0;
}

static int cmd_setting(int argc, char **argv)
{
	bool dry = !strcmp(argv[0], "dry-run");
	struct sg_cidr gw, *g = &gw;
	char err[ERRLEN];
	struct sg_shield *s;

	if (argc != 2 || (dry && strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
		fprintf(stderr, "sysguardctl: shield %s\n", dry ? "dry-run on|off" : "gateway ADDR|none");
		return 2;
	}
	if (!dry && !strcmp(argv[1], "none")) {
		g = NULL;
	} else if (!dry) {
		if (sg_cidr_parse(argv[1], &gw, err, sizeof(err))) {
			fprintf(stderr, "sysguardctl: gateway: %s\n", err);
			return 2;
		}
		if (gw.len != (gw.family == 4 ? 32 : 128)) {
			fprintf(stderr, "sysguardctl: gateway: one address, not a prefix\n");
			return 2;
		}
	}
	if (open_or_fail(&s))
		return 1;
	if (dry)
		sg_shield_set_dry_run(s, !strcmp(argv[1], "on"));
	else
		sg_shield_set_gateway(s, g);
	sg_shield_close(s);
	return 0;
}

/* Detaches from every interface of this namespace, then drops the pins. */
static int cmd_unload(void)
{
	char names[64][IF_NAMESIZE], err[ERRLEN] = "";
	struct sg_shield *s;
	size_t n = 0, i;
	int rc;

	rc = sg_shield_open(pin_dir, &s, err, sizeof(err));
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return fail(rc, err);
	sg_shield_attached(s, names, 64, &n);
	for (i = 0; i < n; i++)
		if (sg_shield_detach(s, names[i], err, sizeof(err)))
			fprintf(stderr, "sysguardctl: %s\n", err);
	sg_shield_close(s);
	rc = sg_shield_unpin(pin_dir);
	if (rc)
		fprintf(stderr, "sysguardctl: unload %s: %s\n", pin_dir, strerror(-rc));
	return rc ? 1 : 0;
}

int sg_cli_shield(int argc, char **argv)
{
	char err[ERRLEN] = "";
	struct sg_shield *s;
	const char *sub;
	int rc;

	argc--;
	argv++;
	if (argc >= 2 && !strcmp(argv[0], "--pin-dir")) {
		pin_dir = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc < 1) {
		sg_cli_shield_usage(stderr);
		return 2;
	}
	sub = argv[0];
	if (!strcmp(sub, "attach"))
		return cmd_attach(argc, argv);
	if (!strcmp(sub, "detach")) {
		if (argc != 2) {
			fprintf(stderr, "sysguardctl: shield detach IFACE\n");
			return 2;
		}
		if (open_or_fail(&s))
			return 1;
		rc = sg_shield_detach(s, argv[1], err, sizeof(err));
		sg_shield_close(s);
		return rc ? fail(rc, err) : 0;
	}
	if (!strcmp(sub, "unload"))
		return cmd_unload();
	if (!strcmp(sub, "add") || !strcmp(sub, "del"))
		return cmd_edit(argc, argv, !strcmp(sub, "del"));
	if (!strcmp(sub, "load"))
		return cmd_load(argc, argv);
	if (!strcmp(sub, "list"))
		return cmd_stats(argc, argv, true);
	if (!strcmp(sub, "stats"))
		return cmd_stats(argc, argv, false);
	if (!strcmp(sub, "dry-run") || !strcmp(sub, "gateway"))
		return cmd_setting(argc, argv);
	fprintf(stderr, "sysguardctl: unknown shield command '%s'\n", sub);
	sg_cli_shield_usage(stderr);
	return 2;
}

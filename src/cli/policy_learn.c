// SPDX-License-Identifier: Apache-2.0
/* sysguardctl policy learn --from AUDIT_LOG: an allow-list of what ran. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/commands.h"
#include "cli/learn_interp.h"
#include "cli/policy_log.h"
#include "cli/policy_tools.h"
#include "policy/learn.h"

enum { OPT_FROM = 256, OPT_SINCE, OPT_CONTAINER, OPT_CGROUP, OPT_INCLUDE_DENIED };

static const struct sg_cli_cmd learn_cmd = { "policy learn",
	"sysguardctl policy learn --from AUDIT_LOG [--since TIME] [--container ID | --cgroup PATH]\n"
	"                         [--include-denied] [-o FILE]\n"
	"\n"
	"Writes an allow-list policy (default deny, monitor mode) with one allow rule per\n"
	"program that ran (and the ELF interpreter each one still on disk needs): by\n"
	"sha256 where the log has it (sysguardd --record-hashes), else by path. What was\n"
	"denied is only listed in a comment, unless --include-denied.\n"
	"\n"
	"      --from=AUDIT_LOG  the daemon's audit log to learn from\n"
	"      --since=TIME      only execs from TIME on: Unix seconds, or UTC as in the log\n"
	"                        (2026-11-23T16:40:01Z, or a prefix such as 2026-11-23)\n"
	"      --container=ID    only execs in this container (its id or a prefix of it)\n"
	"      --cgroup=PATH     only execs in this cgroup (a path under /sys/fs/cgroup)\n"
	"      --include-denied  allow what was denied too\n"
	"  -o, --output=FILE     where to write the policy (replaced; default: stdout)\n"
	"  -h, --help            this help\n" };

struct learn_args {
	const char *from, *out, *container;
	char since[32];
	uint64_t cgroup_id;
	bool has_cgroup, include_denied;
	struct sg_learn *l;
	struct sg_learn_interp *interp;
	unsigned long used;
};

/* Unix seconds become the log's own form; text is kept as a prefix to compare with. */
static int parse_since(const char *s, char *out, size_t cap)
{
	char *end;
	time_t t;
	struct tm tm;
	size_t n;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		t = (time_t)strtoll(s, &end, 10);
		if (!gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm))
			return -EINVAL;
		return 0;
	}
	n = strlen(s);
	if (n && s[n - 1] == 'Z')
		n--;
	if (n < 4 || n >= cap || s[4] != '-')
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* A cgroup directory's inode number is its cgroup id, as exec records carry it. */
static int cgroup_id_of(const char *path, uint64_t *id)
{
	char full[4096];
	struct stat st;

	if (!strncmp(path, "/sys/fs/cgroup", 14))
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "/sys/fs/cgroup/%s", path[0] == '/' ? path + 1 : path);
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

static bool selected(const struct learn_args *a, const struct sg_jv *rec)
{
	const struct sg_jv *proc = sg_jv_get(rec, "process");
	const char *ts = sg_jv_str(sg_jv_get(rec, "ts"));

	if (a->since[0] && (!ts || strncmp(ts, a->since, strlen(a->since)) < 0))
		return false;
	if (a->container) {
		const char *id = sg_jv_str(sg_jv_get(sg_jv_get(proc, "container"), "id"));

		if (!id || strncmp(id, a->container, strlen(a->container)))
			return false;
	}
	if (a->has_cgroup) {
		const struct sg_jv *cg = sg_jv_get(proc, "cgroup_id");

		if (!cg || !cg->is_uint || cg->u != a->cgroup_id)
			return false;
	}
	return true;
}

static int on_exec(const struct sg_jv *rec, void *ctx)
{
	struct learn_args *a = ctx;
	const char *d = sg_log_decision(rec);
	struct sg_exec_facts f;

	if (!d || !selected(a, rec) || !sg_log_exec_facts(rec, &f))
		return 0;
	a->used++;
	if (strcmp(d, "deny") && f.has_path && sg_learn_interp_add(a->interp, a->l, f.path))
		return -ENOMEM;
	return sg_learn_add(a->l, f.has_path ? f.path : NULL, f.has_sha256 ? f.sha256 : NULL,
			    !strcmp(d, "deny"));
}

/* An exit code, or -1 to go on. */
static int parse_args(int argc, char **argv, struct learn_args *a)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		{ "from", required_argument, NULL, OPT_FROM },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "container", required_argument, NULL, OPT_CONTAINER },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "include-denied", no_argument, NULL, OPT_INCLUDE_DENIED },
		{ 0 },
	};
	int c, err;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&learn_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		switch (c) {
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_SINCE:
			if (parse_since(optarg, a->since, sizeof(a->since)))
				return sg_cli_usage_error(&learn_cmd, "--since takes Unix seconds or a time such as 2026-11-23T16:40:01Z, not '%s'",
							  optarg);
			break;
		case OPT_CONTAINER:
			a->container = optarg;
			break;
		case OPT_CGROUP:
			err = cgroup_id_of(optarg, &a->cgroup_id);
			if (err)
				return sg_cli_usage_error(&learn_cmd, "--cgroup %s: %s", optarg, strerror(-err));
			a->has_cgroup = true;
			break;
		case OPT_INCLUDE_DENIED:
			a->include_denied = true;
			break;
		case 'o':
			a->out = optarg;
			break;
		default:
			return sg_cli_bad_option(&learn_cmd, argc, argv, c);
		}
	}
	if (optind < argc)
		return sg_cli_usage_error(&learn_cmd, "unexpected argument '%s'", argv[optind]);
	if (!a->from)
		return sg_cli_usage_error(&learn_cmd, "needs --from AUDIT_LOG");
	if (a->container && a->has_cgroup)
		return sg_cli_usage_error(&learn_cmd, "--container or --cgroup, not both");
	return -1;
}

int sg_cmd_policy_learn(const struct sg_cli *cli, int argc, char **argv)
{
	struct learn_args a = { 0 };
	char *text;
	int rc = parse_args(argc, argv, &a);

	if (rc >= 0)
		return rc;
	a.l = sg_learn_new();
	a.interp = sg_learn_interp_new();
	if (!a.l || !a.interp) {
		sg_learn_free(a.l);
		sg_learn_interp_free(a.interp);
		return SG_EXIT_FAILED;
	}
	rc = sg_log_each_exec(a.from, on_exec, &a, stderr);
	sg_learn_interp_free(a.interp);
	if (rc) {
		sg_learn_free(a.l);
		return SG_EXIT_FAILED;
	}
	text = sg_learn_render(a.l, a.include_denied, a.from);
	sg_learn_free(a.l);
	if (!text)
		return SG_EXIT_FAILED;
	rc = sg_cli_write_output(a.out, text, stderr);
	free(text);
	if (!rc && a.out)
		fprintf(stderr, "sysguardctl policy learn: %lu exec records -> %s\n", a.used, a.out);
	return rc ? SG_EXIT_FAILED : SG_EXIT_OK;
}

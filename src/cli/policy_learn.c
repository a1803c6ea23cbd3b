// SPDX-License-Identifier: Apache-2.0
/* sysguardctl policy learn --from AUDIT_LOG: an allow-list of what ran. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/learn_interp.h"
#include "cli/policy_log.h"
#include "cli/policy_tools.h"
#include "policy/learn.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysguardctl policy learn --from AUDIT_LOG [--since TIME]\n"
		"                                [--container ID | --cgroup PATH] [--include-denied] [-o FILE]\n"
		"Writes an allow-list policy (default deny, monitor mode) with one allow rule per\n"
		"program that ran (and the ELF interpreter each one still on disk needs): by\n"
		"sha256 where the log has it (sysguardd --record-hashes), else by path. TIME is Unix\n"
		"seconds or UTC as in the log (2026-11-23T16:40:01Z, or a prefix such as 2026-11-23).\n");
}

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

static int parse_args(int argc, char **argv, struct learn_args *a)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "container", required_argument, NULL, 'C' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "include-denied", no_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, err;

	optind = 0;	/* 0: a full reset of getopt, whatever parsed argv before */
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			a->from = optarg;
			break;
		case 's':
			if (parse_since(optarg, a->since, sizeof(a->since))) {
				fprintf(stderr, "sysguardctl policy learn: --since takes Unix seconds or a time such as 2026-11-23T16:40:01Z, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'C':
			a->container = optarg;
			break;
		case 'g':
			err = cgroup_id_of(optarg, &a->cgroup_id);
			if (err) {
				fprintf(stderr, "sysguardctl policy learn: --cgroup %s: %s\n", optarg,
					strerror(-err));
				return 2;
			}
			a->has_cgroup = true;
			break;
		case 'd':
			a->include_denied = true;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !a->from || (a->container && a->has_cgroup)) {
		usage(stderr);
		return 2;
	}
	return -1;
}

/* Write the whole text to FILE (replaced) or stdout. */
int sg_cli_write_output(const char *path, const char *text, FILE *errs)
{
	size_t len = strlen(text);
	FILE *o = path ? fopen(path, "we") : stdout;

	if (!o) {
		fprintf(errs, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (fwrite(text, 1, len, o) != len || fflush(o) || (path && fclose(o))) {
		fprintf(errs, "%s: write failed\n", path ? path : "stdout");
		return -EIO;
	}
	return 0;
}

int sg_cmd_policy_learn(int argc, char **argv)
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
		return 1;
	}
	rc = sg_log_each_exec(a.from, on_exec, &a, stderr);
	sg_learn_interp_free(a.interp);
	if (rc) {
		sg_learn_free(a.l);
		return 1;
	}
	text = sg_learn_render(a.l, a.include_denied, a.from);
	sg_learn_free(a.l);
	if (!text)
		return 1;
	rc = sg_cli_write_output(a.out, text, stderr);
	free(text);
	if (!rc && a.out)
		fprintf(stderr, "sysguardctl policy learn: %lu exec records -> %s\n", a.used, a.out);
	return rc ? 1 : 0;
}

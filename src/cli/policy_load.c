// SPDX-License-Identifier: Apache-2.0
/* The daemon's way to load a policy, for the policy tools. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/kernel_rules.h"
#include "cli/policy_tools.h"
#include "policy/bundle.h"
#include "store/bundle_files.h"
#include "store/policy_dir.h"

/* The parser's message starts with "SOURCE:LINE:COL: "; print it gcc-style. */
static void print_parse_error(FILE *errs, const char *path, const struct sg_policy_error *e)
{
	char prefix[4200];
	const char *text = e->message;
	int n;

	/* The file at fault: the main policy or one of its fragments. */
	if (e->source[0])
		path = e->source;
	if (e->line)
		n = snprintf(prefix, sizeof(prefix), "%s:%u:%u: ", path, e->line, e->column);
	else
		n = snprintf(prefix, sizeof(prefix), "%s: ", path);
	if (n > 0 && (size_t)n < sizeof(prefix) && !strncmp(text, prefix, (size_t)n))
		text += n;
	if (e->line)
		fprintf(errs, "%s:%u:%u: error: %s\n", path, e->line, e->column, text);
	else
		fprintf(errs, "%s: error: %s\n", path, text);
}

int sg_cli_load_policy(const char *path, struct sg_policy **out, FILE *errs)
{
	return sg_cli_load_policy_dir(path, NULL, out, errs);
}

int sg_cli_load_policy_dir(const char *path, const char *dir, struct sg_policy **out, FILE *errs)
{
	struct sg_policy_error perr;
	struct sg_policy_dir frags = { 0 };
	struct sg_policy_file main_policy;
	char err[4200], *buf = NULL;
	size_t len;
	int rc;

	if (sg_file_read_all(path, SG_BUNDLE_POLICY_MAX, &buf, &len, err, sizeof(err))) {
		fprintf(errs, "%s: error: %s\n", path, err);
		return -EIO;
	}
	/* As the daemon reads policy.d, but without its owner check: these may be files under review. */
	if (dir && sg_policy_dir_read(dir, false, &frags, err, sizeof(err))) {
		fprintf(errs, "%s: error: %s\n", dir, err);
		free(buf);
		return -EIO;
	}
	memset(&perr, 0, sizeof(perr));
	main_policy = (struct sg_policy_file){ path, buf, len };
	rc = sg_policy_parse_set(&main_policy, frags.files, frags.n, out, &perr);
	sg_policy_dir_free(&frags);
	free(buf);
	if (rc) {
		print_parse_error(errs, path, &perr);
		return rc;
	}
	/* Unresolved identities stay inactive, as in the daemon; `check` says so. */
	sg_policy_resolve(*out, sg_resolve_stat, NULL, NULL);
	return 0;
}

int sg_cli_engine_init(struct sg_engine *e, struct sg_policy *p)
{
	memset(e, 0, sizeof(*e));
	e->policy = p;
	e->mode_override = -1;
	e->mounts.fd = -1;
	e->hashes = sg_hash_cache_new(4096);
	return e->hashes ? 0 : -ENOMEM;
}

void sg_cli_engine_free(struct sg_engine *e)
{
	sg_hash_cache_free(e->hashes);
	memset(e, 0, sizeof(*e));
}

void sg_cli_decide(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v)
{
	/*
	 * No process: pid -1 has no /proc entry, so the engine opens the file
	 * by its path and checks it is the same dev+inode before hashing it.
	 */
	f->pid = -1;
	if (!f->has_path)
		f->path_unknown = true;
	sg_engine_decide(e, f, -1, v);
}

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

/* The parser's message starts with "SOURCE:LINE:COL: "; print it gcc-style. */
static void print_parse_error(FILE *errs, const char *path, const struct sg_policy_error *e)
{
	char prefix[4200];
	const char *text = e->message;
	int n;

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
	struct sg_policy_error perr;
	char err[4200], *buf = NULL;
	size_t len;
	int rc;

	if (sg_file_read_all(path, SG_BUNDLE_POLICY_MAX, &buf, &len, err, sizeof(err))) {
		fprintf(errs, "%s: error: %s\n", path, err);
		return -EIO;
	}
	memset(&perr, 0, sizeof(perr));
	rc = sg_policy_parse(buf, len, path, out, &perr);
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

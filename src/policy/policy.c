// SPDX-License-Identifier: Apache-2.0
/*
 * Compiled policy: lookup tables, identity resolution, accessors. Parsing
 * lives in parse*.c and evaluation in eval.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t hash_id(const struct sg_file_id *id)
{
	uint64_t k[2] = { id->dev, id->ino };

	return sg_hash_bytes(k, sizeof(k));
}

static bool eq_id(const void *ctx, uint32_t idx, const void *key)
{
	const struct sg_rule *r = &((const struct sg_policy *)ctx)->rules[idx];
	const struct sg_file_id *id = key;

	return r->id_target.dev == id->dev && r->id_target.ino == id->ino;
}

static bool eq_sha(const void *ctx, uint32_t idx, const void *key)
{
	const struct sg_rule *r = &((const struct sg_policy *)ctx)->rules[idx];

	return memcmp(r->sha256, key, SG_SHA256_LEN) == 0;
}

static bool eq_path(const void *ctx, uint32_t idx, const void *key)
{
	const struct sg_rule *r = &((const struct sg_policy *)ctx)->rules[idx];

	return strcmp(r->pattern, key) == 0;
}

struct dir_key {
	const char *s;
	size_t len;
};

static bool eq_glob_dir(const void *ctx, uint32_t idx, const void *key)
{
	const struct sg_policy *p = ctx;
	const struct dir_key *k = key;

	return p->ext[idx].glob_dir_len == k->len &&
	       memcmp(p->rules[idx].pattern, k->s, k->len) == 0;
}

uint32_t sg_policy_find_id(const struct sg_policy *p, const struct sg_file_id *id)
{
	return sg_table_find(&p->by_id, hash_id(id), eq_id, p, id);
}

uint32_t sg_policy_find_sha(const struct sg_policy *p, const uint8_t *sha)
{
	return sg_table_find(&p->by_sha, sg_hash_bytes(sha, SG_SHA256_LEN), eq_sha, p, sha);
}

uint32_t sg_policy_find_path(const struct sg_policy *p, const char *path)
{
	return sg_table_find(&p->by_path, sg_hash_bytes(path, strlen(path)), eq_path, p, path);
}

uint32_t sg_policy_find_glob_dir(const struct sg_policy *p, uint64_t hash,
				 const char *dir, size_t len)
{
	struct dir_key k = { dir, len };

	return sg_table_find(&p->by_glob_dir, hash, eq_glob_dir, p, &k);
}

void sg_policy_index_identities(struct sg_policy *p)
{
	size_t i;

	sg_table_clear(&p->by_id);
	/* Pushing in reverse leaves every chain in file order. */
	for (i = p->nrules; i-- > 0;) {
		struct sg_rule *r = &p->rules[i];

		p->ext[i].id_next = SG_NIL;
		if ((r->kind != SG_MATCH_IDENTITY && r->kind != SG_MATCH_PATH) || !r->id_resolved)
			continue;
		p->ext[i].id_next = sg_table_push(&p->by_id, hash_id(&r->id_target), eq_id, p,
						  &r->id_target, (uint32_t)i);
	}
}

int sg_policy_compile(struct sg_policy *p)
{
	size_t i, g = 0;
	int rc;

	if (p->libs) {
		/* Allow-list mode (default: deny) is allow-list mode for libraries too. */
		p->libs->default_action = p->default_action;
		p->libs->mode = p->mode;
		p->libs->srcs = p->srcs;
		p->libs->nsrcs = p->nsrcs;
		rc = sg_policy_compile(p->libs);
		if (rc)
			return rc;
	}

	rc = sg_table_init(&p->by_id, p->n_kind[SG_MATCH_IDENTITY] + p->n_kind[SG_MATCH_PATH]);
	if (!rc)
		rc = sg_table_init(&p->by_sha, p->n_kind[SG_MATCH_SHA256]);
	if (!rc)
		rc = sg_table_init(&p->by_path, p->n_kind[SG_MATCH_PATH]);
	if (!rc)
		rc = sg_table_init(&p->by_glob_dir, p->n_kind[SG_MATCH_GLOB]);
	if (rc)
		return rc;
	if (p->n_kind[SG_MATCH_GLOB]) {
		p->globs = calloc(p->n_kind[SG_MATCH_GLOB], sizeof(*p->globs));
		if (!p->globs)
			return -ENOMEM;
	}
	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].kind == SG_MATCH_GLOB && !p->rules[i].scope)
			p->globs[g++] = (uint32_t)i;
	p->nglobs = g;

	for (i = p->nrules; i-- > 0;) {
		struct sg_rule *r = &p->rules[i];
		struct sg_rule_ext *x = &p->ext[i];
		uint32_t *next = &x->next;
		struct dir_key k;

		x->glob_next = SG_NIL;
		if (r->scope) {
			*next = SG_NIL;
			continue;
		}
		switch (r->kind) {
		case SG_MATCH_SHA256:
			*next = sg_table_push(&p->by_sha, sg_hash_bytes(r->sha256, SG_SHA256_LEN),
					      eq_sha, p, r->sha256, (uint32_t)i);
			break;
		case SG_MATCH_PATH:
			*next = sg_table_push(&p->by_path, sg_hash_bytes(r->pattern, strlen(r->pattern)),
					      eq_path, p, r->pattern, (uint32_t)i);
			break;
		case SG_MATCH_GLOB:
			/* Parsing capped patterns at SG_GLOB_MAX_LEN bytes, so the length fits. */
			x->glob_dir_len = (uint32_t)sg_glob_literal_dir(r->pattern);
			k = (struct dir_key){ r->pattern, x->glob_dir_len };
			x->glob_next = sg_table_push(&p->by_glob_dir, sg_hash_bytes(k.s, k.len),
						     eq_glob_dir, p, &k, (uint32_t)i);
			*next = SG_NIL;
			break;
		case SG_MATCH_IDENTITY:
		case SG_MATCH_DRIFT:
			*next = SG_NIL;
			break;
		}
	}
	sg_policy_index_identities(p);
	return 0;
}

void sg_policy_free(struct sg_policy *p)
{
	size_t i, l;

	if (!p)
		return;
	for (i = 0; i < p->nrules; i++) {
		free(p->rules[i].pattern);
		free(p->rules[i].parent_pattern);
		sg_glob_free(p->ext[i].glob);
		sg_glob_free(p->ext[i].parent_glob);
	}
	for (i = 0; i < p->nnet; i++)
		free(p->net[i].exe);
	free(p->net);
	for (l = 0; l < SG_FILES_NLISTS; l++) {
		for (i = 0; i < p->nfiles[l]; i++) {
			free(p->files[l][i].path);
			free(p->files[l][i].cgroup);
		}
		free(p->files[l]);
	}
	if (p->libs) {
		p->libs->srcs = NULL;
		p->libs->nsrcs = 0;
		sg_policy_free(p->libs);
	}
	for (i = 0; i < p->scripts.ninterpreters; i++)
		free(p->scripts.interpreters[i]);
	free(p->scripts.interpreters);
	for (i = 0; i < p->nselectors; i++)
		sg_selector_free(&p->selectors[i]);
	free(p->selectors);
	free(p->scoped);
	free(p->drift);
	for (i = 0; i < p->nsrcs; i++) {
		free(p->srcs[i].source);
		free(p->srcs[i].fragment);
	}
	free(p->srcs);
	free(p->rules);
	free(p->ext);
	free(p->globs);
	sg_table_free(&p->by_id);
	sg_table_free(&p->by_sha);
	sg_table_free(&p->by_path);
	sg_table_free(&p->by_glob_dir);
	free(p);
}

const char *sg_policy_version(const struct sg_policy *p)
{
	return p->version;
}

const struct sg_guard *sg_policy_guard(const struct sg_policy *p)
{
	static const struct sg_guard none;

	return p ? &p->guard : &none;
}

const struct sg_policy *sg_policy_libraries(const struct sg_policy *p)
{
	return p->libs;
}

const struct sg_scripts *sg_policy_scripts(const struct sg_policy *p)
{
	return &p->scripts;
}

enum sg_fileless sg_policy_fileless(const struct sg_policy *p)
{
	return p->fileless;
}

enum sg_mode sg_policy_mode(const struct sg_policy *p)
{
	return p->mode;
}

enum sg_action sg_policy_default_action(const struct sg_policy *p)
{
	return p->default_action;
}

bool sg_policy_has_hash_rules(const struct sg_policy *p)
{
	return p->n_kind[SG_MATCH_SHA256] > 0;
}

bool sg_policy_has_glob_rules(const struct sg_policy *p)
{
	return p->n_kind[SG_MATCH_GLOB] > 0;
}

bool sg_policy_has_name_rules(const struct sg_policy *p)
{
	return p->n_kind[SG_MATCH_PATH] + p->n_kind[SG_MATCH_GLOB] > 0;
}

size_t sg_policy_rule_count(const struct sg_policy *p)
{
	return p->nrules;
}

const struct sg_rule *sg_policy_rule(const struct sg_policy *p, size_t i)
{
	return i < p->nrules ? &p->rules[i] : NULL;
}

size_t sg_policy_file_rule_count(const struct sg_policy *p, enum sg_file_list l)
{
	return (unsigned)l < SG_FILES_NLISTS ? p->nfiles[l] : 0;
}

const struct sg_file_rule_spec *sg_policy_file_rule(const struct sg_policy *p,
						    enum sg_file_list l, size_t i)
{
	return (unsigned)l < SG_FILES_NLISTS && i < p->nfiles[l] ? &p->files[l][i] : NULL;
}

size_t sg_policy_net_rule_count(const struct sg_policy *p)
{
	return p->nnet;
}

const struct sg_net_rule *sg_policy_net_rule(const struct sg_policy *p, size_t i)
{
	return i < p->nnet ? &p->net[i] : NULL;
}

const char *sg_net_action_name(enum sg_net_action a)
{
	return a == SG_NET_DENY ? "deny" : a == SG_NET_ALLOW ? "allow" : "audit";
}

int sg_policy_resolve(struct sg_policy *p, sg_resolve_fn resolve,
		      sg_report_fn report, void *ctx)
{
	size_t i;

	if (!resolve)
		return -EINVAL;
	for (i = 0; i < p->nrules; i++) {
		struct sg_rule *r = &p->rules[i];
		struct sg_file_id id = { 0 };
		bool is_path = r->kind == SG_MATCH_PATH;
		int rc;

		/* Explicit {dev, ino} rules have no path and are always active. */
		if ((r->kind != SG_MATCH_IDENTITY && !is_path) || !r->pattern)
			continue;
		/* A scoped rule's path is the container's: the engine looks it up there. */
		if (r->scope)
			continue;
		rc = resolve(r->pattern, &id, ctx);
		if (rc == 0) {
			r->id_target = id;
			r->id_resolved = true;
			continue;
		}
		r->id_resolved = false;
		memset(&r->id_target, 0, sizeof(r->id_target));
		/* A path rule still matches by name; only identity rules go inactive. */
		if (report && !is_path)
			report(r, rc < 0 ? rc : -rc, ctx);
	}
	sg_policy_index_identities(p);
	return p->libs ? sg_policy_resolve(p->libs, resolve, report, ctx) : 0;
}

void sg_policy_foreach_kernel_deny(const struct sg_policy *p, sg_rule_fn fn, void *ctx)
{
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		const struct sg_rule *r = &p->rules[i];

		if (r->action != SG_ACTION_DENY || r->parent_pattern)
			continue;
		if ((r->kind == SG_MATCH_PATH || r->kind == SG_MATCH_IDENTITY) && r->id_resolved)
			fn(r, ctx);
	}
}

const char *sg_match_kind_name(enum sg_match_kind k)
{
	switch (k) {
	case SG_MATCH_IDENTITY:
		return "identity";
	case SG_MATCH_SHA256:
		return "sha256";
	case SG_MATCH_PATH:
		return "path";
	case SG_MATCH_GLOB:
		return "glob";
	case SG_MATCH_DRIFT:
		return "drift";
	}
	return "unknown";
}

const char *sg_action_name(enum sg_action a)
{
	switch (a) {
	case SG_ACTION_ALLOW:
		return "allow";
	case SG_ACTION_DENY:
		return "deny";
	case SG_ACTION_AUDIT:
		return "audit";
	}
	return "unknown";
}

const char *sg_mode_name(enum sg_mode m)
{
	switch (m) {
	case SG_MODE_MONITOR:
		return "monitor";
	case SG_MODE_ENFORCE:
		return "enforce";
	}
	return "unknown";
}

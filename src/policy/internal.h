/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiled policy, shared by the parser (parse.c), the table builder and
 * accessors (policy.c) and the evaluator (eval.c). Not for use outside
 * src/policy/.
 */
#ifndef SG_POLICY_INTERNAL_H
#define SG_POLICY_INTERNAL_H

#include "glob.h"
#include "policy.h"
#include "table.h"

/* Per-rule data the public struct sg_rule does not show. */
struct sg_rule_ext {
	struct sg_glob *glob;		/* SG_MATCH_GLOB target */
	struct sg_glob *parent_glob;	/* parent constraint when parent_is_glob */
	uint32_t next;			/* next rule with the same table key, in file order */
	uint32_t id_next;		/* same, in the identity table (identity and path rules) */
	unsigned name_line, name_col;	/* where the name was given, for messages */
};

struct sg_policy {
	char version[SG_POLICY_VERSION_MAX];
	enum sg_mode mode;
	enum sg_action default_action;
	enum sg_fileless fileless;

	struct sg_rule *rules;
	struct sg_rule_ext *ext;
	size_t nrules;
	size_t cap;

	struct sg_table by_id;		/* resolved identity rules, and path rules by their file */
	struct sg_table by_sha;
	struct sg_table by_path;
	uint32_t *globs;		/* glob rules, in file order */
	size_t nglobs;

	size_t n_kind[4];		/* rules per enum sg_match_kind */
	size_t n_parent[4];		/* ...of which have a parent constraint */
	size_t n_sha_deny;
};

/* Build the lookup tables once every rule is parsed. 0 or -ENOMEM. */
int sg_policy_compile(struct sg_policy *p);

/* (Re)fill the identity table from the rules currently resolved. */
void sg_policy_index_identities(struct sg_policy *p);

/* First rule (in file order) of each table chain, or SG_NIL; follow ext[].next. */
uint32_t sg_policy_find_id(const struct sg_policy *p, const struct sg_file_id *id);
uint32_t sg_policy_find_sha(const struct sg_policy *p, const uint8_t *sha);
uint32_t sg_policy_find_path(const struct sg_policy *p, const char *path);

#endif

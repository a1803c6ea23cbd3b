/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiled policy, shared by the parser (parse*.c), the table builder and
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
	uint32_t glob_next;		/* same, in the glob directory table (glob rules) */
	uint32_t glob_dir_len;		/* glob rules: sg_glob_literal_dir() of the pattern */
	unsigned name_line, name_col;	/* where the name was given, for messages */
	unsigned target_line, target_col;	/* where its path/glob/identity/sha256 value is */
};

/* A file merged into the policy: [0] the main policy, then each fragment in merge order. */
struct sg_policy_src {
	char *source;			/* rules' `source` points here */
	char *fragment;			/* the fragment's name: (NULL for the main policy) */
	unsigned name_line, name_col;	/* where that name: is */
};

struct sg_policy {
	char version[SG_POLICY_VERSION_MAX];
	enum sg_mode mode;
	enum sg_action default_action;
	enum sg_fileless fileless;
	struct sg_guard guard;
	struct sg_scripts scripts;
	/* libraries: rules, compiled as a policy of their own (srcs borrowed from this one). */
	struct sg_policy *libs;

	struct sg_rule *rules;
	struct sg_rule_ext *ext;
	size_t nrules;
	size_t cap;

	struct sg_table by_id;		/* resolved identity rules, and path rules by their file */
	struct sg_table by_sha;
	struct sg_table by_path;
	struct sg_table by_glob_dir;	/* glob rules by literal directory */
	uint32_t *globs;		/* glob rules, in file order */
	size_t nglobs;

	struct sg_file_rule_spec *files[SG_FILES_NLISTS];	/* files:, integrity:, file_audit: */
	size_t nfiles[SG_FILES_NLISTS];
	size_t files_cap[SG_FILES_NLISTS];

	struct sg_net_rule *net;	/* egress rules, in file order */
	size_t nnet;
	size_t net_cap;

	struct sg_policy_src *srcs;
	size_t nsrcs;

	size_t n_kind[4];		/* unscoped rules per enum sg_match_kind */
	size_t n_parent[4];		/* ...of which have a parent constraint */

	struct sg_selector *selectors;	/* `container:` selectors, rule.scope - 1 */
	size_t nselectors, sel_cap;
	uint32_t *scoped;		/* scoped rules, in file order (not in the tables) */
	size_t nscoped, scoped_cap;
	size_t n_scoped_name;		/* ...matching on a path or glob */
	struct sg_rule *drift;		/* drift: rules, in file order */
	size_t ndrift, drift_cap;
	size_t n_sha_deny;		/* sha256 rules that deny or audit: worth hashing for */
};

/*
 * Which containers a rule applies to; every given field must match. Text
 * fields are shell patterns (fnmatch, `*` crosses '/'); labels are exact.
 */
struct sg_selector {
	char *id, *runtime, *name, *image, *image_digest;
	char *pod_namespace, *pod_name;
	char **label_keys, **label_values;
	size_t nlabels;
	unsigned line, column;
};

bool sg_selector_matches(const struct sg_selector *s, const struct sg_workload_attrs *w);
void sg_selector_free(struct sg_selector *s);

/* Build the lookup tables once every rule is parsed. 0 or -ENOMEM. */
int sg_policy_compile(struct sg_policy *p);

/* (Re)fill the identity table from the rules currently resolved. */
void sg_policy_index_identities(struct sg_policy *p);

/* First rule (in file order) of each table chain, or SG_NIL; follow ext[].next. */
uint32_t sg_policy_find_id(const struct sg_policy *p, const struct sg_file_id *id);
uint32_t sg_policy_find_sha(const struct sg_policy *p, const uint8_t *sha);
uint32_t sg_policy_find_path(const struct sg_policy *p, const char *path);

/*
 * First glob rule (in file order) whose literal directory is dir[0, len), or
 * SG_NIL; follow ext[].glob_next. `hash` is sg_hash_bytes(dir, len), taken
 * by the caller so that it can hash a path's prefixes in one pass.
 */
uint32_t sg_policy_find_glob_dir(const struct sg_policy *p, uint64_t hash,
				 const char *dir, size_t len);

#endif

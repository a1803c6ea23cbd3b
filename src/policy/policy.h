/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy engine: parse a policy document, compile it into lookup tables and
 * evaluate exec subjects against it. No I/O happens here: the caller reads
 * the file, resolves identities (stat) and computes hashes, so the engine can
 * be unit-tested alone and fuzzed.
 */
#ifndef SG_POLICY_H
#define SG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_SHA256_LEN 32
/* The version a policy reports: its own "version:" (at most SG_POLICY_TAG_MAX - 1 bytes), plus "+dN.HASH" with fragments. */
#define SG_POLICY_TAG_MAX 64
#define SG_POLICY_VERSION_MAX 96
#define SG_RULE_NAME_MAX 64
/* A policy fragment's "name:" (policy.d), at most this many bytes minus one. */
#define SG_FRAGMENT_NAME_MAX 41

enum sg_mode {
	SG_MODE_MONITOR = 0,
	SG_MODE_ENFORCE = 1,
};

enum sg_action {
	SG_ACTION_ALLOW = 0,
	SG_ACTION_DENY = 1,
	/* Rules only: a deny on trial. It never blocks; a match is recorded as a would-be deny. */
	SG_ACTION_AUDIT = 2,
};

/* How an exec of a file with no name (memfd, deleted file) is handled. */
enum sg_fileless {
	SG_FILELESS_INSPECT = 0,	/* hold it, hash it, decide like any other exec */
	SG_FILELESS_DENY = 1,		/* deny outright */
};

/* Code an interpreter is handed in argv or on stdin, not in a file (scripts: inline:). */
enum sg_inline_code {
	SG_INLINE_ALLOW = 0,
	SG_INLINE_AUDIT,		/* runs; its record says audit */
	SG_INLINE_DENY,
};

/*
 * scripts: the exec rules also judge the script an interpreter is asked to
 * run. Interpreters are the files at these paths (symlinks followed), known
 * by their identity once resolved.
 */
struct sg_scripts {
	bool on;
	enum sg_inline_code inline_code;
	char **interpreters;
	size_t ninterpreters;
	unsigned line;
};

/* What a rule matches on; listed in evaluation precedence order. */
enum sg_match_kind {
	SG_MATCH_IDENTITY = 0,	/* device + inode of the executable */
	SG_MATCH_SHA256 = 1,	/* content hash */
	SG_MATCH_PATH = 2,	/* exact absolute path */
	SG_MATCH_GLOB = 3,	/* glob: * and ? stop at '/', ** crosses it (docs/policy.md) */
	SG_MATCH_DRIFT = 4,	/* drift: rules: a file the container's image did not have */
};

/* A file identity as user space sees it (st_dev, st_ino). */
struct sg_file_id {
	uint64_t dev;
	uint64_t ino;
};

struct sg_rule {
	uint32_t id;			/* 1-based, order of appearance */
	char name[SG_RULE_NAME_MAX];	/* from the file, or "rule-<id>" */
	enum sg_action action;
	enum sg_match_kind kind;
	char *pattern;			/* path, glob or identity path (NULL for explicit dev/ino) */
	struct sg_file_id id_target;	/* SG_MATCH_IDENTITY, once resolved */
	bool id_resolved;
	uint8_t sha256[SG_SHA256_LEN];	/* SG_MATCH_SHA256 */
	/* Optional parent-process constraint: exact path or glob of the parent's executable. */
	char *parent_pattern;
	bool parent_is_glob;
	unsigned line;			/* line in the policy source, for messages */
	unsigned column;		/* column of the rule's first key (or its "{") */
	const char *source;		/* the file it is written in (the parser's `source`) */
	const char *fragment;		/* its policy fragment's name:, NULL in the main policy */
	/*
	 * 0, or 1 + the index of its `container:` selector: the rule applies
	 * only in matching containers, and its path means the container's.
	 */
	uint32_t scope;
};

/*
 * The container an exec runs in, as the runtime recorded it, for rules
 * scoped with `container:`. Any string may be NULL or "" when unknown.
 */
struct sg_workload_attrs {
	const char *id;
	const char *runtime;
	const char *name;
	const char *image;
	const char *image_digest;
	const char *pod_namespace;
	const char *pod_name;
	const char *pod_uid;
	const char *k8s_container;
	char *const *label_keys;
	char *const *label_values;
	size_t nlabels;
};

/* What the engine needs to know about an exec. Any pointer may be NULL when unknown. */
struct sg_exec_subject {
	const char *path;		/* absolute path of the executable */
	const struct sg_file_id *id;	/* identity of the executable */
	const uint8_t *sha256;		/* content hash, SG_SHA256_LEN bytes */
	const char *parent_path;	/* parent process's executable */
	/* In a container (NULL on the host): scoped rules match these. */
	const struct sg_workload_attrs *workload;
	const char *container_path;	/* the path as the container sees it; NULL unknown */
	/* Scoped identity rules: whether the file is the one at `path` in the container. */
	bool (*is_container_file)(const char *path, void *ctx);
	void *ctx;
};

enum sg_eval_status {
	SG_EVAL_DONE = 0,
	/* A hash rule could decide, but subject->sha256 is NULL: compute it and call again. */
	SG_EVAL_NEED_HASH = 1,
};

struct sg_verdict {
	enum sg_action action;		/* allow or deny, never audit */
	const struct sg_rule *rule;	/* NULL when the default action decided */
	/*
	 * An allow that an "action: audit" rule would have denied: the first
	 * such rule, in deny precedence order. The exec runs; its record says
	 * "audit" and names this rule. NULL otherwise.
	 */
	const struct sg_rule *audit;
	/*
	 * True when the verdict depends only on the file (not on the parent),
	 * so a backend may cache it per file (e.g. a fanotify ignore mark).
	 */
	bool file_only;
};

struct sg_policy_error {
	unsigned line;			/* 0 when not tied to a line */
	unsigned column;
	char source[512];		/* the file at fault (the main policy or a fragment) */
	char message[1024];
};

struct sg_policy;

/*
 * Parse and compile a policy document held in memory. `source` names it in
 * error messages. On failure returns a negative errno, fills *err and leaves
 * *out untouched.
 */
int sg_policy_parse(const char *buf, size_t len, const char *source,
		    struct sg_policy **out, struct sg_policy_error *err);

/* One policy document in memory: `source` names it in messages and in rules. */
struct sg_policy_file {
	const char *source;
	const char *buf;
	size_t len;
};

/*
 * The main policy merged with policy fragments (policy.d, docs/policy.md):
 * the main policy's rules first, then each fragment's, in the order given
 * (the caller sorts them by file name). A fragment has a "name:" of its own
 * and rule lists only; its rules carry that name in `fragment`. Conflicts
 * between files (a rule name or fragment name used twice, a fragment
 * setting a global key) are errors naming both places, like errors inside
 * one file. With no fragments this is sg_policy_parse().
 */
int sg_policy_parse_set(const struct sg_policy_file *main_policy,
			const struct sg_policy_file *fragments, size_t nfragments,
			struct sg_policy **out, struct sg_policy_error *err);

/* The fragments merged in, in merge order: their name: and file. */
size_t sg_policy_fragment_count(const struct sg_policy *p);
const char *sg_policy_fragment_name(const struct sg_policy *p, size_t i);
const char *sg_policy_fragment_source(const struct sg_policy *p, size_t i);

void sg_policy_free(struct sg_policy *p);

const char *sg_policy_version(const struct sg_policy *p);
/*
 * guard: a policy that enforces drops back to monitor mode by itself when,
 * within `for_s` seconds of it starting to enforce, more than `max_denies`
 * execs are denied in any `per_s` seconds. max_denies 0: no guard.
 */
struct sg_guard {
	uint32_t max_denies;
	uint32_t per_s;
	uint32_t for_s;
	unsigned line;		/* where guard: is, for records */
};

/* The policy's guard (max_denies 0 when it has none). */
const struct sg_guard *sg_policy_guard(const struct sg_policy *p);
enum sg_fileless sg_policy_fileless(const struct sg_policy *p);
const struct sg_scripts *sg_policy_scripts(const struct sg_policy *p);
/*
 * The libraries: rules (what may be mapped as code), as a rule set of their
 * own: evaluate it with sg_policy_eval. NULL when the policy has none.
 */
const struct sg_policy *sg_policy_libraries(const struct sg_policy *p);
enum sg_mode sg_policy_mode(const struct sg_policy *p);
enum sg_action sg_policy_default_action(const struct sg_policy *p);

/*
 * Identity rules written with a path, and exact path rules, are resolved by
 * the caller (stat). `resolve` returns 0 and fills *id, or a negative errno;
 * an unresolvable identity rule stays inactive and its error is reported
 * through `report`; a path rule still matches by name. A resolved path rule
 * also matches its file by identity. May be called again (a binary was
 * replaced); not while evaluations run. Returns 0, or -EINVAL without
 * `resolve`.
 */
typedef int (*sg_resolve_fn)(const char *path, struct sg_file_id *id, void *ctx);
typedef void (*sg_report_fn)(const struct sg_rule *rule, int err, void *ctx);
int sg_policy_resolve(struct sg_policy *p, sg_resolve_fn resolve,
		      sg_report_fn report, void *ctx);

/* Deterministic decision; see docs/policy.md for precedence. */
enum sg_eval_status sg_policy_eval(const struct sg_policy *p,
				   const struct sg_exec_subject *s,
				   struct sg_verdict *v);

/* True when at least one rule matches on content hash. */
bool sg_policy_has_hash_rules(const struct sg_policy *p);
/* True when at least one rule matches on a name (exact path or glob). */
bool sg_policy_has_name_rules(const struct sg_policy *p);
bool sg_policy_has_glob_rules(const struct sg_policy *p);

/*
 * Rules the kernel can enforce alone: deny rules without a parent constraint
 * matching on identity or exact path, once resolved (id_target is valid).
 */
typedef void (*sg_rule_fn)(const struct sg_rule *rule, void *ctx);
void sg_policy_foreach_kernel_deny(const struct sg_policy *p, sg_rule_fn fn, void *ctx);

size_t sg_policy_rule_count(const struct sg_policy *p);
const struct sg_rule *sg_policy_rule(const struct sg_policy *p, size_t i);

/* Egress rules (the policy's "egress:" list, NET-1), enforced by the kernel. */
enum sg_net_action {
	SG_NET_DENY = 1,	/* = SG_EGRESS_DENY */
	SG_NET_AUDIT = 2,	/* = SG_EGRESS_AUDIT: record, never block */
	SG_NET_ALLOW = 3,	/* = SG_EGRESS_ALLOW: record, let through; an exception to a wider deny */
};

struct sg_net_rule {
	uint32_t id;			/* 1-based, order in the egress list */
	char name[SG_RULE_NAME_MAX];
	enum sg_net_action action;
	uint8_t family;			/* 4 or 6 */
	uint8_t prefix_len;
	uint8_t addr[16];		/* network order, host bits zero */
	uint8_t proto;			/* 0 any, 6 tcp, 17 udp */
	uint16_t port_lo, port_hi;	/* 0..65535 when not given */
	char *exe;			/* optional: only this executable (resolved by the caller) */
	/*
	 * `container:`: 1 + its selector's index (0: every process), and its
	 * bit (1-based) in the scope mask the kernel keeps per container cgroup.
	 */
	uint32_t scope;
	uint8_t scope_bit;
	unsigned line;
	const char *source;		/* as in struct sg_rule */
	const char *fragment;
};

#define SG_NET_SCOPE_BITS 64
/* Bit (scope_bit - 1) set for every scoped egress rule whose selector matches w. */
uint64_t sg_policy_net_scope_mask(const struct sg_policy *p, const struct sg_workload_attrs *w);
size_t sg_policy_net_rule_count(const struct sg_policy *p);
const struct sg_net_rule *sg_policy_net_rule(const struct sg_policy *p, size_t i);
const char *sg_net_action_name(enum sg_net_action a);

/*
 * File rules: the policy's "files:" (protected files, FILE-1), "integrity:"
 * (watched paths, FILE-2) and "file_audit:" (processes whose opens are
 * recorded, FILE-4) lists. The deny bits equal bpf/sysguard.h's
 * SG_FILE_DENY_*.
 */
#define SG_FDENY_WRITE	(1u << 0)	/* open for write, truncate, chmod/chown/utimes */
#define SG_FDENY_DELETE	(1u << 1)	/* unlink, rename, replace by rename, hard link */
#define SG_FDENY_READ	(1u << 2)	/* any open */
/* Directories and absent paths only (src/act/file_create.c; on bpf_lsm also sg_absent). */
#define SG_FDENY_CREATE	(1u << 3)	/* a new entry in the directory, or the absent name */
#define SG_FDENY_DEFAULT (SG_FDENY_WRITE | SG_FDENY_DELETE)

enum sg_file_list {
	SG_FILES_PROTECT = 0,	/* files: path + deny */
	SG_FILES_WATCH = 1,	/* integrity: path (a file, or a directory and all below it) */
	SG_FILES_TRACE = 2,	/* file_audit: exe or cgroup */
	SG_FILES_NLISTS
};

struct sg_file_rule_spec {
	uint32_t id;			/* 1-based, order in its list */
	char name[SG_RULE_NAME_MAX];
	char *path;			/* protected/watched path, or the traced executable */
	char *cgroup;			/* file_audit: a cgroup v2 directory (path is NULL then) */
	uint32_t scope;			/* file_audit: 1 + its `container:` selector's index, or 0 */
	uint32_t deny;			/* files: SG_FDENY_* */
	unsigned line;
	const char *source;		/* as in struct sg_rule */
	const char *fragment;
};

size_t sg_policy_file_rule_count(const struct sg_policy *p, enum sg_file_list l);
/* Whether a file rule scoped with `container:` applies in the container w. */
bool sg_policy_file_rule_selects(const struct sg_policy *p, const struct sg_file_rule_spec *r,
				 const struct sg_workload_attrs *w);
const struct sg_file_rule_spec *sg_policy_file_rule(const struct sg_policy *p,
						    enum sg_file_list l, size_t i);

/* Rules scoped to containers: how many, and whether any matches on a name. */
size_t sg_policy_scoped_rule_count(const struct sg_policy *p);
bool sg_policy_has_scoped_name_rules(const struct sg_policy *p);
/* Whether any rule or drift rule's selector matches this container. */
bool sg_policy_scopes(const struct sg_policy *p, const struct sg_workload_attrs *w);
/*
 * The first drift rule (in file order) whose selector matches the
 * container, or NULL. Its action is deny or audit.
 */
const struct sg_rule *sg_policy_drift_rule(const struct sg_policy *p,
					   const struct sg_workload_attrs *w);
size_t sg_policy_drift_rule_count(const struct sg_policy *p);
const char *sg_match_kind_name(enum sg_match_kind k);
const char *sg_action_name(enum sg_action a);
const char *sg_mode_name(enum sg_mode m);

#endif

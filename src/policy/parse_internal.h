/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the policy parser's files (parse*.c): the parser state, the
 * helpers every part of the format uses to read values and report errors,
 * and the list kinds the top-level mapping hands its lists to. Not for use
 * outside src/policy/.
 */
#ifndef SG_POLICY_PARSE_INTERNAL_H
#define SG_POLICY_PARSE_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "internal.h"

struct parser {
	yaml_parser_t yp;
	yaml_event_t ev;
	bool have_ev;
	const char *buf;
	size_t len;
	const char *source;
	struct sg_policy_error *err;
	struct sg_policy *p;
	/* Parsing a policy fragment: only name: and rule lists, defaults named after it. */
	bool fragment;
	size_t src;			/* p->srcs[src] is the file being read */
};

/* The file being read, as rules keep it (stable for the policy's life). */
static inline const char *sg_pp_source(const struct parser *ps)
{
	return ps->p->srcs[ps->src].source;
}

/* Fill ps->err with "source:line:column: text" and return rc. */
int sg_pp_fail_at(struct parser *ps, unsigned line, unsigned col, int rc, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* libyaml marks are 0-based; users count from 1. */
#define fail(ps, mark, ...) \
	sg_pp_fail_at(ps, (unsigned)(mark).line + 1, (unsigned)(mark).column + 1, -EINVAL, \
		      __VA_ARGS__)
#define fail_nomem(ps) sg_pp_fail_at(ps, 0, 0, -ENOMEM, "out of memory")

const char *sg_pp_show(char *out, size_t cap, const char *s, size_t len);
int sg_pp_next(struct parser *ps);

static inline const char *sval(const struct parser *ps)
{
	return (const char *)ps->ev.data.scalar.value;
}

static inline size_t slen(const struct parser *ps)
{
	return ps->ev.data.scalar.length;
}

bool sg_pp_is_null(const struct parser *ps);
int sg_pp_want_scalar(struct parser *ps, const char *what);
int sg_pp_take_key(struct parser *ps, const char *where, const char *const *names, size_t n,
		   unsigned *seen, size_t *idx);
int sg_pp_take_enum(struct parser *ps, const char *what, const char *const names[2], int *out);
int sg_pp_check_path(struct parser *ps, const char *what, bool exact);
int sg_pp_take_glob(struct parser *ps, const char *what, struct sg_glob **out);
int sg_pp_dup_value(struct parser *ps, char **out);
int sg_pp_take_sha256(struct parser *ps, const char *what, uint8_t *out);
int sg_pp_take_u64(struct parser *ps, const char *what, const char *hint, uint64_t *out);
int sg_pp_take_name(struct parser *ps, const char *what, struct sg_rule *r,
		    struct sg_rule_ext *x);

/*
 * The keys of one mapping, each checked against `keys` (unknown and repeated
 * keys refused), and their values handed to `take`, until the mapping ends.
 */
typedef int (*take_value_fn)(struct parser *ps, size_t k, void *item);

int sg_pp_parse_mapping(struct parser *ps, const char *where, const char *const *keys,
			size_t nkeys, unsigned *seen, take_value_fn take, void *item);

/* A list of mappings, one per item; `key` names it, `count` says how many items came before. */
struct list_kind {
	const char *key;	/* "rules" */
	const char *item;	/* "rule" */
	const char *example;	/* "action: and path:" */
	int (*parse_item)(struct parser *ps);
	size_t (*count)(const struct sg_policy *p);
};

int sg_pp_parse_list(struct parser *ps, const struct list_kind *k);

/* parse_fragment.c: the files a policy is merged from, and the checks across them. */
struct sg_fragment_base {
	size_t rules, net, files[SG_FILES_NLISTS];	/* rules before this fragment's */
};

int sg_pp_add_source(struct parser *ps, const char *source);
void sg_pp_fragment_begin(struct parser *ps, struct sg_fragment_base *b);
int sg_pp_take_fragment_name(struct parser *ps);
int sg_pp_fragment_end(struct parser *ps, const struct sg_fragment_base *b);
int sg_pp_check_names(struct parser *ps);
void sg_pp_fragment_version(struct sg_policy *p, const struct sg_policy_file *f, size_t n);

extern const struct list_kind sg_pp_exec_rules;				/* parse_exec.c */
extern const struct list_kind sg_pp_library_rules;			/* parse_exec.c */
extern const struct list_kind sg_pp_net_rules;				/* parse_net.c */
extern const struct list_kind sg_pp_file_list_kinds[SG_FILES_NLISTS];	/* parse_files.c */
extern const struct list_kind sg_pp_drift_rules;			/* selector.c */

/* parse_scripts.c: scripts: {interpreters: [...], inline: allow|audit|deny}; the current event its start. */
int sg_pp_parse_scripts(struct parser *ps);

/* A `container:` selector (the current event its MAPPING_START); *scope = its index + 1. */
int sg_pp_take_selector(struct parser *ps, uint32_t *scope);

#endif

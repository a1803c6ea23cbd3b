// SPDX-License-Identifier: Apache-2.0
#include "act/kernel_rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sense/kdev.h"

int sg_resolve_stat(const char *path, struct sg_file_id *id, void *ctx)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

struct deny_set {
	struct sg_inode_key *keys;
	struct sg_deny_value *vals;
	size_t n, cap;
	int err;
};

static void add_rule(const struct sg_rule *r, void *ctx)
{
	struct deny_set *s = ctx;
	struct sg_file_id id = r->id_target;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *k = realloc(s->keys, cap * sizeof(*s->keys));
		void *v = k ? realloc(s->vals, cap * sizeof(*s->vals)) : NULL;

		if (k)
			s->keys = k;
		if (!v) {
			s->err = -ENOMEM;
			return;
		}
		s->vals = v;
		s->cap = cap;
	}
	s->keys[s->n] = (struct sg_inode_key){ .ino = id.ino, .dev = sg_kdev_from_st(id.dev) };
	s->vals[s->n] = (struct sg_deny_value){ .rule_id = r->id };
	s->n++;
}

int sg_kernel_library_rules_apply(struct sg_exec_bpf *x, const struct sg_policy *p,
				  struct sg_audit *a)
{
	const struct sg_policy *libs = sg_policy_libraries(p);
	struct deny_set s = { 0 };
	struct sg_json j;
	bool ask = false;
	int err;

	if (libs) {
		sg_policy_foreach_kernel_deny(libs, add_rule, &s);
		/*
		 * By glob, by hash, or allow-list mode: the kernel cannot decide those
		 * alone. A path rule is the file at that path (resolved at each load).
		 */
		ask = sg_policy_has_glob_rules(libs) || sg_policy_has_hash_rules(libs) ||
		      sg_policy_default_action(libs) == SG_ACTION_DENY;
	}
	err = s.err ? s.err : sg_exec_bpf_set_libraries(x, libs != NULL, ask, s.keys, s.vals, s.n);
	sg_json_init(&j);
	/* No fault hooks on this kernel: the deny set still serves the BPF LSM hooks. */
	sg_audit_begin(a, &j, "bpf_map_update",
		       err == -ENOTSUP ? SG_SEV_WARNING : err ? SG_SEV_CRITICAL : SG_SEV_INFO);
	sg_json_kv_str(&j, "map", "lib_deny");
	sg_json_kv_u64(&j, "entries", s.n);
	sg_json_kv_bool(&j, "held_for_verdict", ask);
	sg_json_kv_str(&j, "result", err ? strerror(-err) : "ok");
	if (err && x->lib_error[0])
		sg_json_kv_str(&j, "error", x->lib_error);
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	free(s.keys);
	free(s.vals);
	return err ? err : (int)s.n;
}

int sg_kernel_rules_apply(struct sg_exec_bpf *x, const struct sg_policy *p, struct sg_audit *a)
{
	struct deny_set s = { 0 };
	struct sg_json j;
	int err;

	sg_policy_foreach_kernel_deny(p, add_rule, &s);
	err = s.err ? s.err : sg_exec_bpf_set_denies(x, s.keys, s.vals, s.n);
	sg_json_init(&j);
	sg_audit_begin(a, &j, "bpf_map_update", err ? SG_SEV_CRITICAL : SG_SEV_INFO);
	sg_json_kv_str(&j, "map", "deny_inodes");
	sg_json_kv_u64(&j, "entries", s.n);
	sg_json_kv_str(&j, "result", err ? strerror(-err) : "ok");
	sg_audit_commit(a, &j);
	sg_json_free(&j);
	free(s.keys);
	free(s.vals);
	return err ? err : (int)s.n;
}

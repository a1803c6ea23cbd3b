// SPDX-License-Identifier: Apache-2.0
/* Reading a policy at start and on reload: file or signed bundle, parsed and resolved, or the failsafe. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "act/kernel_rules.h"
#include "store/bundle_files.h"
#include "store/policy_dir.h"

/* What runs when the policy cannot be had at start (POL-4). */
static const char failsafe_closed[] = "version: \"failsafe-closed\"\nmode: enforce\ndefault: deny\n";
static const char failsafe_open[] = "version: \"failsafe-open\"\nmode: monitor\ndefault: allow\n";

int daemon_read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size > SG_POLICY_MAX_BYTES) {
		close(fd);
		return st.st_size > SG_POLICY_MAX_BYTES ? -EFBIG : -errno;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size && (n = read(fd, buf + off, st.st_size - off)) > 0)
		off += n;
	close(fd);
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

static void report_unresolved(const struct sg_rule *r, int err, void *ctx)
{
	struct daemon *d = ctx;
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(&d->audit, &j, "policy_rule_unresolved", SG_SEV_WARNING);
	sg_json_kv_str(&j, "rule", r->name);
	sg_json_kv_u64(&j, "line", r->line);
	sg_json_kv_str(&j, "error", strerror(-err));
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
}

/*
 * POL-2: the policy file is a signed bundle. 0 with the policy bytes (inside
 * buf) in *pol; 1 when it is the very bundle in force (a reload that changes
 * nothing); -1 refused, with a record saying exactly why. At start the
 * bundle last accepted is accepted again; later only a newer one.
 */
static int open_bundle(struct daemon *d, const char *path, const char *buf, size_t len,
		       bool at_start, const char **pol, size_t *pol_len)
{
	const char *state = d->opt.bundle_state ? d->opt.bundle_state : SG_BUNDLE_STATE_DEFAULT;
	struct sg_bundle_verified v;
	enum sg_bundle_status st;
	uint8_t hash[32];
	char msg[512];
	uint64_t last;

	if (sg_bundle_version_read(state, &last, msg, sizeof(msg))) {
		fprintf(stderr, "sysguardd: %s\n", msg);
		daemon_bundle_record(d, "policy_bundle_rejected", SG_SEV_CRITICAL, path, "state", msg, NULL);
		return -1;
	}
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)buf, len, NULL, 0);
	if (!at_start && d->bundle.version && !memcmp(hash, d->bundle_hash, sizeof(hash)))
		return 1;
	st = sg_bundle_verify(d->keys, d->opt.ntrusted, buf, len, at_start && last ? last - 1 : last,
			      &v, msg, sizeof(msg));
	if (st != SG_BUNDLE_OK) {
		fprintf(stderr, "sysguardd: %s: policy bundle refused (%s): %s\n", daemon_shown_path(path),
			sg_bundle_status_name(st), msg);
		daemon_bundle_record(d, "policy_bundle_rejected", SG_SEV_CRITICAL, path,
			      sg_bundle_status_name(st), msg, st == SG_BUNDLE_ROLLBACK ? &v.meta : NULL);
		return -1;
	}
	d->pending = v.meta;
	memcpy(d->pending_hash, hash, sizeof(hash));
	*pol = v.policy;
	*pol_len = v.policy_len;
	return 0;
}

/* The verified bundle is in force: remember it, so no older one is ever accepted again. */
void daemon_commit_bundle(struct daemon *d, const char *path)
{
	const char *state = d->opt.bundle_state ? d->opt.bundle_state : SG_BUNDLE_STATE_DEFAULT;
	char msg[512];

	if (!d->pending.version)
		return;
	d->bundle = d->pending;
	memcpy(d->bundle_hash, d->pending_hash, sizeof(d->bundle_hash));
	memset(&d->pending, 0, sizeof(d->pending));
	if (sg_bundle_version_write(state, d->bundle.version, msg, sizeof(msg))) {
		fprintf(stderr, "sysguardd: %s\n", msg);
		daemon_bundle_record(d, "action_error", SG_SEV_CRITICAL, state, "persist", msg, &d->bundle);
	}
	daemon_bundle_record(d, "policy_bundle_accepted", SG_SEV_INFO, path, NULL, NULL, &d->bundle);
}

/*
 * With signed policy (--trusted-key) fragments are refused, not skipped:
 * they are not signed, and a policy that silently lost or gained a team's
 * rules would be worse than a refusal the operator sees. 0 when there are none.
 */
static int refuse_unsigned_fragments(struct daemon *d, struct sg_policy_error *perr)
{
	struct sg_policy_dir dir;
	int rc;

	if (!d->opt.policy_dir)
		return 0;
	rc = sg_policy_dir_read(d->opt.policy_dir, true, &dir, perr->message, sizeof(perr->message));
	if (rc) {
		snprintf(perr->source, sizeof(perr->source), "%s", d->opt.policy_dir);
		return rc;
	}
	if (!dir.n)
		return 0;
	snprintf(perr->source, sizeof(perr->source), "%s", dir.files[0].source);
	snprintf(perr->message, sizeof(perr->message),
		 "%s: refused: policy fragments are not signed, and with --trusted-key only a signed bundle is policy; "
		 "remove the %zu fragment(s) from %s or put their rules in the signed policy",
		 dir.files[0].source, dir.n, d->opt.policy_dir);
	sg_policy_dir_free(&dir);
	return -EPERM;
}

/* The policy `buf` (from `path`) merged with the fragments of --policy-dir, read now. */
int daemon_parse_policy(struct daemon *d, const char *path, const char *buf, size_t len,
			struct sg_policy **out, struct sg_policy_error *perr)
{
	struct sg_policy_file main_policy = { path, buf, len };
	struct sg_policy_dir dir = { 0 };
	int rc = 0;

	memset(perr, 0, sizeof(*perr));
	if (d->opt.ntrusted)
		return refuse_unsigned_fragments(d, perr) ?: sg_policy_parse(buf, len, path, out, perr);
	if (d->opt.policy_dir)
		rc = sg_policy_dir_read(d->opt.policy_dir, true, &dir, perr->message,
					sizeof(perr->message));
	if (rc) {
		snprintf(perr->source, sizeof(perr->source), "%s", d->opt.policy_dir);
		return rc;
	}
	rc = sg_policy_parse_set(&main_policy, dir.files, dir.n, out, perr);
	sg_policy_dir_free(&dir);
	return rc;
}

struct sg_policy *daemon_load_policy(struct daemon *d, const char *path, bool at_start,
				     bool *unchanged)
{
	struct sg_policy_error perr = { 0 };
	struct sg_policy *p = NULL;
	const char *pol;
	struct sg_json j;
	size_t len = 0, pol_len;
	char *buf = NULL;
	const char *shown = daemon_shown_path(path);
	/*
	 * FILE-3: with self-defence the policy is the verified copy, never what
	 * a mount may have put at the path since.
	 */
	int err = d->files && !at_start && sg_files_policy_copy(d->files, &buf, &len) == 0
			  ? 0
			  : daemon_read_file(path, &buf, &len);

	*unchanged = false;
	memset(&d->pending, 0, sizeof(d->pending));
	if (err) {
		snprintf(perr.message, sizeof(perr.message), "%s: cannot read: %s", shown, strerror(-err));
	} else {
		pol = buf;
		pol_len = len;
		/* Checked before "the bundle in force, unchanged": fragments added since are refused too. */
		if (d->opt.ntrusted)
			err = refuse_unsigned_fragments(d, &perr);
		if (!err && d->opt.ntrusted) {
			int b = open_bundle(d, path, buf, len, at_start, &pol, &pol_len);

			if (b) {
				free(buf);
				*unchanged = b > 0;
				return NULL;
			}
		}
		if (!err)
			err = daemon_parse_policy(d, shown, pol, pol_len, &p, &perr);
		free(buf);
		if (err)
			memset(&d->pending, 0, sizeof(d->pending));
	}
	if (err) {
		/* The parser's message already names the file, line and column. */
		fprintf(stderr, "sysguardd: %s\n", perr.message);
		sg_json_init(&j);
		sg_audit_begin(&d->audit, &j, "policy_error", SG_SEV_CRITICAL);
		sg_json_kv_bytes(&j, "path", shown, strlen(shown));
		/* The file at fault, when it is a policy fragment. */
		if (perr.source[0] && strcmp(perr.source, shown))
			sg_json_kv_bytes(&j, "file", perr.source, strlen(perr.source));
		sg_json_kv_u64(&j, "line", perr.line);
		sg_json_kv_u64(&j, "column", perr.column);
		sg_json_kv_str(&j, "error", perr.message);
		sg_audit_commit(&d->audit, &j);
		sg_json_free(&j);
		return NULL;
	}
	sg_policy_resolve(p, sg_resolve_stat, report_unresolved, d);
	return p;
}

struct sg_policy *daemon_failsafe_policy(struct daemon *d)
{
	const char *doc = d->opt.strict ? failsafe_closed : failsafe_open;
	struct sg_policy_error perr;
	struct sg_policy *p = NULL;

	if (sg_policy_parse(doc, strlen(doc), "<failsafe>", &p, &perr))
		return NULL;
	daemon_note(d, "policy_failsafe", d->opt.strict ? SG_SEV_CRITICAL : SG_SEV_WARNING, "behaviour",
	     d->opt.strict ? "fail closed: enforce, every exec denied until a valid policy loads"
			   : "fail open: monitor, nothing blocked until a valid policy loads");
	return p;
}

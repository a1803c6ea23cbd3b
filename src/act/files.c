// SPDX-License-Identifier: Apache-2.0
/* The file stage: protection, integrity monitoring and self-defence together. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "act/file_create.h"
#include "act/file_guard.h"
#include "act/files.h"
#include "act/self_defence.h"
#include "report/audit.h"
#include "report/container_record.h"
#include "report/exec_record.h"
#include "sense/fim.h"
#include "sense/proc.h"

#define SELF_DENY (SG_FDENY_WRITE | SG_FDENY_DELETE)

struct sg_files {
	struct sg_files_opts o;
	char exe[4096];
	struct sg_file_guard *guard;
	struct sg_create_guard *create;	/* directories closed to new entries, absent paths */
	struct sg_fim *fim;
	struct sg_self_defence self;
	bool defend;			/* self-defence active (not break-glass) */
	uint64_t fim_events, fim_overflows, tamper, restored, restore_failed;
	uint64_t foreign_refused, overmounts_removed, overmount_failed;
	/* Paths to refresh after a FIM event touched a protected file. */
	bool refresh_due;
};

/* ------------------------------------------------------------------ records */

/*
 * What a mode change did: old and new permission bits as octal strings
 * (old is null when the file was not seen before), and whether a setuid
 * or setgid bit appeared or the file carries capabilities.
 */
static void mode_fields(struct sg_json *j, const struct sg_fim_event *ev)
{
	char buf[8];

	sg_json_key(j, "mode");
	sg_json_begin_object(j);
	snprintf(buf, sizeof(buf), "%04o", ev->old_mode);
	sg_json_kv_str(j, "old", ev->old_known ? buf : NULL);
	snprintf(buf, sizeof(buf), "%04o", ev->new_mode);
	sg_json_kv_str(j, "new", buf);
	sg_json_end_object(j);
	sg_json_kv_bool(j, "setuid_added", (ev->new_mode & S_ISUID) &&
			!(ev->old_known && (ev->old_mode & S_ISUID)));
	sg_json_kv_bool(j, "setgid_added", (ev->new_mode & S_ISGID) &&
			!(ev->old_known && (ev->old_mode & S_ISGID)));
	sg_json_kv_bool(j, "file_caps", ev->file_caps);
}

static void fim_record(struct sg_files *f, const struct sg_fim_event *ev, bool defended)
{
	char exe[4096] = "", comm[64] = "";
	struct sg_json j;

	if (ev->pid > 0 && f->o.identify)
		f->o.identify(f->o.identify_ctx, ev->pid, exe, sizeof(exe), comm, sizeof(comm));
	else if (ev->pid > 0)
		sg_proc_identify(NULL, ev->pid, exe, sizeof(exe), comm, sizeof(comm));
	sg_json_init(&j);
	sg_audit_begin(f->o.audit, &j, "file_integrity",
		       defended ? SG_SEV_CRITICAL : SG_SEV_WARNING);
	sg_json_kv_str(&j, "action", ev->op);
	if (ev->path)
		sg_json_kv_bytes(&j, "path", ev->path, strlen(ev->path));
	else
		sg_json_kv_str(&j, "path", NULL);
	sg_json_kv_bool(&j, "is_dir", ev->is_dir);
	sg_json_kv_bool(&j, "self_defence", defended);
	if (ev->has_mode)
		mode_fields(&j, ev);
	sg_json_key(&j, "process");
	sg_json_begin_object(&j);
	sg_json_kv_i64(&j, "pid", ev->pid);
	sg_json_kv_bytes(&j, "comm", comm, strlen(comm));
	sg_json_kv_bytes(&j, "exe", exe, strlen(exe));
	sg_record_container_of(&j, ev->pid, 0, NULL);
	sg_json_end_object(&j);
	sg_audit_commit(f->o.audit, &j);
	sg_json_free(&j);
}

static void restored_record(void *ctx, const struct sg_self_file *sf, const char *what, int err)
{
	struct sg_files *f = ctx;
	enum sg_severity sev = SG_SEV_CRITICAL;
	struct sg_json j;
	uint64_t id;

	f->tamper++;
	if (err)
		f->restore_failed++;
	else
		f->restored++;
	sg_json_init(&j);
	id = sg_audit_begin(f->o.audit, &j, "self_defence", sev);
	sg_json_kv_str(&j, "action", err ? "restore_failed" : "restored");
	sg_json_kv_str(&j, "file_kind", sf->what);
	sg_json_kv_bytes(&j, "path", sf->path, strlen(sf->path));
	sg_json_kv_str(&j, "change", what);
	if (err)
		sg_json_kv_str(&j, "error", strerror(-err));
	sg_audit_commit(f->o.audit, &j);
	sg_json_free(&j);
	if (f->o.alerts)
		sg_record_alert(f->o.audit, f->o.alerts, "tamper", id, sev, NULL, 0, sf->what,
				err ? "restore_failed" : "restored", sf->path);
}

static void fim_error(void *ctx, const char *path, const char *what, int err)
{
	struct sg_files *f = ctx;
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(f->o.audit, &j, "file_integrity_error", SG_SEV_WARNING);
	sg_json_kv_bytes(&j, "path", path, strlen(path));
	sg_json_kv_str(&j, "step", what);
	sg_json_kv_str(&j, "error", strerror(err));
	sg_audit_commit(f->o.audit, &j);
	sg_json_free(&j);
}

/* ----------------------------------------------------------- foreign files */

static const char *const diff_names[] = { "mount", "inode", "content", "missing" };

struct unmount_ctx {
	struct sg_files *f;
	const struct sg_self_file *sf;
};

static void unmount_record(void *ctx, const char *mountpoint, uint64_t mnt_id, int err)
{
	struct unmount_ctx *u = ctx;
	struct sg_json j;

	if (err)
		u->f->overmount_failed++;
	else
		u->f->overmounts_removed++;
	sg_json_init(&j);
	sg_audit_begin(u->f->o.audit, &j, "self_defence", SG_SEV_CRITICAL);
	sg_json_kv_str(&j, "action", err ? "overmount_remove_failed" : "overmount_removed");
	sg_json_kv_str(&j, "file_kind", u->sf->what);
	sg_json_kv_bytes(&j, "path", u->sf->path, strlen(u->sf->path));
	sg_json_kv_bytes(&j, "mountpoint", mountpoint, strlen(mountpoint));
	sg_json_kv_u64(&j, "mnt_id", mnt_id);
	if (err)
		sg_json_kv_str(&j, "error", strerror(-err));
	sg_audit_commit(u->f->o.audit, &j);
	sg_json_free(&j);
}

static void foreign_record(struct sg_files *f, const struct sg_self_file *sf, unsigned diff,
			   const char *during)
{
	enum sg_severity sev = SG_SEV_CRITICAL;
	struct sg_json j;
	uint64_t id;
	unsigned b;

	f->foreign_refused++;
	sg_json_init(&j);
	id = sg_audit_begin(f->o.audit, &j, "self_defence", sev);
	sg_json_kv_str(&j, "action", "foreign_file_refused");
	sg_json_kv_str(&j, "file_kind", sf->what);
	sg_json_kv_bytes(&j, "path", sf->path, strlen(sf->path));
	sg_json_key(&j, "differs");
	sg_json_begin_array(&j);
	for (b = 0; b < sizeof(diff_names) / sizeof(diff_names[0]); b++)
		if (diff & (1u << b))
			sg_json_str(&j, diff_names[b]);
	sg_json_end_array(&j);
	sg_json_kv_str(&j, "during", during);
	sg_audit_commit(f->o.audit, &j);
	sg_json_free(&j);
	if (f->o.alerts)
		sg_record_alert(f->o.audit, f->o.alerts, "tamper", id, sev, NULL, 0, sf->what,
				"foreign_file_refused", sf->path);
}

/*
 * A mount over one of the daemon's files (or a directory above it) shows
 * the daemon, and everyone, another file while the protected inode stays
 * as it was: record it, never read it, detach the mount. A mount that
 * could not be detached is tried again at each reload, not each second.
 * Returns how many files stay covered.
 */
static unsigned undo_overmounts(struct sg_files *f, bool reload)
{
	unsigned left = 0;
	size_t i;

	for (i = 0; i < f->self.n; i++) {
		struct sg_self_file *sf = &f->self.f[i];
		struct unmount_ctx u = { f, sf };

		if (sg_mount_view_same(&sf->mnt, sf->path)) {
			sf->foreign = false;
			continue;
		}
		if (sf->foreign && !reload) {
			left++;
			continue;
		}
		foreign_record(f, sf, sg_self_file_differs(sf, true) | SG_SELF_DIFF_MOUNT,
			       reload ? "reload" : "check");
		sf->foreign = sg_mount_view_restore(&sf->mnt, sf->path, unmount_record, &u) != 0;
		left += sf->foreign;
	}
	return left;
}

/* --------------------------------------------------------------- block list */

/* Absolute paths, one per line; '#' starts a comment line. */
static size_t read_blocklist(const char *path, char ***out)
{
	char *line = NULL, **v = NULL;
	size_t cap = 0, n = 0, vcap = 0;
	ssize_t len;
	FILE *fp;

	*out = NULL;
	if (!path || !(fp = fopen(path, "re")))
		return 0;
	while ((len = getline(&line, &cap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] != '/')
			continue;
		if (n == vcap) {
			char **nv = realloc(v, (vcap = vcap ? vcap * 2 : 16) * sizeof(*nv));

			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(line)))
			break;
		n++;
	}
	free(line);
	fclose(fp);
	*out = v;
	return n;
}

/* ------------------------------------------------------------------- apply */

static void add_file(struct sg_guard_file **v, size_t *n, size_t *cap, const char *path,
		     uint32_t deny, const char *source, const char *rule, const char *fragment)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 32;
		struct sg_guard_file *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = (struct sg_guard_file){ path, deny, source, rule, fragment };
}

static bool guard_is_lsm(const struct sg_files *f);

void sg_files_apply(struct sg_files *f, const struct sg_policy *p, bool enforce, bool break_glass)
{
	size_t np = sg_policy_file_rule_count(p, SG_FILES_PROTECT);
	size_t nw = sg_policy_file_rule_count(p, SG_FILES_WATCH);
	struct sg_guard_file *files = NULL;
	struct sg_create_rule *creates = calloc(np ? np : 1, sizeof(*creates));
	const char **watch;
	char **blocked;
	size_t nb = read_blocklist(f->o.blocklist, &blocked), n = 0, cap = 0, i, nwatch = 0;
	size_t nc = 0;

	f->defend = f->o.self_defence && !break_glass;
	if (f->defend)
		for (i = 0; i < f->self.n; i++)
			add_file(&files, &n, &cap, f->self.f[i].path, SELF_DENY, "self_defence",
				 f->self.f[i].what, NULL);
	for (i = 0; i < np; i++) {
		const struct sg_file_rule_spec *r = sg_policy_file_rule(p, SG_FILES_PROTECT, i);

		if (creates && sg_create_guard_wants(r->path, r->deny))
			creates[nc++] = (struct sg_create_rule){ r->path, r->deny, "policy", r->name, NULL };
		else if (r->deny & ~SG_FDENY_CREATE)
			add_file(&files, &n, &cap, r->path, r->deny & ~SG_FDENY_CREATE, "policy",
				 r->name, r->fragment);
		else
			/* create alone on a file that exists: nothing to refuse; the error says so. */
			add_file(&files, &n, &cap, r->path, r->deny, "policy", r->name, r->fragment);
	}
	for (i = 0; i < nb; i++)
		add_file(&files, &n, &cap, blocked[i], SG_FDENY_DEFAULT, "blocklist", blocked[i], NULL);
	if (f->guard) {
		sg_file_guard_set_enforce(f->guard, enforce, f->defend);
		sg_file_guard_set(f->guard, files, n);
	}
	if (creates && guard_is_lsm(f))
		sg_file_guard_set_creates(f->guard, creates, nc);
	if (f->create)
		sg_create_guard_set(f->create, creates, nc, enforce);
	free(creates);
	/* Watched: the integrity: paths and everything protected. */
	watch = calloc(nw + n + 1, sizeof(*watch));
	if (watch && f->fim) {
		for (i = 0; i < nw; i++)
			watch[nwatch++] = sg_policy_file_rule(p, SG_FILES_WATCH, i)->path;
		for (i = 0; i < n; i++)
			watch[nwatch++] = files[i].path;
		sg_fim_set(f->fim, watch, nwatch, fim_error, f);
	}
	free(watch);
	free(files);
	for (i = 0; i < nb; i++)
		free(blocked[i]);
	free(blocked);
}

/* ----------------------------------------------------------------- events */

static void on_fim_event(void *ctx, const struct sg_fim_event *ev)
{
	struct sg_files *f = ctx;
	bool defended = ev->path && sg_self_defence_has(&f->self, ev->path);

	f->fim_events++;
	if (!strcmp(ev->op, "overflow")) {
		f->fim_overflows++;
		fim_error(f, "(queue)", "overflow: events lost", EOVERFLOW);
		f->refresh_due = true;
		return;
	}
	/* The daemon's own restores and updates are not tampering. */
	if (ev->pid == getpid())
		return;
	fim_record(f, ev, defended && f->defend);
	if (strcmp(ev->op, "create") && strcmp(ev->op, "close_write"))
		f->refresh_due = true;
}

void sg_files_on_fim(struct sg_files *f)
{
	if (!f->fim)
		return;
	sg_fim_read(f->fim, on_fim_event, f);
	if (f->refresh_due)
		sg_files_tick(f);
}

void sg_files_on_create(struct sg_files *f)
{
	if (f->create)
		sg_create_guard_read(f->create);
}

void sg_files_on_guard(struct sg_files *f)
{
	if (f->guard)
		sg_file_guard_poll(f->guard);
}

bool sg_files_defend(struct sg_files *f)
{
	if (!f->defend)
		return false;
	/* First, so that a restore never writes beside a mount or into the file mounted. */
	undo_overmounts(f, false);
	return sg_self_defence_check(&f->self, f->guard, restored_record, f) > 0;
}

int sg_files_verify_own(struct sg_files *f)
{
	unsigned n = 0;
	size_t i;

	if (!f->defend)
		return 0;
	undo_overmounts(f, true);
	sg_self_defence_check(&f->self, f->guard, restored_record, f);
	for (i = 0; i < f->self.n; i++) {
		struct sg_self_file *sf = &f->self.f[i];
		unsigned diff = sg_self_file_differs(sf, true);

		if (!diff)
			continue;
		/* A covered file was recorded by undo_overmounts() already. */
		if (!sf->foreign)
			foreign_record(f, sf, diff, "reload");
		n++;
	}
	return n ? -EPERM : 0;
}

int sg_files_policy_copy(const struct sg_files *f, char **buf, size_t *len)
{
	const struct sg_self_file *sf = sg_self_defence_find(&f->self, "policy");

	if (!f->defend || !sf)
		return -ENOENT;
	*buf = malloc(sf->len + 1);
	if (!*buf)
		return -ENOMEM;
	memcpy(*buf, sf->data, sf->len);
	(*buf)[sf->len] = '\0';
	*len = sf->len;
	return 0;
}

void sg_files_tick(struct sg_files *f)
{
	f->refresh_due = false;
	sg_files_defend(f);
	/* 1,024 a second: a cleared flag on one of 10,000 files is found within 10 s. */
	if (f->guard)
		sg_file_guard_refresh(f->guard, 1024);
	if (f->create)
		sg_create_guard_tick(f->create);
}

int sg_files_write_policy(struct sg_files *f, const void *buf, size_t len, char *err,
			  size_t errlen)
{
	int rc = sg_file_guard_write(f->guard, f->o.policy_path, buf, len, 0600, err, errlen);

	if (!rc && f->o.self_defence)
		rc = sg_self_defence_keep(&f->self, f->o.policy_path, "policy", buf, len);
	return rc;
}

/* -------------------------------------------------------------- lifecycle */

int sg_files_start(struct sg_files **out, const struct sg_files_opts *o, char *err, size_t errlen)
{
	struct sg_file_guard_opts go = {
		.audit = o->audit,
		.alerts = o->alerts,
		.enforce = false,
		.use_lsm = o->use_lsm,
		.use_immutable = true,
		.record_refusals = o->record_refusals,
		.state_dir = o->state_dir,
	};
	struct sg_files *f = calloc(1, sizeof(*f));
	char ferr[256] = "";
	ssize_t n;
	int rc;

	if (!f)
		return -ENOMEM;
	f->o = *o;
	rc = sg_file_guard_start(&f->guard, &go, err, errlen);
	if (rc) {
		free(f);
		return rc;
	}
	if (sg_create_guard_start(&f->create, &(struct sg_create_guard_opts){
			.audit = o->audit, .alerts = o->alerts, .identify = o->identify,
			.identify_ctx = o->identify_ctx }, ferr, sizeof(ferr))) {
		fim_error(f, "(fanotify)", ferr, errno);
		f->create = NULL;
		ferr[0] = '\0';
	}
	if (sg_fim_start(&f->fim, ferr, sizeof(ferr))) {
		fim_error(f, "(fanotify)", ferr, errno);
		f->fim = NULL;
	}
	n = readlink("/proc/self/exe", f->exe, sizeof(f->exe) - 1);
	f->exe[n > 0 ? n : 0] = '\0';
	if (o->self_defence) {
		const char *const *x;

		if (n > 0 && (rc = sg_self_defence_keep(&f->self, f->exe, "binary", NULL, 0)))
			fim_error(f, f->exe, "self-defence copy", -rc);
		if (o->config_path &&
		    (rc = sg_self_defence_keep(&f->self, o->config_path, "config", NULL, 0)))
			fim_error(f, o->config_path, "self-defence copy", -rc);
		if (o->policy_path &&
		    (rc = sg_self_defence_keep(&f->self, o->policy_path, "policy", NULL, 0)))
			fim_error(f, o->policy_path, "self-defence copy", -rc);
		for (x = o->extra_self; x && *x; x++)
			if ((rc = sg_self_defence_keep(&f->self, *x, "trusted_key", NULL, 0)))
				fim_error(f, *x, "self-defence copy", -rc);
	}
	*out = f;
	return 0;
}

void sg_files_stop(struct sg_files *f)
{
	if (!f)
		return;
	sg_fim_stop(f->fim);
	sg_create_guard_stop(f->create);
	sg_file_guard_stop(f->guard);
	sg_self_defence_free(&f->self);
	free(f);
}

int sg_files_fim_fd(const struct sg_files *f)
{
	return f->fim ? sg_fim_fd(f->fim) : -1;
}

int sg_files_create_fd(const struct sg_files *f)
{
	return sg_create_guard_fd(f->create);
}

int sg_files_guard_fd(const struct sg_files *f)
{
	return f->guard ? sg_file_guard_fd(f->guard) : -1;
}

static void guard_record(struct sg_files *f, const char *what, bool on, unsigned n, unsigned failed)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(f->o.audit, &j, "bpf_map_guard", failed ? SG_SEV_CRITICAL : SG_SEV_INFO);
	sg_json_kv_str(&j, "object", what);
	if (!on)
		sg_json_kv_str(&j, "action", "unguard");
	sg_json_kv_u64(&j, on ? "maps_guarded" : "maps_unguarded", n);
	sg_json_kv_u64(&j, "maps_failed", failed);
	sg_audit_commit(f->o.audit, &j);
	sg_json_free(&j);
}

static bool guard_is_lsm(const struct sg_files *f)
{
	return f->guard && !strcmp(sg_file_guard_backend(f->guard), "bpf_lsm");
}

unsigned sg_files_guard_maps(struct sg_files *f, struct bpf_object *obj, const char *what)
{
	struct bpf_map *m;
	unsigned n = 0, failed = 0;

	if (!guard_is_lsm(f) || !obj)
		return 0;
	bpf_object__for_each_map(m, obj) {
		if (sg_file_guard_protect_map(f->guard, bpf_map__fd(m)) == 0)
			n++;
		else
			failed++;
	}
	guard_record(f, what, true, n, failed);
	return n;
}

unsigned sg_files_guard_fds(struct sg_files *f, const int *fds, size_t n, bool on, const char *what)
{
	unsigned done = 0, failed = 0;
	size_t i;

	if (!f || !guard_is_lsm(f) || !n)
		return 0;
	for (i = 0; i < n; i++) {
		int rc = on ? sg_file_guard_protect_map(f->guard, fds[i])
			    : sg_file_guard_unprotect_map(f->guard, fds[i]);

		if (rc == 0 || (!on && rc == -ENOENT))
			done++;
		else
			failed++;
	}
	guard_record(f, what, on, done, failed);
	return done;
}

const char *sg_files_backend(const struct sg_files *f)
{
	return f->guard ? sg_file_guard_backend(f->guard) : "none";
}

void sg_files_counters(struct sg_files *f, struct sg_counters_files *c)
{
	struct sg_file_guard_stats gs = { 0 };

	if (f->guard)
		sg_file_guard_stats(f->guard, &gs);
	memset(c, 0, sizeof(*c));
	c->present = true;
	snprintf(c->backend, sizeof(c->backend), "%s", sg_files_backend(f));
	c->protected_files = gs.protected_files;
	c->immutable = gs.immutable;
	c->denied = gs.denied;
	c->allowed_reads = gs.allowed_reads;
	c->protect_errors = gs.errors;
	sg_create_guard_stats(f->create, &c->create_watched, &c->create_undone);
	c->watched = f->fim ? sg_fim_marks(f->fim) : 0;
	c->integrity_events = f->fim_events;
	c->integrity_overflows = f->fim_overflows;
	c->tamper_detected = f->tamper;
	c->restored = f->restored;
	c->restore_failed = f->restore_failed;
	c->foreign_refused = f->foreign_refused;
	c->overmounts_removed = f->overmounts_removed;
	c->overmount_remove_failed = f->overmount_failed;
}

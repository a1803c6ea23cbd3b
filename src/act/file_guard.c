// SPDX-License-Identifier: Apache-2.0
/*
 * File protection: the protected set, its fanotify marks or BPF LSM map
 * entries, start and stop. Its records and permission thread are in
 * file_guard_perm.c, its immutable flags in file_guard_flags.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/file_guard_int.h"
#include "act/file_lsm.h"
#include "report/audit.h"
#include "report/container_record.h"
#include "report/exec_record.h"
#include "sense/file_refusal.h"
#include "sense/kdev.h"
#include "act/file_create.h"
#include "sense/open_intent.h"
#include "sense/proc.h"
#include "store/bundle_files.h"

void fg_refusal_sync(struct sg_file_guard *g);

/* ------------------------------------------------------------------ lookup */

static size_t slot_of(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4full;

	return (size_t)(h ^ h >> 29) & (cap - 1);
}

static int build_index(struct entry *e, size_t n, uint32_t **out, size_t *cap_out)
{
	size_t cap = 16, i, s;
	uint32_t *idx;

	while (cap < n * 2)
		cap <<= 1;
	idx = calloc(cap, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		for (s = slot_of(e[i].dev, e[i].ino, cap); idx[s]; s = (s + 1) & (cap - 1))
			;
		idx[s] = (uint32_t)i + 1;
	}
	*out = idx;
	*cap_out = cap;
	return 0;
}

static struct entry *find_in(struct entry *entries, const uint32_t *index, size_t cap,
			     dev_t dev, ino_t ino)
{
	size_t s;

	if (!index)
		return NULL;
	for (s = slot_of(dev, ino, cap); index[s]; s = (s + 1) & (cap - 1)) {
		struct entry *e = &entries[index[s] - 1];

		if (e->dev == dev && e->ino == ino)
			return e;
	}
	return NULL;
}

/* Caller holds the lock (either mode). */
struct entry *fg_find(const struct sg_file_guard *g, dev_t dev, ino_t ino)
{
	return find_in(g->entries, g->index, g->index_cap, dev, ino);
}

/* ------------------------------------------------------------- protection */

/* Monitor mode only records: no flag that would refuse anything. */
static bool wants_immutable(const struct sg_file_guard *g, const struct entry *e)
{
	bool enforce = !strcmp(e->source, "self_defence") ? g->enforce_self : g->enforce;

	return !g->lsm && g->o.use_immutable && enforce &&
	       (e->deny & (SG_FDENY_WRITE | SG_FDENY_DELETE)) == (SG_FDENY_WRITE | SG_FDENY_DELETE);
}

static int lsm_rule(const struct entry *e, struct sg_inode_key *k, struct sg_file_rule *r)
{
	k->ino = e->ino;
	k->dev = sg_kdev_from_st(e->dev);
	k->pad = 0;
	r->rule_id = 0;
	r->deny = e->deny;
	return 0;
}

/* fanotify_mark() takes no O_PATH fd; the fd's /proc link names that very inode. */
static int mark(struct sg_file_guard *g, unsigned int op, int opath)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/fd/%d", opath);
	return fanotify_mark(g->fan, op, FAN_OPEN_PERM, AT_FDCWD, p);
}

/* Put the mark (or map entry) and the flag on a new entry. 0 or -errno. */
static int protect(struct sg_file_guard *g, struct entry *e, bool was_ours, const char **step)
{
	int rc;

	if (wants_immutable(g, e) && !e->ours_immutable) {
		*step = "immutable";
		rc = fg_set_immutable(e->opath, true);
		/*
		 * A file that cannot take the flag (no support, a read-only
		 * mount, no CAP_LINUX_IMMUTABLE) still gets the mark; its
		 * file_protect record says "immutable": false.
		 */
		if (rc == 0 || (rc == 1 && was_ours))
			e->ours_immutable = true;
	}
	if (e->marked)
		return 0;
	if (g->lsm) {
		struct sg_inode_key k;
		struct sg_file_rule r;

		*step = "bpf_map";
		lsm_rule(e, &k, &r);
		rc = sg_file_lsm_protect(g->lsm, &k, &r);
		if (rc)
			return rc;
	} else {
		*step = "fanotify_mark";
		if (mark(g, FAN_MARK_ADD, e->opath))
			return -errno;
	}
	e->marked = true;
	return 0;
}

static void unprotect(struct sg_file_guard *g, struct entry *e)
{
	if (e->marked) {
		if (g->lsm) {
			struct sg_inode_key k;
			struct sg_file_rule r;

			lsm_rule(e, &k, &r);
			sg_file_lsm_unprotect(g->lsm, &k);
		} else {
			mark(g, FAN_MARK_REMOVE, e->opath);
		}
		e->marked = false;
	}
	if (e->ours_immutable && fg_set_immutable(e->opath, false) >= 0)
		e->ours_immutable = false;
}

static void free_entry(struct entry *e)
{
	if (e->opath >= 0)
		close(e->opath);
	free(e->path);
	free(e->rule);
	free(e->fragment);
}

/* Remember the files a killed daemon left with our flag (start-up only). */
static void collect_leftover(int opath, void *ctx)
{
	struct sg_file_guard *g = ctx;
	struct entry *n;
	struct stat st;
	int fd;

	if (fstat(opath, &st) || (fd = fcntl(opath, F_DUPFD_CLOEXEC, 0)) < 0)
		return;
	n = realloc(g->left, (g->nleft + 1) * sizeof(*n));
	if (!n) {
		close(fd);
		return;
	}
	g->left = n;
	g->left[g->nleft++] = (struct entry){ .dev = st.st_dev, .ino = st.st_ino, .opath = fd };
}

/* After the first set (`clear`): the leftovers no longer protected lose their flag. */
static void settle_leftovers(struct sg_file_guard *g, bool clear)
{
	size_t i;

	for (i = 0; i < g->nleft; i++) {
		if (clear && !fg_find(g, g->left[i].dev, g->left[i].ino))
			fg_set_immutable(g->left[i].opath, false);
		close(g->left[i].opath);
	}
	free(g->left);
	free(g->left_index);
	g->left = NULL;
	g->left_index = NULL;
	g->nleft = 0;
}

void sg_file_guard_set(struct sg_file_guard *g, const struct sg_guard_file *files, size_t n)
{
	struct entry *ne = calloc(n ? n : 1, sizeof(*ne)), *old;
	uint32_t *idx = NULL;
	size_t i, k, m = 0, cap = 0, oldn;

	if (!ne)
		return;
	for (i = 0; i < n; i++) {
		struct entry *e = &ne[m], *dup = NULL;
		const char *step = "open";
		struct stat st;
		int fd = open(files[i].path, O_PATH | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st)) {
			fg_protect_error(g, &files[i], step, errno);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			fg_protect_error(g, &files[i], "not a regular file", S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
			close(fd);
			continue;
		}
		for (k = 0; k < m; k++)
			if (ne[k].dev == st.st_dev && ne[k].ino == st.st_ino)
				dup = &ne[k];
		if (dup) {
			/* Two names, one inode: one entry that denies what either asks. */
			dup->deny |= files[i].deny;
			close(fd);
			continue;
		}
		e->path = strdup(files[i].path);
		e->rule = strdup(files[i].rule);
		e->fragment = files[i].fragment ? strdup(files[i].fragment) : NULL;
		if (!e->path || !e->rule || (files[i].fragment && !e->fragment)) {
			free(e->path);
			free(e->rule);
			free(e->fragment);
			close(fd);
			continue;
		}
		e->source = files[i].source;
		e->deny = files[i].deny;
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		e->opath = fd;
		m++;
	}
	/* Carry over what the old set already did for the same inodes. */
	pthread_rwlock_rdlock(&g->lock);
	for (i = 0; i < m; i++) {
		struct entry *o = fg_find(g, ne[i].dev, ne[i].ino);

		if (o) {
			ne[i].marked = o->marked;
			ne[i].ours_immutable = o->ours_immutable;
			o->marked = false;
			o->ours_immutable = false;
		}
	}
	pthread_rwlock_unlock(&g->lock);
	for (i = 0; i < m; i++) {
		const char *step = "";
		bool carried = ne[i].marked;
		bool was_ours = ne[i].ours_immutable ||
				find_in(g->left, g->left_index, g->left_cap, ne[i].dev, ne[i].ino);
		int rc;

		if (!wants_immutable(g, &ne[i]) && ne[i].ours_immutable &&
		    fg_set_immutable(ne[i].opath, false) >= 0)
			ne[i].ours_immutable = false;
		rc = protect(g, &ne[i], was_ours, &step);
		if (rc) {
			struct sg_guard_file f = { ne[i].path, ne[i].deny, ne[i].source, ne[i].rule,
						   ne[i].fragment };

			fg_protect_error(g, &f, step, -rc);
			continue;
		}
		if (!carried)
			fg_protect_record(g, "add", &ne[i]);
	}
	if (build_index(ne, m, &idx, &cap)) {
		for (i = 0; i < m; i++) {
			unprotect(g, &ne[i]);
			free_entry(&ne[i]);
		}
		free(ne);
		return;
	}
	pthread_rwlock_wrlock(&g->lock);
	old = g->entries;
	oldn = g->n;
	free(g->index);
	g->entries = ne;
	g->n = m;
	g->index = idx;
	g->index_cap = cap;
	pthread_rwlock_unlock(&g->lock);
	for (i = 0; i < oldn; i++) {
		if (old[i].marked || old[i].ours_immutable) {
			unprotect(g, &old[i]);
			fg_protect_record(g, "remove", &old[i]);
		}
		free_entry(&old[i]);
	}
	free(old);
	settle_leftovers(g, true);
	fg_save_immutable_list(g);
	fg_refusal_sync(g);
}

void sg_file_guard_set_enforce(struct sg_file_guard *g, bool enforce, bool enforce_self)
{
	pthread_rwlock_wrlock(&g->lock);
	g->enforce = enforce;
	g->enforce_self = enforce_self;
	pthread_rwlock_unlock(&g->lock);
	if (g->lsm) {
		struct sg_file_guard_config cfg = { .enforce = enforce || enforce_self,
						    .daemon_tgid = getpid() };

		cfg.daemon_exe.ino = g->self_exe.st_ino;
		cfg.daemon_exe.dev = sg_kdev_from_st(g->self_exe.st_dev);
		sg_file_lsm_configure(g->lsm, &cfg);
	}
}

/* The entry for `path` by name (the daemon's own files are few). */
static struct entry *find_path(struct sg_file_guard *g, const char *path)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (!strcmp(g->entries[i].path, path))
			return &g->entries[i];
	return NULL;
}

int sg_file_guard_write(struct sg_file_guard *g, const char *path, const void *data,
			size_t len, mode_t mode, char *err, size_t errlen)
{
	/* Only this thread changes entries, so it may read them without the lock. */
	struct entry *e = find_path(g, path);
	int rc;

	/* The old inode is about to be replaced: a rename over an immutable file fails. */
	if (e && e->ours_immutable && fg_set_immutable(e->opath, false) == 0)
		e->ours_immutable = false;
	rc = sg_file_replace(path, data, len, mode, err, errlen);
	if (e)
		sg_file_guard_refresh(g, SIZE_MAX);
	return rc;
}

unsigned sg_file_guard_refresh(struct sg_file_guard *g, size_t budget)
{
	struct sg_guard_file *files;
	unsigned changed = 0;
	size_t i, k, n = g->n, next = g->cursor;
	bool any = false;

	/* Self-defence files every time, the others `budget` at a time, round robin. */
	for (k = 0; k < n; k++) {
		struct entry *e;
		struct stat st;

		i = budget >= n ? k : (g->cursor + k) % n;
		e = &g->entries[i];
		if (strcmp(e->source, "self_defence")) {
			if (budget == 0)
				continue;
			budget--;
			next = (i + 1) % n;
		}
		/* Gone: integrity monitoring reported it; trying again every second would only repeat. */
		if (stat(e->path, &st))
			continue;
		if (st.st_dev != e->dev || st.st_ino != e->ino) {
			any = true;
			continue;
		}
		if (e->ours_immutable && !fg_immutable_is_set(e->opath)) {
			/*
			 * Someone with CAP_LINUX_IMMUTABLE cleared it (chattr sends
			 * no fanotify event: only this check finds it).
			 */
			if (fg_set_immutable(e->opath, true) == 0) {
				changed++;
				fg_tamper_record(g, e);
			}
		}
	}
	g->cursor = next;
	if (!any)
		return changed;
	/* A path now names another inode (replaced, restored): protect the set again. */
	files = calloc(n ? n : 1, sizeof(*files));
	if (!files)
		return changed;
	for (i = 0; i < n; i++) {
		struct entry *e = &g->entries[i];

		files[i] = (struct sg_guard_file){ e->path, e->deny, e->source, e->rule, e->fragment };
	}
	/* set() copies the strings before it frees the entries they point into. */
	sg_file_guard_set(g, files, n);
	free(files);
	return changed + 1;
}

/* --------------------------------------------------------------- lifecycle */

static void creates_clear(struct sg_file_guard *g);

static void lsm_event(void *ctx, const struct sg_file_event *ev)
{
	static const char *const ops[] = { "?", "open_write", "open", "unlink", "rename",
					   "truncate", "setattr", "link", "bpf_map", "create" };
	struct sg_file_guard *g = ctx;
	enum sg_severity sev = sg_severity_for(true, ev->blocked, false);
	char exe[4096] = "", name[SG_NAME_LEN + 1];
	const char *op = ev->op < sizeof(ops) / sizeof(ops[0]) ? ops[ev->op] : "?";
	const char *rule = "", *source = "", *path = NULL, *fragment = NULL;
	struct entry *e = NULL;
	struct sg_json j;
	uint64_t id;

	__atomic_add_fetch(&g->denied, 1, __ATOMIC_RELAXED);
	sg_proc_exe(NULL, (pid_t)ev->hdr.tgid, exe, sizeof(exe));
	memcpy(name, ev->name, SG_NAME_LEN);
	name[SG_NAME_LEN] = '\0';
	if (ev->op != SG_FOP_BPF_MAP)
		e = fg_find(g, sg_st_from_kdev(ev->file.dev), ev->file.ino);
	if (ev->op == SG_FOP_CREATE && (ev->rule_id & SG_CREATE_RULE_ID) &&
	    (ev->rule_id & ~SG_CREATE_RULE_ID) - 1 < g->ncreates) {
		const struct lsm_create *c = &g->creates[(ev->rule_id & ~SG_CREATE_RULE_ID) - 1];

		e = NULL;
		rule = c->rule;
		source = "policy";
		path = c->path;
	} else if (e) {
		rule = e->rule;
		fragment = e->fragment;
		source = e->source;
		path = e->path;
	}
	sg_json_init(&j);
	id = sg_audit_begin(g->o.audit, &j, "file_access", sev);
	sg_json_kv_str(&j, "action", op);
	sg_json_kv_str(&j, "decision", "deny");
	sg_json_kv_bool(&j, "blocked", ev->blocked);
	sg_json_kv_str(&j, "backend", "bpf_lsm");
	sg_json_key(&j, "file");
	sg_json_begin_object(&j);
	if (path)
		sg_json_kv_bytes(&j, "path", path, strlen(path));
	sg_json_kv_bytes(&j, "name", name, strlen(name));
	if (ev->op == SG_FOP_BPF_MAP) {
		sg_json_kv_u64(&j, "map_id", ev->file.ino);
	} else {
		sg_json_kv_u64(&j, "dev", sg_st_from_kdev(ev->file.dev));
		sg_json_kv_u64(&j, "ino", ev->file.ino);
	}
	sg_json_end_object(&j);
	sg_json_key(&j, "rule");
	sg_json_begin_object(&j);
	sg_json_kv_bytes(&j, "name", rule, strlen(rule));
	if (fragment)
		sg_json_kv_str(&j, "fragment", fragment);
	sg_json_kv_str(&j, "source", source);
	sg_json_end_object(&j);
	sg_json_key(&j, "process");
	sg_json_begin_object(&j);
	sg_json_kv_i64(&j, "pid", ev->hdr.tgid);
	sg_json_kv_i64(&j, "tid", ev->hdr.pid);
	sg_json_kv_u64(&j, "uid", ev->hdr.uid);
	sg_json_kv_bytes(&j, "comm", ev->hdr.comm, strnlen(ev->hdr.comm, SG_COMM_LEN));
	sg_json_kv_bytes(&j, "exe", exe, strlen(exe));
	sg_json_kv_u64(&j, "cgroup_id", ev->hdr.cgroup_id);
	sg_record_container_of(&j, ev->hdr.tgid, ev->hdr.cgroup_id, NULL);
	sg_json_end_object(&j);
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
	if (g->o.alerts)
		sg_record_alert(g->o.audit, g->o.alerts, "deny", id, sev, exe, strlen(exe),
				rule, op, path ? path : name);
}

static void raise_nofile(void)
{
	struct rlimit r;

	/* One O_PATH fd per protected file. */
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

int sg_file_guard_start(struct sg_file_guard **out, const struct sg_file_guard_opts *o,
			char *err, size_t errlen)
{
	struct sg_file_guard *g = calloc(1, sizeof(*g));
	char lerr[256] = "";
	sigset_t all, old;
	int rc;

	if (!g)
		return -ENOMEM;
	g->o = *o;
	g->fan = -1;
	g->stop_fd = -1;
	g->enforce = o->enforce;
	snprintf(g->state_dir, sizeof(g->state_dir), "%s", o->state_dir);
	pthread_rwlock_init(&g->lock, NULL);
	if (stat("/proc/self/exe", &g->self_exe)) {
		rc = -errno;
		snprintf(err, errlen, "/proc/self/exe: %s", strerror(errno));
		goto fail;
	}
	raise_nofile();
	fg_for_each_listed(g->state_dir, collect_leftover, g);
	if (g->nleft && build_index(g->left, g->nleft, &g->left_index, &g->left_cap))
		settle_leftovers(g, false);	/* no memory for the index: clear nothing */
	if (o->use_lsm) {
		struct sg_file_guard_config cfg = { .enforce = o->enforce, .daemon_tgid = getpid() };

		cfg.daemon_exe.ino = g->self_exe.st_ino;
		cfg.daemon_exe.dev = sg_kdev_from_st(g->self_exe.st_dev);
		if (sg_file_lsm_start(&g->lsm, &cfg, lsm_event, g, lerr, sizeof(lerr)) == 0) {
			*out = g;
			return 0;
		}
		g->lsm = NULL;
	}
	/* REPORT_TID: /proc/<tid>/syscall must be the opening thread's. */
	g->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_TID,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (g->fan < 0) {
		rc = -errno;
		snprintf(err, errlen, "fanotify_init: %s%s%s", strerror(errno),
			 lerr[0] ? "; bpf_lsm: " : "", lerr);
		goto fail;
	}
	g->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (g->stop_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	/* Signals are the event loop's (signalfd): the thread must never take SIGTERM. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&g->thread, NULL, fg_perm_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "permission thread: %s", strerror(rc));
		rc = -rc;
		goto fail;
	}
	g->thread_up = true;
	if (o->use_immutable && o->record_refusals &&
	    sg_file_refusal_load(&g->refusal, fg_on_refusal, g, lerr, sizeof(lerr)))
		fprintf(stderr, "sysguardd: %s; refusals by the immutable flag are not recorded\n",
			lerr);
	*out = g;
	return 0;
fail:
	settle_leftovers(g, false);
	if (g->fan >= 0)
		close(g->fan);
	if (g->stop_fd >= 0)
		close(g->stop_fd);
	pthread_rwlock_destroy(&g->lock);
	free(g);
	return rc;
}

void sg_file_guard_stop(struct sg_file_guard *g)
{
	char path[4200];
	size_t i;

	if (!g)
		return;
	creates_clear(g);
	/* Lift the protection while the thread still answers our own opens. */
	for (i = 0; i < g->n; i++) {
		unprotect(g, &g->entries[i]);
		free_entry(&g->entries[i]);
	}
	if (g->thread_up) {
		uint64_t one = 1;

		if (write(g->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(g->thread);
		pthread_join(g->thread, NULL);
	}
	if (g->lsm)
		sg_file_lsm_stop(g->lsm);
	sg_file_refusal_stop(g->refusal);
	if (g->fan >= 0)
		close(g->fan);
	if (g->stop_fd >= 0)
		close(g->stop_fd);
	snprintf(path, sizeof(path), "%s/%s", g->state_dir, FG_IMMUTABLE_LIST);
	unlink(path);
	free(g->entries);
	free(g->index);
	pthread_rwlock_destroy(&g->lock);
	free(g);
}

const char *sg_file_guard_backend(const struct sg_file_guard *g)
{
	return g->lsm ? "bpf_lsm" : "fanotify";
}

int sg_file_guard_fd(const struct sg_file_guard *g)
{
	if (g->lsm)
		return sg_file_lsm_fd(g->lsm);
	return g->refusal ? sg_file_refusal_fd(g->refusal) : -1;
}

void sg_file_guard_poll(struct sg_file_guard *g)
{
	if (g->lsm) {
		pthread_rwlock_rdlock(&g->lock);
		sg_file_lsm_poll(g->lsm);
		pthread_rwlock_unlock(&g->lock);
	} else if (g->refusal) {
		/* This thread alone changes entries: no lock needed to read them. */
		sg_file_refusal_consume(g->refusal);
	}
}

static void creates_clear(struct sg_file_guard *g)
{
	size_t i;

	for (i = 0; i < g->ncreates; i++) {
		if (g->lsm && g->creates[i].dir.ino)
			sg_file_lsm_unprotect(g->lsm, &g->creates[i].dir);
		free(g->creates[i].rule);
		free(g->creates[i].path);
	}
	free(g->creates);
	g->creates = NULL;
	g->ncreates = 0;
	if (g->lsm)
		sg_file_lsm_clear_absent(g->lsm);
}

void sg_file_guard_set_creates(struct sg_file_guard *g, struct sg_create_rule *r, size_t n)
{
	size_t i;

	if (!g)
		return;
	creates_clear(g);
	if (!g->lsm || !n)
		return;
	g->creates = calloc(n, sizeof(*g->creates));
	if (!g->creates)
		return;
	for (i = 0; i < n; i++) {
		struct lsm_create *c = &g->creates[g->ncreates];
		struct sg_file_rule fr = { .rule_id = SG_CREATE_RULE_ID | (uint32_t)(i + 1) };
		char dir[4096], *slash;
		struct stat st;
		int rc;

		c->rule = strdup(r[i].rule);
		c->path = strdup(r[i].path);
		g->ncreates++;
		fr.rule_id = SG_CREATE_RULE_ID | (uint32_t)g->ncreates;
		if (!stat(r[i].path, &st) && S_ISDIR(st.st_mode)) {
			fr.deny = SG_FILE_DENY_CREATE;
			c->dir.ino = st.st_ino;
			c->dir.dev = sg_kdev_from_st(st.st_dev);
			rc = sg_file_lsm_protect(g->lsm, &c->dir, &fr);
			if (rc)
				c->dir.ino = 0;
			r[i].lsm = rc ? "map update failed" : "refused";
			continue;
		}
		/* Absent: the missing name in its parent, when the parent exists. */
		snprintf(dir, sizeof(dir), "%s", r[i].path);
		slash = strrchr(dir, '/');
		if (!slash || !slash[1]) {
			r[i].lsm = "not refusable: no name";
			continue;
		}
		*slash = '\0';
		if (stat(slash == dir ? "/" : dir, &st) || !S_ISDIR(st.st_mode)) {
			r[i].lsm = "not refusable: parent directory absent";
			continue;
		}
		fr.deny = SG_FILE_DENY_CREATE;
		rc = sg_file_lsm_protect_absent(g->lsm, &(struct sg_inode_key){
			.ino = st.st_ino, .dev = sg_kdev_from_st(st.st_dev) }, slash + 1, &fr);
		r[i].lsm = rc == -ENAMETOOLONG ? "not refusable: name of 64 bytes or more"
			 : rc ? "map update failed" : "refused";
	}
}

int sg_file_guard_protect_map(struct sg_file_guard *g, int map_fd)
{
	/* Reading is refused too: a read-only fd is enough to load a program that writes. */
	struct sg_file_rule r = { .rule_id = 0, .deny = SG_FILE_DENY_WRITE | SG_FILE_DENY_READ };

	return g->lsm ? sg_file_lsm_guard_map(g->lsm, map_fd, &r) : -EOPNOTSUPP;
}

int sg_file_guard_unprotect_map(struct sg_file_guard *g, int map_fd)
{
	return g->lsm ? sg_file_lsm_unguard_map(g->lsm, map_fd) : -EOPNOTSUPP;
}

void sg_file_guard_stats(struct sg_file_guard *g, struct sg_file_guard_stats *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->protected_files = g->n;
	for (i = 0; i < g->n; i++)
		s->immutable += g->entries[i].ours_immutable;
	s->denied = __atomic_load_n(&g->denied, __ATOMIC_RELAXED);
	s->allowed_reads = __atomic_load_n(&g->allowed_reads, __ATOMIC_RELAXED);
	s->errors = __atomic_load_n(&g->errors, __ATOMIC_RELAXED);
}

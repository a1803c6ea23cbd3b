// SPDX-License-Identifier: Apache-2.0
#include "act/script_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/glob.h"
#include "report/exec_record.h"
#include "sense/proc.h"

struct watched_file {
	struct sg_file_id id;
	struct sg_rule rule;		/* a copy: name, id, kind, line (no pointers) */
};

struct watched_glob {
	struct sg_glob *glob;
	struct sg_rule rule;
};

/* A directory under a glob that reaches below its literal directory ("/srv/" then "**"). */
struct watched_dir {
	int wd;			/* its inotify watch: subdirectories made later are marked too */
	char *path;
};

#define SG_GUARD_MAX_DIRS 4096
#define SG_GUARD_MAX_DEPTH 64

struct sg_script_guard {
	int fan, stop_fd;
	pthread_t thread;
	bool thread_up;
	pid_t self;
	struct sg_audit *audit;
	struct sg_alerts *alerts;
	pthread_mutex_t lock;		/* the tables below: the event loop writes, the thread reads */
	struct watched_file *files;
	size_t nfiles;
	struct watched_glob *globs;
	size_t nglobs;
	struct sg_file_id *interps;
	size_t ninterps;
	uint64_t denied;
	/* The event loop's alone (apply, new directories): the thread never reads them. */
	int dirs_fd;
	struct watched_dir *dirs;
	size_t ndirs, dirs_cap, dirs_skipped;
};

static struct sg_rule rule_copy(const struct sg_rule *r)
{
	struct sg_rule c = *r;

	c.pattern = NULL;
	c.parent_pattern = NULL;
	c.source = NULL;
	c.fragment = NULL;
	return c;
}

static bool is_ours(const struct sg_script_guard *g, pid_t pid)
{
	pid_t ppid;

	/* The daemon, and the helpers it forks to open files as another process would. */
	return pid == g->self || (sg_proc_ppid(pid, &ppid) == 0 && ppid == g->self);
}

static bool is_interpreter(const struct sg_script_guard *g, pid_t pid, char *exe, size_t len)
{
	char link[64];
	struct stat st;
	ssize_t n;
	size_t i;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	if (stat(link, &st))
		return false;
	for (i = 0; i < g->ninterps; i++)
		if (g->interps[i].dev == st.st_dev && g->interps[i].ino == st.st_ino)
			break;
	if (i == g->ninterps)
		return false;
	n = readlink(link, exe, len - 1);
	exe[n > 0 ? n : 0] = '\0';
	return true;
}

/* The deny rule for this open, copied into *out; false when it may go on. */
static bool denied_open(struct sg_script_guard *g, int fd, const struct stat *st, char *path,
			size_t len, struct sg_rule *out)
{
	char link[64];
	ssize_t n;
	size_t i;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, len - 1);
	path[n > 0 ? n : 0] = '\0';
	for (i = 0; i < g->nfiles; i++)
		if (g->files[i].id.dev == st->st_dev && g->files[i].id.ino == st->st_ino) {
			*out = g->files[i].rule;
			return true;
		}
	for (i = 0; n > 0 && i < g->nglobs; i++)
		if (sg_glob_match(g->globs[i].glob, path)) {
			*out = g->globs[i].rule;
			return true;
		}
	return false;
}

static void record(struct sg_script_guard *g, const struct fanotify_event_metadata *m,
		   const struct stat *st, const char *path, const char *exe,
		   const struct sg_rule *rule, int err)
{
	static __thread struct sg_exec_facts f;
	struct sg_verdict v = { .action = SG_ACTION_DENY, .rule = rule };
	char link[64];
	struct stat pst;
	uint64_t id;
	ssize_t n;

	memset(&f, 0, sizeof(f));
	f.sensor = SG_SENSOR_FANOTIFY;
	f.pid = m->pid;
	sg_proc_ppid(m->pid, &f.ppid);
	snprintf(link, sizeof(link), "/proc/%d", m->pid);
	if (stat(link, &pst) == 0) {
		f.uid = pst.st_uid;
		f.gid = pst.st_gid;
	}
	n = sg_proc_read(m->pid, "comm", f.comm, sizeof(f.comm) - 1);
	f.comm[n > 0 ? n : 0] = '\0';
	f.comm[strcspn(f.comm, "\n")] = '\0';
	snprintf(f.path, sizeof(f.path), "%s", path);
	f.path_len = strlen(f.path);
	f.has_path = f.path_len > 0;
	f.id.dev = st->st_dev;
	f.id.ino = st->st_ino;
	f.has_id = true;
	snprintf(f.interpreter, sizeof(f.interpreter), "%s", exe);
	f.has_interpreter = exe[0] != '\0';
	f.script = "sourced";
	id = sg_record_exec(g->audit, g->alerts, &f, &v, SG_MODE_ENFORCE, "fanotify");
	sg_record_mitigation(g->audit, g->alerts, &f, id, "fanotify", "deny_script_open", err);
}

static void handle(struct sg_script_guard *g, const struct fanotify_event_metadata *m)
{
	struct fanotify_response r = { .fd = m->fd, .response = FAN_ALLOW };
	char exe[PATH_MAX] = "", path[PATH_MAX] = "";
	struct sg_rule rule;
	struct stat st;
	bool deny = false;
	int err = 0;

	/* Directories, devices, the daemon, and anyone but an interpreter: not a script run. */
	if (!is_ours(g, m->pid) && fstat(m->fd, &st) == 0 && S_ISREG(st.st_mode)) {
		pthread_mutex_lock(&g->lock);
		deny = is_interpreter(g, m->pid, exe, sizeof(exe)) &&
		       denied_open(g, m->fd, &st, path, sizeof(path), &rule);
		pthread_mutex_unlock(&g->lock);
	}
	if (deny)
		r.response = FAN_DENY;
	if (write(g->fan, &r, sizeof(r)) != sizeof(r))
		err = -errno;
	if (deny) {
		__atomic_fetch_add(&g->denied, 1, __ATOMIC_RELAXED);
		record(g, m, &st, path, exe, &rule, err);
	}
}

static void *perm_thread(void *arg)
{
	struct sg_script_guard *g = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	struct pollfd p[2] = { { .fd = g->fan, .events = POLLIN }, { .fd = g->stop_fd, .events = POLLIN } };

	for (;;) {
		const struct fanotify_event_metadata *m = (void *)buf;
		ssize_t len;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return NULL;
		if (p[1].revents)
			return NULL;
		len = read(g->fan, buf, sizeof(buf));
		for (; len > 0 && FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers == FANOTIFY_METADATA_VERSION && m->fd >= 0) {
				handle(g, m);
				close(m->fd);
			}
		}
	}
}

int sg_script_guard_start(struct sg_script_guard **out, struct sg_audit *audit,
			  struct sg_alerts *alerts, char *err, size_t errlen)
{
	struct sg_script_guard *g = calloc(1, sizeof(*g));
	sigset_t all, old;
	int rc;

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->self = getpid();
	g->audit = audit;
	g->alerts = alerts;
	g->stop_fd = -1;
	g->dirs_fd = -1;
	pthread_mutex_init(&g->lock, NULL);
	g->fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (g->fan < 0) {
		rc = -errno;
		snprintf(err, errlen, "fanotify_init: %s", strerror(-rc));
		goto fail;
	}
	g->stop_fd = eventfd(0, EFD_CLOEXEC);
	g->dirs_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (g->stop_fd < 0 || g->dirs_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", g->stop_fd < 0 ? "eventfd" : "inotify_init1",
			 strerror(-rc));
		goto fail;
	}
	/* Signals are the event loop's (signalfd): the thread must never take SIGTERM. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&g->thread, NULL, perm_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "permission thread: %s", strerror(-rc));
		goto fail;
	}
	g->thread_up = true;
	*out = g;
	return 0;
fail:
	if (g->fan >= 0)
		close(g->fan);
	if (g->stop_fd >= 0)
		close(g->stop_fd);
	if (g->dirs_fd >= 0)
		close(g->dirs_fd);
	pthread_mutex_destroy(&g->lock);
	free(g);
	return rc;
}

static void unwatch_dirs(struct sg_script_guard *g);

static void free_tables(struct sg_script_guard *g)
{
	size_t i;

	for (i = 0; i < g->nglobs; i++)
		sg_glob_free(g->globs[i].glob);
	free(g->globs);
	free(g->files);
	free(g->interps);
	g->globs = NULL;
	g->files = NULL;
	g->interps = NULL;
	g->nglobs = g->nfiles = g->ninterps = 0;
}

void sg_script_guard_stop(struct sg_script_guard *g)
{
	uint64_t one = 1;

	if (!g)
		return;
	if (g->thread_up) {
		if (write(g->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(g->thread);
		pthread_join(g->thread, NULL);
	}
	/* Closing the group answers whatever is still pending: allow. */
	close(g->fan);
	close(g->stop_fd);
	free_tables(g);
	unwatch_dirs(g);
	close(g->dirs_fd);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static int mark(struct sg_script_guard *g, const char *path, uint64_t mask)
{
	return fanotify_mark(g->fan, FAN_MARK_ADD, mask, AT_FDCWD, path) ? -errno : 0;
}

/* A directory, not through a symlink; path is the entry's full name. */
static bool is_dir_entry(const struct dirent *de, const char *path)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void remember_dir(struct sg_script_guard *g, int wd, const char *path)
{
	struct watched_dir *n;
	size_t i;

	for (i = 0; i < g->ndirs; i++)
		if (g->dirs[i].wd == wd)
			return;
	if (g->ndirs == g->dirs_cap) {
		size_t cap = g->dirs_cap ? g->dirs_cap * 2 : 64;

		n = realloc(g->dirs, cap * sizeof(*n));
		if (!n)
			return;
		g->dirs = n;
		g->dirs_cap = cap;
	}
	g->dirs[g->ndirs].path = strdup(path);
	if (g->dirs[g->ndirs].path)
		g->dirs[g->ndirs++].wd = wd;
}

/*
 * The directory and every one below it (not through symlinks): an open of
 * any file in them is asked about, and a directory made or moved in later
 * is found by inotify and marked too. Bounded; what is left out is counted.
 */
static void watch_tree(struct sg_script_guard *g, const char *path, int depth)
{
	struct dirent *de;
	DIR *d;
	int wd;

	if (g->ndirs >= SG_GUARD_MAX_DIRS || depth > SG_GUARD_MAX_DEPTH) {
		g->dirs_skipped++;
		return;
	}
	if (mark(g, path, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD))
		return;
	wd = inotify_add_watch(g->dirs_fd, path, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW);
	if (wd >= 0)
		remember_dir(g, wd, path);
	else
		g->dirs_skipped++;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub)) {
			g->dirs_skipped += de->d_type == DT_DIR || de->d_type == DT_UNKNOWN;
			continue;
		}
		if (is_dir_entry(de, sub))
			watch_tree(g, sub, depth + 1);
	}
	closedir(d);
}

static void unwatch_dirs(struct sg_script_guard *g)
{
	size_t i;

	for (i = 0; i < g->ndirs; i++) {
		inotify_rm_watch(g->dirs_fd, g->dirs[i].wd);
		free(g->dirs[i].path);
	}
	free(g->dirs);
	g->dirs = NULL;
	g->ndirs = g->dirs_cap = g->dirs_skipped = 0;
}

int sg_script_guard_dirs_fd(const struct sg_script_guard *g)
{
	return g ? g->dirs_fd : -1;
}

void sg_script_guard_on_dirs(struct sg_script_guard *g)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	while ((len = read(g->dirs_fd, buf, sizeof(buf))) > 0) {
		const struct inotify_event *ev;
		char *p;

		for (p = buf; p < buf + len; p += sizeof(*ev) + ev->len) {
			char sub[PATH_MAX];
			size_t i;

			ev = (const struct inotify_event *)p;
			for (i = 0; i < g->ndirs && g->dirs[i].wd != ev->wd; i++)
				;
			if (i == g->ndirs)
				continue;
			/* Removed (or unmounted): its slot goes back, for trees made and removed often. */
			if (ev->mask & IN_IGNORED) {
				free(g->dirs[i].path);
				g->dirs[i] = g->dirs[--g->ndirs];
				continue;
			}
			if (!(ev->mask & IN_ISDIR) || !(ev->mask & (IN_CREATE | IN_MOVED_TO)) || !ev->len)
				continue;
			if (snprintf(sub, sizeof(sub), "%s/%s", g->dirs[i].path, ev->name) >=
			    (int)sizeof(sub))
				g->dirs_skipped++;
			else
				watch_tree(g, sub, 0);
		}
	}
}

size_t sg_script_guard_dirs_skipped(const struct sg_script_guard *g)
{
	return g ? g->dirs_skipped : 0;
}

int sg_script_guard_apply(struct sg_script_guard *g, const struct sg_policy *p,
			  const struct sg_engine *e)
{
	size_t i, n = sg_policy_rule_count(p), ndeep = 0;
	char dir[PATH_MAX], **deep = NULL;
	int marks = 0;

	pthread_mutex_lock(&g->lock);
	free_tables(g);
	unwatch_dirs(g);
	fanotify_mark(g->fan, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
	g->files = calloc(n ? n : 1, sizeof(*g->files));
	g->globs = calloc(n ? n : 1, sizeof(*g->globs));
	g->interps = calloc(e->ninterps ? e->ninterps : 1, sizeof(*g->interps));
	if (!g->files || !g->globs || !g->interps) {
		free_tables(g);
		pthread_mutex_unlock(&g->lock);
		return -ENOMEM;
	}
	for (i = 0; i < e->ninterps; i++)
		g->interps[i] = e->interps[i].id;
	g->ninterps = e->ninterps;
	for (i = 0; sg_policy_scripts(p)->on && i < n; i++) {
		const struct sg_rule *r = sg_policy_rule(p, i);
		const char *why;
		struct stat st;
		size_t len;

		/* Parent-constrained rules depend on who started the interpreter: exec time only. */
		if (r->action != SG_ACTION_DENY || r->scope || !r->pattern || r->parent_pattern)
			continue;
		if (r->kind == SG_MATCH_PATH || r->kind == SG_MATCH_IDENTITY) {
			/* A file that is not there has no inode to mark; the exec rule still holds. */
			if (stat(r->pattern, &st) || mark(g, r->pattern, FAN_OPEN_PERM))
				continue;
			g->files[g->nfiles].id.dev = st.st_dev;
			g->files[g->nfiles].id.ino = st.st_ino;
			g->files[g->nfiles++].rule = rule_copy(r);
			marks++;
		} else if (r->kind == SG_MATCH_GLOB) {
			len = sg_glob_literal_dir(r->pattern);
			/* "/x*" would put every open in "/" on the round trip: not worth it. */
			if (len <= 1 || len >= sizeof(dir))
				continue;
			memcpy(dir, r->pattern, len - 1);
			dir[len - 1] = '\0';
			if (sg_glob_compile(r->pattern, &g->globs[g->nglobs].glob, &why))
				continue;
			/*
			 * A "**", or a "/" after the first wildcard: files below the
			 * literal directory match too. Walked once the lock is let
			 * go: the permission thread must not wait on a tree being read.
			 */
			if (strchr(r->pattern + len, '/') || strstr(r->pattern + len, "**")) {
				char **more = realloc(deep, (ndeep + 1) * sizeof(*deep));

				if (more) {
					deep = more;
					deep[ndeep] = strdup(dir);
					ndeep += deep[ndeep] != NULL;
				}
			} else if (mark(g, dir, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD)) {
				sg_glob_free(g->globs[g->nglobs].glob);
				continue;
			}
			g->globs[g->nglobs++].rule = rule_copy(r);
			marks++;
		}
	}
	pthread_mutex_unlock(&g->lock);
	for (i = 0; i < ndeep; i++) {
		watch_tree(g, deep[i], 0);
		free(deep[i]);
	}
	free(deep);
	return marks;
}

int sg_script_guard_add_interpreter(struct sg_script_guard *g, const struct sg_file_id *id)
{
	struct sg_file_id *n;

	pthread_mutex_lock(&g->lock);
	n = realloc(g->interps, (g->ninterps + 1) * sizeof(*n));
	if (n) {
		g->interps = n;
		g->interps[g->ninterps++] = *id;
	}
	pthread_mutex_unlock(&g->lock);
	return n ? 0 : -ENOMEM;
}

uint64_t sg_script_guard_denied(const struct sg_script_guard *g)
{
	return g ? __atomic_load_n(&g->denied, __ATOMIC_RELAXED) : 0;
}

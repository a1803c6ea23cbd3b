// SPDX-License-Identifier: Apache-2.0
/* Directories closed to new entries, absent paths kept absent (see file_create.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "act/file_create.h"
#include "report/audit.h"
#include "report/container_record.h"
#include "report/exec_record.h"
#include "sense/proc.h"

#define HANDLE_MAX 128
#define WATCH_MASK (FAN_CREATE | FAN_MOVED_TO | FAN_ONDIR)

struct watch {
	char *path;			/* the rule's path */
	char *rule;
	const char *source;		/* static string */
	const char *lsm;		/* static string, NULL: no bpf_lsm */
	uint32_t deny;
	bool dir_rule;			/* deny: [create] on an existing directory */
	char dir[4096];			/* the directory marked */
	int dirfd;			/* O_RDONLY | O_DIRECTORY on it, -1 none */
	dev_t dev;
	ino_t ino;
	fsid_t fsid;
	unsigned hlen;
	int htype;
	unsigned char handle[HANDLE_MAX];
	bool immutable;			/* we set FS_IMMUTABLE_FL on dir */
};

struct sg_create_guard {
	struct sg_create_guard_opts o;
	int fan;
	bool enforce;
	struct watch *w;
	size_t n;
	uint64_t undone;
};

/* ----------------------------------------------------------------- helpers */

bool sg_create_guard_wants(const char *path, uint32_t deny)
{
	struct stat st;

	if (stat(path, &st))
		return errno == ENOENT || errno == ENOTDIR;
	return (deny & SG_FDENY_CREATE) && S_ISDIR(st.st_mode);
}

/* 1 when it was already so, 0 changed, -errno. */
static int set_immutable(int fd, bool on)
{
	int flags;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags))
		return -errno;
	if (!!(flags & FS_IMMUTABLE_FL) == on)
		return 1;
	flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
	return ioctl(fd, FS_IOC_SETFLAGS, &flags) ? -errno : 0;
}

/* Open `dir`, remember its handle (as events carry it) and mark it. 0 or -errno. */
static int watch_dir(struct sg_create_guard *g, struct watch *w, const char *dir)
{
	struct {
		struct file_handle fh;
		unsigned char buf[HANDLE_MAX];
	} h;
	struct statfs sf;
	struct stat st;
	int fd, mount_id, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	h.fh.handle_bytes = HANDLE_MAX;
	if (fstat(fd, &st) || fstatfs(fd, &sf) ||
	    name_to_handle_at(fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) ||
	    fanotify_mark(g->fan, FAN_MARK_ADD, WATCH_MASK, fd, NULL)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->dirfd = fd;
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	memcpy(&w->fsid, &sf.f_fsid, sizeof(w->fsid));
	w->hlen = h.fh.handle_bytes;
	w->htype = h.fh.handle_type;
	memcpy(w->handle, h.fh.f_handle, w->hlen);
	return 0;
}

/* Marks are not removed here: set() flushes them all, stop() closes the group. */
static void unwatch(struct watch *w)
{
	if (w->dirfd < 0)
		return;
	if (w->immutable && set_immutable(w->dirfd, false) >= 0)
		w->immutable = false;
	close(w->dirfd);
	w->dirfd = -1;
}

/* The component of an absent path right below its watched directory. */
static const char *next_name(const struct watch *w, size_t *len)
{
	const char *s = w->path + strlen(w->dir), *e;

	if (strcmp(w->dir, "/"))
		s++;
	e = strchr(s, '/');
	*len = e ? (size_t)(e - s) : strlen(s);
	return s;
}

static bool last_name(const struct watch *w)
{
	size_t len;
	const char *s = next_name(w, &len);

	return s[len] == '\0';
}

/* Mark the nearest existing ancestor of an absent path. 0 or -errno. */
static int watch_ancestor(struct sg_create_guard *g, struct watch *w)
{
	char dir[4096], *slash;
	int rc;

	snprintf(dir, sizeof(dir), "%s", w->path);
	for (;;) {
		slash = strrchr(dir, '/');
		if (!slash)
			return -EINVAL;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		rc = watch_dir(g, w, dir);
		if (rc != -ENOENT && rc != -ENOTDIR)
			return rc;
		if (!strcmp(dir, "/"))
			return rc;
	}
}

/* ----------------------------------------------------------------- records */

static void file_fields(struct sg_json *j, const char *path, const struct watch *w)
{
	sg_json_key(j, "file");
	sg_json_begin_object(j);
	sg_json_kv_bytes(j, "path", path, strlen(path));
	sg_json_kv_u64(j, "dev", w->dev);
	sg_json_kv_u64(j, "ino", w->ino);
	sg_json_end_object(j);
	sg_json_key(j, "deny");
	sg_json_begin_array(j);
	if (w->deny & SG_FDENY_WRITE)
		sg_json_str(j, "write");
	if (w->deny & SG_FDENY_DELETE)
		sg_json_str(j, "delete");
	if (w->deny & SG_FDENY_READ)
		sg_json_str(j, "read");
	if (w->deny & SG_FDENY_CREATE)
		sg_json_str(j, "create");
	sg_json_end_array(j);
}

static void protect_record(struct sg_create_guard *g, const char *action, const struct watch *w)
{
	static const char *const refused[] = { "create", "mkdir", "mknod", "symlink",
					       "link_into", "rename_into", "rename_out",
					       "unlink_in" };
	struct sg_json j;
	size_t i;

	sg_json_init(&j);
	sg_audit_begin(g->o.audit, &j, "file_protect",
		       w->dir_rule && !w->immutable && g->enforce ? SG_SEV_WARNING : SG_SEV_INFO);
	sg_json_kv_str(&j, "action", action);
	sg_json_kv_str(&j, "source", w->source);
	sg_json_kv_bytes(&j, "rule", w->rule, strlen(w->rule));
	file_fields(&j, w->path, w);
	sg_json_kv_str(&j, "backend", "fanotify");
	/* bpf_lsm refuses the creation itself (inode_create & co.), or says why not. */
	sg_json_kv_str(&j, "bpf_lsm", w->lsm);
	sg_json_kv_bool(&j, "immutable", w->immutable);
	sg_json_kv_bool(&j, "absent", !w->dir_rule);
	sg_json_kv_bytes(&j, "watched_dir", w->dir, strlen(w->dir));
	sg_json_key(&j, "refused");
	sg_json_begin_array(&j);
	for (i = 0; w->immutable && i < sizeof(refused) / sizeof(refused[0]); i++)
		sg_json_str(&j, refused[i]);
	sg_json_end_array(&j);
	/* What is not refused but found and removed afterwards. */
	sg_json_kv_str(&j, "undone", g->enforce ? "new entry removed when seen" : NULL);
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
}

static void error_record(struct sg_create_guard *g, const struct sg_create_rule *r,
			 const char *step, int err)
{
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(g->o.audit, &j, "file_protect_error", SG_SEV_CRITICAL);
	sg_json_kv_str(&j, "source", r->source);
	sg_json_kv_bytes(&j, "rule", r->rule, strlen(r->rule));
	sg_json_kv_bytes(&j, "path", r->path, strlen(r->path));
	sg_json_kv_str(&j, "step", step);
	sg_json_kv_str(&j, "error", strerror(err));
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
}

static void undo_record(struct sg_create_guard *g, const struct watch *w, const char *op,
			const char *name, pid_t pid, int err)
{
	enum sg_severity sev = g->enforce ? SG_SEV_CRITICAL : SG_SEV_WARNING;
	char path[8192], exe[4096] = "", comm[64] = "";
	struct sg_json j;
	uint64_t id;

	snprintf(path, sizeof(path), "%s/%s", strcmp(w->dir, "/") ? w->dir : "", name);
	if (pid > 0 && g->o.identify)
		g->o.identify(g->o.identify_ctx, pid, exe, sizeof(exe), comm, sizeof(comm));
	else if (pid > 0)
		sg_proc_identify(NULL, pid, exe, sizeof(exe), comm, sizeof(comm));
	sg_json_init(&j);
	id = sg_audit_begin(g->o.audit, &j, "file_access", sev);
	sg_json_kv_str(&j, "action", op);
	sg_json_kv_str(&j, "decision", "undo");
	/* The entry was made: the kernel refused nothing. */
	sg_json_kv_bool(&j, "blocked", false);
	sg_json_kv_bool(&j, "undone", g->enforce && !err);
	if (err)
		sg_json_kv_str(&j, "error", strerror(err));
	sg_json_kv_str(&j, "backend", "fanotify");
	sg_json_key(&j, "file");
	sg_json_begin_object(&j);
	sg_json_kv_bytes(&j, "path", path, strlen(path));
	sg_json_kv_bytes(&j, "name", name, strlen(name));
	sg_json_kv_bytes(&j, "dir", w->dir, strlen(w->dir));
	sg_json_end_object(&j);
	sg_json_key(&j, "rule");
	sg_json_begin_object(&j);
	sg_json_kv_bytes(&j, "name", w->rule, strlen(w->rule));
	sg_json_kv_str(&j, "source", w->source);
	sg_json_kv_bytes(&j, "path", w->path, strlen(w->path));
	sg_json_end_object(&j);
	sg_json_key(&j, "process");
	sg_json_begin_object(&j);
	if (pid > 0)
		sg_json_kv_i64(&j, "pid", pid);
	else
		sg_json_kv_str(&j, "pid", NULL);
	sg_json_kv_bytes(&j, "comm", comm, strlen(comm));
	sg_json_kv_bytes(&j, "exe", exe, strlen(exe));
	sg_record_container_of(&j, pid, 0, NULL);
	sg_json_end_object(&j);
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
	if (g->o.alerts)
		sg_record_alert(g->o.audit, g->o.alerts, "tamper", id, sev, exe, strlen(exe),
				w->rule, op, path);
}

/* ------------------------------------------------------------------- undo */

/* Remove `name` from w's directory. 0 or -errno. */
static int remove_entry(struct watch *w, const char *name)
{
	int rc = unlinkat(w->dirfd, name, 0) ? -errno : 0;

	if (rc == -EISDIR)
		rc = unlinkat(w->dirfd, name, AT_REMOVEDIR) ? -errno : 0;
	/* Our own flag may be back already (tick): lift it for the removal only. */
	if (rc == -EPERM && w->immutable && set_immutable(w->dirfd, false) == 0) {
		rc = unlinkat(w->dirfd, name, 0) ? -errno : 0;
		if (rc == -EISDIR)
			rc = unlinkat(w->dirfd, name, AT_REMOVEDIR) ? -errno : 0;
		set_immutable(w->dirfd, true);
	}
	return rc;
}

static void undo(struct sg_create_guard *g, struct watch *w, const char *op, const char *name,
		 pid_t pid)
{
	int rc = 0;

	if (g->enforce) {
		rc = remove_entry(w, name);
		if (rc == -ENOENT)
			return;		/* gone already: an earlier event undid it */
		if (!rc)
			g->undone++;
	}
	undo_record(g, w, op, name, pid, -rc);
}

/*
 * An absent path: mark the nearest ancestor, walking down as parents
 * appear, and remove the file if it is there.
 */
static void settle_absent(struct sg_create_guard *g, struct watch *w, const char *op, pid_t pid)
{
	char dir[4096];
	size_t len;
	const char *s;
	struct stat st;

	while (!last_name(w)) {
		s = next_name(w, &len);
		snprintf(dir, sizeof(dir), "%.*s", (int)(s - w->path + len), w->path);
		if (lstat(dir, &st) || !S_ISDIR(st.st_mode))
			break;
		/*
		 * The ancestor's mark stays (another rule may need it); its
		 * events no longer match this watch's handle.
		 */
		if (watch_dir(g, w, dir))
			break;
	}
	if (last_name(w)) {
		s = next_name(w, &len);
		if (!fstatat(w->dirfd, s, &st, AT_SYMLINK_NOFOLLOW))
			undo(g, w, op, s, pid);
	}
}

/* ------------------------------------------------------------------ events */

static bool same_dir(const struct watch *w, const struct fanotify_event_info_fid *fid)
{
	const struct file_handle *fh = (const void *)fid->handle;

	return w->dirfd >= 0 && w->hlen == fh->handle_bytes && w->htype == fh->handle_type &&
	       !memcmp(&w->fsid, &fid->fsid, sizeof(w->fsid)) &&
	       !memcmp(w->handle, fh->f_handle, w->hlen);
}

static void on_event(struct sg_create_guard *g, const struct fanotify_event_metadata *m)
{
	const struct fanotify_event_info_header *h;
	const struct fanotify_event_info_fid *fid = NULL;
	const char *name = NULL, *op;
	size_t off, i, len;

	for (off = m->metadata_len; off + sizeof(*h) <= m->event_len; off += h->len) {
		h = (const void *)((const char *)m + off);
		if (h->len < sizeof(*h) || off + h->len > m->event_len)
			return;
		if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
			const struct file_handle *fh;

			fid = (const void *)h;
			fh = (const void *)fid->handle;
			name = (const char *)(fh->f_handle + fh->handle_bytes);
		}
	}
	/* The daemon's own changes (its policy and state writes) are not attacks. */
	if (!fid || !name || m->pid == getpid())
		return;
	op = m->mask & FAN_MOVED_TO ? "moved_to" : "create";
	for (i = 0; i < g->n; i++) {
		struct watch *w = &g->w[i];

		if (!same_dir(w, fid))
			continue;
		if (w->dir_rule) {
			undo(g, w, op, name, m->pid);
			continue;
		}
		if (strncmp(next_name(w, &len), name, len) || name[len])
			continue;
		settle_absent(g, w, op, m->pid);
	}
}

void sg_create_guard_read(struct sg_create_guard *g)
{
	char buf[8192] __attribute__((aligned(8)));
	const struct fanotify_event_metadata *m;
	ssize_t len;
	size_t i;

	while ((len = read(g->fan, buf, sizeof(buf))) > 0) {
		for (m = (const void *)buf; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->vers != FANOTIFY_METADATA_VERSION)
				continue;
			if (m->mask & FAN_Q_OVERFLOW) {
				/* Lost events: look at every absent path now. */
				for (i = 0; i < g->n; i++)
					if (!g->w[i].dir_rule && g->w[i].dirfd >= 0)
						settle_absent(g, &g->w[i], "present", 0);
				continue;
			}
			on_event(g, m);
		}
	}
}

void sg_create_guard_tick(struct sg_create_guard *g)
{
	struct stat st;
	size_t i;

	for (i = 0; i < g->n; i++) {
		struct watch *w = &g->w[i];

		if (w->dirfd < 0)
			continue;
		if (w->dir_rule) {
			/* chattr -i sends no event: only this check sees it. */
			if (w->immutable && set_immutable(w->dirfd, true) == 0)
				protect_record(g, "immutable_restored", w);
			continue;
		}
		/* The watched directory was removed or replaced: climb to what exists now. */
		if ((stat(w->dir, &st) || st.st_dev != w->dev || st.st_ino != w->ino) &&
		    watch_ancestor(g, w))
			continue;
		settle_absent(g, w, "present", 0);
	}
}

/* --------------------------------------------------------------- lifecycle */

static int add_watch(struct sg_create_guard *g, struct watch *w, const struct sg_create_rule *r,
		     const char **step)
{
	struct stat st;
	int rc;

	*step = "open";
	w->dirfd = -1;
	w->path = strdup(r->path);
	w->rule = strdup(r->rule);
	if (!w->path || !w->rule)
		return -ENOMEM;
	w->source = r->source;
	w->lsm = r->lsm;
	w->deny = r->deny;
	if (!stat(r->path, &st) && S_ISDIR(st.st_mode) && (r->deny & SG_FDENY_CREATE)) {
		w->dir_rule = true;
		*step = "fanotify_mark";
		rc = watch_dir(g, w, r->path);
		/* bpf_lsm refuses (and records) every new entry: no flag to hide it behind. */
		if (rc || !g->enforce || (r->lsm && !strcmp(r->lsm, "refused")))
			return rc;
		*step = "immutable";
		rc = set_immutable(w->dirfd, true);
		/* A filesystem without the flag still gets the detector: the record says so. */
		w->immutable = rc >= 0;
		return 0;
	}
	*step = "fanotify_mark";
	return watch_ancestor(g, w);
}

static void free_watch(struct watch *w)
{
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->path);
	free(w->rule);
}

void sg_create_guard_set(struct sg_create_guard *g, const struct sg_create_rule *r, size_t n,
			 bool enforce)
{
	struct watch *nw = calloc(n ? n : 1, sizeof(*nw)), *old = g->w;
	size_t i, m = 0, oldn = g->n;

	if (!nw)
		return;
	/* Old flags and marks go first: the new set puts back what it needs. */
	for (i = 0; i < oldn; i++) {
		unwatch(&old[i]);
		protect_record(g, "remove", &old[i]);
		free_watch(&old[i]);
	}
	free(old);
	fanotify_mark(g->fan, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
	g->w = NULL;
	g->n = 0;
	g->enforce = enforce;
	for (i = 0; i < n; i++) {
		const char *step = "";
		int rc = add_watch(g, &nw[m], &r[i], &step);

		if (rc) {
			error_record(g, &r[i], step, -rc);
			free_watch(&nw[m]);
			memset(&nw[m], 0, sizeof(nw[m]));
			continue;
		}
		m++;
	}
	g->w = nw;
	g->n = m;
	for (i = 0; i < m; i++) {
		protect_record(g, "add", &nw[i]);
		if (!nw[i].dir_rule)
			settle_absent(g, &nw[i], "present", 0);
	}
}

int sg_create_guard_start(struct sg_create_guard **out, const struct sg_create_guard_opts *o,
			  char *err, size_t errlen)
{
	struct sg_create_guard *g = calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return -ENOMEM;
	g->o = *o;
	g->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
			       O_RDONLY | O_CLOEXEC);
	if (g->fan < 0) {
		rc = -errno;
		snprintf(err, errlen, "fanotify_init(FAN_REPORT_DFID_NAME): %s", strerror(errno));
		free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void sg_create_guard_stop(struct sg_create_guard *g)
{
	size_t i;

	if (!g)
		return;
	for (i = 0; i < g->n; i++) {
		unwatch(&g->w[i]);
		free_watch(&g->w[i]);
	}
	free(g->w);
	close(g->fan);
	free(g);
}

int sg_create_guard_fd(const struct sg_create_guard *g)
{
	return g ? g->fan : -1;
}

void sg_create_guard_stats(const struct sg_create_guard *g, uint64_t *watched,
			   uint64_t *undone)
{
	*watched = g ? g->n : 0;
	*undone = g ? g->undone : 0;
}

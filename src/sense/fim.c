// SPDX-License-Identifier: Apache-2.0
/* File integrity monitoring on fanotify FID events. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "sense/fim.h"

#define HANDLE_MAX 128

#define FILE_MASK (FAN_MODIFY | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_DELETE_SELF | FAN_MOVE_SELF)
/* A watched file's directory: only entry events, reported for that file's name. */
#define PARENT_MASK (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)
#define DIR_MASK (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_MODIFY | \
		  FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_DELETE_SELF | FAN_MOVE_SELF | \
		  FAN_EVENT_ON_CHILD | FAN_ONDIR)

/* A marked object: its file handle (as events carry it) and the path it had. */
struct mark {
	fsid_t fsid;
	unsigned len;
	int type;
	unsigned char handle[HANDLE_MAX];
	char *path;
	bool is_dir;
	bool parent_only;	/* marked for a watched file in it, not as a tree */
};

/* The last mode seen of an inode, so an attrib event can say what changed. */
struct mode_seen {
	dev_t dev;
	ino_t ino;
	mode_t mode;
};

#define MODE_CACHE 1024

struct sg_fim {
	int fd;
	struct mark *marks;
	size_t n, cap, dirs;
	struct mode_seen modes[MODE_CACHE];
	size_t nmodes, next_mode;	/* filled, then replaced round robin */
	sg_fim_error_fn on_error;	/* from sg_fim_set: walks report their limits */
	void *err_ctx;
};

static struct mode_seen *mode_find(struct sg_fim *f, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < f->nmodes; i++)
		if (f->modes[i].dev == dev && f->modes[i].ino == ino)
			return &f->modes[i];
	return NULL;
}

static void mode_remember(struct sg_fim *f, const struct stat *st)
{
	struct mode_seen *m = mode_find(f, st->st_dev, st->st_ino);

	if (!m) {
		if (f->nmodes < MODE_CACHE) {
			m = &f->modes[f->nmodes++];
		} else {
			m = &f->modes[f->next_mode];
			f->next_mode = (f->next_mode + 1) % MODE_CACHE;
		}
		m->dev = st->st_dev;
		m->ino = st->st_ino;
	}
	m->mode = st->st_mode;
}

/* Fill the mode fields of an attrib event from the file as it is now. */
static void attrib_modes(struct sg_fim *f, const char *path, struct sg_fim_event *ev)
{
	struct mode_seen *old;
	struct stat st;

	if (!path || lstat(path, &st))
		return;
	old = mode_find(f, st.st_dev, st.st_ino);
	ev->has_mode = true;
	ev->new_mode = st.st_mode & 07777;
	if (old) {
		ev->old_known = true;
		ev->old_mode = old->mode & 07777;
	}
	ev->file_caps = S_ISREG(st.st_mode) &&
			lgetxattr(path, "security.capability", NULL, 0) >= 0;
	mode_remember(f, &st);
}

static int key_of(const char *path, struct mark *m)
{
	struct {
		struct file_handle fh;
		unsigned char buf[HANDLE_MAX];
	} h;
	struct statfs sf;
	int mount_id;

	h.fh.handle_bytes = HANDLE_MAX;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) || statfs(path, &sf))
		return -errno;
	memcpy(&m->fsid, &sf.f_fsid, sizeof(m->fsid));
	m->len = h.fh.handle_bytes;
	m->type = h.fh.handle_type;
	memcpy(m->handle, h.fh.f_handle, m->len);
	return 0;
}

static bool same_key(const struct mark *m, const void *fsid, unsigned len, int type,
		     const unsigned char *handle)
{
	return m->len == len && m->type == type && !memcmp(&m->fsid, fsid, sizeof(m->fsid)) &&
	       !memcmp(m->handle, handle, len);
}

static const struct mark *lookup(const struct sg_fim *f, const void *fsid,
				 const struct file_handle *fh)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (same_key(&f->marks[i], fsid, fh->handle_bytes, fh->handle_type, fh->f_handle))
			return &f->marks[i];
	return NULL;
}

static struct mark *find_key(struct sg_fim *f, const struct mark *k)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (same_key(&f->marks[i], &k->fsid, k->len, k->type, k->handle))
			return &f->marks[i];
	return NULL;
}

static const struct mark *find_path(const struct sg_fim *f, const char *path)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->marks[i].path, path))
			return &f->marks[i];
	return NULL;
}

/*
 * Mark one object; -EEXIST when it is marked already (its directory was
 * listed then, a second walk would only repeat it). A directory marked for
 * a watched file in it becomes a tree directory.
 */
static int add_mark_mask(struct sg_fim *f, const char *path, bool is_dir, bool parent_only)
{
	struct mark m = { 0 }, *old;
	struct stat st;
	uint64_t mask = parent_only ? PARENT_MASK : is_dir ? DIR_MASK : FILE_MASK;
	unsigned int flags = FAN_MARK_ADD | FAN_MARK_DONT_FOLLOW | (is_dir ? FAN_MARK_ONLYDIR : 0);
	int rc;

	rc = key_of(path, &m);
	if (rc)
		return rc;
	old = find_key(f, &m);
	if (old && (!old->parent_only || parent_only))
		return -EEXIST;
	if (!old && is_dir && f->dirs >= SG_FIM_MAX_DIRS)
		return -ENOSPC;
	if (fanotify_mark(f->fd, flags, mask, AT_FDCWD, path))
		return -errno;
	if (old) {
		old->parent_only = false;
		return 0;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct mark *nm = realloc(f->marks, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		f->marks = nm;
		f->cap = cap;
	}
	m.path = strdup(path);
	if (!m.path)
		return -ENOMEM;
	m.is_dir = is_dir;
	m.parent_only = parent_only;
	f->marks[f->n++] = m;
	if (!parent_only && lstat(path, &st) == 0)
		mode_remember(f, &st);
	f->dirs += is_dir;
	return 0;
}

static int add_mark(struct sg_fim *f, const char *path, bool is_dir)
{
	return add_mark_mask(f, path, is_dir, false);
}

/* A file's directory, so a rename over it or a re-creation under its name is seen. */
static void add_parent(struct sg_fim *f, const char *file)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (!find_path(f, dir))
		add_mark_mask(f, dir, true, true);
}

/*
 * A walk below a directory just marked: marks every directory under it on
 * the same filesystem, each before it is listed, so an entry made in it is
 * either an event or found by the listing. With `fn`, every entry found is
 * reported as `op` by `pid` (the process whose create or move brought the
 * top directory); without, the walk only marks (start-up).
 */
struct walk {
	struct sg_fim *f;
	dev_t dev;
	sg_fim_fn fn;
	void *ctx;
	const char *op;
	pid_t pid;
	size_t entries;
	bool stop, depth_noted, name_noted;
	char path[4096];
};

/* One record per walk and kind: a hostile tree must not flood the log. */
static void walk_limit(struct walk *w, bool *noted, const char *what, int err)
{
	if (*noted || !w->f->on_error)
		return;
	*noted = true;
	w->f->on_error(w->f->err_ctx, w->path, what, err);
}

static void walk_dir(struct walk *w, size_t len, int depth)
{
	struct dirent *de;
	DIR *dir = opendir(w->path);

	/* Gone already: its removal is an event of its parent. */
	if (!dir)
		return;
	while (!w->stop && (de = readdir(dir))) {
		bool marked = false;
		struct stat st;
		int n, rc;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* Marking only: no need to stat what cannot be a directory. */
		if (!w->fn && de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		n = snprintf(w->path + len, sizeof(w->path) - len, "%s%s",
			     len == 1 && w->path[0] == '/' ? "" : "/", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(w->path) - len) {
			w->path[len] = '\0';
			walk_limit(w, &w->name_noted, "walk: path too long, entry skipped",
				   ENAMETOOLONG);
			continue;
		}
		if (w->fn && ++w->entries > SG_FIM_WALK_ENTRIES) {
			w->path[len] = '\0';
			if (w->f->on_error)
				w->f->on_error(w->f->err_ctx, w->path,
					       "walk: entry limit, the rest is not reported", E2BIG);
			w->stop = true;
			break;
		}
		if (lstat(w->path, &st)) {
			w->path[len] = '\0';
			continue;
		}
		if (S_ISDIR(st.st_mode) && st.st_dev == w->dev) {
			if (depth >= SG_FIM_WALK_DEPTH) {
				walk_limit(w, &w->depth_noted, "walk: depth limit, not marked",
					   ELOOP);
			} else {
				rc = add_mark(w->f, w->path, true);
				marked = !rc;
				if (rc == -ENOSPC) {
					if (w->f->on_error)
						w->f->on_error(w->f->err_ctx, w->path,
							       "too many directories", ENOSPC);
					w->stop = true;
				} else if (rc && rc != -EEXIST && w->f->on_error) {
					w->f->on_error(w->f->err_ctx, w->path, "fanotify_mark", -rc);
				}
			}
		}
		if (w->fn) {
			struct sg_fim_event ev = { .op = w->op, .mask = 0, .pid = w->pid,
						   .path = w->path, .is_dir = S_ISDIR(st.st_mode) };

			w->fn(w->ctx, &ev);
		}
		if (marked)
			walk_dir(w, len + n, depth + 1);
		w->path[len] = '\0';
	}
	closedir(dir);
}

/* Walk below `path`, a directory marked already (see struct walk). */
static void walk(struct sg_fim *f, const char *path, dev_t dev, sg_fim_fn fn, void *ctx,
		 const char *op, pid_t pid)
{
	struct walk *w = calloc(1, sizeof(*w));

	if (!w) {
		if (f->on_error)
			f->on_error(f->err_ctx, path, "walk", ENOMEM);
		return;
	}
	*w = (struct walk){ .f = f, .dev = dev, .fn = fn, .ctx = ctx, .op = op, .pid = pid };
	snprintf(w->path, sizeof(w->path), "%s", path);
	walk_dir(w, strlen(w->path), 0);
	free(w);
}

static void clear(struct sg_fim *f)
{
	size_t i;

	fanotify_mark(f->fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
	for (i = 0; i < f->n; i++)
		free(f->marks[i].path);
	f->n = 0;
	f->dirs = 0;
	f->nmodes = 0;
	f->next_mode = 0;
}

void sg_fim_set(struct sg_fim *f, const char *const *paths, size_t n, sg_fim_error_fn on_error,
		void *ctx)
{
	size_t i;

	clear(f);
	f->on_error = on_error;
	f->err_ctx = ctx;
	for (i = 0; i < n; i++) {
		struct stat st;
		int rc;

		if (stat(paths[i], &st)) {
			on_error(ctx, paths[i], "stat", errno);
			continue;
		}
		rc = add_mark(f, paths[i], S_ISDIR(st.st_mode));
		/* Listed twice, or inside a tree listed before: watched already. */
		if (rc == -EEXIST)
			continue;
		if (rc == -ENOSPC)
			on_error(ctx, paths[i], "too many directories", ENOSPC);
		else if (rc)
			on_error(ctx, paths[i], "fanotify_mark", -rc);
		else if (S_ISDIR(st.st_mode))
			walk(f, paths[i], st.st_dev, NULL, NULL, NULL, 0);
	}
	/* After the trees, so a directory already watched as a tree stays one. */
	for (i = 0; i < n; i++) {
		struct stat st;

		if (stat(paths[i], &st) == 0 && !S_ISDIR(st.st_mode))
			add_parent(f, paths[i]);
	}
}

size_t sg_fim_marks(const struct sg_fim *f)
{
	return f->n;
}

static const char *op_of(uint64_t mask)
{
	if (mask & FAN_Q_OVERFLOW)
		return "overflow";
	if (mask & FAN_DELETE)
		return "unlink";
	if (mask & FAN_MOVED_FROM)
		return "rename_from";
	if (mask & FAN_MOVED_TO)
		return "rename_to";
	if (mask & FAN_CREATE)
		return "create";
	if (mask & FAN_DELETE_SELF)
		return "delete_self";
	if (mask & FAN_MOVE_SELF)
		return "move_self";
	if (mask & FAN_MODIFY)
		return "write";
	if (mask & FAN_CLOSE_WRITE)
		return "close_write";
	return "attrib";
}

/* Several changes may be merged into one event: report each kind once. */
static const uint64_t op_bits[] = { FAN_DELETE, FAN_MOVED_FROM, FAN_MOVED_TO, FAN_CREATE,
				    FAN_MODIFY, FAN_CLOSE_WRITE, FAN_ATTRIB, FAN_DELETE_SELF,
				    FAN_MOVE_SELF };

static void report(struct sg_fim *f, const struct fanotify_event_metadata *m, sg_fim_fn fn,
		   void *ctx)
{
	const struct fanotify_event_info_header *h;
	const struct mark *dirm = NULL, *objm = NULL;
	const char *name = NULL;
	char path[4096];
	const char *p = NULL;
	size_t off, b;

	for (off = m->metadata_len; off + sizeof(*h) <= m->event_len; off += h->len) {
		const struct fanotify_event_info_fid *fid;
		const struct file_handle *fh;

		h = (const void *)((const char *)m + off);
		if (h->len < sizeof(*h) || off + h->len > m->event_len)
			break;
		if (h->info_type != FAN_EVENT_INFO_TYPE_FID &&
		    h->info_type != FAN_EVENT_INFO_TYPE_DFID_NAME &&
		    h->info_type != FAN_EVENT_INFO_TYPE_DFID)
			continue;
		fid = (const void *)h;
		fh = (const void *)fid->handle;
		if (h->info_type == FAN_EVENT_INFO_TYPE_FID) {
			objm = lookup(f, &fid->fsid, fh);
		} else {
			dirm = lookup(f, &fid->fsid, fh);
			if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME)
				name = (const char *)(fh->f_handle + fh->handle_bytes);
		}
	}
	if (dirm && name && strcmp(name, ".")) {
		snprintf(path, sizeof(path), "%s/%s", strcmp(dirm->path, "/") ? dirm->path : "", name);
		p = path;
		/* Other names in a watched file's directory are none of our business. */
		if (dirm->parent_only && !objm && !find_path(f, path))
			return;
		if (dirm->parent_only && objm && objm->is_dir)
			return;
	} else if (objm) {
		p = objm->path;
	} else if (dirm) {
		p = dirm->path;
	}
	/*
	 * A directory created in or moved into a watched tree is watched from
	 * now on, and so is every directory below it: those were made before
	 * this event was read (mkdir -p) or came with the move, and no event
	 * will ever name them. add_mark may move f->marks: dirm and objm are
	 * not used after it.
	 */
	if ((m->mask & (FAN_CREATE | FAN_MOVED_TO)) && (m->mask & FAN_ONDIR) && p && dirm &&
	    dirm->is_dir && !dirm->parent_only) {
		char copy[4096];
		struct stat st;
		int rc;

		snprintf(copy, sizeof(copy), "%s", p);
		p = copy;
		rc = add_mark(f, copy, true);
		if (rc == -ENOSPC && f->on_error)
			f->on_error(f->err_ctx, copy, "too many directories", ENOSPC);
		else if (rc && rc != -EEXIST && rc != -ENOENT && rc != -ENOTDIR && f->on_error)
			/* Gone or replaced already: that is an event of its own. */
			f->on_error(f->err_ctx, copy, "fanotify_mark", -rc);
		for (b = 0; b < sizeof(op_bits) / sizeof(op_bits[0]); b++)
			if (m->mask & op_bits[b]) {
				struct sg_fim_event ev = { .op = op_of(op_bits[b]), .mask = m->mask,
							   .pid = m->pid, .path = p, .is_dir = true };

				fn(ctx, &ev);
			}
		if (!rc && lstat(copy, &st) == 0)
			walk(f, copy, st.st_dev, fn, ctx,
			     (m->mask & FAN_MOVED_TO) ? "moved_in" : "create", m->pid);
		return;
	}
	for (b = 0; b < sizeof(op_bits) / sizeof(op_bits[0]); b++) {
		if (m->mask & op_bits[b]) {
			struct sg_fim_event ev = { .op = op_of(op_bits[b]), .mask = m->mask,
						   .pid = m->pid, .path = p,
						   .is_dir = !!(m->mask & FAN_ONDIR) };

			if (op_bits[b] == FAN_ATTRIB)
				attrib_modes(f, p, &ev);
			fn(ctx, &ev);
		}
	}
}

unsigned sg_fim_read(struct sg_fim *f, sg_fim_fn fn, void *ctx)
{
	char buf[16384] __attribute__((aligned(8)));
	unsigned count = 0;

	for (;;) {
		const struct fanotify_event_metadata *m;
		ssize_t len = read(f->fd, buf, sizeof(buf));

		if (len <= 0)
			return count;
		for (m = (const void *)buf; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			count++;
			if (m->vers != FANOTIFY_METADATA_VERSION)
				continue;
			if (m->mask & FAN_Q_OVERFLOW) {
				struct sg_fim_event ev = { .op = "overflow", .mask = m->mask };

				fn(ctx, &ev);
				continue;
			}
			report(f, m, fn, ctx);
		}
	}
}

int sg_fim_start(struct sg_fim **out, char *err, size_t errlen)
{
	struct sg_fim *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_FID |
			      FAN_REPORT_DFID_NAME, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		int rc = -errno;

		snprintf(err, errlen, "fanotify_init(FAN_REPORT_FID|FAN_REPORT_DFID_NAME): %s",
			 strerror(errno));
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

void sg_fim_stop(struct sg_fim *f)
{
	if (!f)
		return;
	clear(f);
	close(f->fd);
	free(f->marks);
	free(f);
}

int sg_fim_fd(const struct sg_fim *f)
{
	return f->fd;
}

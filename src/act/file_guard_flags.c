// SPDX-License-Identifier: Apache-2.0
/*
 * File protection's immutable flags: set and cleared, the list of files that
 * carry ours (so that a killed daemon's flags can be cleared), and the
 * refusals the flag makes, recorded (file_guard_int.h).
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

/* --------------------------------------------------------- immutable flags */

/* A read fd on the inode behind an O_PATH fd (ioctl needs one). */
static int reopen(int opath)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/fd/%d", opath);
	return open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/* Set or clear FS_IMMUTABLE_FL. 1 when it was already so, 0 changed, -errno. */
int fg_set_immutable(int opath, bool on)
{
	int fd = reopen(opath), flags, rc = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags)) {
		rc = -errno;
	} else if (!!(flags & FS_IMMUTABLE_FL) == on) {
		rc = 1;
	} else {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		if (ioctl(fd, FS_IOC_SETFLAGS, &flags))
			rc = -errno;
	}
	close(fd);
	return rc;
}

/* statx reports the flag without opening the file (an open would be a permission event). */
bool fg_immutable_is_set(int opath)
{
	struct statx sx;

	return statx(opath, "", AT_EMPTY_PATH, 0, &sx) == 0 &&
	       (sx.stx_attributes_mask & STATX_ATTR_IMMUTABLE) &&
	       (sx.stx_attributes & STATX_ATTR_IMMUTABLE);
}

static void hex_path(FILE *f, const char *s)
{
	for (; *s; s++)
		fprintf(f, "%02x", (unsigned char)*s);
}

/* Remember which files carry our flag, so a killed daemon's flags can be cleared. */
void fg_save_immutable_list(struct sg_file_guard *g)
{
	char path[4200], tmp[4300];
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g->state_dir, FG_IMMUTABLE_LIST);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	for (i = 0; i < g->n; i++) {
		if (!g->entries[i].ours_immutable)
			continue;
		fprintf(f, "%llu %llu ", (unsigned long long)g->entries[i].dev,
			(unsigned long long)g->entries[i].ino);
		hex_path(f, g->entries[i].path);
		fputc('\n', f);
	}
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

/* Each line: dev ino hex(path). Calls fn for each file that still is that inode. */
void fg_for_each_listed(const char *state_dir, void (*fn)(int opath, void *ctx), void *ctx)
{
	char path[4200], line[9000], file[4097];
	unsigned long long dev, ino;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", state_dir, FG_IMMUTABLE_LIST);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char hex[8200];
		size_t k, n;
		struct stat st;
		int fd;

		if (sscanf(line, "%llu %llu %8199s", &dev, &ino, hex) != 3)
			continue;
		n = strlen(hex) / 2;
		if (n >= sizeof(file))
			continue;
		for (k = 0; k < n; k++) {
			unsigned v;

			if (sscanf(hex + 2 * k, "%2x", &v) != 1)
				break;
			file[k] = (char)v;
		}
		if (k != n)
			continue;
		file[n] = '\0';
		fd = open(file, O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino)
			fn(fd, ctx);
		close(fd);
	}
	fclose(f);
}

static void clear_one(int opath, void *ctx)
{
	unsigned *n = ctx;

	if (fg_set_immutable(opath, false) == 0)
		(*n)++;
}

int sg_file_guard_release_leftovers(const char *state_dir, char *msg, size_t msglen)
{
	char path[4200];
	unsigned n = 0;

	fg_for_each_listed(state_dir, clear_one, &n);
	snprintf(path, sizeof(path), "%s/%s", state_dir, FG_IMMUTABLE_LIST);
	unlink(path);
	snprintf(msg, msglen, "%u immutable flag%s cleared", n, n == 1 ? "" : "s");
	return (int)n;
}


/* ------------------------------------------- refusals by the immutable flag */

/* The refusal sensor watches exactly the inodes that carry our flag; attached while there are any. */
void fg_refusal_sync(struct sg_file_guard *g)
{
	struct sg_inode_key *keys;
	char err[256];
	size_t i, n = 0;

	if (!g->refusal)
		return;
	keys = calloc(g->n ? g->n : 1, sizeof(*keys));
	if (!keys)
		return;
	for (i = 0; i < g->n; i++) {
		if (!g->entries[i].ours_immutable)
			continue;
		keys[n].ino = g->entries[i].ino;
		keys[n].dev = sg_kdev_from_st(g->entries[i].dev);
		n++;
	}
	if (sg_file_refusal_set(g->refusal, keys, n, err, sizeof(err)))
		fprintf(stderr, "sysguardd: %s; refusals by the immutable flag are not recorded\n",
			err);
	free(keys);
}

/* Our entry for a refused call's file, found by inode; only files carrying our flag count. */
static const struct entry *refused_entry(struct sg_file_guard *g, const struct sg_refusal_view *v,
					 struct stat *st)
{
	const struct entry *e;
	unsigned i;

	if (!v->npaths) {
		st->st_dev = sg_st_from_kdev(v->ev->file.dev);
		st->st_ino = v->ev->file.ino;
		e = fg_find(g, st->st_dev, st->st_ino);
		return e && e->ours_immutable ? e : NULL;
	}
	/* Rename and link name two files: the first that is ours was the one refused. */
	for (i = 0; i < v->npaths; i++) {
		const struct sg_refusal_path *p = &v->paths[i];

		if (!p->absolute ||
		    fstatat(AT_FDCWD, p->path, st, p->nofollow ? AT_SYMLINK_NOFOLLOW : 0))
			continue;
		e = fg_find(g, st->st_dev, st->st_ino);
		if (e && e->ours_immutable)
			return e;
	}
	return NULL;
}

/*
 * A call that failed with EPERM: if it named a file carrying our flag, the
 * flag refused it, and the operator hears of it as of any other refusal.
 * Read-opens refused with EPERM are fanotify's own refusals, recorded there.
 */
void fg_on_refusal(void *ctx, const struct sg_refusal_view *v)
{
	struct sg_file_guard *g = ctx;
	struct access a = { 0 };
	const struct entry *e;
	struct stat st;

	if (v->ev->op == SG_ROP_OPEN_WRITE && !v->write_open)
		return;
	e = refused_entry(g, v, &st);
	if (!e)
		return;
	a.tid = (pid_t)v->ev->hdr.pid;
	a.tgid = (pid_t)v->ev->hdr.tgid;
	a.uid = v->ev->hdr.uid;
	a.op = v->op;
	a.backend = "immutable";
	a.syscall = v->syscall;
	a.deny = e->deny;
	snprintf(a.rule, sizeof(a.rule), "%s", e->rule);
	snprintf(a.fragment, sizeof(a.fragment), "%s", e->fragment ? e->fragment : "");
	a.source = e->source;
	snprintf(a.path, sizeof(a.path), "%s", e->path);
	snprintf(a.exe, sizeof(a.exe), "%s", v->exe);
	snprintf(a.comm, sizeof(a.comm), "%.*s", SG_COMM_LEN, v->ev->hdr.comm);
	a.dev = st.st_dev;
	a.ino = st.st_ino;
	a.blocked = true;
	__atomic_add_fetch(&g->denied, 1, __ATOMIC_RELAXED);
	fg_access_record(g, &a);
}

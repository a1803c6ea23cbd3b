// SPDX-License-Identifier: Apache-2.0
#include "decide/engine_script.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sense/kdev.h"
#include "sense/proc.h"
#include "sense/proc_open.h"
#include "sense/script_args.h"

static enum sg_interp_kind kind_of_path(const char *path)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	return sg_interp_kind_of(basename(copy));
}

int sg_engine_scripts_resolve(struct sg_engine *e, struct sg_inode_key *keys, size_t max,
			      void (*unknown)(const char *path, void *ctx), void *ctx)
{
	const struct sg_scripts *s = sg_policy_scripts(e->policy);
	struct sg_interp_entry *t = NULL;
	size_t i, j, n = 0;

	free(e->interps);
	e->interps = NULL;
	e->ninterps = 0;
	if (!s->on)
		return 0;
	t = calloc(s->ninterpreters ? s->ninterpreters : 1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (i = 0; i < s->ninterpreters && n < max; i++) {
		char real[PATH_MAX];
		enum sg_interp_kind k;
		struct stat st;

		if (stat(s->interpreters[i], &st) || !S_ISREG(st.st_mode))
			continue;
		/* /usr/bin/sh is dash, python3 is python3.11: the file's own name tells first. */
		k = realpath(s->interpreters[i], real) ? kind_of_path(real) : SG_INTERP_NONE;
		if (k == SG_INTERP_NONE)
			k = kind_of_path(s->interpreters[i]);
		if (k == SG_INTERP_NONE) {
			if (unknown)
				unknown(s->interpreters[i], ctx);
			continue;
		}
		for (j = 0; j < n && (t[j].id.dev != st.st_dev || t[j].id.ino != st.st_ino); j++)
			;
		if (j < n)
			continue;
		t[n].id.dev = st.st_dev;
		t[n].id.ino = st.st_ino;
		t[n].kind = k;
		keys[n] = (struct sg_inode_key){ .ino = st.st_ino, .dev = sg_kdev_from_st(st.st_dev) };
		n++;
	}
	e->interps = t;
	e->ninterps = n;
	return (int)n;
}

static enum sg_interp_kind interp_kind(const struct sg_engine *e, const struct sg_file_id *id)
{
	size_t i;

	for (i = 0; i < e->ninterps; i++)
		if (e->interps[i].id.dev == id->dev && e->interps[i].id.ino == id->ino)
			return (enum sg_interp_kind)e->interps[i].kind;
	return SG_INTERP_NONE;
}

bool sg_engine_is_interpreter(const struct sg_engine *e, const struct sg_file_id *id)
{
	return interp_kind(e, id) != SG_INTERP_NONE;
}

/* A terminal on stdin and no script: someone typing, not code handed over. */
static bool stdin_is_terminal(pid_t pid)
{
	char link[64], to[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/fd/0", pid);
	n = readlink(link, to, sizeof(to) - 1);
	if (n <= 0)
		return false;
	to[n] = '\0';
	return !strncmp(to, "/dev/pts/", 9) || !strncmp(to, "/dev/tty", 8) ||
	       !strcmp(to, "/dev/console");
}

static bool same_ns(pid_t pid, const char *what)
{
	char link[64], self[64];
	struct stat a, b;

	snprintf(link, sizeof(link), "/proc/%d/%s", pid, what);
	snprintf(self, sizeof(self), "/proc/self/%s", what);
	return !stat(link, &a) && !stat(self, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * The script as the interpreter will open it. In our own mount namespace
 * and root that is a plain open (relative names from its cwd); anywhere
 * else (a chroot, a container) a child opens it in the process's world.
 * /dev/fd/N and /proc/self/fd/N are the interpreter's descriptors, not ours.
 */
static int open_script(pid_t pid, const char *file)
{
	char path[PATH_MAX + 64];
	int n = -1, dir, fd;

	if (sscanf(file, "/dev/fd/%d", &n) == 1 || sscanf(file, "/proc/self/fd/%d", &n) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, n);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		return fd < 0 ? -errno : fd;
	}
	if (!same_ns(pid, "ns/mnt") || !same_ns(pid, "root"))
		return sg_open_in_process(pid, file);
	if (file[0] == '/') {
		fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		return fd < 0 ? -errno : fd;
	}
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	fd = openat(dir, file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	n = fd < 0 ? -errno : fd;
	close(dir);
	return n;
}

static void deny(struct sg_verdict *v, struct sg_exec_facts *f, const char *reason)
{
	v->action = SG_ACTION_DENY;
	v->rule = NULL;
	v->audit = NULL;
	v->file_only = false;
	f->reason = reason;
}

static void inline_code(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v)
{
	switch (sg_policy_scripts(e->policy)->inline_code) {
	case SG_INLINE_DENY:
		deny(v, f, "inline_code");
		break;
	case SG_INLINE_AUDIT:
		f->audit_only = true;
		f->reason = "inline_code";
		break;
	case SG_INLINE_ALLOW:
		break;
	}
}

/* The interpreter's facts become the script's; what the interpreter was is kept aside. */
static void script_subject(struct sg_engine *e, struct sg_exec_facts *f, int fd,
			   const struct stat *st)
{
	f->id.dev = st->st_dev;
	f->id.ino = st->st_ino;
	f->has_id = true;
	f->ctime_ns = 0;
	f->fileless = st->st_nlink == 0;
	f->has_sha256 = false;
	f->hash_err = 0;
	f->path_unknown = false;
	sg_engine_path_of_fd(e, f, fd);
}

/* Everything but a script file; 1 when v is final, 0 when *fd holds the script to judge. */
static int script_of(struct sg_engine *e, struct sg_exec_facts *f, enum sg_interp_kind kind,
		     struct sg_verdict *v, int *fd)
{
	char cmdline[65536];
	enum sg_script_kind sk;
	const char *file = NULL;
	struct stat st;
	ssize_t n = sg_proc_read(f->pid, "cmdline", cmdline, sizeof(cmdline) - 1);

	/* Gone, or a zombie: what the ring buffer kept of its argv is all there is. */
	if ((n == -ENOENT || n == -ESRCH || n == 0) && !f->held) {
		n = f->args_len < sizeof(cmdline) - 1 ? f->args_len : sizeof(cmdline) - 1;
		memcpy(cmdline, f->args, n);
	} else if (n <= 0 || (size_t)n >= sizeof(cmdline) - 1) {
		deny(v, f, "script_unreadable");
		return 1;
	}
	cmdline[n] = '\0';
	sk = sg_script_of(kind, cmdline, (size_t)n, &file);
	f->script = sg_script_kind_name(sk);
	if (sk == SG_SCRIPT_NONE)
		return 1;
	if (sk == SG_SCRIPT_STDIN && stdin_is_terminal(f->pid)) {
		f->script = "interactive";
		return 1;
	}
	if (sk != SG_SCRIPT_FILE) {
		inline_code(e, f, v);
		return 1;
	}
	*fd = open_script(f->pid, file);
	if (*fd < 0 || fstat(*fd, &st)) {
		/* Nothing would run, and a name that cannot be judged is not let through. */
		f->hash_err = *fd < 0 ? *fd : -errno;
		deny(v, f, "script_unreadable");
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		/* bash <(curl …): the code streams through a pipe, as on stdin. */
		f->script = "stream";
		inline_code(e, f, v);
		return 1;
	}
	script_subject(e, f, *fd, &st);
	return 0;
}

void sg_engine_decide_script(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v)
{
	enum sg_interp_kind kind = f->has_id ? interp_kind(e, &f->id) : SG_INTERP_NONE;
	int fd = -1;

	if (kind == SG_INTERP_NONE || v->action != SG_ACTION_ALLOW)
		return;
	memcpy(f->interpreter, f->path, f->path_len + 1);
	f->has_interpreter = f->has_path;
	/* The interpreter's allow was counted; the script's verdict counts instead. */
	if (v->audit)
		e->stats.audited--;
	else
		e->stats.allowed--;
	if (script_of(e, f, kind, v, &fd) == 0)
		sg_engine_decide(e, f, fd, v);
	else if (v->action == SG_ACTION_DENY)
		e->stats.denied++;
	else if (v->audit || f->audit_only)
		e->stats.audited++;
	else
		e->stats.allowed++;
	if (fd >= 0)
		close(fd);
}

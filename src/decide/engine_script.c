// SPDX-License-Identifier: Apache-2.0
#include "decide/engine_script.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "report/exec_record.h"
#include "sense/file_hash.h"
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

/* Its size and content, so that a copy of it is known for what it is. */
static void hash_interp_fd(struct sg_engine *e, int fd, const struct stat *st,
			   struct sg_interp_entry *t)
{
	t->hashed = sg_file_sha256(fd, e->hashes, t->sha256) == 0;
	t->size = t->hashed ? st->st_size : 0;
}

/*
 * A listed interpreter is hashed only when a file of its size first runs,
 * not at every policy load (a node binary alone is 80 MB). The file at its
 * path must still be the one resolved; else it is not compared.
 */
static bool listed_hashed(struct sg_engine *e, struct sg_interp_entry *t)
{
	struct stat st;
	int fd;

	if (t->hashed || !t->path)
		return t->hashed;
	fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	t->hashed = fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == t->id.dev &&
		    st.st_ino == t->id.ino && sg_file_sha256(fd, e->hashes, t->sha256) == 0;
	if (fd >= 0)
		close(fd);
	free(t->path);
	t->path = NULL;	/* hashed, or never will be: not opened again */
	return t->hashed;
}

void sg_engine_scripts_free(struct sg_engine *e)
{
	size_t i;

	for (i = 0; i < e->ninterps; i++)
		free(e->interps[i].path);
	free(e->interps);
	e->interps = NULL;
	e->ninterps = e->interps_cap = 0;
}

int sg_engine_scripts_resolve(struct sg_engine *e, struct sg_inode_key *keys, size_t max,
			      void (*unknown)(const char *path, void *ctx), void *ctx)
{
	const struct sg_scripts *s = sg_policy_scripts(e->policy);
	struct sg_interp_entry *t = NULL;
	size_t i, j, n = 0;

	sg_engine_scripts_free(e);
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
		t[n].multicall = k == SG_INTERP_NONE;
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
		t[n].size = st.st_size;
		t[n].path = strdup(s->interpreters[i]);
		keys[n] = (struct sg_inode_key){ .ino = st.st_ino, .dev = sg_kdev_from_st(st.st_dev) };
		n++;
	}
	e->interps = t;
	e->ninterps = n;
	e->interps_cap = s->ninterpreters ? s->ninterpreters : 1;
	return (int)n;
}

static const struct sg_interp_entry *interp_of(const struct sg_engine *e,
					       const struct sg_file_id *id)
{
	size_t i;

	for (i = 0; i < e->ninterps; i++)
		if (e->interps[i].id.dev == id->dev && e->interps[i].id.ino == id->ino)
			return &e->interps[i];
	return NULL;
}

static enum sg_interp_kind interp_kind(const struct sg_engine *e, const struct sg_file_id *id)
{
	const struct sg_interp_entry *t = interp_of(e, id);

	return t ? (enum sg_interp_kind)t->kind : SG_INTERP_NONE;
}

/*
 * A multi-call program (busybox) is the applet argv[0] names, or with
 * argv[0] "busybox…" the one argv[1] names: a shell only when that is one.
 * *skip: bytes of cmdline before the shell's own argv[0].
 */
static enum sg_interp_kind multicall_kind(const char *cmdline, size_t n, size_t *skip)
{
	const char *base = strrchr(cmdline, '/');
	size_t first = strlen(cmdline) + 1;

	base = base ? base + 1 : cmdline;
	*skip = 0;
	/* busybox runs as itself under any name it begins ("busybox.copy sh FILE"). */
	if (strncmp(base, "busybox", 7))
		return sg_interp_kind_of(base);
	if (first >= n)
		return SG_INTERP_NONE;
	*skip = first;
	return sg_interp_kind_of(cmdline + first);
}

bool sg_engine_is_interpreter(const struct sg_engine *e, const struct sg_file_id *id)
{
	return interp_kind(e, id) != SG_INTERP_NONE;
}

/* A file with the content of one we know: the same program under another name. */
static enum sg_interp_kind copy_kind(struct sg_engine *e, int fd, const struct stat *st,
				     struct sg_interp_entry *out)
{
	uint8_t sha[SG_SHA256_LEN];
	bool hashed = false;
	size_t i;

	for (i = 0; i < e->ninterps; i++) {
		if (e->interps[i].size != st->st_size || !listed_hashed(e, &e->interps[i]))
			continue;
		if (!hashed && sg_file_sha256(fd, e->hashes, sha))
			return SG_INTERP_NONE;
		hashed = true;
		if (!memcmp(sha, e->interps[i].sha256, sizeof(sha))) {
			memcpy(out->sha256, sha, sizeof(sha));
			out->size = st->st_size;
			out->hashed = true;
			out->multicall = e->interps[i].multicall;
			return (enum sg_interp_kind)e->interps[i].kind;
		}
	}
	return SG_INTERP_NONE;
}

/*
 * The container's own interpreter: its file at one of the policy's paths
 * under the container's root (resolved there, its symlinks too), or, for
 * images without merged /usr, at /bin/NAME. Its content is learned, so its
 * copies inside the container are known as well.
 */
static enum sg_interp_kind container_kind(struct sg_engine *e, const struct sg_exec_facts *f,
					  int fd, const struct stat *st, struct sg_interp_entry *out)
{
	const struct sg_scripts *s = sg_policy_scripts(e->policy);
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	enum sg_interp_kind k = SG_INTERP_NONE;
	size_t i, alt;
	int root;

	if (!f->workload.id[0] || !f->workload.rootfs[0])
		return SG_INTERP_NONE;
	root = open(f->workload.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return SG_INTERP_NONE;
	for (i = 0; i < s->ninterpreters && k == SG_INTERP_NONE; i++) {
		for (alt = 0; alt < 2 && k == SG_INTERP_NONE; alt++) {
			char alt_name[PATH_MAX], target[PATH_MAX], link[64];
			const char *name = s->interpreters[i];
			struct stat at;
			ssize_t n;
			int pfd;

			if (alt) {
				const char *base = strrchr(name, '/');

				if (!base || strncmp(name, "/usr/bin/", 9))
					break;
				snprintf(alt_name, sizeof(alt_name), "/bin%s", base);
				name = alt_name;
			}
			pfd = (int)syscall(SYS_openat2, root, name, &how, sizeof(how));
			if (pfd < 0)
				continue;
			if (fstat(pfd, &at) == 0 && at.st_dev == st->st_dev && at.st_ino == st->st_ino) {
				snprintf(link, sizeof(link), "/proc/self/fd/%d", pfd);
				n = readlink(link, target, sizeof(target) - 1);
				target[n > 0 ? n : 0] = '\0';
				k = n > 0 ? kind_of_path(target) : SG_INTERP_NONE;
				out->multicall = k == SG_INTERP_NONE;
				if (k == SG_INTERP_NONE)
					k = kind_of_path(name);
			}
			close(pfd);
		}
	}
	close(root);
	if (k != SG_INTERP_NONE)
		hash_interp_fd(e, fd, st, out);
	return k;
}

static int add_interp(struct sg_engine *e, const struct sg_interp_entry *t)
{
	int err;

	if (e->ninterps >= SG_INTERP_MAX)
		return -ENOSPC;
	if (e->ninterps == e->interps_cap) {
		size_t cap = e->interps_cap ? e->interps_cap * 2 : 8;
		struct sg_interp_entry *n = realloc(e->interps, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		e->interps = n;
		e->interps_cap = cap;
	}
	err = e->interp_found ? e->interp_found(e->interp_ctx, &t->id) : 0;
	if (!err)
		e->interps[e->ninterps++] = *t;
	return err;
}

int sg_engine_interp_learn(struct sg_engine *e, struct sg_exec_facts *f, int fd)
{
	struct sg_interp_entry t = { 0 };
	enum sg_interp_kind k;
	const char *how;
	struct stat st;
	int err;

	if (!sg_policy_scripts(e->policy)->on || !e->ninterps || fd < 0 || fstat(fd, &st) ||
	    !S_ISREG(st.st_mode))
		return 0;
	t.id.dev = st.st_dev;
	t.id.ino = st.st_ino;
	if (interp_kind(e, &t.id) != SG_INTERP_NONE)
		return 0;
	how = "container";
	k = container_kind(e, f, fd, &st, &t);
	if (k == SG_INTERP_NONE) {
		how = "copy";
		k = copy_kind(e, fd, &st, &t);
	}
	if (k == SG_INTERP_NONE)
		return 0;
	t.kind = k;
	err = add_interp(e, &t);
	sg_record_interpreter_found(e->audit, f, how, sg_interp_kind_name(k), err);
	return err ? err : 1;
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
	/* The daemon's own mount namespace and root do not change: looked up once. */
	static struct stat own_mnt, own_root;
	static bool have_mnt, have_root;
	bool mnt = !strcmp(what, "ns/mnt");
	struct stat *own = mnt ? &own_mnt : &own_root;
	bool *have = mnt ? &have_mnt : &have_root;
	char link[64];
	struct stat a;

	if (!*have) {
		snprintf(link, sizeof(link), "/proc/self/%s", what);
		if (stat(link, own))
			return false;
		*have = true;
	}
	snprintf(link, sizeof(link), "/proc/%d/%s", pid, what);
	return !stat(link, &a) && a.st_dev == own->st_dev && a.st_ino == own->st_ino;
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

/* The allow (or audit) v was counted as; a later verdict on the same run counts instead. */
static void uncount(struct sg_engine *e, const struct sg_verdict *v)
{
	if (v->audit)
		e->stats.audited--;
	else
		e->stats.allowed--;
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

/*
 * Everything but a script file; 1 when v is final, 0 when *fd holds the
 * script to judge, 2 when this run of a multi-call program is no interpreter.
 */
static int script_of(struct sg_engine *e, struct sg_exec_facts *f, enum sg_interp_kind kind,
		     bool multicall, struct sg_verdict *v, int *fd)
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
	if (multicall) {
		size_t skip;

		kind = multicall_kind(cmdline, (size_t)n, &skip);
		if (kind == SG_INTERP_NONE)
			return 2;	/* another applet: the program's own verdict stands */
		memmove(cmdline, cmdline + skip, (size_t)n - skip + 1);
		n -= (ssize_t)skip;
	}
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
	const struct sg_interp_entry *t = f->has_id ? interp_of(e, &f->id) : NULL;
	int fd = -1, r;

	if (!t || v->action != SG_ACTION_ALLOW)
		return;
	memcpy(f->interpreter, f->path, f->path_len + 1);
	f->has_interpreter = f->has_path;
	/* The interpreter's allow was counted; the script's verdict counts instead. */
	uncount(e, v);
	r = script_of(e, f, (enum sg_interp_kind)t->kind, t->multicall, v, &fd);
	if (r == 2) {
		f->has_interpreter = false;
		f->interpreter[0] = '\0';
	}
	if (r == 0)
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

void sg_engine_deny_untracked(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v)
{
	if (v->action != SG_ACTION_ALLOW)
		return;
	uncount(e, v);
	e->stats.denied++;
	deny(v, f, "interpreter_untracked");
}

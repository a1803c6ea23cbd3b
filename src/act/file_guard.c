// SPDX-License-Identifier: Apache-2.0
/* File protection: the protected set, its fanotify backend, its records. */
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

#include "act/file_guard.h"
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


struct entry {
	char *path;
	char *rule;
	char *fragment;			/* the rule's policy fragment, NULL in the main policy */
	const char *source;		/* static string */
	uint32_t deny;
	dev_t dev;
	ino_t ino;
	int opath;			/* O_PATH fd on the protected inode */
	bool ours_immutable;		/* we set FS_IMMUTABLE_FL and must clear it */
	bool marked;			/* fanotify mark or LSM map entry in place */
};

struct sg_file_guard {
	struct sg_file_guard_opts o;
	char state_dir[4096];
	struct sg_file_lsm *lsm;
	/* bpf_lsm: create rules in the maps (rule_id SG_CREATE_RULE_ID | index + 1). */
	struct lsm_create {
		char *rule, *path;
		struct sg_inode_key dir;	/* a deny: [create] directory's entry, ino 0 none */
	} *creates;
	size_t ncreates;
	struct sg_file_refusal *refusal;	/* fanotify backend: refusals by our immutable flag */
	int fan;			/* FAN_OPEN_PERM group, -1 with bpf_lsm */
	int stop_fd;
	pthread_t thread;
	bool thread_up;
	struct stat self_exe;

	pthread_rwlock_t lock;		/* entries and index; the permission thread reads */
	struct entry *entries;
	size_t n;
	uint32_t *index;		/* open addressing on (dev, ino): entry + 1, 0 empty */
	size_t index_cap;
	bool enforce, enforce_self;
	/* Files a killed daemon left immutable: ours to keep or clear at the first set. */
	struct entry *left;
	size_t nleft;
	uint32_t *left_index;
	size_t left_cap;
	size_t cursor;			/* sg_file_guard_refresh's round robin */

	/* Counters, written by either thread. */
	uint64_t denied, allowed_reads, errors;
};

static const char immutable_list[] = "immutable.list";

static void refusal_sync(struct sg_file_guard *g);

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
static struct entry *find(const struct sg_file_guard *g, dev_t dev, ino_t ino)
{
	return find_in(g->entries, g->index, g->index_cap, dev, ino);
}

/* ----------------------------------------------------------------- records */

static void deny_list(struct sg_json *j, uint32_t deny)
{
	sg_json_key(j, "deny");
	sg_json_begin_array(j);
	if (deny & SG_FDENY_WRITE)
		sg_json_str(j, "write");
	if (deny & SG_FDENY_DELETE)
		sg_json_str(j, "delete");
	if (deny & SG_FDENY_READ)
		sg_json_str(j, "read");
	sg_json_end_array(j);
}

static void file_object(struct sg_json *j, const char *path, dev_t dev, ino_t ino)
{
	sg_json_key(j, "file");
	sg_json_begin_object(j);
	sg_json_kv_bytes(j, "path", path, strlen(path));
	sg_json_kv_u64(j, "dev", dev);
	sg_json_kv_u64(j, "ino", ino);
	sg_json_end_object(j);
}

/*
 * On the fanotify backend only opens reach the daemon: truncate(), chmod,
 * chown, utimes, unlink, rename and link are refused by FS_IMMUTABLE_FL
 * alone, which is set only when a rule denies both write and delete (the
 * flag refuses both) and the filesystem takes it. Say which of the rule's
 * operations nothing refuses, so no record claims more than happens.
 */
static bool not_refused(const struct sg_file_guard *g, const struct entry *e, struct sg_json *j)
{
	static const char *const setattr_ops[] = { "truncate", "chmod", "chown", "utimes" };
	static const char *const delete_ops[] = { "unlink", "rename", "link" };
	bool enforce = !strcmp(e->source, "self_defence") ? g->enforce_self : g->enforce;
	bool w = e->deny & SG_FDENY_WRITE, d = e->deny & SG_FDENY_DELETE;
	size_t i;

	if (g->lsm || !enforce || e->ours_immutable || !(w || d))
		return false;
	if (!j)
		return true;
	sg_json_key(j, "not_refused");
	sg_json_begin_array(j);
	for (i = 0; w && i < sizeof(setattr_ops) / sizeof(setattr_ops[0]); i++)
		sg_json_str(j, setattr_ops[i]);
	for (i = 0; d && i < sizeof(delete_ops) / sizeof(delete_ops[0]); i++)
		sg_json_str(j, delete_ops[i]);
	sg_json_end_array(j);
	return true;
}

static void protect_record(struct sg_file_guard *g, const char *action, const struct entry *e)
{
	bool partial = !strcmp(action, "add") && not_refused(g, e, NULL);
	struct sg_json j;

	sg_json_init(&j);
	sg_audit_begin(g->o.audit, &j, "file_protect", partial ? SG_SEV_WARNING : SG_SEV_INFO);
	sg_json_kv_str(&j, "action", action);
	sg_json_kv_str(&j, "source", e->source);
	sg_json_kv_bytes(&j, "rule", e->rule, strlen(e->rule));
	if (e->fragment)
		sg_json_kv_str(&j, "fragment", e->fragment);
	file_object(&j, e->path, e->dev, e->ino);
	deny_list(&j, e->deny);
	sg_json_kv_str(&j, "backend", sg_file_guard_backend(g));
	sg_json_kv_bool(&j, "immutable", e->ours_immutable);
	if (partial)
		not_refused(g, e, &j);
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
}

static void tamper_record(struct sg_file_guard *g, const struct entry *e)
{
	struct sg_json j;
	uint64_t id;

	sg_json_init(&j);
	id = sg_audit_begin(g->o.audit, &j, "file_protect", SG_SEV_CRITICAL);
	sg_json_kv_str(&j, "action", "immutable_restored");
	sg_json_kv_str(&j, "source", e->source);
	sg_json_kv_bytes(&j, "rule", e->rule, strlen(e->rule));
	if (e->fragment)
		sg_json_kv_str(&j, "fragment", e->fragment);
	file_object(&j, e->path, e->dev, e->ino);
	sg_json_kv_str(&j, "detail", "FS_IMMUTABLE_FL was cleared by another process; set again");
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
	if (g->o.alerts)
		sg_record_alert(g->o.audit, g->o.alerts, "tamper", id, SG_SEV_CRITICAL, NULL, 0,
				e->rule, "immutable_restored", e->path);
}

static void protect_error(struct sg_file_guard *g, const struct sg_guard_file *f, const char *what,
			  int err)
{
	struct sg_json j;

	__atomic_add_fetch(&g->errors, 1, __ATOMIC_RELAXED);
	sg_json_init(&j);
	sg_audit_begin(g->o.audit, &j, "file_protect_error", SG_SEV_CRITICAL);
	sg_json_kv_str(&j, "source", f->source);
	sg_json_kv_bytes(&j, "rule", f->rule, strlen(f->rule));
	if (f->fragment)
		sg_json_kv_str(&j, "fragment", f->fragment);
	sg_json_kv_bytes(&j, "path", f->path, strlen(f->path));
	sg_json_kv_str(&j, "step", what);
	sg_json_kv_str(&j, "error", strerror(err));
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
}

/* What the permission thread knows about a refused (or would-be refused) open. */
struct access {
	pid_t tid, tgid;
	uint64_t uid;
	const char *op;
	const char *intent;		/* NULL: no open intent to report */
	const char *backend;		/* "fanotify", or "immutable": the kernel refused by the flag */
	const char *syscall;		/* the refused system call, when known */
	uint32_t deny;
	char rule[SG_RULE_NAME_MAX];
	char fragment[SG_FRAGMENT_NAME_MAX];	/* "" in the main policy */
	const char *source;
	char path[4096];
	char exe[4096];
	char comm[64];
	char cgroups[4096];	/* /proc/PID/cgroup as it was: its container, after it exited */
	dev_t dev;
	ino_t ino;
	bool blocked;
};

/*
 * Who is opening, read while the opener still waits for our answer: once
 * answered it may exit, and the record would lose its tgid, uid and comm.
 */
static void access_identify(struct access *a)
{
	char buf[4096];
	ssize_t n;
	char *p;

	a->tgid = a->tid;
	n = sg_proc_read(a->tid, "cgroup", a->cgroups, sizeof(a->cgroups) - 1);
	a->cgroups[n > 0 ? n : 0] = '\0';
	snprintf(buf, sizeof(buf), "/proc/%d/exe", a->tid);
	n = readlink(buf, a->exe, sizeof(a->exe) - 1);
	a->exe[n > 0 ? n : 0] = '\0';
	/* status is ~1.5 KiB: a short buffer is -E2BIG and loses all three. */
	n = sg_proc_read(a->tid, "status", buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nTgid:")))
		a->tgid = (pid_t)strtol(p + 6, NULL, 10);
	if ((p = strstr(buf, "\nUid:")))
		a->uid = strtoull(p + 5, NULL, 10);
	if (!strncmp(buf, "Name:\t", 6)) {
		size_t k = strcspn(buf + 6, "\n");

		if (k > sizeof(a->comm) - 1)
			k = sizeof(a->comm) - 1;
		memcpy(a->comm, buf + 6, k);
		a->comm[k] = '\0';
	}
}

static void access_record(struct sg_file_guard *g, const struct access *a)
{
	enum sg_severity sev = sg_severity_for(true, a->blocked, false);
	struct sg_json j;
	uint64_t id;

	sg_json_init(&j);
	id = sg_audit_begin(g->o.audit, &j, "file_access", sev);
	sg_json_kv_str(&j, "action", a->op);
	if (a->intent)
		sg_json_kv_str(&j, "intent", a->intent);
	sg_json_kv_str(&j, "decision", "deny");
	sg_json_kv_bool(&j, "blocked", a->blocked);
	sg_json_kv_str(&j, "backend", a->backend);
	if (a->syscall) {
		sg_json_kv_str(&j, "syscall", a->syscall);
		sg_json_kv_str(&j, "errno", "EPERM");
	}
	file_object(&j, a->path, a->dev, a->ino);
	sg_json_key(&j, "rule");
	sg_json_begin_object(&j);
	sg_json_kv_bytes(&j, "name", a->rule, strlen(a->rule));
	if (a->fragment[0])
		sg_json_kv_str(&j, "fragment", a->fragment);
	sg_json_kv_str(&j, "source", a->source);
	deny_list(&j, a->deny);
	sg_json_end_object(&j);
	sg_json_key(&j, "process");
	sg_json_begin_object(&j);
	sg_json_kv_i64(&j, "pid", a->tgid);
	sg_json_kv_i64(&j, "tid", a->tid);
	sg_json_kv_u64(&j, "uid", a->uid);
	sg_json_kv_bytes(&j, "comm", a->comm, strlen(a->comm));
	sg_json_kv_bytes(&j, "exe", a->exe, strlen(a->exe));
	sg_record_container_of_cgroups(&j, a->tgid, a->cgroups);
	sg_json_end_object(&j);
	sg_audit_commit(g->o.audit, &j);
	sg_json_free(&j);
	if (g->o.alerts)
		sg_record_alert(g->o.audit, g->o.alerts, "deny", id, sev, a->exe, strlen(a->exe),
				a->rule, a->op, a->path);
}

/* ------------------------------------------------------- permission thread */

/*
 * The exemption is this process, as in the BPF LSM backend (daemon_tgid):
 * the executable alone is not enough, since anyone may run the daemon's
 * binary (a hard link, LD_PRELOAD) and get its device + inode. The opener
 * is blocked in its open, so its tid cannot be reused while we look, and
 * /proc/<our pid>/task/<tid> exists only for threads of our own group.
 */
static bool is_daemon(const struct sg_file_guard *g, pid_t tid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)getpid(), (int)tid);
	if (stat(path, &st))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", tid);
	return stat(path, &st) == 0 && st.st_dev == g->self_exe.st_dev &&
	       st.st_ino == g->self_exe.st_ino;
}

#define SG_SYSCALL_TRIES 200	/* x 100 us: the opener is about to sleep in our wait */

static enum sg_open_intent intent_of(pid_t tid)
{
	char line[512];
	struct sg_syscall sc;
	ssize_t n;
	int i;

	/*
	 * The kernel reads a thread's system call only once it is off the CPU;
	 * until then the file says "running". The opener is on its way into
	 * the permission wait, so that is a matter of microseconds.
	 */
	for (i = 0; i < SG_SYSCALL_TRIES; i++) {
		n = sg_proc_read(tid, "syscall", line, sizeof(line) - 1);
		if (n <= 0 || strncmp(line, "running", 7))
			break;
		usleep(100);
	}
	if (n <= 0)
		return SG_INTENT_UNKNOWN;
	line[n] = '\0';
	if (sg_syscall_parse(line, &sc))
		return SG_INTENT_UNKNOWN;
	return sg_open_intent_of(&sc);
}

/* Decide one FAN_OPEN_PERM event; fills *a and returns true when it is a refusal to record. */
static bool decide(struct sg_file_guard *g, const struct fanotify_event_metadata *m,
		   struct access *a, bool *allow)
{
	enum sg_open_intent intent;
	struct entry *e;
	struct stat st;
	bool enforce = false;

	*allow = true;
	if (fstat(m->fd, &st) || is_daemon(g, m->pid))
		return false;
	pthread_rwlock_rdlock(&g->lock);
	e = find(g, st.st_dev, st.st_ino);
	if (e) {
		a->deny = e->deny;
		snprintf(a->rule, sizeof(a->rule), "%s", e->rule);
		snprintf(a->fragment, sizeof(a->fragment), "%s", e->fragment ? e->fragment : "");
		a->source = e->source;
		snprintf(a->path, sizeof(a->path), "%s", e->path);
		enforce = !strcmp(e->source, "self_defence") ? g->enforce_self : g->enforce;
	}
	pthread_rwlock_unlock(&g->lock);
	if (!e)
		return false;
	a->tid = m->pid;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	if (a->deny & SG_FDENY_READ) {
		intent = intent_of(m->pid);
		a->op = "open";
	} else if (a->deny & SG_FDENY_WRITE) {
		intent = intent_of(m->pid);
		if (intent == SG_INTENT_READ || intent == SG_INTENT_EXEC) {
			__atomic_add_fetch(&g->allowed_reads, 1, __ATOMIC_RELAXED);
			return false;
		}
		a->op = "open_write";
	} else {
		return false;
	}
	a->intent = sg_open_intent_name(intent);
	a->backend = "fanotify";
	a->blocked = enforce;
	access_identify(a);
	*allow = !enforce;
	__atomic_add_fetch(&g->denied, 1, __ATOMIC_RELAXED);
	return true;
}

static void *perm_thread(void *arg)
{
	struct sg_file_guard *g = arg;
	char buf[8192] __attribute__((aligned(8)));
	struct pollfd p[2] = { { g->fan, POLLIN, 0 }, { g->stop_fd, POLLIN, 0 } };

	for (;;) {
		struct fanotify_event_metadata *m;
		ssize_t len;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		len = read(g->fan, buf, sizeof(buf));
		if (len <= 0)
			continue;
		for (m = (void *)buf; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			struct fanotify_response r = { .fd = m->fd, .response = FAN_ALLOW };
			struct access a = { 0 };
			bool allow, refused;

			if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0)
				continue;
			refused = decide(g, m, &a, &allow);
			r.response = allow ? FAN_ALLOW : FAN_DENY;
			/* Answer first: the opener waits for us, the record does not. */
			if (write(g->fan, &r, sizeof(r)) != sizeof(r))
				__atomic_add_fetch(&g->errors, 1, __ATOMIC_RELAXED);
			close(m->fd);
			if (refused)
				access_record(g, &a);
		}
	}
	return NULL;
}

/* --------------------------------------------------------- immutable flags */

/* A read fd on the inode behind an O_PATH fd (ioctl needs one). */
static int reopen(int opath)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/fd/%d", opath);
	return open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

/* Set or clear FS_IMMUTABLE_FL. 1 when it was already so, 0 changed, -errno. */
static int set_immutable(int opath, bool on)
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
static bool immutable_is_set(int opath)
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
static void save_immutable_list(struct sg_file_guard *g)
{
	char path[4200], tmp[4300];
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g->state_dir, immutable_list);
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
static void for_each_listed(const char *state_dir, void (*fn)(int opath, void *ctx), void *ctx)
{
	char path[4200], line[9000], file[4097];
	unsigned long long dev, ino;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", state_dir, immutable_list);
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

	if (set_immutable(opath, false) == 0)
		(*n)++;
}

int sg_file_guard_release_leftovers(const char *state_dir, char *msg, size_t msglen)
{
	char path[4200];
	unsigned n = 0;

	for_each_listed(state_dir, clear_one, &n);
	snprintf(path, sizeof(path), "%s/%s", state_dir, immutable_list);
	unlink(path);
	snprintf(msg, msglen, "%u immutable flag%s cleared", n, n == 1 ? "" : "s");
	return (int)n;
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
		rc = set_immutable(e->opath, true);
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
	if (e->ours_immutable && set_immutable(e->opath, false) >= 0)
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
		if (clear && !find(g, g->left[i].dev, g->left[i].ino))
			set_immutable(g->left[i].opath, false);
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
			protect_error(g, &files[i], step, errno);
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			protect_error(g, &files[i], "not a regular file", S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
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
		struct entry *o = find(g, ne[i].dev, ne[i].ino);

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
		    set_immutable(ne[i].opath, false) >= 0)
			ne[i].ours_immutable = false;
		rc = protect(g, &ne[i], was_ours, &step);
		if (rc) {
			struct sg_guard_file f = { ne[i].path, ne[i].deny, ne[i].source, ne[i].rule,
						   ne[i].fragment };

			protect_error(g, &f, step, -rc);
			continue;
		}
		if (!carried)
			protect_record(g, "add", &ne[i]);
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
			protect_record(g, "remove", &old[i]);
		}
		free_entry(&old[i]);
	}
	free(old);
	settle_leftovers(g, true);
	save_immutable_list(g);
	refusal_sync(g);
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
	if (e && e->ours_immutable && set_immutable(e->opath, false) == 0)
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
		if (e->ours_immutable && !immutable_is_set(e->opath)) {
			/*
			 * Someone with CAP_LINUX_IMMUTABLE cleared it (chattr sends
			 * no fanotify event: only this check finds it).
			 */
			if (set_immutable(e->opath, true) == 0) {
				changed++;
				tamper_record(g, e);
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

/* ------------------------------------------- refusals by the immutable flag */

/* The refusal sensor watches exactly the inodes that carry our flag; attached while there are any. */
static void refusal_sync(struct sg_file_guard *g)
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
		e = find(g, st->st_dev, st->st_ino);
		return e && e->ours_immutable ? e : NULL;
	}
	/* Rename and link name two files: the first that is ours was the one refused. */
	for (i = 0; i < v->npaths; i++) {
		const struct sg_refusal_path *p = &v->paths[i];

		if (!p->absolute ||
		    fstatat(AT_FDCWD, p->path, st, p->nofollow ? AT_SYMLINK_NOFOLLOW : 0))
			continue;
		e = find(g, st->st_dev, st->st_ino);
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
static void on_refusal(void *ctx, const struct sg_refusal_view *v)
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
	access_record(g, &a);
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
		e = find(g, sg_st_from_kdev(ev->file.dev), ev->file.ino);
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
	for_each_listed(g->state_dir, collect_leftover, g);
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
	rc = pthread_create(&g->thread, NULL, perm_thread, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "permission thread: %s", strerror(rc));
		rc = -rc;
		goto fail;
	}
	g->thread_up = true;
	if (o->use_immutable && o->record_refusals &&
	    sg_file_refusal_load(&g->refusal, on_refusal, g, lerr, sizeof(lerr)))
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
	snprintf(path, sizeof(path), "%s/%s", g->state_dir, immutable_list);
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

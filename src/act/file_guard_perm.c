// SPDX-License-Identifier: Apache-2.0
/* File protection's records and its fanotify permission thread (file_guard_int.h). */
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

void fg_protect_record(struct sg_file_guard *g, const char *action, const struct entry *e)
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

void fg_tamper_record(struct sg_file_guard *g, const struct entry *e)
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

void fg_protect_error(struct sg_file_guard *g, const struct sg_guard_file *f, const char *what,
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

void fg_access_record(struct sg_file_guard *g, const struct access *a)
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
	e = fg_find(g, st.st_dev, st.st_ino);
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

void *fg_perm_thread(void *arg)
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
				fg_access_record(g, &a);
		}
	}
	return NULL;
}

// SPDX-License-Identifier: Apache-2.0
#include "decide/engine.h"
#include "decide/engine_container.h"
#include "decide/engine_library.h"
#include "decide/engine_script.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "act/pidfd.h"
#include "sense/loader_args.h"
#include "report/exec_record.h"
#include "report/net_record.h"
#include "sense/decode.h"
#include "sense/elf_loader.h"
#include "sense/file_hash.h"
#include "sense/host_path.h"
#include "sense/kdev.h"
#include "sense/proc_open.h"

#define SG_HASH_CACHE_ENTRIES 16384

int sg_engine_init(struct sg_engine *e, struct sg_audit *audit)
{
	memset(e, 0, sizeof(*e));
	e->audit = audit;
	e->mode_override = -1;
	e->mounts.fd = -1;
	e->hashes = sg_hash_cache_new(SG_HASH_CACHE_ENTRIES);
	if (!e->hashes)
		return -ENOMEM;
	return sg_proc_table_init(&e->procs);
}

void sg_engine_free(struct sg_engine *e)
{
	sg_policy_free(e->policy);
	sg_hash_cache_free(e->hashes);
	sg_proc_table_free(&e->procs);
	sg_host_mounts_free(&e->mounts);
	sg_workloads_free(e->workloads);
	sg_engine_scripts_free(e);
	memset(e, 0, sizeof(*e));
}

void sg_engine_set_policy(struct sg_engine *e, struct sg_policy *p)
{
	struct sg_policy *old = e->policy;

	e->policy = p;
	sg_audit_set_policy_version(e->audit, sg_policy_version(p));
	sg_policy_free(old);
}

enum sg_mode sg_engine_mode(const struct sg_engine *e)
{
	return e->mode_override >= 0 ? (enum sg_mode)e->mode_override : sg_policy_mode(e->policy);
}

/* Open the running executable of pid, or failing that the path if it is the same file. */
static int open_exe(const struct sg_exec_facts *f)
{
	char link[64];
	struct stat st;
	int fd;

	snprintf(link, sizeof(link), "/proc/%d/exe", f->pid);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || !f->has_path || f->fileless)
		return fd >= 0 ? fd : -errno;
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || (f->has_id && (st.st_dev != f->id.dev || st.st_ino != f->id.ino))) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/*
 * A verdict that rests on the name (a path or glob rule, or the default
 * after none of them matched) means nothing when the name is unknown.
 */
static void path_fail_closed(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v)
{
	if (!f->path_unknown || v->action == SG_ACTION_DENY || !sg_policy_has_name_rules(e->policy))
		return;
	if (v->rule && v->rule->kind != SG_MATCH_PATH && v->rule->kind != SG_MATCH_GLOB)
		return;
	v->action = SG_ACTION_DENY;
	v->rule = NULL;
	v->audit = NULL;
	v->file_only = false;
	f->reason = "path_unknown";
}

void sg_engine_path_of_fd(struct sg_engine *e, struct sg_exec_facts *f, int fd)
{
	f->path_len = 0;
	f->path[0] = '\0';
	f->has_path = sg_host_path_of_fd(&e->mounts, f->pid, fd, f->path, sizeof(f->path)) == 0;
	if (f->has_path)
		f->path_len = strlen(f->path);
	else
		f->path_unknown = true;
}

void sg_engine_decide(struct sg_engine *e, struct sg_exec_facts *f, int fd,
		      struct sg_verdict *v)
{
	static const uint8_t unknown_hash[SG_SHA256_LEN];
	struct sg_exec_subject s = {
		.path = f->has_path ? f->path : NULL,
		.id = f->has_id ? &f->id : NULL,
		.sha256 = f->has_sha256 ? f->sha256 : NULL,
		.parent_path = f->has_parent ? f->parent_path : NULL,
	};
	struct sg_container_subject cs;
	int own = -1, err;

	/* The path may have changed since the facts were read (the loader's program). */
	sg_engine_container_path(f);
	sg_engine_container_subject(f, &cs, &s);

	/* Decided without the hash; learning an allow-list by hash wants it on record anyway. */
	if (sg_policy_eval(e->policy, &s, v) == SG_EVAL_DONE && !e->record_hashes)
		goto out;
	/* A program run again is decided without opening it: no I/O on the hot path. */
	if (fd < 0 && f->has_id && f->ctime_ns && !f->fileless &&
	    sg_hash_cache_get_ctime(e->hashes, &f->id, f->ctime_ns, f->sha256))
		err = 0;
	else if (fd < 0 && (fd = own = open_exe(f)) < 0)
		err = fd;
	else
		err = sg_file_sha256(fd, e->hashes, f->sha256);
	if (err == 0) {
		f->has_sha256 = true;
		s.sha256 = f->sha256;
	} else {
		/* No file has this digest: the hash rules simply do not match. */
		f->hash_err = err;
		e->stats.hash_errors++;
		s.sha256 = unknown_hash;
	}
	sg_policy_eval(e->policy, &s, v);
out:
	path_fail_closed(e, f, v);
	sg_engine_container_fail_closed(e->policy, f, &s, v);
	sg_engine_drift(e->policy, f, fd, &s, v);
	if (own >= 0)
		close(own);
	if (v->action == SG_ACTION_DENY)
		e->stats.denied++;
	else if (v->audit)
		e->stats.audited++;
	else
		e->stats.allowed++;
}

static const struct sg_rule *rule_by_id(const struct sg_engine *e, uint32_t id)
{
	size_t n = sg_policy_rule_count(e->policy);

	return id >= 1 && id <= n ? sg_policy_rule(e->policy, id - 1) : NULL;
}

/* The kernel's walk stopped short: the whole path from the running process, or none. */
static void whole_path(struct sg_engine *e, struct sg_exec_facts *f, const struct sg_exec_event *ev)
{
	char link[64];
	struct stat st;
	int fd;

	f->has_path = false;
	f->path_len = 0;
	f->path[0] = '\0';
	snprintf(link, sizeof(link), "/proc/%d/exe", ev->hdr.tgid);
	fd = open(link, O_PATH | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_ino != ev->file.ino ||
	    st.st_dev != sg_st_from_kdev(ev->file.dev)) {
		if (fd >= 0)
			close(fd);
		f->path_unknown = true;
		return;
	}
	sg_engine_path_of_fd(e, f, fd);
	close(fd);
}

void sg_engine_facts(struct sg_engine *e, const struct sg_exec_view *v, struct sg_exec_facts *f)
{
	const struct sg_exec_event *ev = v->ev;

	sg_exec_facts_clear(f);
	f->sensor = ev->hdr.flags & SG_F_LSM_DENIED ? SG_SENSOR_BPF_LSM : SG_SENSOR_EXEC_TP;
	f->pid = ev->hdr.tgid;
	f->ppid = ev->hdr.ppid;
	f->uid = ev->hdr.uid;
	f->gid = ev->hdr.gid;
	f->cgroup_id = ev->hdr.cgroup_id;
	sg_proc_container(&e->procs, f->pid, f->cgroup_id, e->cgroup2_root, &f->container);
	memcpy(f->comm, ev->hdr.comm, sizeof(f->comm));
	f->comm[sizeof(f->comm) - 1] = '\0';
	if (v->path_len && (ev->hdr.flags & SG_F_PATH_FSREL)) {
		/* Another mount namespace: the host's name for the file, or none. */
		sg_host_mounts_refresh(&e->mounts);
		if (sg_host_path_of(&e->mounts, sg_st_from_kdev(ev->file.dev), v->path, f->path,
				    sizeof(f->path)) == 0) {
			f->path_len = strlen(f->path);
			f->has_path = true;
		} else {
			f->path_unknown = true;
		}
	} else if (v->path_len) {
		memcpy(f->path, v->path, v->path_len + 1);
		f->path_len = v->path_len;
		f->has_path = true;
	}
	if (v->path_truncated)
		whole_path(e, f, ev);
	sg_engine_workload(e, f);
	if (ev->file.ino) {
		f->id.dev = sg_st_from_kdev(ev->file.dev);
		f->id.ino = ev->file.ino;
		f->has_id = true;
		f->ctime_ns = ev->ctime_ns;
	}
	f->has_parent = sg_proc_exe(&e->procs, f->ppid, f->parent_path,
				    sizeof(f->parent_path)) == 0;
	f->filename = v->filename;
	f->filename_len = v->filename_len;
	f->args = v->args;
	f->args_len = v->args_len;
	f->args_truncated = ev->hdr.flags & SG_F_ARGS_TRUNC;
	f->fileless = ev->hdr.flags & SG_F_FILELESS;
	f->loader = ev->hdr.flags & SG_F_LOADER;
	f->via_mmap = ev->hdr.flags & SG_F_MMAP;
	f->held = ev->hdr.flags & SG_F_HELD;
	f->interp = ev->hdr.flags & SG_F_INTERP;
	f->start_ns = ev->start_ns;
}

static void mitigate(struct sg_engine *e, struct sg_exec_facts *f, uint64_t decision,
		     const char *backend, const char *action, int err)
{
	if (err)
		e->stats.mitigation_failures++;
	else
		e->stats.mitigations++;
	sg_record_mitigation(e->audit, e->alerts, f, decision, backend, action, err);
}

/* A kernel backend already acted; record what it did. */
static void on_kernel_action(struct sg_engine *e, struct sg_exec_facts *f,
			     const struct sg_exec_event *ev)
{
	struct sg_verdict v = { .action = SG_ACTION_DENY, .rule = rule_by_id(e, ev->rule_id) };
	const char *backend = f->sensor == SG_SENSOR_BPF_LSM ? "bpf_lsm" : "bpf_kill";
	const char *action = f->sensor == SG_SENSOR_BPF_LSM ?
		(f->via_mmap ? "deny_mmap_exec" : "deny_exec") : "kill_at_exec";
	uint64_t id;

	if (!v.rule && f->fileless)
		f->reason = "fileless_exec";
	if (ev->hdr.flags & SG_F_HOLD_KILLED)
		f->reason = "hold_unavailable";
	e->stats.denied++;
	id = sg_record_exec(e->audit, e->alerts, f, &v, SG_MODE_ENFORCE, backend);
	mitigate(e, f, id, backend, action, 0);
}

/*
 * The dynamic loader was run as the program: the verdict is about the
 * program it was asked to load (named in its argv, read whole from /proc),
 * opened as the loader will open it. 0, -ENOENT when no program is named
 * or there is none at that name, -ESRCH when the process is gone, -errno.
 */
static int loader_target(struct sg_engine *e, struct sg_exec_facts *f, int *out_fd)
{
	char cmdline[65536];
	const char *prog;
	struct stat st;
	ssize_t n = sg_proc_read(f->pid, "cmdline", cmdline, sizeof(cmdline));
	int fd;

	/* Gone, or a zombie (its cmdline reads empty): the ring buffer's argv is what is left. */
	if (n == -ENOENT || n == -ESRCH || n == 0)
		prog = sg_loader_program(f->args, f->args_len);
	else if (n < 0)
		return n;
	else
		prog = sg_loader_program(cmdline, n);
	if (!prog)
		return -ENOENT;
	/* As the loader will open it: in its root, cwd and mounts (a chroot, a namespace). */
	fd = sg_open_in_process(f->pid, prog);
	/*
	 * Gone already (monitor mode: nothing held it): its world went with it,
	 * so an absolute name is the best left to report on. Never for a held one.
	 */
	if (fd == -ESRCH && !f->held && prog[0] == '/')
		fd = open(prog, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd == -1 ? -errno : fd;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	f->id.dev = st.st_dev;
	f->id.ino = st.st_ino;
	f->has_id = true;
	f->fileless = st.st_nlink == 0;
	f->path_unknown = false;
	sg_engine_path_of_fd(e, f, fd);
	f->has_sha256 = false;
	*out_fd = fd;
	return 0;
}

static struct sg_inode_key kernel_key(const struct sg_exec_event *ev)
{
	return ev->file;
}

/*
 * The kernel flags loader-shaped images; a static-pie binary has the same
 * shape. Only a real loader (by its DT_SONAME) is judged by its program.
 * Returns 0, or -errno when the loader's program cannot be inspected.
 */
static int resolve_subject(struct sg_engine *e, struct sg_exec_facts *f,
			   const struct sg_exec_event *ev, int *fd)
{
	int exe, is_loader = 1, err;

	*fd = -1;
	if (!f->loader)
		return 0;
	exe = open_exe(f);
	if (exe >= 0) {
		is_loader = sg_elf_is_loader(exe);
		close(exe);
	}
	if (is_loader == 0) {
		struct sg_inode_key key = kernel_key(ev);

		f->loader = false;
		if (e->kern)
			sg_exec_bpf_not_loader(e->kern, &key, ev->ctime_ns);
		return 0;
	}
	err = loader_target(e, f, fd);
	if (err == -ENOENT) {
		/* Nothing to load (--help, a missing file): the loader runs nothing. */
		f->reason = "loader_without_program";
		return 0;
	}
	if (err) {
		f->reason = "loader_program_unreadable";
		f->hash_err = err;
	}
	return err;
}

/*
 * An allowed file whose verdict depends only on the file may skip fanotify
 * from now on: first the kernel learns the name it was allowed under (so a
 * rename or link into a denied name is held), then the ignore mark goes on.
 */
static void cache_allowed(struct sg_engine *e, struct sg_exec_facts *f,
			  const struct sg_exec_event *ev, const struct sg_verdict *v)
{
	struct sg_inode_key key = kernel_key(ev);
	int fd;

	if (!e->cache_allowed || !e->kern || v->action != SG_ACTION_ALLOW || !v->file_only ||
	    f->fileless || f->loader || f->has_interpreter || !f->has_id ||
	    (ev->hdr.flags & SG_F_NAME_CACHED))
		return;
	if (sg_exec_bpf_cache_name(e->kern, &key, ev->path_hash))
		return;
	fd = open_exe(f);
	if (fd < 0)
		return;
	e->cache_allowed(e->cache_ctx, fd);
	close(fd);
}

static void doom_pid(void *ctx, pid_t pid)
{
	struct sg_engine *e = ctx;

	if (e->kern)
		sg_exec_bpf_doom(e->kern, pid, 0);
}

/* A denied process that ran may have forked: its descendants go with it. */
static void kill_descendants(struct sg_engine *e, struct sg_exec_facts *f, uint64_t id)
{
	int n = sg_pidfd_kill_descendants(f->pid, doom_pid, e);

	if (n > 0)
		mitigate(e, f, id, "pidfd_kill", "kill_descendants", 0);
}

/* Its next exec goes through fanotify like any other (this one is held and decided here). */
static void mark_filesystem(struct sg_engine *e, struct sg_exec_facts *f)
{
	char link[64];
	int fd, err;

	snprintf(link, sizeof(link), "/proc/%d/exe", f->pid);
	fd = open(link, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	err = fd < 0 ? -errno : e->mark_fs(e->mark_ctx, fd);
	if (fd >= 0)
		close(fd);
	sg_record_fs_mark(e->audit, f, err);
}

/*
 * A run fanotify did not see first (held for another reason, or no
 * fanotify: monitor mode) of a copy of an interpreter, or a container's:
 * from now on its runs are held as the listed interpreters' are, and this
 * one's script is judged. One that cannot be held from now on is denied.
 */
static void learn_interpreter(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v)
{
	int fd, r;

	if (f->interp || f->loader || (!f->held && e->cache_allowed) ||
	    !sg_policy_scripts(e->policy)->on)
		return;
	fd = open_exe(f);
	r = fd >= 0 ? sg_engine_interp_learn(e, f, fd) : 0;
	if (fd >= 0)
		close(fd);
	if (r > 0)
		f->interp = true;
	else if (r < 0)
		sg_engine_deny_untracked(e, f, v);
}

/* How long a held start waited for us: the kernel's stamp is on the boot clock. */
static void count_resume(struct sg_engine *e, const struct sg_exec_event *ev)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	e->stats.resumed++;
	if (now > ev->hdr.ts_ns)
		e->stats.resume_wait_ns += now - ev->hdr.ts_ns;
}

static void on_exec(struct sg_engine *e, struct sg_exec_facts *f, const struct sg_exec_event *ev)
{
	enum sg_mode mode = sg_engine_mode(e);
	struct sg_verdict v = { .action = SG_ACTION_DENY };
	uint64_t id;
	int fd, err;

	if (f->has_path)
		sg_proc_table_set(&e->procs, f->pid, f->path);
	if (ev->hdr.flags & SG_F_KILLED) {
		on_kernel_action(e, f, ev);
		return;
	}
	if (ev->hdr.flags & SG_F_SIGNAL_FAILED) {
		struct sg_exec_facts copy = *f;

		mitigate(e, &copy, 0, "bpf_kill", "signal_at_exec", ev->signal_err);
	}
	if (f->held)
		e->stats.held++;
	if ((ev->hdr.flags & SG_F_UNMARKED_FS) && e->mark_fs)
		mark_filesystem(e, f);

	/* A program we cannot inspect is not let through. */
	if (resolve_subject(e, f, ev, &fd) == 0) {
		if (f->fileless && sg_policy_fileless(e->policy) == SG_FILELESS_DENY) {
			f->reason = "fileless_exec";
			e->stats.denied++;
		} else {
			sg_engine_decide(e, f, fd, &v);
			learn_interpreter(e, f, &v);
			if (f->interp)
				sg_engine_decide_script(e, f, &v);
		}
	} else {
		e->stats.denied++;
	}
	if (fd >= 0)
		close(fd);

	if (f->held) {
		/* A held process that is gone (or a zombie) is one the gate killed. */
		if (v.action == SG_ACTION_ALLOW && !sg_proc_running(f->pid)) {
			/*
			 * Only a kill ends a held process: someone resumed it and the
			 * gate killed it at its first instruction, before we could look.
			 */
			v.action = SG_ACTION_DENY;
			v.rule = NULL;
			f->reason = "resumed_while_held";
			id = sg_record_exec(e->audit, e->alerts, f, &v, SG_MODE_ENFORCE, "bpf_gate");
			mitigate(e, f, id, "bpf_gate", "kill_at_first_fault", 0);
			return;
		}
		/* Still there but its file could not be read (exiting, say): not let go unjudged. */
		if (v.action == SG_ACTION_ALLOW && f->hash_err) {
			v.action = SG_ACTION_DENY;
			v.rule = NULL;
			f->reason = "unreadable_while_held";
		}
		if (v.action == SG_ACTION_DENY) {
			id = sg_record_exec(e->audit, e->alerts, f, &v, SG_MODE_ENFORCE, "bpf_hold");
			err = sg_pidfd_signal(f->pid, SIGKILL, NULL);
			if (err == -ESRCH)
				/* Resumed by someone else: the gate killed it first. */
				mitigate(e, f, id, "bpf_gate", "kill_at_first_fault", 0);
			else
				mitigate(e, f, id, "pidfd_kill", "kill_held", err);
			return;
		}
		/*
		 * The gate first: a SIGCONT alone would only get it killed at its
		 * first fault. Then the record: the process waits for nothing but
		 * its verdict (writing the record took a fifth of a hold).
		 */
		err = e->kern ? sg_exec_bpf_release(e->kern, f->pid) : 0;
		if (!err)
			err = sg_pidfd_signal(f->pid, SIGCONT, NULL);
		if (!err)
			count_resume(e, ev);
		id = sg_record_exec(e->audit, e->alerts, f, &v, SG_MODE_ENFORCE, NULL);
		if (err)
			mitigate(e, f, id, "pidfd", "resume_held", err);
		if (ev->hdr.flags & SG_F_NAME_CHANGED)
			cache_allowed(e, f, ev, &v);
		return;
	}
	if (v.action == SG_ACTION_ALLOW || mode == SG_MODE_MONITOR) {
		sg_record_exec(e->audit, e->alerts, f, &v, mode, NULL);
		if (mode == SG_MODE_ENFORCE)
			cache_allowed(e, f, ev, &v);
		return;
	}
	/* It ran although denied: no earlier backend covered it. Last resort. */
	if (e->no_pidfd_kill) {
		sg_record_exec(e->audit, e->alerts, f, &v, mode, NULL);
		return;
	}
	id = sg_record_exec(e->audit, e->alerts, f, &v, mode, "pidfd_kill");
	/* Doomed before the kill: whatever it forks meanwhile dies at its first fault too. */
	if (e->kern)
		sg_exec_bpf_doom(e->kern, f->pid, f->start_ns);
	err = sg_pidfd_signal(f->pid, SIGKILL,
			      f->has_id && !f->loader && !f->has_interpreter ? &f->id : NULL);
	mitigate(e, f, id, "pidfd_kill", "kill_after_exec", err);
	kill_descendants(e, f, id);
}

int sg_engine_on_record(void *ctx, void *data, size_t size)
{
	struct sg_engine *e = ctx;
	struct sg_exec_facts f;
	struct sg_exec_view v;
	int type = sg_event_type(data, size);

	e->stats.events++;
	if (type == SG_EV_EXIT) {
		const struct sg_exit_event *x = data;

		char comm[SG_COMM_LEN + 1];

		memcpy(comm, x->hdr.comm, SG_COMM_LEN);
		comm[SG_COMM_LEN] = '\0';
		sg_proc_table_exited(&e->procs, x->hdr.tgid, comm);
		return 0;
	}
	if (sg_decode_exec(data, size, &v)) {
		e->stats.decode_errors++;
		return 0;
	}
	sg_engine_facts(e, &v, &f);
	if (type == SG_EV_LIBRARY)
		sg_engine_on_library(e, &f, v.ev);
	else if (f.sensor == SG_SENSOR_BPF_LSM)
		on_kernel_action(e, &f, v.ev);
	else
		on_exec(e, &f, v.ev);
	return 0;
}

int sg_engine_on_net_record(void *ctx, void *data, size_t size)
{
	struct sg_engine *e = ctx;
	struct sg_net_facts f = { 0 };
	struct sg_net_event ev;
	const struct sg_net_rule *r;
	int af = AF_INET6;

	e->stats.events++;
	if (sg_decode_net(data, size, &ev)) {
		e->stats.decode_errors++;
		return 0;
	}
	/* A record from before a reload may name a rule the new policy lacks. */
	r = sg_policy_net_rule(e->policy, ev.rule_id - 1);
	if (!r)
		return 0;
	f.pid = ev.hdr.tgid;
	f.ppid = ev.hdr.ppid;
	f.uid = ev.hdr.uid;
	f.gid = ev.hdr.gid;
	f.cgroup_id = ev.hdr.cgroup_id;
	memcpy(f.comm, ev.hdr.comm, sizeof(f.comm));
	f.has_exe = sg_proc_exe(&e->procs, f.pid, f.exe, sizeof(f.exe)) == 0;
	f.op = ev.op == SG_NET_CONNECT ? "connect" : "sendmsg";
	f.protocol = ev.proto == IPPROTO_TCP ? "tcp" : ev.proto == IPPROTO_UDP ? "udp" : NULL;
	if (ev.family == 4)
		af = AF_INET;
	if (!inet_ntop(af, ev.daddr, f.daddr, sizeof(f.daddr)))
		snprintf(f.daddr, sizeof(f.daddr), "?");
	f.mapped = ev.family == 4 && ev.mapped;
	f.dport = ev.dport;
	f.rule = r;
	f.blocked = ev.blocked;
	sg_record_net(e->audit, e->alerts, &f, sg_engine_mode(e));
	return 0;
}

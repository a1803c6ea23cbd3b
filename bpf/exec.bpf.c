// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Exec sensing and in-kernel exec enforcement.
 *
 * tp_btf/sched_process_exec runs after the point of no return of execve(),
 * before the new image runs a single user instruction: a signal sent here is
 * delivered on the way back to user mode, so a SIGKILL leaves the binary no
 * instruction of its own (EXEC-4, backend "bpf_kill"). The LSM hooks deny
 * the exec outright where BPF LSM is active (backend "bpf_lsm"); they are
 * only loaded when the feature probe found them loadable.
 */
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>

_Static_assert(sizeof(struct sg_exec_event) <= SG_ZERO_BYTES, "zero buffer too small");

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PROT_EXEC 0x4
/* Wake the reader only when this much is waiting; a timer bounds latency. */
#define SG_WAKE_BYTES (SG_RINGBUF_BYTES / 4)

struct sg_exec_config cfg = {};
/*
 * CLOCK_BOOTTIME of the daemon's last event-loop tick. Pinned programs
 * outlive a killed daemon (BPF-5): with nobody left to answer, a hold would
 * stop the process for ever, so holds need a daemon seen in the last 2 s.
 * Kills need no answer and go on.
 */
__u64 sg_heartbeat_ns = 0;
#define SG_HEARTBEAT_MAX_NS (2ull * 1000 * 1000 * 1000)

/*
 * The daemon's fanotify group (kernel address), learnt by sg_learn_group
 * from the descriptor sg_learn_fd; 0 while fanotify is not enforcing.
 */
__u64 sg_fan_group = 0;
__u32 sg_learn_fd = 0;
/*
 * Entries in `held`, never fewer: raised before an entry goes in, lowered
 * after one came out, so the gate, on every user page fault of the host,
 * looks no further while nothing is held (nearly always).
 */
__u64 sg_held_count = 0;
#define SG_FS_OPEN_EXEC_PERM 0x00040000
#define SG_MARKS_LOOKED_AT 8

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SG_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_DENY_MAX);
	__type(key, struct sg_inode_key);
	__type(value, struct sg_deny_value);
} deny_inodes SEC(".maps");

/*
 * Files fanotify lets run without asking (ignore marks), with a hash of the
 * path they were allowed under: an exec of the same inode under another name
 * (rename, hard link) is held for a fresh verdict, since rules can be by name.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_NAME_CACHE_MAX);
	__type(key, struct sg_inode_key);
	__type(value, __u64);
} name_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_HELD_MAX);
	__type(key, __u32);			/* tgid */
	__type(value, struct sg_held_value);
} held SEC(".maps");

/* Interpreters (scripts: in the policy), by identity; the value is user space's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_INTERP_MAX);
	__type(key, struct sg_inode_key);
	__type(value, __u32);
} interpreters SEC(".maps");

/* libraries: denied by identity (path and identity rules, resolved): killed in the kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_DENY_MAX);
	__type(key, struct sg_inode_key);
	__type(value, struct sg_deny_value);
} lib_deny SEC(".maps");

/* Libraries user space allowed (value: their ctime then): no need to ask again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_LIB_OK_MAX);
	__type(key, struct sg_inode_key);
	__type(value, __u64);
} lib_ok SEC(".maps");

/* Loader-shaped files (static-pie) user space read and found not to be loaders, by ctime. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_NOT_LOADER_MAX);
	__type(key, struct sg_inode_key);
	__type(value, __u64);
} not_loader SEC(".maps");

#define ET_DYN 3
#define PT_INTERP 3
#define PT_PHDR 6
#define SG_ELF_PHDR_SIZE 56

/*
 * A dynamic loader run as the program (ld.so PROG, or any copy of it) maps
 * PROG itself, out of sight of exec hooks. Its image has a shape: a 64-bit
 * ET_DYN ELF whose first program headers hold neither PT_PHDR nor PT_INTERP.
 * Static-pie executables share it; user space tells them apart (DT_SONAME).
 */
struct sg_elf_head {
	unsigned char buf[256];	/* linux_binprm.buf: the file's first bytes */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_elf_head);
} elf_head SEC(".maps");

static __always_inline bool loader_shaped(struct linux_binprm *bprm)
{
	struct sg_elf_head *h;
	__u32 zero = 0, off;
	__u64 phoff;
	__u16 phnum;
	int i;

	h = bpf_map_lookup_elem(&elf_head, &zero);
	if (!h || bpf_probe_read_kernel(h->buf, sizeof(h->buf), &bprm->buf))
		return false;
	if (*(__u32 *)h->buf != 0x464c457f || h->buf[4] != 2 ||	/* "\x7fELF", 64-bit */
	    *(__u16 *)&h->buf[16] != ET_DYN || *(__u16 *)&h->buf[54] != SG_ELF_PHDR_SIZE)
		return false;
	phoff = *(__u64 *)&h->buf[32];
	phnum = *(__u16 *)&h->buf[56];
	if (phnum == 0 || phoff > sizeof(h->buf) - 3 * SG_ELF_PHDR_SIZE)
		return false;
	for (i = 0; i < 3 && i < phnum; i++) {
		__u32 type;

		off = (__u32)phoff + i * SG_ELF_PHDR_SIZE;
		if (off > sizeof(h->buf) - 4)
			return false;
		type = *(__u32 *)&h->buf[off];
		if (type == PT_PHDR || type == PT_INTERP)
			return false;
	}
	return true;
}

static __always_inline void submit(void *e, bool urgent)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (urgent || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= SG_WAKE_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

/* Fill what every exec record carries; the caller decides on enforcement. */
static __always_inline void fill_exec(struct sg_exec_event *e, struct task_struct *task,
				      struct linux_binprm *bprm, struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct file *pexe = BPF_CORE_READ(task, real_parent, mm, exe_file);
	long n;

	sg_fill_hdr(&e->hdr, SG_EV_EXEC, task);
	sg_file_key(file, &e->file);
	if (pexe)
		sg_file_key(pexe, &e->parent_file);
	BPF_CORE_READ_STR_INTO(&e->parent_comm, task, real_parent, comm);
	e->ctime_ns = sg_inode_ctime_ns(inode);
	e->nlink = BPF_CORE_READ(inode, i_nlink);
	if (e->nlink == 0)
		e->hdr.flags |= SG_F_FILELESS;

	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
				      BPF_CORE_READ(bprm, filename));
	e->filename_len = n > 0 ? n - 1 : 0;
	/* Another mount namespace names the file as it likes: user space maps it to the host's name. */
	if (BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum) != cfg.host_mnt_ns)
		e->hdr.flags |= SG_F_PATH_FSREL;
	e->path_len = sg_walk_path(file, e->path, &e->path_depth, &e->hdr.flags, &e->path_hash,
				   e->hdr.flags & SG_F_PATH_FSREL);
}

static __always_inline void read_args(struct sg_exec_event *e, struct task_struct *task)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	__u64 len = end - start;

	if (end <= start)
		return;
	if (len > SG_ARGS_LEN) {
		len = SG_ARGS_LEN;
		e->hdr.flags |= SG_F_ARGS_TRUNC;
	}
	/* The verifier wants the bound proven on the register it checks. */
	asm volatile("%[len] &= 0x7ff" : [len] "+r"(len));
	if (len > SG_ARGS_LEN)
		return;
	if (bpf_probe_read_user(e->args, len, (void *)start) == 0)
		e->args_len = len;
}

static __always_inline void signal_self(struct sg_exec_event *e, int sig, __u32 ok_flag)
{
	long err = bpf_send_signal(sig);

	e->signal_err = err;
	if (err) {
		e->hdr.flags |= SG_F_SIGNAL_FAILED;
		sg_count(SG_CNT_KILL_FAILED);
	} else {
		e->hdr.flags |= ok_flag;
		sg_count(sig == SG_SIGKILL ? SG_CNT_KILLS : SG_CNT_HOLDS);
	}
}

/*
 * Hold the current process for user space's verdict. Without the gate a
 * SIGSTOP is a request any SIGCONT undoes, so then the hold is a kill.
 */
static __always_inline void hold(struct sg_exec_event *e, struct task_struct *task)
{
	struct sg_held_value v = { .start_ns = e->start_ns };
	__u32 tgid = e->hdr.tgid;

	__sync_fetch_and_add(&sg_held_count, 1);
	if (!cfg.hold_gate || bpf_map_update_elem(&held, &tgid, &v, BPF_ANY)) {
		__sync_fetch_and_sub(&sg_held_count, 1);
		e->hdr.flags |= SG_F_HOLD_KILLED;
		signal_self(e, SG_SIGKILL, SG_F_KILLED);
		return;
	}
	signal_self(e, SG_SIGSTOP, SG_F_HELD);
}

/* Kernels before 6.12 kept the filesystem's marks in the superblock itself. */
struct super_block___old {
	struct fsnotify_mark_connector *s_fsnotify_marks;
} __attribute__((preserve_access_index));

/*
 * Does fanotify ask us before an exec from this file's filesystem? Our own
 * filesystem mark for exec permission says so, whichever namespace mounted
 * it and whatever device number it reuses: the kernel's marks, not our list.
 */
static __always_inline bool fs_marked(struct file *file)
{
	struct super_block *sb = BPF_CORE_READ(file, f_inode, i_sb);
	struct super_block___old *old = (void *)sb;
	struct fsnotify_mark_connector *conn;
	struct hlist_node *node;
	int i;

	if (bpf_core_field_exists(sb->s_fsnotify_info))
		conn = BPF_CORE_READ(sb, s_fsnotify_info, sb_marks);
	else
		conn = BPF_CORE_READ(old, s_fsnotify_marks);
	if (!conn)
		return false;
	node = BPF_CORE_READ(conn, list.first);
	for (i = 0; i < SG_MARKS_LOOKED_AT; i++) {
		struct fsnotify_mark *m;

		if (!node)
			return false;
		m = container_of(node, struct fsnotify_mark, obj_list);
		if ((__u64)BPF_CORE_READ(m, group) == sg_fan_group &&
		    (BPF_CORE_READ(m, mask) & SG_FS_OPEN_EXEC_PERM))
			return true;
		node = BPF_CORE_READ(node, next);
	}
	return false;
}

/* Run by the daemon (BPF_PROG_TEST_RUN, in its own context): note its fanotify group. */
SEC("raw_tp")
int sg_learn_group(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
	struct file *f = NULL;

	if (sg_learn_fd >= max ||
	    bpf_probe_read_kernel(&f, sizeof(f), &fds[sg_learn_fd & 0xffff]) || !f)
		return 0;
	sg_fan_group = (__u64)BPF_CORE_READ(f, private_data);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sg_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct file *file = BPF_CORE_READ(bprm, file);
	struct sg_exec_event *e;
	struct sg_deny_value *deny;
	struct sg_inode_key key;
	__u64 *cached_name;
	bool urgent = false;

	sg_count(SG_CNT_EXEC_SEEN);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		sg_count(SG_CNT_RB_DROPS);
		/* Losing the record must not lose the enforcement. */
		if (cfg.enforce && cfg.kill && file) {
			struct sg_inode_key k;

			sg_file_key(file, &k);
			if (bpf_map_lookup_elem(&deny_inodes, &k))
				bpf_send_signal(SG_SIGKILL);
		}
		return 0;
	}
	sg_zero_fill(e, sizeof(*e));	/* BPF-6: no residue reaches user space */
	fill_exec(e, task, bprm, file);
	read_args(e, task);
	e->start_ns = BPF_CORE_READ(task, group_leader, start_time);

	/* Kernels before 6.2 refuse ring-buffer memory as a map key: use a stack copy. */
	key = e->file;
	if (loader_shaped(bprm)) {
		__u64 *ok_ctime = bpf_map_lookup_elem(&not_loader, &key);

		if (!ok_ctime || *ok_ctime != e->ctime_ns)
			e->hdr.flags |= SG_F_LOADER;
	}
	if (cfg.hold_scripts && bpf_map_lookup_elem(&interpreters, &key))
		e->hdr.flags |= SG_F_INTERP;
	cached_name = bpf_map_lookup_elem(&name_cache, &key);
	if (cached_name)
		e->hdr.flags |= *cached_name == e->path_hash ? SG_F_NAME_CACHED : SG_F_NAME_CHANGED;

	deny = bpf_map_lookup_elem(&deny_inodes, &key);
	if (deny)
		e->rule_id = deny->rule_id;

	if (cfg.enforce && e->hdr.tgid != cfg.daemon_tgid) {
		bool alive = bpf_ktime_get_boot_ns() - sg_heartbeat_ns < SG_HEARTBEAT_MAX_NS;

		if (deny && cfg.kill) {
			signal_self(e, SG_SIGKILL, SG_F_KILLED);
		} else if (e->hdr.flags & SG_F_FILELESS) {
			if (cfg.fileless_deny)
				signal_self(e, SG_SIGKILL, SG_F_KILLED);
			else if (cfg.hold_fileless && alive)
				hold(e, task);
		} else if ((e->hdr.flags & SG_F_LOADER) && cfg.hold_loader && alive) {
			hold(e, task);
		} else if ((e->hdr.flags & SG_F_INTERP) && alive) {
			/* Its script has not been read yet: user space judges it first. */
			hold(e, task);
		} else if ((e->hdr.flags & SG_F_NAME_CHANGED) && alive) {
			hold(e, task);
		} else if ((e->hdr.flags & SG_F_PATH_TRUNC) && cfg.hold_uncertain && alive) {
			/* A path not read whole is not "no rule matched": user space reads it whole. */
			hold(e, task);
		} else if (sg_fan_group && alive && !fs_marked(file)) {
			/* fanotify never saw this exec (a mount it has not marked): decide it now. */
			e->hdr.flags |= SG_F_UNMARKED_FS;
			hold(e, task);
		}
		urgent = e->hdr.flags & (SG_F_HELD | SG_F_SIGNAL_FAILED);
	}
	submit(e, urgent);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sg_exit, struct task_struct *task)
{
	struct sg_exit_event *e;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if ((__u32)pid_tgid != pid_tgid >> 32)
		return 0;	/* a thread, not the process */
	/* The daemon is gone (killed, crashed): no hold from now on, not even for 2 s. */
	if (pid_tgid >> 32 == cfg.daemon_tgid)
		sg_heartbeat_ns = 0;
	{
		__u32 tgid = pid_tgid >> 32;

		if (sg_held_count && bpf_map_delete_elem(&held, &tgid) == 0)
			__sync_fetch_and_sub(&sg_held_count, 1);
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		sg_count(SG_CNT_RB_DROPS);
		return 0;
	}
	sg_zero_fill(e, sizeof(*e));
	sg_fill_hdr(&e->hdr, SG_EV_EXIT, task);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	submit(e, false);
	return 0;
}

static __always_inline bool is_held(struct task_struct *task, __u32 tgid)
{
	struct sg_held_value *v = bpf_map_lookup_elem(&held, &tgid);

	/* 0: doomed by user space, which knew the pid alive but not its start time. */
	return v && (!v->start_ns || v->start_ns == BPF_CORE_READ(task, group_leader, start_time));
}

/*
 * The gate. A held process's first instruction after exec (or a forked
 * child's first after fork) is on a page its new mm has not mapped yet, so
 * it faults before it executes; the kill is then delivered on the way back
 * to user mode and the instruction never runs.
 */
SEC("tp_btf/page_fault_user")
int BPF_PROG(sg_gate, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	__u32 tgid;

	if (!*(volatile __u64 *)&sg_held_count)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!is_held(bpf_get_current_task_btf(), tgid))
		return 0;
	if (bpf_send_signal(SG_SIGKILL) == 0)
		sg_count(SG_CNT_GATE_KILLS);
	return 0;
}

#define SG_PF_INSTR 0x10		/* x86 page fault error code: an instruction fetch */

/*
 * libraries: the instruction fetch a thread is faulting on, noted at the
 * fault's entry; the page cache's tracepoints for the same fault then name
 * the file (mapping->host) whose code it is, with no mapping lookup.
 */
struct lib_fault {
	__u64 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lib_fault);
} lib_fault SEC(".maps");

static __always_inline bool is_daemon(struct task_struct *task)
{
	/* The daemon, and the helpers it forks (they run its code, and it waits for them). */
	return task->tgid == cfg.daemon_tgid ||
	       BPF_CORE_READ(task, group_leader, real_parent, tgid) == cfg.daemon_tgid;
}

static __always_inline void library_event(struct task_struct *task, struct inode *inode,
					  struct file *file, __u32 rule_id, __u32 flags)
{
	struct sg_exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		sg_count(SG_CNT_RB_DROPS);
		return;
	}
	sg_zero_fill(e, sizeof(*e));
	sg_fill_hdr(&e->hdr, SG_EV_LIBRARY, task);
	e->hdr.flags |= flags | SG_F_MMAP;
	sg_inode_key_of(inode, &e->file);
	e->ctime_ns = sg_inode_ctime_ns(inode);
	e->nlink = BPF_CORE_READ(inode, i_nlink);
	if (e->nlink == 0)
		e->hdr.flags |= SG_F_FILELESS;
	e->rule_id = rule_id;
	e->start_ns = BPF_CORE_READ(task, group_leader, start_time);
	/* At a fault only the inode is known: user space names it from the process's mappings. */
	if (file) {
		if (BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum) != cfg.host_mnt_ns)
			e->hdr.flags |= SG_F_PATH_FSREL;
		e->path_len = sg_walk_path(file, e->path, &e->path_depth, &e->hdr.flags,
					   &e->path_hash, e->hdr.flags & SG_F_PATH_FSREL);
	}
	submit(e, flags & (SG_F_HELD | SG_F_KILLED));
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(sg_lib_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct task_struct *task;
	struct lib_fault *lf;

	if (!(error_code & SG_PF_INSTR))
		return 0;
	task = bpf_get_current_task_btf();
	if (is_daemon(task))
		return 0;
	lf = bpf_task_storage_get(&lib_fault, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!lf) {
		sg_count(SG_CNT_LIB_UNCHECKED);
		return 0;
	}
	lf->addr = address;
	return 0;
}

/*
 * The file behind the page this thread's instruction fetch faulted on. The
 * kill is delivered on the way back to user mode, so a denied library's
 * first instruction (its constructor, an IFUNC resolver) never runs. The
 * program itself is the exec rules' business; anonymous code is no file's.
 */
static __always_inline void lib_check(struct address_space *mapping)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct lib_fault *lf = bpf_task_storage_get(&lib_fault, task, 0, 0);
	struct sg_deny_value *deny;
	struct sg_inode_key key;
	struct inode *inode;
	__u64 ip, addr, *ok;
	bool known;

	if (!lf || !lf->addr)
		return;
	/* This fault, not a read of a mapped file later: the user ip is at the faulting page. */
	ip = BPF_CORE_READ((struct pt_regs *)bpf_task_pt_regs(task), ip) >> 12;
	addr = lf->addr >> 12;
	if (addr != ip && addr != ip + 1)
		return;
	lf->addr = 0;
	inode = BPF_CORE_READ(mapping, host);
	if (!inode || inode == BPF_CORE_READ(task, mm, exe_file, f_inode))
		return;
	sg_inode_key_of(inode, &key);
	ok = bpf_map_lookup_elem(&lib_ok, &key);
	known = ok && *ok == sg_inode_ctime_ns(inode);
	deny = bpf_map_lookup_elem(&lib_deny, &key);
	if (deny) {
		/* Monitor mode: reported once per file (user space marks it known), not per fault. */
		if (!cfg.enforce) {
			if (!known)
				library_event(task, inode, NULL, deny->rule_id, 0);
			return;
		}
		if (bpf_send_signal(SG_SIGKILL) == 0) {
			sg_count(SG_CNT_LIB_KILLS);
			library_event(task, inode, NULL, deny->rule_id, SG_F_KILLED);
		} else {
			library_event(task, inode, NULL, deny->rule_id, SG_F_SIGNAL_FAILED);
		}
		return;
	}
	if (!cfg.lib_ask || known)
		return;
	/*
	 * Not decided yet: user space judges it (by hash, by glob) before it
	 * runs on. Without the gate (holds off) the stop is still taken, not
	 * turned into a kill as at exec: every program maps libraries, and
	 * killing each one whose library is not known yet would stop the host.
	 */
	if (cfg.enforce && bpf_ktime_get_boot_ns() - sg_heartbeat_ns < SG_HEARTBEAT_MAX_NS) {
		struct sg_held_value hv = { .start_ns = BPF_CORE_READ(task, group_leader, start_time) };
		__u32 tgid = task->tgid;

		/* Resumed by anyone but the daemon, it dies at its next fault (the gate). */
		if (bpf_map_update_elem(&held, &tgid, &hv, BPF_ANY) == 0)
			__sync_fetch_and_add(&sg_held_count, 1);
		if (bpf_send_signal(SG_SIGSTOP) == 0) {
			sg_count(SG_CNT_HOLDS);
			library_event(task, inode, NULL, 0, SG_F_HELD);
			return;
		}
	}
	library_event(task, inode, NULL, 0, 0);
}

/* Fault-around: pages already cached are mapped here. */
SEC("tp_btf/mm_filemap_map_pages")
int BPF_PROG(sg_lib_map_pages, struct address_space *mapping, unsigned long start,
	     unsigned long last)
{
	lib_check(mapping);
	return 0;
}

/* ...and the page the fault needs, when fault-around did not map it. */
SEC("tp_btf/mm_filemap_fault")
int BPF_PROG(sg_lib_filemap_fault, struct address_space *mapping, unsigned long index)
{
	lib_check(mapping);
	return 0;
}

/* A held or doomed process leaves no descendant that could run. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sg_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	struct sg_held_value v;

	if (ptgid == ctgid || !*(volatile __u64 *)&sg_held_count || !is_held(parent, ptgid))
		return 0;
	v.start_ns = BPF_CORE_READ(child, start_time);
	__sync_fetch_and_add(&sg_held_count, 1);
	if (bpf_map_update_elem(&held, &ctgid, &v, BPF_ANY))
		__sync_fetch_and_sub(&sg_held_count, 1);
	return 0;
}

/* Report an LSM denial: the exec never happens, so no sched_process_exec follows. */
static __always_inline void report_lsm_deny(struct file *file, struct linux_binprm *bprm,
					    __u32 rule_id, __u32 extra_flags)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	struct sg_exec_event *e;

	sg_count(SG_CNT_LSM_DENIES);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		sg_count(SG_CNT_RB_DROPS);
		return;
	}
	sg_zero_fill(e, sizeof(*e));
	fill_exec(e, task, bprm, file);
	e->hdr.flags |= SG_F_LSM_DENIED | extra_flags;
	e->rule_id = rule_id;
	submit(e, false);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(sg_lsm_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct sg_inode_key k;
	struct sg_deny_value *deny;
	struct file *file;

	if (ret)
		return ret;
	file = BPF_CORE_READ(bprm, file);
	if (!file)
		return 0;
	sg_file_key(file, &k);
	deny = bpf_map_lookup_elem(&deny_inodes, &k);
	if (!deny || !cfg.enforce)
		return 0;
	report_lsm_deny(file, bprm, deny->rule_id, 0);
	return -EPERM;
}

/* The dynamic loader maps a program with mmap(PROT_EXEC) instead of exec'ing it. */
SEC("lsm/mmap_file")
int BPF_PROG(sg_lsm_mmap_file, struct file *file, unsigned long reqprot,
	     unsigned long prot, unsigned long flags, int ret)
{
	struct sg_inode_key k;
	struct sg_deny_value *deny;

	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	sg_file_key(file, &k);
	deny = bpf_map_lookup_elem(&deny_inodes, &k);
	if (deny && cfg.enforce) {
		report_lsm_deny(file, NULL, deny->rule_id, SG_F_MMAP);
		return -EPERM;
	}
	/* libraries: a denied shared object is not mapped as code at all (dlopen fails). */
	deny = bpf_map_lookup_elem(&lib_deny, &k);
	if (!deny || !cfg.enforce)
		return 0;
	library_event(bpf_get_current_task_btf(), BPF_CORE_READ(file, f_inode), file, deny->rule_id,
		      SG_F_LSM_DENIED);
	return -EPERM;
}

/* ...nor made code later: mprotect(PROT_EXEC) of its mapping. */
SEC("lsm/file_mprotect")
int BPF_PROG(sg_lsm_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	struct sg_deny_value *deny;
	struct sg_inode_key k;
	struct file *file;

	if (ret)
		return ret;
	file = BPF_CORE_READ(vma, vm_file);
	if (!file || !(prot & PROT_EXEC))
		return 0;
	sg_file_key(file, &k);
	deny = bpf_map_lookup_elem(&lib_deny, &k);
	if (!deny || !cfg.enforce)
		return 0;
	library_event(bpf_get_current_task_btf(), BPF_CORE_READ(file, f_inode), file, deny->rule_id,
		      SG_F_LSM_DENIED);
	return -EPERM;
}

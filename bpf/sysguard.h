/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel/user ABI: every struct that crosses the boundary through a map
 * or the ring buffer is defined here, once. Included by BPF programs (after
 * vmlinux.h) and by user space (after <linux/types.h>).
 */
#ifndef SYSGUARD_ABI_H
#define SYSGUARD_ABI_H

#define SG_COMM_LEN		16
#define SG_FILENAME_LEN		256	/* execve() filename argument, truncated */
#define SG_PATH_BUF		1024	/* path components, leaf first, NUL separated */
#define SG_PATH_DEPTH		48	/* components walked before giving up */
#define SG_ARGS_LEN		1024	/* argv, NUL separated, truncated */
#define SG_NAME_LEN		256	/* one path component */

#define SG_RINGBUF_BYTES	(8u << 20)
#define SG_DENY_MAX		65536	/* identities the kernel denies itself */
#define SG_INTERP_MAX		256	/* interpreters whose scripts are judged */
#define SG_LIB_OK_MAX		16384	/* libraries user space allowed, by identity and ctime */
#define SG_NAME_CACHE_MAX	16384	/* allowed files cached by fanotify ignore marks */
#define SG_NOT_LOADER_MAX	4096	/* loader-shaped files user space found not to be loaders */
#define SG_HELD_MAX		8192	/* processes held (or doomed) until the daemon says otherwise */

enum sg_event_type {
	SG_EV_EXEC = 1,
	SG_EV_EXIT = 2,
	SG_EV_NET = 3,
	SG_EV_FILE = 4,		/* struct sg_file_event: a protected-file operation (BPF LSM) */
	SG_EV_FILE_OPEN = 5,	/* struct sg_open_event: file-open audit (FILE-4) */
	SG_EV_FILE_REFUSAL = 6,	/* struct sg_refusal_event: a system call failed with EPERM */
	SG_EV_LIBRARY = 7,	/* struct sg_exec_event: a file's code about to run in a process (libraries:) */
};

/* sg_exec_event.flags */
#define SG_F_PATH_TRUNC		(1u << 0)	/* more components than SG_PATH_DEPTH */
#define SG_F_ARGS_TRUNC		(1u << 1)
#define SG_F_FILELESS		(1u << 2)	/* memfd or unlinked file (nlink == 0) */
#define SG_F_LOADER		(1u << 3)	/* an ELF shaped like a dynamic loader run as the program */
#define SG_F_KILLED		(1u << 4)	/* SIGKILL sent in kernel at exec */
#define SG_F_HELD		(1u << 5)	/* SIGSTOP sent: user space must resume or kill */
#define SG_F_SIGNAL_FAILED	(1u << 6)	/* bpf_send_signal() returned an error */
#define SG_F_LSM_DENIED		(1u << 7)	/* denied by a BPF LSM hook: the exec never happened */
#define SG_F_MMAP		(1u << 8)	/* ...at mmap(PROT_EXEC), e.g. by the dynamic loader */
#define SG_F_PATH_PSEUDO	(1u << 9)	/* path is a pseudo name (memfd:x), not a directory path */
#define SG_F_NAME_CHANGED	(1u << 10)	/* a cached-allowed file run under another name */
#define SG_F_NAME_CACHED	(1u << 11)	/* a cached-allowed file run under the cached name */
#define SG_F_HOLD_KILLED	(1u << 12)	/* needed a hold, but holds are off (no gate): killed */
#define SG_F_PATH_FSREL		(1u << 13)	/* another mount namespace: path is within the file's filesystem */
#define SG_F_UNMARKED_FS	(1u << 14)	/* the file's filesystem has no exec-permission mark of ours */
#define SG_F_INTERP		(1u << 15)	/* an interpreter of scripts: control (its script is judged) */

/* Kernel view of a file: s_dev is major << 20 | minor, not st_dev. */
struct sg_inode_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct sg_deny_value {
	__u32 rule_id;
	__u32 flags;
};

/* Global switches written by user space before attach (rodata) or at run time (bss/data). */
struct sg_exec_config {
	__u32 enforce;		/* 0 monitor: never deny or signal; 1 enforce */
	__u32 kill;		/* SIGKILL at exec for the deny set (backend bpf_kill) */
	__u32 fileless_deny;	/* 1: kill fileless execs; 0: hold them for a verdict */
	__u32 hold_fileless;	/* 1: hold fileless execs for user space */
	__u32 hold_loader;	/* 1: hold direct dynamic-loader runs for user space */
	__u32 daemon_tgid;	/* never signal the daemon itself */
	__u32 hold_gate;	/* 1: the gate is attached and holds are safe; 0: kill instead */
	__u32 host_mnt_ns;	/* inode of the daemon's mount namespace: paths there are the host's */
	__u32 hold_uncertain;	/* 1: hold an exec whose path could not be read whole */
	__u32 hold_scripts;	/* 1: hold interpreter runs: their script needs a verdict */
	__u32 lib_ask;		/* 1: code of a file in neither lib_deny nor lib_ok is held for user space */
	__u32 pad;
};

/*
 * A held process (value: its start time) is killed by the gate at its first
 * user page fault, which its first instruction takes: a SIGCONT or a ptracer
 * that undoes the SIGSTOP gains nothing. Only the daemon releases it, by
 * deleting the entry before its own SIGCONT; a child forked by a held (or
 * doomed) process is entered too. The exit tracepoint removes entries.
 */
struct sg_held_value {
	__u64 start_ns;		/* task->start_time of the process (monotonic ns) */
};

struct sg_event_hdr {
	__u32 type;
	__u32 flags;
	__u64 ts_ns;		/* bpf_ktime_get_boot_ns() */
	__u32 pid;		/* thread id */
	__u32 tgid;
	__u32 ppid;		/* real parent's tgid */
	__u32 uid;
	__u32 gid;
	__u32 pad;
	__u64 cgroup_id;
	char comm[SG_COMM_LEN];
};

struct sg_exec_event {
	struct sg_event_hdr hdr;
	struct sg_inode_key file;	/* executable */
	struct sg_inode_key parent_file;/* parent's executable, zero if none */
	__u64 ctime_ns;			/* executable's inode ctime, to validate caches */
	__u64 path_hash;		/* FNV-1a of path[0..path_len), for the name cache */
	__u32 nlink;
	__u32 rule_id;			/* kernel deny rule that matched, 0 if none */
	__s32 signal_err;		/* bpf_send_signal() result when a signal was sent */
	__u16 filename_len;
	__u16 path_len;			/* bytes used in path[] */
	__u16 args_len;			/* bytes used in args[] */
	__u16 path_depth;		/* components in path[] */
	__u32 pad;
	__u64 start_ns;			/* the process's start time, as the held map keys it */
	char parent_comm[SG_COMM_LEN];
	char filename[SG_FILENAME_LEN];
	char path[SG_PATH_BUF];
	char args[SG_ARGS_LEN];
};

struct sg_exit_event {
	struct sg_event_hdr hdr;
	__s32 exit_code;
	__u32 pad;
};

/*
 * Egress (NET-1): cgroup connect/sendmsg hooks. An LPM trie per family maps
 * a destination prefix to one rule list; user space folds every shorter
 * prefix's rules into the lists of the longer ones it contains (most
 * specific first, then file order), so one lookup finds every candidate and
 * the first rule whose port, protocol and executable fit decides: deny
 * refuses, audit and allow let through (both recorded), so an allow on a
 * longer prefix carves an exception out of a deny on a shorter one.
 */
#define SG_EGRESS_PREFIXES	16384
#define SG_EGRESS_LIST_LEN	8
#define SG_EGRESS_LISTS		16384

struct sg_egress_key4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct sg_egress_key6 {
	__u32 prefixlen;
	__u8 addr[16];
};

enum sg_egress_action {
	SG_EGRESS_DENY = 1,
	SG_EGRESS_AUDIT = 2,
	SG_EGRESS_ALLOW = 3,	/* let through, recorded: the exceptions to a wider deny */
};

struct sg_egress_rule {
	__u32 rule_id;		/* 1-based index into the policy's egress rules; 0 ends the list */
	__u8 action;		/* enum sg_egress_action */
	__u8 proto;		/* 0 any, 6 tcp, 17 udp */
	__u16 port_lo;		/* host order; 0..65535 is any port */
	__u16 port_hi;
	__u16 scope_bit;	/* 0: every process; n: only cgroups whose scope mask has bit n-1 */
	struct sg_inode_key exe;/* ino 0: any executable */
};

/*
 * Containers' cgroups (cgroup v2 id) and the scoped egress rules that apply
 * in them, as a mask of scope bits; a process below such a cgroup is in it.
 */
#define SG_EGRESS_SCOPES	16384
#define SG_SCOPE_DEPTH		16	/* cgroup levels looked at, from the root down */

struct sg_egress_list {
	struct sg_egress_rule r[SG_EGRESS_LIST_LEN];
};

struct sg_egress_config {
	__u32 enforce;		/* 0 monitor: report what would be denied, block nothing */
	__u32 pad;
};

/* sg_net_event.op */
#define SG_NET_CONNECT		1
#define SG_NET_SENDMSG		2

struct sg_net_event {
	struct sg_event_hdr hdr;
	struct sg_inode_key exe;	/* the caller's executable */
	__u32 rule_id;
	__u8 action;			/* enum sg_egress_action of the matching rule */
	__u8 blocked;			/* 1: the call failed with EPERM */
	__u8 family;			/* 4 or 6 */
	__u8 proto;
	__u16 dport;			/* host order */
	__u8 op;			/* SG_NET_CONNECT or SG_NET_SENDMSG */
	__u8 mapped;			/* 1: from an IPv6 socket, to ::ffff:daddr (family is 4) */
	__u32 pad2;
	__u8 daddr[16];			/* network order; v4 in the first 4 bytes */
};

/*
 * File protection (FILE-1, FILE-3): protected inodes, keyed by struct
 * sg_inode_key, and what is denied on each. The same bits are the policy's
 * `deny:` list (src/policy/policy.h checks they agree).
 */
#define SG_FILE_PROTECT_MAX	65536
#define SG_FILE_DENY_WRITE	(1u << 0)	/* open for write, O_TRUNC, truncate(), setattr (chmod, chown, utimes) */
#define SG_FILE_DENY_DELETE	(1u << 1)	/* unlink, rename away, replace by rename, new hard link */
#define SG_FILE_DENY_READ	(1u << 2)	/* any open */
#define SG_FILE_DENY_CREATE	(1u << 3)	/* directories: any new entry in it (create, mkdir,
						 * mknod, symlink, link or rename into it) */

struct sg_file_rule {
	__u32 rule_id;		/* 1-based index of the policy's files: rule, or a block-list/self-defence id */
	__u32 deny;		/* SG_FILE_DENY_* */
};

/* sg_file_event.op */
enum sg_file_op {
	SG_FOP_OPEN_WRITE = 1,
	SG_FOP_OPEN_READ = 2,
	SG_FOP_UNLINK = 3,
	SG_FOP_RENAME = 4,
	SG_FOP_TRUNCATE = 5,
	SG_FOP_SETATTR = 6,
	SG_FOP_LINK = 7,
	SG_FOP_BPF_MAP = 8,	/* BPF-7: a new fd to one of the daemon's maps */
	SG_FOP_CREATE = 9,	/* a new entry in a deny: [create] directory, or at an absent
				 * protected name: file = the directory, name = the new entry */
};

/* Globals of the file guard, written by user space. */
struct sg_file_guard_config {
	__u32 enforce;			/* 0 monitor: report, never deny */
	__u32 daemon_tgid;		/* 0: any process running daemon_exe is exempt; else only
					 * this one (init pid namespace), so a second copy of the
					 * binary (LD_PRELOAD, prctl(PR_SET_MM_EXE_FILE)) is not */
	struct sg_inode_key daemon_exe;	/* the only executable allowed to change protected files */
};

/*
 * BPF-7: the daemon's maps, by map id, in the file guard's sg_guarded_maps
 * (value struct sg_file_rule). SG_FILE_DENY_WRITE refuses write-mode fds,
 * SG_FILE_DENY_READ refuses every new fd (a read-only fd still lets its
 * holder load a program that writes the map: see docs/file-protection.md).
 */
#define SG_FILE_GUARD_MAPS_MAX	256

/*
 * Absent protected paths (sg_absent): the parent directory and the missing
 * name, NUL padded (names of SG_ABSENT_NAME_LEN bytes or more do not fit),
 * value struct sg_file_rule.
 */
#define SG_FILE_ABSENT_MAX	4096
#define SG_ABSENT_NAME_LEN	64
struct sg_absent_key {
	struct sg_inode_key dir;
	char name[SG_ABSENT_NAME_LEN];
};
#define SG_FILE_RINGBUF_BYTES	(1u << 20)

struct sg_file_event {
	struct sg_event_hdr hdr;
	struct sg_inode_key file;	/* the protected inode (for SG_FOP_BPF_MAP: ino = map id) */
	struct sg_inode_key exe;	/* the caller's executable */
	__u32 rule_id;
	__u32 op;			/* enum sg_file_op */
	__u32 blocked;			/* 1: the operation failed with EPERM */
	__u32 mode;			/* f_flags of an open, ia_valid of a setattr or truncate,
					 * fmode of a bpf_map fd */
	char name[SG_NAME_LEN];		/* the dentry's name (basename), NUL terminated */
};

/*
 * File-open audit (FILE-4): observe-only, for the processes a policy's
 * file_audit: list selects (by executable identity, or by cgroup and its
 * whole subtree). bpf/file_audit.bpf.c, loaded by src/sense/open_audit.c.
 */
#define SG_TRACE_SELECT_MAX	1024	/* selected executables, and selected cgroups */
#define SG_OPEN_DEDUP_MAX	65536	/* (tgid, inode) pairs remembered as reported */
#define SG_OPEN_DEDUP_WAYS	4	/* LRU sets of this many entries */
#define SG_OPEN_CGROUP_LEVELS	64	/* a selected cgroup at most 63 levels below the root */
#define SG_OPEN_RINGBUF_BYTES	(2u << 20)
/* rule_id bit: which of user space's two latest selection tables names the rule. */
#define SG_OPEN_RULE_GEN	(1u << 31)

/*
 * Prefilters in front of the selection maps: bit sg_open_bloom_bit(v) is set
 * for every selected executable (v = sg_open_exe_word(key)) and cgroup
 * (v = its id). A clear bit skips the hash lookup, so an unselected open
 * costs a few loads and no lookup.
 */
#define SG_OPEN_BLOOM_WORDS	16	/* 1024 bits */

static inline __u32 sg_open_bloom_bit(__u64 v)
{
	return (__u32)((v * 0x9e3779b97f4a7c15ull) >> 54);
}

static inline __u64 sg_open_exe_word(const struct sg_inode_key *k)
{
	return k->ino ^ ((__u64)k->dev << 40);
}

/* Globals of the file-open audit, written by user space (.bss) while attached. */
struct sg_open_config {
	__u32 daemon_tgid;	/* the daemon's own opens are never audited */
	__u32 dedup_gen;	/* dedup entries of another generation are stale; never 0 */
	__u32 nexes;		/* entries in open_sel_exe; 0 skips the executable check */
	__u32 ncgroups;		/* entries in open_sel_cgroup; 0 skips the cgroup check */
	__u64 cg_levels;	/* bit L: a selected cgroup sits L levels below the root */
	__u64 exe_bloom[SG_OPEN_BLOOM_WORDS];
	__u64 cg_bloom[SG_OPEN_BLOOM_WORDS];
};

/*
 * Deduplication is per process and file: "pid" is the thread group id
 * (what user space calls the pid), plus the low bits of the group leader's
 * start time so that a reused pid is a new key.
 */
struct sg_open_dedup_key {
	__u32 tgid;
	__u32 start;			/* low 32 bits of the group leader's start_time (ns) */
	struct sg_inode_key file;
};

/* sg_open_dedup_slot.seen */
#define SG_OPEN_SEEN_READ	(1u << 0)	/* FMODE_READ */
#define SG_OPEN_SEEN_WRITE	(1u << 1)	/* FMODE_WRITE */
#define SG_OPEN_SEEN_OTHER	(1u << 2)	/* neither (O_PATH, ioctl-only opens) */

struct sg_open_dedup_slot {
	struct sg_open_dedup_key key;
	__u32 gen;			/* sg_open_config.dedup_gen when written */
	__u32 seen;			/* SG_OPEN_SEEN_* already reported for this key */
	__u64 used;			/* boot-time ns of the last hit: LRU order in the set */
	__u64 check;			/* hash of key, gen and seen: a torn write reads as a miss */
};

/* One LRU set of the dedup table (an array map indexed by a hash of the key). */
struct sg_open_dedup_set {
	struct sg_open_dedup_slot way[SG_OPEN_DEDUP_WAYS];
};

struct sg_open_event {
	struct sg_event_hdr hdr;
	struct sg_inode_key file;	/* the opened inode */
	struct sg_inode_key exe;	/* the opener's executable, zero if none */
	__u32 rule_id;			/* the file_audit: selector (1-based) | SG_OPEN_RULE_GEN */
	__u32 flags;			/* the file's f_flags after the open (O_ACCMODE, O_APPEND,
					 * O_PATH...; the kernel has dropped O_CREAT, O_TRUNC) */
	__u32 fmode;			/* the kernel's f_mode (FMODE_READ 1, FMODE_WRITE 2) */
	__u32 imode;			/* the inode's i_mode: file type and permission bits */
	char name[SG_NAME_LEN];		/* basename (the dentry's name), NUL terminated */
	__u32 path_flags;		/* SG_F_PATH_TRUNC, SG_F_PATH_PSEUDO */
	__u16 path_len;			/* bytes used in path[] */
	__u16 path_depth;		/* components in path[] */
	char path[SG_PATH_BUF];		/* components, leaf first, as in sg_exec_event */
};

/* file_audit.bpf.c's per-CPU counters. */
enum sg_open_counter {
	SG_OCNT_RB_DROPS = 0,	/* ring buffer full: record lost, dedup not set, next open retries */
	SG_OCNT_SELECTED,	/* successful opens by selected processes */
	SG_OCNT_DEDUPED,	/* ...already reported for that process, file and access */
	SG_OCNT_RECORDS,	/* records submitted */
	SG_OCNT_MAX,
};

/* Per-CPU counters, indexed by enum sg_counter. */
enum sg_counter {
	SG_CNT_RB_DROPS = 0,		/* ring buffer full: event lost */
	SG_CNT_EXEC_SEEN,
	SG_CNT_KILLS,
	SG_CNT_KILL_FAILED,
	SG_CNT_HOLDS,
	SG_CNT_LSM_DENIES,
	SG_CNT_GATE_KILLS,		/* held processes that ran anyway and were killed at their first fault */
	SG_CNT_LIB_KILLS,		/* killed at the first instruction of a denied library */
	SG_CNT_LIB_UNCHECKED,		/* instruction faults the library check could not note (no thread storage) */
	SG_CNT_MAX,
};

/* file_guard.bpf.c's per-CPU counters. */
enum sg_file_counter {
	SG_FCNT_DENIES = 0,	/* operations refused */
	SG_FCNT_MATCHES,	/* operations a rule matched, by others than the daemon (denied or would-deny) */
	SG_FCNT_RB_DROPS,	/* ring buffer full: record lost, verdict still applied */
	SG_FCNT_MAX,
};

/* egress.bpf.c's per-CPU counters. */
enum sg_net_counter {
	SG_NCNT_DENIES = 0,	/* calls refused */
	SG_NCNT_MATCHES,	/* calls a rule matched (denied, audited or would-deny) */
	SG_NCNT_RB_DROPS,	/* ring buffer full: record lost, verdict still applied */
	SG_NCNT_MAX,
};

/*
 * Refusals the kernel makes by itself, before any hook of ours: a file
 * carrying FS_IMMUTABLE_FL (fanotify backend) makes unlink, rename, link,
 * truncate, chmod, chown, utimes, xattr changes and write-opens fail with
 * EPERM. bpf/file_refusal.bpf.c sees that EPERM at the system call's exit
 * and hands the call's arguments to user space, which resolves the path
 * and keeps only protected files (src/sense/file_refusal.c).
 */
#define SG_REFUSAL_RINGBUF_BYTES	(512u << 10)
#define SG_REFUSAL_ARG_LEN		256	/* a path argument as given, truncated */

enum sg_refusal_op {
	SG_ROP_OPEN_WRITE = 1,
	SG_ROP_TRUNCATE,
	SG_ROP_UNLINK,
	SG_ROP_RENAME,
	SG_ROP_LINK,
	SG_ROP_CHMOD,
	SG_ROP_CHOWN,
	SG_ROP_UTIMES,
	SG_ROP_XATTR,
	SG_ROP_MAX,
};

/* sg_refusal_arg.flags */
#define SG_RA_PATH	(1u << 0)	/* path[] was read from the caller's memory */
#define SG_RA_TRUNC	(1u << 1)	/* ...and did not fit */
#define SG_RA_NOFOLLOW	(1u << 2)	/* the call does not follow a final symlink */
#define SG_RA_BASE	(1u << 3)	/* base[] is the directory a relative path starts from */

/* One path argument: dirfd, the string as given, and its base directory's path. */
struct sg_refusal_arg {
	__s32 dirfd;			/* AT_FDCWD (-100) when the call takes none */
	__u32 flags;			/* SG_RA_* */
	__u32 base_flags;		/* SG_F_PATH_TRUNC, SG_F_PATH_PSEUDO of base[] */
	__u16 base_len;			/* bytes used in base[] */
	__u16 base_depth;		/* components in base[] */
	char path[SG_REFUSAL_ARG_LEN];	/* NUL terminated when SG_RA_PATH */
	char base[SG_PATH_BUF];		/* components, leaf first, as in sg_exec_event */
};

struct sg_refusal_event {
	struct sg_event_hdr hdr;
	struct sg_inode_key file;	/* fd-based calls: the fd's inode, a protected one */
	struct sg_inode_key exe;	/* the caller's executable, zero if none */
	__u32 op;			/* enum sg_refusal_op */
	__u32 nr;			/* x86_64 system call number */
	__u32 oflags;			/* opens: the flags asked for (openat2: as read back) */
	__u32 nargs;			/* path arguments in arg[] (0 for fd-based calls) */
	struct sg_refusal_arg arg[2];
	/* The caller's executable's path, read now: it may exit before we look. */
	__u32 exe_flags;		/* SG_F_PATH_TRUNC, SG_F_PATH_PSEUDO */
	__u16 exe_len;
	__u16 exe_depth;
	char exe_path[SG_PATH_BUF];	/* components, leaf first */
};

/* Globals of bpf/file_refusal.bpf.c, written by user space. */
struct sg_refusal_config {
	__u32 daemon_tgid;		/* the daemon's own refusals are not reported */
	__u32 pad;
};

enum sg_refusal_counter {
	SG_RCNT_RB_DROPS = 0,	/* ring buffer full: the record is lost (the refusal is not) */
	SG_RCNT_EPERM,		/* EPERM exits of a watched call */
	SG_RCNT_RECORDS,	/* records submitted */
	SG_RCNT_MAX,
};

#endif

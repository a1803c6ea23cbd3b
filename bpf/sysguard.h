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
#define SG_NAME_CACHE_MAX	16384	/* allowed files cached by fanotify ignore marks */
#define SG_NOT_LOADER_MAX	4096	/* loader-shaped files user space found not to be loaders */

enum sg_event_type {
	SG_EV_EXEC = 1,
	SG_EV_EXIT = 2,
	SG_EV_NET = 3,
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
 * the first rule whose port, protocol and executable fit decides.
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
};

struct sg_egress_rule {
	__u32 rule_id;		/* 1-based index into the policy's egress rules; 0 ends the list */
	__u8 action;		/* enum sg_egress_action */
	__u8 proto;		/* 0 any, 6 tcp, 17 udp */
	__u16 port_lo;		/* host order; 0..65535 is any port */
	__u16 port_hi;
	__u16 pad;
	struct sg_inode_key exe;/* ino 0: any executable */
};

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
	__u8 pad;
	__u32 pad2;
	__u8 daddr[16];			/* network order; v4 in the first 4 bytes */
};

/* Per-CPU counters, indexed by enum sg_counter. */
enum sg_counter {
	SG_CNT_RB_DROPS = 0,		/* ring buffer full: event lost */
	SG_CNT_EXEC_SEEN,
	SG_CNT_KILLS,
	SG_CNT_KILL_FAILED,
	SG_CNT_HOLDS,
	SG_CNT_LSM_DENIES,
	SG_CNT_MAX,
};

/* egress.bpf.c's per-CPU counters. */
enum sg_net_counter {
	SG_NCNT_DENIES = 0,	/* calls refused */
	SG_NCNT_MATCHES,	/* calls a rule matched (denied, audited or would-deny) */
	SG_NCNT_RB_DROPS,	/* ring buffer full: record lost, verdict still applied */
	SG_NCNT_MAX,
};

#endif

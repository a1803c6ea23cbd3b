// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Refusals with no hook of ours in the way: on the fanotify backend a
 * protected file carries FS_IMMUTABLE_FL, and the kernel refuses unlink,
 * rename, link, truncate, chmod, chown, utimes, xattr changes and
 * write-opens of it with EPERM before fanotify sees anything. This program
 * sits on the raw sys_exit tracepoint, which hands over the caller's saved
 * registers (the arguments) with the return value, so one program covers
 * every call and no entry hook has to remember arguments.
 *
 * It runs at the exit of every system call while attached (user space
 * attaches it only while immutable protected files exist), so the first
 * test is the return value: anything but -EPERM returns at once. Then:
 * a call we do not watch, a 32-bit call, or the daemon -> return; an
 * fd-based call on an inode that is not protected -> return; otherwise a
 * record with the call, the process and its path arguments as given, each
 * with the path of the directory it is relative to. The kernel cannot
 * resolve a path cheaply here, so user space resolves it and drops
 * refusals of files that are not ours. Never changes a result.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sysguard.h"
#include "path_walk.bpf.h"
#include "zero_fill.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

_Static_assert(sizeof(struct sg_refusal_event) <= SG_ZERO_BYTES, "zero buffer too small");

#define SG_EPERM 1
#define SG_AT_FDCWD -100
#define SG_AT_SYMLINK_NOFOLLOW 0x100
#define SG_AT_SYMLINK_FOLLOW 0x400
#define SG_TS_COMPAT 0x0002

struct sg_refusal_config refusal_cfg = {};

/* Protected inodes (the immutable ones): fd-based calls are filtered here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_FILE_PROTECT_MAX);
	__type(key, struct sg_inode_key);
	__type(value, __u32);
} refusal_files SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SG_REFUSAL_RINGBUF_BYTES);
} refusal_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_RCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} refusal_counters SEC(".maps");

/* What one system call is: its operation and where its arguments are. */
struct call {
	__u32 op;
	__u32 nargs;		/* path arguments */
	int fd;			/* fd-based: the fd (>= 0), else -1 */
	long dirfd[2];
	const char *path[2];
	__u32 aflags;		/* SG_RA_NOFOLLOW for both path arguments */
	__u32 oflags;
};

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&refusal_counters, &which);

	if (v)
		*v += 1;
}

static __always_inline void path_args(struct call *c, __u32 op, long d0, unsigned long p0,
				      __u32 aflags)
{
	c->op = op;
	c->nargs = 1;
	c->dirfd[0] = d0;
	c->path[0] = (const char *)p0;
	c->aflags = aflags;
}

static __always_inline void two_path_args(struct call *c, __u32 op, long d0, unsigned long p0,
					  long d1, unsigned long p1, __u32 aflags)
{
	path_args(c, op, d0, p0, aflags);
	c->nargs = 2;
	c->dirfd[1] = d1;
	c->path[1] = (const char *)p1;
}

static __always_inline void fd_arg(struct call *c, __u32 op, long fd)
{
	c->op = op;
	c->fd = (int)fd;
}

static __always_inline __u32 nofollow_if(unsigned long flags)
{
	return flags & SG_AT_SYMLINK_NOFOLLOW ? SG_RA_NOFOLLOW : 0;
}

/* x86_64 system call numbers; false for a call we do not watch. */
static __always_inline bool classify(long nr, struct pt_regs *regs, struct call *c)
{
	unsigned long a0 = regs->di, a1 = regs->si, a2 = regs->dx, a3 = regs->r10,
		      a4 = regs->r8;
	__u64 how = 0;

	c->fd = -1;
	switch (nr) {
	case 2:		/* open(path, flags, mode) */
		path_args(c, SG_ROP_OPEN_WRITE, SG_AT_FDCWD, a0, 0);
		c->oflags = (__u32)a1;
		return true;
	case 85:	/* creat(path, mode) */
		path_args(c, SG_ROP_OPEN_WRITE, SG_AT_FDCWD, a0, 0);
		c->oflags = 01 | 0100 | 01000;	/* O_WRONLY | O_CREAT | O_TRUNC */
		return true;
	case 257:	/* openat(dfd, path, flags, mode) */
		path_args(c, SG_ROP_OPEN_WRITE, (int)a0, a1, 0);
		c->oflags = (__u32)a2;
		return true;
	case 437:	/* openat2(dfd, path, how, size): the flags are in the caller's memory */
		path_args(c, SG_ROP_OPEN_WRITE, (int)a0, a1, 0);
		bpf_probe_read_user(&how, sizeof(how), (void *)a2);
		c->oflags = (__u32)how;
		return true;
	case 76:	/* truncate(path, len) */
		path_args(c, SG_ROP_TRUNCATE, SG_AT_FDCWD, a0, 0);
		return true;
	case 77:	/* ftruncate(fd, len) */
		fd_arg(c, SG_ROP_TRUNCATE, a0);
		return true;
	case 87:	/* unlink(path) */
		path_args(c, SG_ROP_UNLINK, SG_AT_FDCWD, a0, SG_RA_NOFOLLOW);
		return true;
	case 263:	/* unlinkat(dfd, path, flags) */
		path_args(c, SG_ROP_UNLINK, (int)a0, a1, SG_RA_NOFOLLOW);
		return true;
	case 82:	/* rename(old, new) */
		two_path_args(c, SG_ROP_RENAME, SG_AT_FDCWD, a0, SG_AT_FDCWD, a1, SG_RA_NOFOLLOW);
		return true;
	case 264:	/* renameat(odfd, old, ndfd, new) */
	case 316:	/* renameat2(odfd, old, ndfd, new, flags) */
		two_path_args(c, SG_ROP_RENAME, (int)a0, a1, (int)a2, a3, SG_RA_NOFOLLOW);
		return true;
	case 86:	/* link(old, new): never follows */
		two_path_args(c, SG_ROP_LINK, SG_AT_FDCWD, a0, SG_AT_FDCWD, a1, SG_RA_NOFOLLOW);
		return true;
	case 265:	/* linkat(odfd, old, ndfd, new, flags) */
		two_path_args(c, SG_ROP_LINK, (int)a0, a1, (int)a2, a3,
			      a4 & SG_AT_SYMLINK_FOLLOW ? 0 : SG_RA_NOFOLLOW);
		return true;
	case 90:	/* chmod(path, mode) */
		path_args(c, SG_ROP_CHMOD, SG_AT_FDCWD, a0, 0);
		return true;
	case 91:	/* fchmod(fd, mode) */
		fd_arg(c, SG_ROP_CHMOD, a0);
		return true;
	case 268:	/* fchmodat(dfd, path, mode) */
		path_args(c, SG_ROP_CHMOD, (int)a0, a1, 0);
		return true;
	case 452:	/* fchmodat2(dfd, path, mode, flags) */
		path_args(c, SG_ROP_CHMOD, (int)a0, a1, nofollow_if(a3));
		return true;
	case 92:	/* chown(path, uid, gid) */
		path_args(c, SG_ROP_CHOWN, SG_AT_FDCWD, a0, 0);
		return true;
	case 94:	/* lchown(path, uid, gid) */
		path_args(c, SG_ROP_CHOWN, SG_AT_FDCWD, a0, SG_RA_NOFOLLOW);
		return true;
	case 93:	/* fchown(fd, uid, gid) */
		fd_arg(c, SG_ROP_CHOWN, a0);
		return true;
	case 260:	/* fchownat(dfd, path, uid, gid, flags) */
		path_args(c, SG_ROP_CHOWN, (int)a0, a1, nofollow_if(a4));
		return true;
	case 132:	/* utime(path, times) */
	case 235:	/* utimes(path, times) */
		path_args(c, SG_ROP_UTIMES, SG_AT_FDCWD, a0, 0);
		return true;
	case 261:	/* futimesat(dfd, path, times) */
		path_args(c, SG_ROP_UTIMES, (int)a0, a1, 0);
		return true;
	case 280:	/* utimensat(dfd, path, times, flags); no path: the fd itself */
		if (!a1)
			fd_arg(c, SG_ROP_UTIMES, a0);
		else
			path_args(c, SG_ROP_UTIMES, (int)a0, a1, nofollow_if(a3));
		return true;
	case 188:	/* setxattr(path, ...) */
	case 197:	/* removexattr(path, name) */
		path_args(c, SG_ROP_XATTR, SG_AT_FDCWD, a0, 0);
		return true;
	case 189:	/* lsetxattr(path, ...) */
	case 198:	/* lremovexattr(path, name) */
		path_args(c, SG_ROP_XATTR, SG_AT_FDCWD, a0, SG_RA_NOFOLLOW);
		return true;
	case 190:	/* fsetxattr(fd, ...) */
	case 199:	/* fremovexattr(fd, name) */
		fd_arg(c, SG_ROP_XATTR, a0);
		return true;
	case 463:	/* setxattrat(dfd, path, at_flags, ...) */
	case 466:	/* removexattrat(dfd, path, at_flags, name) */
		path_args(c, SG_ROP_XATTR, (int)a0, a1, nofollow_if(a2));
		return true;
	}
	return false;
}

static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || !fdt || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

static __always_inline bool inode_key(struct file *f, struct sg_inode_key *k)
{
	struct inode *inode = f ? BPF_CORE_READ(f, f_inode) : NULL;

	if (!inode)
		return false;
	k->ino = BPF_CORE_READ(inode, i_ino);
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k->pad = 0;
	return true;
}

static __always_inline void exe_of(struct task_struct *task, struct sg_refusal_event *e)
{
	struct mm_struct *mm = task->mm;
	struct file *exe = mm ? mm->exe_file : NULL;
	struct inode *inode = exe ? exe->f_inode : NULL;
	__u64 hash;

	if (!inode)
		return;
	e->exe.ino = inode->i_ino;
	e->exe.dev = inode->i_sb->s_dev;
	e->exe_len = sg_walk_path(exe, e->exe_path, &e->exe_depth, &e->exe_flags, &hash, false);
}

/*
 * The path argument as given and, when it is relative, the path of the
 * directory it starts from (dirfd's or the cwd), read now: by the time
 * user space reads the record the process may have exited.
 */
static __always_inline void read_arg(struct task_struct *task, struct sg_refusal_arg *a,
				     long dirfd, const char *upath, __u32 aflags)
{
	struct dentry *d = NULL;
	struct vfsmount *mnt = NULL;
	long n;

	a->dirfd = (__s32)dirfd;
	a->flags = aflags;
	n = bpf_probe_read_user_str(a->path, sizeof(a->path), upath);
	if (n <= 0)
		return;
	a->flags |= SG_RA_PATH;
	if (n == sizeof(a->path))
		a->flags |= SG_RA_TRUNC;
	if (a->path[0] == '/')
		return;
	if (dirfd == SG_AT_FDCWD) {
		struct fs_struct *fs = task->fs;

		if (fs) {
			d = fs->pwd.dentry;
			mnt = fs->pwd.mnt;
		}
	} else {
		struct file *f = fd_file(task, dirfd);

		if (f) {
			d = BPF_CORE_READ(f, f_path.dentry);
			mnt = BPF_CORE_READ(f, f_path.mnt);
		}
	}
	if (d && mnt) {
		__u64 hash;

		a->base_len = sg_walk_dentry(d, mnt, a->base, &a->base_depth, &a->base_flags,
					     &hash, false);
		if (a->base_len)
			a->flags |= SG_RA_BASE;
	}
}

static __noinline int on_eperm(struct pt_regs *regs)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sg_inode_key file = {};
	struct sg_refusal_event *e;
	struct call c = {};
	__u64 pid_tgid, uid_gid;
	long nr;

	if (task->thread_info.status & SG_TS_COMPAT)
		return 0;	/* ia32 numbers mean other calls */
	nr = regs->orig_ax;
	if (!classify(nr, regs, &c))
		return 0;
	if (task->tgid == refusal_cfg.daemon_tgid)
		return 0;
	count(SG_RCNT_EPERM);
	if (c.fd >= 0) {
		if (!inode_key(fd_file(task, c.fd), &file) ||
		    !bpf_map_lookup_elem(&refusal_files, &file))
			return 0;
	}
	e = bpf_ringbuf_reserve(&refusal_events, sizeof(*e), 0);
	if (!e) {
		count(SG_RCNT_RB_DROPS);
		return 0;
	}
	sg_zero_fill(e, sizeof(*e));	/* BPF-6: no residue reaches user space */
	pid_tgid = bpf_get_current_pid_tgid();
	uid_gid = bpf_get_current_uid_gid();
	e->hdr.type = SG_EV_FILE_REFUSAL;
	e->hdr.ts_ns = bpf_ktime_get_boot_ns();
	e->hdr.pid = (__u32)pid_tgid;
	e->hdr.tgid = pid_tgid >> 32;
	e->hdr.ppid = task->real_parent->tgid;
	e->hdr.uid = (__u32)uid_gid;
	e->hdr.gid = uid_gid >> 32;
	e->hdr.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	exe_of(task, e);
	e->file = file;
	e->op = c.op;
	e->nr = (__u32)nr;
	e->oflags = c.oflags;
	e->nargs = c.nargs;
	if (c.nargs > 0)
		read_arg(task, &e->arg[0], c.dirfd[0], c.path[0], c.aflags);
	if (c.nargs > 1)
		read_arg(task, &e->arg[1], c.dirfd[1], c.path[1], c.aflags);
	bpf_ringbuf_submit(e, 0);
	count(SG_RCNT_RECORDS);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sg_refusal, struct pt_regs *regs, long ret)
{
	/* The only test every system call on the host pays for. */
	if (ret != -SG_EPERM)
		return 0;
	return on_eperm(regs);
}

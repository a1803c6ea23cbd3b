// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * File guard on BPF LSM (FILE-1, FILE-3, BPF-7).
 *
 * Protected inodes (sg_protected, keyed by the kernel's s_dev + i_ino, so
 * every name of the inode is covered: symlinks resolve to it, hard links
 * share it) are checked by the VFS hooks that precede a change:
 *
 *   file_open       DENY_READ: any open; DENY_WRITE: FMODE_WRITE or O_TRUNC
 *   inode_setattr   DENY_WRITE: chmod, chown, utimes, and size: every
 *                   truncation (truncate(), ftruncate(), O_TRUNC) ends in
 *                   notify_change(), so path_truncate would only report
 *                   it twice
 *   inode_unlink    DENY_DELETE
 *   inode_rename    DENY_DELETE: the renamed inode, and the one it replaces
 *   inode_link      DENY_DELETE: a new name for the inode
 *   inode_create, inode_mkdir, inode_mknod, inode_symlink, and the target
 *   side of inode_link and inode_rename: DENY_CREATE on the directory, or
 *   the new name in sg_absent (an absent protected path)
 *
 * bpf_map refuses new fds to the daemon's maps (sg_guarded_maps, by map id).
 * The daemon's own executable (and, if set, only its process) is exempt
 * from all of it. In monitor mode every would-be refusal is reported and
 * nothing is refused.
 */
/* Not common.bpf.h: its path-walk scratch, counters and zero buffer are not used here. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sysguard.h"
#include "event_hdr.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Kernel macros, not in BTF. */
#define EPERM		1
#define SG_FMODE_WRITE	0x2
#define SG_O_TRUNC	01000
#define SG_ATTR_SIZE	(1u << 3)
#define SG_MAX_ERRNO	4095

struct sg_file_guard_config fg_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_FILE_PROTECT_MAX);
	__type(key, struct sg_inode_key);
	__type(value, struct sg_file_rule);
} sg_protected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_FILE_GUARD_MAPS_MAX);
	__type(key, __u32);
	__type(value, struct sg_file_rule);
} sg_guarded_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_FILE_ABSENT_MAX);
	__type(key, struct sg_absent_key);
	__type(value, struct sg_file_rule);
} sg_absent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_absent_key);
} absent_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SG_FILE_RINGBUF_BYTES);
} file_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_FCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} file_counters SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&file_counters, &which);

	if (v)
		*v += 1;
}

/*
 * What an earlier BPF LSM program on this hook decided stands. Newer
 * kernels check that an LSM program returns 0 or an errno, so hand back a
 * value the verifier can bound: an out-of-range one becomes -EPERM.
 */
static __always_inline int prior(int ret)
{
	__u32 t = (__u32)ret + SG_MAX_ERRNO;

	if (t > SG_MAX_ERRNO)
		return -EPERM;
	return (int)t - SG_MAX_ERRNO;
}

/* The kernel's view of an inode, as common.bpf.h's sg_inode_key_of(). */
static __always_inline void inode_key(struct inode *inode, struct sg_inode_key *k)
{
	k->ino = BPF_CORE_READ(inode, i_ino);
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k->pad = 0;
}

/* The caller's executable into *exe; true if the caller is the daemon. */
static __always_inline bool caller_is_daemon(struct sg_inode_key *exe)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	__u32 tgid;

	exe->ino = 0;
	exe->dev = 0;
	exe->pad = 0;
	if (!inode)
		return false;	/* kernel threads: no executable, no exemption */
	inode_key(inode, exe);
	if (!fg_cfg.daemon_exe.ino || exe->ino != fg_cfg.daemon_exe.ino ||
	    exe->dev != fg_cfg.daemon_exe.dev)
		return false;
	tgid = bpf_get_current_pid_tgid() >> 32;
	return !fg_cfg.daemon_tgid || tgid == fg_cfg.daemon_tgid;
}

/*
 * A rule matched `op` on `file`: 0 for the daemon and in monitor mode,
 * else -EPERM; every case but the daemon's is reported. `name` is a kernel
 * string (the dentry's or the map's name).
 */
static __always_inline int verdict(const struct sg_inode_key *file, __u32 rule_id, __u32 op,
				   __u32 mode, const void *name)
{
	struct sg_file_event *e;
	struct sg_inode_key exe;
	int blocked;

	if (caller_is_daemon(&exe))
		return 0;
	count(SG_FCNT_MATCHES);
	blocked = fg_cfg.enforce != 0;
	if (blocked)
		count(SG_FCNT_DENIES);
	e = bpf_ringbuf_reserve(&file_events, sizeof(*e), 0);
	if (!e) {
		count(SG_FCNT_RB_DROPS);
		return blocked ? -EPERM : 0;	/* losing the record must not lose the verdict */
	}
	__builtin_memset(e, 0, sizeof(*e));	/* BPF-6: no residue reaches user space */
	sg_fill_hdr(&e->hdr, SG_EV_FILE, bpf_get_current_task_btf());
	e->file = *file;
	e->exe = exe;
	e->rule_id = rule_id;
	e->op = op;
	e->blocked = blocked;
	e->mode = mode;
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
	bpf_ringbuf_submit(e, 0);
	return blocked ? -EPERM : 0;
}

/* The verdict on `op` against dentry's inode, when its rule denies any of `need`. */
static __always_inline int guard(struct dentry *dentry, __u32 need, __u32 op, __u32 mode)
{
	struct inode *inode = BPF_CORE_READ(dentry, d_inode);
	struct sg_file_rule *r;
	struct sg_inode_key k;

	if (!inode)
		return 0;	/* negative dentry: nothing there to protect */
	inode_key(inode, &k);
	r = bpf_map_lookup_elem(&sg_protected, &k);
	if (!r || !(r->deny & need))
		return 0;
	return verdict(&k, r->rule_id, op, mode, BPF_CORE_READ(dentry, d_name.name));
}

/*
 * A new entry `dentry` in `dir`: refused when dir's rule has DENY_CREATE,
 * or when the name is an absent protected path of dir.
 */
static __always_inline int create_guard(struct inode *dir, struct dentry *dentry)
{
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	struct sg_absent_key *ak;
	struct sg_file_rule *r;
	struct sg_inode_key k;
	__u32 zero = 0;

	if (!dir)
		return 0;
	inode_key(dir, &k);
	r = bpf_map_lookup_elem(&sg_protected, &k);
	if (r && (r->deny & SG_FILE_DENY_CREATE))
		return verdict(&k, r->rule_id, SG_FOP_CREATE, 0, name);
	ak = bpf_map_lookup_elem(&absent_scratch, &zero);
	if (!ak)
		return 0;
	__builtin_memset(ak, 0, sizeof(*ak));
	ak->dir = k;
	if (bpf_probe_read_kernel_str(ak->name, sizeof(ak->name), name) <= 0)
		return 0;
	r = bpf_map_lookup_elem(&sg_absent, ak);
	if (!r)
		return 0;
	return verdict(&k, r->rule_id, SG_FOP_CREATE, 0, name);
}

SEC("lsm/inode_create")
int BPF_PROG(sg_fg_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return prior(ret);
	return create_guard(dir, dentry);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(sg_fg_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return prior(ret);
	return create_guard(dir, dentry);
}

SEC("lsm/inode_mknod")
int BPF_PROG(sg_fg_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev,
	     int ret)
{
	if (ret)
		return prior(ret);
	return create_guard(dir, dentry);
}

SEC("lsm/inode_symlink")
int BPF_PROG(sg_fg_symlink, struct inode *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	if (ret)
		return prior(ret);
	return create_guard(dir, dentry);
}

SEC("lsm/file_open")
int BPF_PROG(sg_fg_file_open, struct file *file, int ret)
{
	__u32 flags, fmode;
	bool writes;

	if (ret)
		return prior(ret);
	flags = BPF_CORE_READ(file, f_flags);
	fmode = BPF_CORE_READ(file, f_mode);
	/* O_TRUNC truncates after this hook even on an O_RDONLY open. */
	writes = (fmode & SG_FMODE_WRITE) || (flags & SG_O_TRUNC);
	return guard(BPF_CORE_READ(file, f_path.dentry),
		     writes ? SG_FILE_DENY_WRITE | SG_FILE_DENY_READ : SG_FILE_DENY_READ,
		     writes ? SG_FOP_OPEN_WRITE : SG_FOP_OPEN_READ, flags);
}

static __always_inline int setattr(struct dentry *dentry, struct iattr *attr)
{
	__u32 valid = BPF_CORE_READ(attr, ia_valid);

	return guard(dentry, SG_FILE_DENY_WRITE,
		     valid & SG_ATTR_SIZE ? SG_FOP_TRUNCATE : SG_FOP_SETATTR, valid);
}

/*
 * inode_setattr gained a leading idmap argument after 6.1; BPF LSM arguments
 * are positional, so there is one program per signature and user space
 * loads the one the running kernel's BTF has.
 */
SEC("lsm/inode_setattr")
int BPF_PROG(sg_fg_setattr, void *idmap, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return prior(ret);
	return setattr(dentry, attr);
}

SEC("lsm/inode_setattr")
int BPF_PROG(sg_fg_setattr_noidmap, struct dentry *dentry, struct iattr *attr, int ret)
{
	if (ret)
		return prior(ret);
	return setattr(dentry, attr);
}

SEC("lsm/inode_unlink")
int BPF_PROG(sg_fg_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return prior(ret);
	return guard(dentry, SG_FILE_DENY_DELETE, SG_FOP_UNLINK, 0);
}

/* RENAME_EXCHANGE calls the hook twice, swapped: both inodes are seen either way. */
SEC("lsm/inode_rename")
int BPF_PROG(sg_fg_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	int r;

	if (ret)
		return prior(ret);
	r = guard(old_dentry, SG_FILE_DENY_DELETE, SG_FOP_RENAME, 0);
	if (r)
		return r;
	r = guard(new_dentry, SG_FILE_DENY_DELETE, SG_FOP_RENAME, 0);
	if (r)
		return r;
	return create_guard(new_dir, new_dentry);
}

SEC("lsm/inode_link")
int BPF_PROG(sg_fg_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry,
	     int ret)
{
	int r;

	if (ret)
		return prior(ret);
	r = guard(old_dentry, SG_FILE_DENY_DELETE, SG_FOP_LINK, 0);
	if (r)
		return r;
	return create_guard(dir, new_dentry);
}

/*
 * BPF-7: every new fd to a map (create, get_fd_by_id, obj_get of a pin)
 * passes here. A guarded map refuses write-mode fds (DENY_WRITE) or any
 * fd (DENY_READ) to everyone but the daemon.
 */
SEC("lsm/bpf_map")
int BPF_PROG(sg_fg_bpf_map, struct bpf_map *map, fmode_t fmode, int ret)
{
	struct sg_inode_key k = {};
	struct sg_file_rule *r;
	__u32 id;

	if (ret)
		return prior(ret);
	id = BPF_CORE_READ(map, id);
	r = bpf_map_lookup_elem(&sg_guarded_maps, &id);
	if (!r)
		return 0;
	if (!(r->deny & SG_FILE_DENY_READ) &&
	    !((r->deny & SG_FILE_DENY_WRITE) && (fmode & SG_FMODE_WRITE)))
		return 0;
	k.ino = id;
	return verdict(&k, r->rule_id, SG_FOP_BPF_MAP, fmode, map->name);
}

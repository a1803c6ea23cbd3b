// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * File-open audit (FILE-4): observe-only. Runs at the exit of every open
 * system call on the host while attached (user space attaches it only when
 * the policy has file_audit: rules), so the common path is kept short:
 *
 *   failed open -> return; the daemon itself -> return;
 *   not in a selected cgroup (or below one) and not a selected executable
 *     -> return;
 *   the (process, inode) pair already reported with this access -> return;
 *   reserve, zero (BPF-6), fill and submit a record, and only then mark
 *   the pair reported, so a record lost to a full ring buffer is counted
 *   and retried at the next open instead of being silently deduplicated.
 *
 * Never denies anything: every program returns 0 and the open has already
 * happened when it runs. Opens through io_uring do not pass the system call
 * tracepoints and are not seen (docs/file-audit.md).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "sysguard.h"
#include "path_walk.bpf.h"
#include "zero_fill.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

_Static_assert(sizeof(struct sg_open_event) <= SG_ZERO_BYTES, "zero buffer too small");

#define SG_FMODE_READ 0x1
#define SG_FMODE_WRITE 0x2
#define DEDUP_SETS (SG_OPEN_DEDUP_MAX / SG_OPEN_DEDUP_WAYS)

struct sg_open_config open_cfg = {};

/* Selected executables: the file's kernel identity -> rule id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_TRACE_SELECT_MAX);
	__type(key, struct sg_inode_key);
	__type(value, __u32);
} open_sel_exe SEC(".maps");

/* Selected cgroups: cgroup v2 id (its directory's inode) -> rule id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_TRACE_SELECT_MAX);
	__type(key, __u64);
	__type(value, __u32);
} open_sel_cgroup SEC(".maps");

/*
 * What was reported: a set-associative LRU. The key's hash picks a set,
 * the set's least recently used way is replaced. Entries are written
 * through the lookup pointer (no map-update helper, BPF-2's allowlist
 * stays as it is); a generation number lets user space clear the whole
 * table in O(1). Two CPUs writing the same way at once can at worst leave
 * an entry whose check does not match: a miss, so a duplicate record, never
 * a lost one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DEDUP_SETS);
	__type(key, __u32);
	__type(value, struct sg_open_dedup_set);
} open_dedup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SG_OPEN_RINGBUF_BYTES);
} open_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_OCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} open_counters SEC(".maps");

/* Kernels before 6.0 kept the ancestors' ids instead of pointers. */
struct cgroup___ids {
	u64 ancestor_ids[0];
} __attribute__((preserve_access_index));

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&open_counters, &which);

	if (v)
		*v += 1;
}

/*
 * The task comes from bpf_get_current_task_btf(): fields reached from it
 * are plain (fault-safe) loads, not helper calls, which keeps the path
 * every unselected open takes short. Pointers read out of arrays are not
 * typed for the verifier and go through bpf_probe_read_kernel().
 */
static __always_inline void exe_key(struct task_struct *task, struct sg_inode_key *k)
{
	struct mm_struct *mm = task->mm;
	struct file *exe = mm ? mm->exe_file : NULL;
	struct inode *inode = exe ? exe->f_inode : NULL;

	k->ino = 0;
	k->dev = 0;
	k->pad = 0;
	if (!inode)
		return;
	k->ino = inode->i_ino;
	k->dev = inode->i_sb->s_dev;
}

static __always_inline __u64 ancestor_id(struct cgroup *cg, int level)
{
	struct cgroup___ids *old = (void *)cg;
	struct cgroup *anc = NULL;
	__u64 id = 0;

	if (bpf_core_field_exists(cg->ancestors)) {
		bpf_probe_read_kernel(&anc, sizeof(anc),
				      (void *)cg + bpf_core_field_offset(cg->ancestors) +
				      level * sizeof(anc));
		return anc ? BPF_CORE_READ(anc, kn, id) : 0;
	}
	bpf_probe_read_kernel(&id, sizeof(id),
			      (void *)old + bpf_core_field_offset(old->ancestor_ids) +
			      level * sizeof(id));
	return id;
}

static __always_inline bool bloom_has(const __u64 *bloom, __u64 v)
{
	__u32 bit = sg_open_bloom_bit(v);

	return bloom[(bit >> 6) & (SG_OPEN_BLOOM_WORDS - 1)] & (1ull << (bit & 63));
}

static __always_inline __u32 cgroup_lookup(__u64 id)
{
	__u32 *r;

	if (!bloom_has(open_cfg.cg_bloom, id))
		return 0;
	r = bpf_map_lookup_elem(&open_sel_cgroup, &id);
	return r ? *r : 0;
}

/*
 * The rule of a selected cgroup the current task is in or below; 0 if none.
 * Its own cgroup (the id bpf_get_current_cgroup_id() gives) is one
 * prefilter test; ancestors are looked at only on the levels where a
 * selected cgroup sits (cg_levels).
 */
static __always_inline __u32 cgroup_rule(struct task_struct *task)
{
	struct css_set *cs = task->cgroups;
	struct cgroup *cg = cs ? cs->dfl_cgrp : NULL;
	__u64 levels = open_cfg.cg_levels;
	__u32 rule;
	int level, l;

	if (!cg)
		return 0;
	rule = cgroup_lookup(cg->kn->id);
	if (rule || !levels)
		return rule;
	level = cg->level;
	for (l = 0; l < SG_OPEN_CGROUP_LEVELS; l++) {
		if (l >= level)
			break;
		if (!(levels & (1ull << l)))
			continue;
		rule = cgroup_lookup(ancestor_id(cg, l));
		if (rule)
			return rule;
	}
	return 0;
}

static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

/* murmur3's 64-bit finaliser */
static __always_inline __u64 mix(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static __always_inline __u64 key_hash(const struct sg_open_dedup_key *k)
{
	__u64 h = mix(k->file.ino ^ ((__u64)k->file.dev << 40));

	return mix(h ^ (((__u64)k->tgid << 32) | k->start));
}

static __always_inline __u64 slot_check(__u64 h, __u32 gen, __u32 seen)
{
	return mix(h ^ ((__u64)gen << 8) ^ seen ^ 0x5347u);
}

/* The way holding k in this generation, or -1. *seen gets what it has reported. */
static __always_inline int dedup_find(struct sg_open_dedup_set *s, const struct sg_open_dedup_key *k,
				      __u64 h, __u32 gen, __u32 *seen)
{
	int i;

#pragma unroll
	for (i = 0; i < SG_OPEN_DEDUP_WAYS; i++) {
		struct sg_open_dedup_slot *w = &s->way[i];
		/* One read of seen: the check must be of the value we then use. */
		__u32 got = *(volatile __u32 *)&w->seen;

		if (w->gen == gen && w->key.tgid == k->tgid && w->key.start == k->start &&
		    w->key.file.ino == k->file.ino && w->key.file.dev == k->file.dev &&
		    w->check == slot_check(h, gen, got)) {
			*seen = got;
			return i;
		}
	}
	return -1;
}

/* Mark k reported with `seen`: its own way, else a stale one, else the least recently used. */
static __always_inline void dedup_put(struct sg_open_dedup_set *s, const struct sg_open_dedup_key *k,
				      __u64 h, __u32 gen, __u32 seen, __u64 now)
{
	struct sg_open_dedup_slot *w;
	__u64 oldest = ~0ull;
	__u32 had = 0;
	int i, victim = dedup_find(s, k, h, gen, &had);

	if (victim < 0) {
		victim = 0;
#pragma unroll
		for (i = 0; i < SG_OPEN_DEDUP_WAYS; i++) {
			if (s->way[i].gen != gen) {
				victim = i;
				break;
			}
			if (s->way[i].used < oldest) {
				oldest = s->way[i].used;
				victim = i;
			}
		}
	}
	w = &s->way[victim & (SG_OPEN_DEDUP_WAYS - 1)];
	seen |= had;
	w->check = 0;
	w->key = *k;
	w->gen = gen;
	w->seen = seen;
	w->used = now;
	w->check = slot_check(h, gen, seen);
}

static __always_inline int on_open(long ret)
{
	__u64 pid_tgid, now;
	struct sg_open_dedup_set *set;
	struct sg_open_dedup_key key;
	struct sg_inode_key exe = {};
	struct task_struct *task;
	struct sg_open_event *e;
	__u32 tgid, rule = 0, seen, had = 0, slot, gen, *r;
	struct inode *inode;
	struct file *f;
	unsigned int fmode, fflags;
	bool have_exe = false;
	__u64 h;

	if (ret < 0)
		return 0;
	task = bpf_get_current_task_btf();
	tgid = task->tgid;
	if (tgid == open_cfg.daemon_tgid)
		return 0;
	if (open_cfg.ncgroups)
		rule = cgroup_rule(task);
	if (!rule && open_cfg.nexes) {
		exe_key(task, &exe);
		have_exe = true;
		if (bloom_has(open_cfg.exe_bloom, sg_open_exe_word(&exe))) {
			r = bpf_map_lookup_elem(&open_sel_exe, &exe);
			if (r)
				rule = *r;
		}
	}
	if (!rule)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();

	count(SG_OCNT_SELECTED);
	f = fd_file(task, ret);
	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode)
		return 0;
	key.tgid = tgid;
	key.start = (__u32)task->group_leader->start_time;
	key.file.ino = BPF_CORE_READ(inode, i_ino);
	key.file.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.file.pad = 0;
	fmode = BPF_CORE_READ(f, f_mode);
	fflags = BPF_CORE_READ(f, f_flags);
	seen = fmode & (SG_FMODE_READ | SG_FMODE_WRITE);
	if (!seen)
		seen = SG_OPEN_SEEN_OTHER;

	gen = open_cfg.dedup_gen;
	h = key_hash(&key);
	slot = (__u32)h & (DEDUP_SETS - 1);
	set = bpf_map_lookup_elem(&open_dedup, &slot);
	now = bpf_ktime_get_boot_ns();
	if (set) {
		int i = dedup_find(set, &key, h, gen, &had);

		if (i >= 0 && !(seen & ~had)) {
			set->way[i & (SG_OPEN_DEDUP_WAYS - 1)].used = now;	/* LRU: recently used */
			count(SG_OCNT_DEDUPED);
			return 0;
		}
	}

	e = bpf_ringbuf_reserve(&open_events, sizeof(*e), 0);
	if (!e) {
		count(SG_OCNT_RB_DROPS);
		return 0;	/* not marked: the next open of this file tries again */
	}
	sg_zero_fill(e, sizeof(*e));	/* BPF-6: no residue reaches user space */
	if (!have_exe)
		exe_key(task, &exe);
	{
		__u64 uid_gid = bpf_get_current_uid_gid();

		e->hdr.type = SG_EV_FILE_OPEN;
		e->hdr.ts_ns = now;
		e->hdr.pid = (__u32)pid_tgid;
		e->hdr.tgid = tgid;
		e->hdr.ppid = task->real_parent->tgid;
		e->hdr.uid = (__u32)uid_gid;
		e->hdr.gid = uid_gid >> 32;
		e->hdr.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	}
	e->file = key.file;
	e->exe = exe;
	e->rule_id = rule;
	e->flags = fflags;
	e->fmode = fmode;
	e->imode = BPF_CORE_READ(inode, i_mode);
	bpf_probe_read_kernel_str(e->name, sizeof(e->name), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	{
		__u64 path_hash;

		e->path_len = sg_walk_path(f, e->path, &e->path_depth, &e->path_flags, &path_hash,
					   false);
	}
	bpf_ringbuf_submit(e, 0);
	count(SG_OCNT_RECORDS);
	/* Only now: the record is in the ring buffer. */
	if (set)
		dedup_put(set, &key, h, gen, seen, now);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int sg_fa_openat(struct trace_event_raw_sys_exit *ctx)
{
	return on_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int sg_fa_openat2(struct trace_event_raw_sys_exit *ctx)
{
	return on_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_open")
int sg_fa_open(struct trace_event_raw_sys_exit *ctx)
{
	return on_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int sg_fa_creat(struct trace_event_raw_sys_exit *ctx)
{
	return on_open(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_open_by_handle_at")
int sg_fa_byhandle(struct trace_event_raw_sys_exit *ctx)
{
	return on_open(ctx->ret);
}

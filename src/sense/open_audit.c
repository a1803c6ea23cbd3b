// SPDX-License-Identifier: Apache-2.0
#include "sense/open_audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "file_audit.skel.h"
#include "report/file_open_record.h"
#include "sense/decode.h"
#include "sense/kdev.h"
#include "sense/open_event.h"
#include "sense/prog_audit.h"
#include "sense/bpf_counters.h"

#define SG_CGROUP2_MAGIC 0x63677270
#define SG_CGROUP_ROOT_ID 1

/* The system calls whose exits are traced; the first must attach, the others may be missing. */
static const char *const tp_names[SG_OPEN_PROGS] = {
	"openat", "openat2", "open", "creat", "open_by_handle_at",
};

static struct bpf_program *prog_of(struct sg_open_audit *o, unsigned i)
{
	struct bpf_program *progs[SG_OPEN_PROGS] = {
		o->skel->progs.sg_fa_openat, o->skel->progs.sg_fa_openat2, o->skel->progs.sg_fa_open,
		o->skel->progs.sg_fa_creat, o->skel->progs.sg_fa_byhandle,
	};

	return progs[i];
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct sg_open_audit *o = ctx;
	const struct sg_open_selector *sel;
	struct sg_open_event ev;
	struct sg_open_facts f;
	char path[SG_PATH_BUF + 2];
	size_t name_len;

	if (sg_decode_open(data, size, &ev, &name_len)) {
		o->decode_errors++;
		return 0;
	}
	sel = sg_open_selection_get(&o->sel[ev.rule_id & SG_OPEN_RULE_GEN ? 1 : 0],
				    ev.rule_id & ~SG_OPEN_RULE_GEN);
	if (!sel) {
		o->decode_errors++;
		return 0;
	}
	memset(&f, 0, sizeof(f));
	f.pid = ev.hdr.tgid;
	f.tid = ev.hdr.pid;
	f.ppid = ev.hdr.ppid;
	f.uid = ev.hdr.uid;
	f.gid = ev.hdr.gid;
	f.cgroup_id = ev.hdr.cgroup_id;
	memcpy(f.comm, ev.hdr.comm, sizeof(f.comm));
	sg_proc_container(o->sink.procs, f.pid, f.cgroup_id, o->sink.cgroup2_root, &f.container);
	f.has_exe = sg_proc_exe(o->sink.procs, f.pid, f.exe, sizeof(f.exe)) == 0;
	if (ev.exe.ino) {
		f.exe_id.dev = sg_st_from_kdev(ev.exe.dev);
		f.exe_id.ino = ev.exe.ino;
		f.has_exe_id = true;
	}
	f.name = ev.name;
	f.name_len = name_len;
	if (ev.path_len) {
		f.path_len = sg_path_from_components(ev.path, ev.path_len, ev.path_depth,
						     ev.path_flags & SG_F_PATH_PSEUDO, path,
						     sizeof(path));
		f.path = path;
		f.path_truncated = ev.path_flags & SG_F_PATH_TRUNC;
	}
	f.file.dev = sg_st_from_kdev(ev.file.dev);
	f.file.ino = ev.file.ino;
	f.imode = ev.imode;
	f.flags = ev.flags;
	f.fmode = ev.fmode;
	f.rule_id = sel->rule_id;
	f.rule_name = sel->name;
	f.rule_fragment = sel->fragment[0] ? sel->fragment : NULL;
	f.rule_line = sel->line;
	f.by_cgroup = sel->is_cgroup;
	f.target = sel->target;
	sg_record_file_open(o->sink.audit, &f);
	return 0;
}

int sg_open_audit_load(struct sg_open_audit *o, const struct sg_open_sink *sink, char *err,
		       size_t errlen)
{
	const void *elf;
	size_t elf_len;
	int e;

	memset(o, 0, sizeof(*o));
	o->sink = *sink;
	o->skel = file_audit_bpf__open();
	if (!o->skel) {
		e = -errno;
		snprintf(err, errlen, "open file_audit object: %s", strerror(-e));
		return e;
	}
	elf = file_audit_bpf__elf_bytes(&elf_len);
	e = sg_bpf_object_audit(o->skel->obj, elf, elf_len, err, errlen);
	if (e)
		goto fail;
	e = file_audit_bpf__load(o->skel);
	if (e) {
		snprintf(err, errlen, "load file_audit object: %s", strerror(-e));
		goto fail;
	}
	o->dedup_gen = 1;
	o->skel->bss->open_cfg.dedup_gen = o->dedup_gen;
	o->skel->bss->open_cfg.daemon_tgid = (__u32)getpid();
	o->rb = ring_buffer__new(bpf_map__fd(o->skel->maps.open_events), on_record, o, NULL);
	if (!o->rb) {
		e = -errno;
		snprintf(err, errlen, "file_audit ring buffer: %s", strerror(-e));
		goto fail;
	}
	return 0;
fail:
	sg_open_audit_stop(o);
	return e;
}

static void detach(struct sg_open_audit *o)
{
	unsigned i;

	for (i = 0; i < o->nlinks; i++)
		bpf_link__destroy(o->links[i]);
	o->nlinks = 0;
	o->attached = false;
	o->attached_to[0] = '\0';
}

void sg_open_audit_stop(struct sg_open_audit *o)
{
	ring_buffer__free(o->rb);
	detach(o);
	file_audit_bpf__destroy(o->skel);
	sg_open_selection_free(&o->sel[0]);
	sg_open_selection_free(&o->sel[1]);
	memset(o, 0, sizeof(*o));
}

static int attach(struct sg_open_audit *o, char *err, size_t errlen)
{
	size_t off = 0;
	unsigned i;
	int e;

	for (i = 0; i < SG_OPEN_PROGS; i++) {
		struct bpf_link *l = bpf_program__attach(prog_of(o, i));

		if (!l) {
			e = -errno;
			if (i > 0 && e == -ENOENT)
				continue;	/* no such system call on this architecture */
			snprintf(err, errlen, "attach syscalls:sys_exit_%s: %s", tp_names[i],
				 strerror(-e));
			detach(o);
			return e;
		}
		o->links[o->nlinks++] = l;
		if (off < sizeof(o->attached_to))
			off += snprintf(o->attached_to + off, sizeof(o->attached_to) - off, "%s%s",
					off ? "|" : "syscalls:sys_exit_", tp_names[i]);
	}
	o->attached = true;
	return 0;
}

/*
 * A cgroup v2 directory: its id (the directory's inode, as
 * bpf_get_current_cgroup_id() reports it) and its depth below the root
 * cgroup (id 1). The depth stays -1 when the cgroup2 mount seen here is not
 * the hierarchy's root (a cgroup namespace): then only processes directly
 * in the cgroup can be matched.
 */
static int resolve_cgroup(const char *path, struct sg_open_selector *sel, char *why, size_t len)
{
	struct stat st, up;
	struct statfs sfs;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), parent, l, e;

	if (fd < 0) {
		e = -errno;
		snprintf(why, len, "cannot open the cgroup directory: %s", strerror(-e));
		return e;
	}
	if (fstatfs(fd, &sfs) || fstat(fd, &st) || sfs.f_type != SG_CGROUP2_MAGIC) {
		close(fd);
		snprintf(why, len, "not a cgroup v2 directory (give a directory under the cgroup2 mount, see /proc/mounts)");
		return -ENOTDIR;
	}
	sel->cgroup_id = st.st_ino;
	sel->level = -1;
	for (l = 0; l < SG_OPEN_CGROUP_LEVELS; l++) {
		if (st.st_ino == SG_CGROUP_ROOT_ID) {
			sel->level = l;
			break;
		}
		parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = parent;
		if (fd < 0 || fstat(fd, &up) || up.st_dev != st.st_dev || up.st_ino == st.st_ino)
			break;
		st = up;
	}
	if (fd >= 0)
		close(fd);
	if (l == SG_OPEN_CGROUP_LEVELS) {
		snprintf(why, len, "deeper than %d levels below the cgroup root",
			 SG_OPEN_CGROUP_LEVELS - 1);
		return -ERANGE;
	}
	return 0;
}

static int resolve(const struct sg_file_rule_spec *r, struct sg_open_selector *sel, char *why,
		   size_t len)
{
	struct stat st;
	int e;

	memset(sel, 0, sizeof(*sel));
	sel->rule_id = r->id;
	memcpy(sel->name, r->name, sizeof(sel->name));
	snprintf(sel->fragment, sizeof(sel->fragment), "%s", r->fragment ? r->fragment : "");
	sel->line = r->line;
	if (r->cgroup) {
		sel->is_cgroup = true;
		sel->target = r->cgroup;
		return resolve_cgroup(r->cgroup, sel, why, len);
	}
	sel->target = r->path;
	if (stat(r->path, &st)) {
		e = -errno;
		snprintf(why, len, "%s; the rule stays inactive until the file exists and the policy is reloaded",
			 strerror(-e));
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "not a regular file: exe: names the program's executable");
		return -EINVAL;
	}
	sel->exe.ino = st.st_ino;
	sel->exe.dev = sg_kdev_from_st(st.st_dev);
	return 0;
}

static void report_inactive(struct sg_open_audit *o, const struct sg_file_rule_spec *r,
			    const char *why)
{
	const char *target = r->cgroup ? r->cgroup : r->path;

	fprintf(stderr, "sysguardd: file_audit rule %s (line %u): %s %s: %s; rule inactive\n",
		r->name, r->line, r->cgroup ? "cgroup" : "exe", target, why);
	sg_record_file_audit_inactive(o->sink.audit, r->name, r->line, r->cgroup != NULL, target,
				      why);
}

static bool selects_exe(const struct sg_open_selection *s, const struct sg_inode_key *k)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!s->v[i].is_cgroup && s->v[i].exe.ino == k->ino && s->v[i].exe.dev == k->dev)
			return true;
	return false;
}

static bool selects_cgroup(const struct sg_open_selection *s, __u64 id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i].is_cgroup && s->v[i].cgroup_id == id)
			return true;
	return false;
}

/* Remove the keys the selection does not have; deleting restarts the walk. */
static void drop_stale(struct sg_open_audit *o, const struct sg_open_selection *s)
{
	int efd = bpf_map__fd(o->skel->maps.open_sel_exe);
	int cfd = bpf_map__fd(o->skel->maps.open_sel_cgroup);
	struct sg_inode_key ek, *eprev = NULL;
	__u64 ck, *cprev = NULL;

	while (!bpf_map_get_next_key(efd, eprev, &ek)) {
		eprev = &ek;
		if (!selects_exe(s, &ek)) {
			bpf_map_delete_elem(efd, &ek);
			eprev = NULL;
		}
	}
	while (!bpf_map_get_next_key(cfd, cprev, &ck)) {
		cprev = &ck;
		if (!selects_cgroup(s, ck)) {
			bpf_map_delete_elem(cfd, &ck);
			cprev = NULL;
		}
	}
}

static int write_maps(struct sg_open_audit *o, const struct sg_open_selection *s, unsigned parity,
		      char *err, size_t errlen)
{
	int efd = bpf_map__fd(o->skel->maps.open_sel_exe);
	int cfd = bpf_map__fd(o->skel->maps.open_sel_cgroup);
	struct sg_open_config *c = &o->skel->bss->open_cfg;
	size_t i;
	int e;

	for (i = 0; i < s->n; i++) {
		const struct sg_open_selector *sel = &s->v[i];
		__u32 v = (__u32)(i + 1) | (parity ? SG_OPEN_RULE_GEN : 0);

		if (sel->is_cgroup)
			e = bpf_map_update_elem(cfd, &sel->cgroup_id, &v, BPF_ANY);
		else
			e = bpf_map_update_elem(efd, &sel->exe, &v, BPF_ANY);
		if (e) {
			e = -errno;
			snprintf(err, errlen, "file_audit: map update: %s", strerror(-e));
			return e;
		}
	}
	/* New entries are in: the prefilters may let them through now. */
	memcpy(c->exe_bloom, s->exe_bloom, sizeof(c->exe_bloom));
	memcpy(c->cg_bloom, s->cg_bloom, sizeof(c->cg_bloom));
	c->nexes = (__u32)s->nexes;
	c->ncgroups = (__u32)s->ncgroups;
	c->cg_levels = s->cg_levels;
	drop_stale(o, s);
	return 0;
}

int sg_open_audit_apply(struct sg_open_audit *o, const struct sg_policy *p,
			const struct sg_open_container *containers, size_t ncontainers,
			struct sg_open_apply *res, char *err, size_t errlen)
{
	size_t n = sg_policy_file_rule_count(p, SG_FILES_TRACE), i;
	unsigned next = o->cur ^ 1;
	struct sg_open_selection *ns = &o->sel[next];
	const struct sg_open_selector *dup;
	struct sg_open_selector sel;
	char why[256];
	int e;

	memset(res, 0, sizeof(*res));
	/* Records still in the ring may name their rule in the table about to be reused. */
	sg_open_audit_consume(o);
	sg_open_selection_free(ns);
	for (i = 0; i < n; i++) {
		const struct sg_file_rule_spec *r = sg_policy_file_rule(p, SG_FILES_TRACE, i);

		/* Its cgroups are the containers it matches, below. */
		if (r->scope)
			continue;
		e = resolve(r, &sel, why, sizeof(why));
		if (!e) {
			e = sg_open_selection_add(ns, &sel, &dup);
			if (e == -EEXIST)
				snprintf(why, sizeof(why), "selects the same %s as rule %s (line %u), which records name",
					 sel.is_cgroup ? "cgroup" : "executable", dup->name, dup->line);
			else if (e == -E2BIG)
				snprintf(why, sizeof(why), "more than %d %s selectors", SG_TRACE_SELECT_MAX,
					 sel.is_cgroup ? "cgroup" : "executable");
			else if (e)
				snprintf(why, sizeof(why), "%s", strerror(-e));
		}
		if (e) {
			report_inactive(o, r, why);
			res->inactive++;
		}
	}
	for (i = 0; i < ncontainers; i++) {
		struct sg_file_rule_spec r = *containers[i].rule;

		r.cgroup = (char *)containers[i].cgroup;
		/* Gone since it was listed, or already selected by an earlier rule: nothing to add. */
		if (resolve(&r, &sel, why, sizeof(why)) == 0 &&
		    sg_open_selection_add(ns, &sel, &dup) == -E2BIG) {
			report_inactive(o, &r, "more container cgroups than the selection holds");
			res->inactive++;
		}
	}
	res->active = ns->n;
	res->targets_changed = !sg_open_selection_same_targets(&o->sel[o->cur], ns);
	/*
	 * Another set of processes is a new audit scope: what they opened is
	 * reported again, under the new rules. An unchanged selection (a reload
	 * for other reasons) keeps the table, so a reload never floods the log.
	 */
	if (res->targets_changed) {
		if (++o->dedup_gen == 0)
			o->dedup_gen = 1;
		o->skel->bss->open_cfg.dedup_gen = o->dedup_gen;
		res->dedup_cleared = true;
	}
	e = write_maps(o, ns, next, err, errlen);
	if (e)
		return e;
	o->cur = next;
	if (!ns->n && o->attached)
		detach(o);
	else if (ns->n && !o->attached)
		return attach(o, err, errlen);
	return 0;
}

int sg_open_audit_ringbuf_fd(struct sg_open_audit *o)
{
	return ring_buffer__epoll_fd(o->rb);
}

int sg_open_audit_consume(struct sg_open_audit *o)
{
	return o->rb ? ring_buffer__consume(o->rb) : 0;
}

int sg_open_audit_counters(struct sg_open_audit *o, uint64_t out[SG_OCNT_MAX])
{
	int rc = sg_bpf_percpu_sum(bpf_map__fd(o->skel->maps.open_counters), SG_OCNT_MAX, out);

	return rc > 0 ? -EIO : rc;
}

void sg_open_audit_stats(struct sg_open_audit *o, struct sg_counters_file_audit *c)
{
	uint64_t k[SG_OCNT_MAX] = { 0 };

	if (sg_open_audit_counters(o, k))
		memset(k, 0, sizeof(k));
	if (k[SG_OCNT_RB_DROPS] > o->drops_seen) {
		sg_record_ringbuf_drops(o->sink.audit, o->sink.alerts, "file_audit",
					k[SG_OCNT_RB_DROPS] - o->drops_seen, k[SG_OCNT_RB_DROPS]);
		o->drops_seen = k[SG_OCNT_RB_DROPS];
	}
	*c = (struct sg_counters_file_audit){
		.present = true,
		.active = o->attached,
		.selectors = o->sel[o->cur].n,
		.selected_opens = k[SG_OCNT_SELECTED],
		.deduplicated = k[SG_OCNT_DEDUPED],
		.records = k[SG_OCNT_RECORDS],
		.ringbuf_drops = k[SG_OCNT_RB_DROPS],
		.decode_errors = o->decode_errors,
	};
}

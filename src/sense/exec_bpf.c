// SPDX-License-Identifier: Apache-2.0
#include "sense/exec_bpf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "exec.skel.h"
#include "sense/bpf_pins.h"
#include "sense/prog_audit.h"
#include "sense/bpf_counters.h"

static void count_held(struct sg_exec_bpf *x);

static int attach(struct sg_exec_bpf *x, struct bpf_program *p, const char *pin_name,
		  char *err, size_t errlen)
{
	struct bpf_link *l = bpf_program__attach(p);

	if (!l) {
		int e = -errno;

		snprintf(err, errlen, "attach %s: %s", bpf_program__name(p), strerror(-e));
		return e;
	}
	x->link_names[x->nlinks] = pin_name;
	x->links[x->nlinks++] = l;
	return 0;
}

/* Open, audit and load, with the maps pinned (or the pinned ones reused). */
static int open_load(struct sg_exec_bpf *x, bool with_lsm, char *err, size_t errlen)
{
	const void *elf;
	size_t elf_len;
	int e;

	x->skel = exec_bpf__open();
	if (!x->skel) {
		e = -errno;
		snprintf(err, errlen, "open exec object: %s", strerror(-e));
		return e;
	}
	/* BPF-2: refuse forbidden helpers before the kernel sees the object. */
	elf = exec_bpf__elf_bytes(&elf_len);
	e = sg_bpf_object_audit(x->skel->obj, elf, elf_len, err, errlen);
	if (e)
		return e;
	bpf_program__set_autoload(x->skel->progs.sg_lsm_bprm_check, with_lsm);
	bpf_program__set_autoload(x->skel->progs.sg_lsm_mmap_file, with_lsm);
	bpf_program__set_autoload(x->skel->progs.sg_lsm_file_mprotect, with_lsm);
	/* The page cache's fault tracepoints came with 6.11/6.x; without them no library check. */
	{
		struct btf *vmlinux = btf__load_vmlinux_btf();
		bool map_pages = vmlinux && btf__find_by_name_kind(vmlinux, "btf_trace_mm_filemap_map_pages",
								   BTF_KIND_TYPEDEF) > 0;
		bool fault = vmlinux && btf__find_by_name_kind(vmlinux, "btf_trace_mm_filemap_fault",
							       BTF_KIND_TYPEDEF) > 0;

		x->lib_fault_tps = map_pages && fault;
		bpf_program__set_autoload(x->skel->progs.sg_lib_map_pages, x->lib_fault_tps);
		bpf_program__set_autoload(x->skel->progs.sg_lib_filemap_fault, x->lib_fault_tps);
		bpf_program__set_autoload(x->skel->progs.sg_lib_fault, x->lib_fault_tps);
		btf__free(vmlinux);
	}
	e = sg_pins_set_maps(x->skel->obj, SG_PIN_EXEC);
	if (!e)
		e = exec_bpf__load(x->skel);
	if (e)
		snprintf(err, errlen, "load exec object%s: %s", with_lsm ? " with LSM hooks" : "",
			 strerror(-e));
	return e;
}

int sg_exec_bpf_start(struct sg_exec_bpf *x, bool with_lsm, ring_buffer_sample_fn cb,
		      void *ctx, char *err, size_t errlen)
{
	char gate_err[256];
	unsigned i;
	int e;

	memset(x, 0, sizeof(*x));
	x->adopted = sg_pins_exist(SG_PIN_EXEC);
	e = open_load(x, with_lsm, err, errlen);
	if (e && x->adopted) {
		/* Pinned maps of another build do not fit: start afresh. */
		exec_bpf__destroy(x->skel);
		x->skel = NULL;
		sg_pins_remove(SG_PIN_EXEC, NULL, NULL);
		e = open_load(x, with_lsm, err, errlen);
	}
	if (e)
		goto fail;
	count_held(x);
	/* A held process's forks are held too (the gate itself comes with enforce mode). */
	if (attach(x, x->skel->progs.sg_fork, "link_fork", gate_err, sizeof(gate_err)))
		snprintf(x->gate_error, sizeof(x->gate_error), "%s", gate_err);
	if ((e = attach(x, x->skel->progs.sg_exec, "link_exec", err, errlen)) ||
	    (e = attach(x, x->skel->progs.sg_exit, "link_exit", err, errlen)))
		goto fail;
	if (with_lsm) {
		if ((e = attach(x, x->skel->progs.sg_lsm_bprm_check, "link_lsm_bprm", err, errlen)) ||
		    (e = attach(x, x->skel->progs.sg_lsm_mmap_file, "link_lsm_mmap", err, errlen)) ||
		    (e = attach(x, x->skel->progs.sg_lsm_file_mprotect, "link_lsm_mprotect", err,
				errlen)))
			goto fail;
		x->lsm_attached = true;
	}
	sg_exec_bpf_heartbeat(x);
	/* Attached beside the old links (if any): then the old ones go, with no gap. */
	for (i = 0; i < x->nlinks; i++) {
		e = sg_pins_link(x->links[i], SG_PIN_EXEC, x->link_names[i]);
		if (e < 0) {
			snprintf(err, errlen, "pin %s link: %s", x->link_names[i], strerror(-e));
			goto fail;
		}
		x->replaced_links += e;
	}
	/* An earlier daemon's links this one does not have (say, LSM hooks then, none now). */
	sg_pins_drop_links_except(SG_PIN_EXEC, x->link_names, x->nlinks);
	x->rb = ring_buffer__new(bpf_map__fd(x->skel->maps.events), cb, ctx, NULL);
	if (!x->rb) {
		e = -errno;
		snprintf(err, errlen, "ring buffer: %s", strerror(-e));
		goto fail;
	}
	return 0;
fail:
	sg_exec_bpf_stop(x);
	return e;
}

void sg_exec_bpf_heartbeat(struct sg_exec_bpf *x)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	x->skel->bss->sg_heartbeat_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void sg_exec_bpf_stop(struct sg_exec_bpf *x)
{
	unsigned i;

	ring_buffer__free(x->rb);
	bpf_link__destroy(x->gate_link);
	for (i = 0; i < 3; i++)
		bpf_link__destroy(x->lib_links[i]);
	for (i = 0; i < x->nlinks; i++)
		bpf_link__destroy(x->links[i]);
	exec_bpf__destroy(x->skel);
	memset(x, 0, sizeof(*x));
}

int sg_exec_bpf_set_gate(struct sg_exec_bpf *x, bool on)
{
	int e;

	if (on == !!x->gate_link)
		return 0;
	if (!on) {
		/* Holds become kills first; then nothing needs the gate. */
		x->skel->bss->cfg.hold_gate = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		bpf_link__destroy(x->gate_link);
		x->gate_link = NULL;
		x->gate = false;
		return 0;
	}
	if (x->gate_error[0])
		return -ENOTSUP;	/* the fork program did not attach: a hold could leak a child */
	x->gate_link = bpf_program__attach(x->skel->progs.sg_gate);
	if (!x->gate_link) {
		e = -errno;
		snprintf(x->gate_error, sizeof(x->gate_error), "attach sg_gate: %s", strerror(-e));
		return e;
	}
	x->gate = true;
	return 0;
}

void sg_exec_bpf_configure(struct sg_exec_bpf *x, const struct sg_exec_config *cfg)
{
	/* .bss is memory-mapped: the programs see each store at once; the switch goes last. */
	volatile struct sg_exec_config *live = &x->skel->bss->cfg;

	live->daemon_tgid = cfg->daemon_tgid;
	live->kill = cfg->kill;
	live->fileless_deny = cfg->fileless_deny;
	live->hold_fileless = cfg->hold_fileless;
	live->hold_loader = cfg->hold_loader;
	live->hold_gate = x->gate;
	live->host_mnt_ns = cfg->host_mnt_ns;
	live->hold_uncertain = cfg->hold_uncertain;
	live->hold_scripts = cfg->hold_scripts;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	live->enforce = cfg->enforce;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sg_inode_key));
}

/*
 * Make the map hold exactly keys[0..n) (values vals[i], or `one` for each
 * when vals is NULL): the new entries first, then what the set no longer
 * holds, so no entry that stays is ever missing. -errno when the new set
 * could not be installed; *stale_err: an old entry that would not go.
 */
static int replace_set(int fd, const struct sg_inode_key *keys, const void *vals,
		       size_t val_size, const void *one, size_t n, int *stale_err)
{
	struct sg_inode_key *sorted, cur, next;
	size_t i;
	bool more;

	*stale_err = 0;
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], vals ? (const char *)vals + i * val_size : one,
					BPF_ANY))
			return -errno;
	sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), key_cmp);
	more = bpf_map_get_next_key(fd, NULL, &cur) == 0;
	while (more) {
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		if (!bsearch(&cur, sorted, n, sizeof(*sorted), key_cmp) &&
		    bpf_map_delete_elem(fd, &cur) && errno != ENOENT)
			*stale_err = -errno;
		cur = next;
	}
	free(sorted);
	return 0;
}

int sg_exec_bpf_set_denies(struct sg_exec_bpf *x, const struct sg_inode_key *keys,
			   const struct sg_deny_value *vals, size_t n)
{
	int err, stale;

	if (n > SG_DENY_MAX)
		return -E2BIG;
	err = replace_set(bpf_map__fd(x->skel->maps.deny_inodes), keys, vals, sizeof(*vals),
			  NULL, n, &stale);
	if (err)
		return err;
	x->deny_count = n;
	return stale;
}

static void clear_map(int fd)
{
	struct sg_inode_key cur, next;
	bool more = bpf_map_get_next_key(fd, NULL, &cur) == 0;

	while (more) {
		more = bpf_map_get_next_key(fd, &cur, &next) == 0;
		bpf_map_delete_elem(fd, &cur);
		cur = next;
	}
}

int sg_exec_bpf_set_libraries(struct sg_exec_bpf *x, bool on, bool ask,
			      const struct sg_inode_key *keys, const struct sg_deny_value *vals,
			      size_t n)
{
	size_t i;
	int e, stale;

	if (n > SG_DENY_MAX)
		return -E2BIG;
	e = replace_set(bpf_map__fd(x->skel->maps.lib_deny), keys, vals, sizeof(*vals), NULL, n,
			&stale);
	if (e)
		return e;
	clear_map(bpf_map__fd(x->skel->maps.lib_ok));
	x->skel->bss->cfg.lib_ask = ask;
	if (on == !!x->lib_links[0])
		return 0;
	if (!on) {
		for (i = 0; i < 3; i++) {
			bpf_link__destroy(x->lib_links[i]);
			x->lib_links[i] = NULL;
		}
		return 0;
	}
	if (!x->lib_fault_tps) {
		snprintf(x->lib_error, sizeof(x->lib_error),
			 "this kernel has no mm_filemap_map_pages/mm_filemap_fault tracepoints: "
			 "libraries are refused only where BPF LSM runs");
		return -ENOTSUP;
	}
	/* The page-cache hooks first: the fault hook only notes what they look at. */
	x->lib_links[1] = bpf_program__attach(x->skel->progs.sg_lib_map_pages);
	x->lib_links[2] = x->lib_links[1] ? bpf_program__attach(x->skel->progs.sg_lib_filemap_fault) :
					    NULL;
	x->lib_links[0] = x->lib_links[2] ? bpf_program__attach(x->skel->progs.sg_lib_fault) : NULL;
	if (!x->lib_links[0]) {
		e = -errno;
		snprintf(x->lib_error, sizeof(x->lib_error), "attach the library check: %s",
			 strerror(-e));
		for (i = 0; i < 3; i++) {
			bpf_link__destroy(x->lib_links[i]);
			x->lib_links[i] = NULL;
		}
		return e;
	}
	return 0;
}

int sg_exec_bpf_library_ok(struct sg_exec_bpf *x, const struct sg_inode_key *key, __u64 ctime_ns)
{
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.lib_ok), key, &ctime_ns, BPF_ANY))
		return -errno;
	return 0;
}

int sg_exec_bpf_set_interpreters(struct sg_exec_bpf *x, const struct sg_inode_key *keys, size_t n)
{
	__u32 one = 1;
	int err, stale;

	if (n > SG_INTERP_MAX)
		return -E2BIG;
	err = replace_set(bpf_map__fd(x->skel->maps.interpreters), keys, NULL, 0, &one, n, &stale);
	return err ? err : stale;
}

int sg_exec_bpf_add_interpreter(struct sg_exec_bpf *x, const struct sg_inode_key *key)
{
	__u32 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.interpreters), key, &one, BPF_ANY))
		return errno == E2BIG ? -ENOSPC : -errno;
	return 0;
}

int sg_exec_bpf_cache_name(struct sg_exec_bpf *x, const struct sg_inode_key *key, __u64 path_hash)
{
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.name_cache), key, &path_hash, BPF_ANY))
		return -errno;
	return 0;
}

void sg_exec_bpf_clear_names(struct sg_exec_bpf *x)
{
	clear_map(bpf_map__fd(x->skel->maps.name_cache));
}

void sg_exec_bpf_forget_name(struct sg_exec_bpf *x, const struct sg_inode_key *key)
{
	bpf_map_delete_elem(bpf_map__fd(x->skel->maps.name_cache), key);
}

int sg_exec_bpf_not_loader(struct sg_exec_bpf *x, const struct sg_inode_key *key, __u64 ctime_ns)
{
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.not_loader), key, &ctime_ns, BPF_ANY))
		return -errno;
	return 0;
}

void sg_exec_bpf_quiesce(struct sg_exec_bpf *x)
{
	volatile struct exec_bpf__bss *bss = x->skel->bss;

	bss->sg_fan_group = 0;
	bss->sg_heartbeat_ns = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int sg_exec_bpf_set_fanotify(struct sg_exec_bpf *x, int fd)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	volatile __u64 *group = &x->skel->bss->sg_fan_group;

	*group = 0;
	if (fd < 0)
		return 0;
	x->skel->bss->sg_learn_fd = (__u32)fd;
	if (bpf_prog_test_run_opts(bpf_program__fd(x->skel->progs.sg_learn_group), &opts))
		return -errno;
	return *group ? 0 : -ENOENT;
}

int sg_exec_bpf_release(struct sg_exec_bpf *x, __u32 tgid)
{
	if (bpf_map_delete_elem(bpf_map__fd(x->skel->maps.held), &tgid))
		return errno == ENOENT ? 0 : -errno;
	/* Lowered only after an entry came out: the gate may over-count, never under. */
	__atomic_fetch_sub(&x->skel->bss->sg_held_count, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int sg_exec_bpf_doom(struct sg_exec_bpf *x, __u32 tgid, __u64 start_ns)
{
	struct sg_held_value v = { .start_ns = start_ns };

	__atomic_fetch_add(&x->skel->bss->sg_held_count, 1, __ATOMIC_SEQ_CST);
	if (bpf_map_update_elem(bpf_map__fd(x->skel->maps.held), &tgid, &v, BPF_NOEXIST)) {
		__atomic_fetch_sub(&x->skel->bss->sg_held_count, 1, __ATOMIC_SEQ_CST);
		return errno == EEXIST ? 0 : -errno;
	}
	return 0;
}

int sg_exec_bpf_release_all(struct sg_exec_bpf *x)
{
	int fd = bpf_map__fd(x->skel->maps.held), n = 0;
	__u32 key;

	while (bpf_map_get_next_key(fd, NULL, &key) == 0) {
		if (sg_exec_bpf_release(x, key))
			break;
		if (kill((pid_t)key, SIGCONT) == 0)
			n++;
	}
	return n;
}

/* Holds an earlier daemon left in the adopted map count too (BPF-5). */
static void count_held(struct sg_exec_bpf *x)
{
	int fd = bpf_map__fd(x->skel->maps.held);
	__u32 key, next;
	__u64 n = 0;
	bool more = bpf_map_get_next_key(fd, NULL, &key) == 0;

	while (more) {
		n++;
		more = bpf_map_get_next_key(fd, &key, &next) == 0;
		key = next;
	}
	__atomic_fetch_add(&x->skel->bss->sg_held_count, n, __ATOMIC_SEQ_CST);
}

int sg_exec_bpf_ringbuf_fd(struct sg_exec_bpf *x)
{
	return ring_buffer__epoll_fd(x->rb);
}

int sg_exec_bpf_consume(struct sg_exec_bpf *x)
{
	return ring_buffer__consume(x->rb);
}

int sg_exec_bpf_counters(struct sg_exec_bpf *x, uint64_t *out)
{
	int rc = sg_bpf_percpu_sum(bpf_map__fd(x->skel->maps.counters), SG_CNT_MAX, out);

	/* A counter that cannot be read is reported as 0; the others still count. */
	return rc > 0 ? 0 : rc;
}

struct bpf_object *sg_exec_bpf_object(struct sg_exec_bpf *x)
{
	return x->skel ? x->skel->obj : NULL;
}

// SPDX-License-Identifier: Apache-2.0
/* The file guard on BPF LSM: loads bpf/file_guard.bpf.c and feeds its maps. */
#include "act/file_lsm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "file_guard.skel.h"
#include "sense/prog_audit.h"
#include "sense/bpf_counters.h"

#define SG_FG_LINKS 16

struct sg_file_lsm {
	struct file_guard_bpf *skel;
	struct bpf_link *links[SG_FG_LINKS];
	unsigned nlinks;
	struct ring_buffer *rb;
	sg_file_event_fn on_event;
	void *ctx;
};

/*
 * Which inode_setattr the running kernel has: 1 with a leading idmap
 * argument (newer kernels), 0 without (6.1), or -errno.
 */
static int setattr_has_idmap(char *err, size_t errlen)
{
	const struct btf_type *fn, *proto;
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, rc;

	if (!vmlinux) {
		rc = -errno;
		snprintf(err, errlen, "file guard: kernel BTF: %s", strerror(-rc));
		return rc;
	}
	id = btf__find_by_name_kind(vmlinux, "bpf_lsm_inode_setattr", BTF_KIND_FUNC);
	fn = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	proto = fn ? btf__type_by_id(vmlinux, fn->type) : NULL;
	if (!proto || !btf_is_func_proto(proto)) {
		rc = -ENOTSUP;
		snprintf(err, errlen, "file guard: kernel has no BPF LSM inode_setattr hook");
	} else if (btf_vlen(proto) == 3 || btf_vlen(proto) == 2) {
		rc = btf_vlen(proto) == 3;
	} else {
		rc = -ENOTSUP;
		snprintf(err, errlen, "file guard: inode_setattr hook with %u arguments is unknown",
			 btf_vlen(proto));
	}
	btf__free(vmlinux);
	return rc;
}

static int on_sample(void *ctx, void *data, size_t len)
{
	struct sg_file_lsm *g = ctx;

	if (len < sizeof(struct sg_file_event) || !g->on_event)
		return 0;	/* a short record: skip rather than read past it */
	g->on_event(g->ctx, data);
	return 0;
}

static int map_id(int fd, __u32 *id)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

static int guard_id(struct sg_file_lsm *g, __u32 id, const struct sg_file_rule *rule)
{
	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.sg_guarded_maps), &id, rule, BPF_ANY))
		return -errno;
	return 0;
}

/* The guard's own maps (config, protected set, guarded set, events) are the daemon's too. */
static int guard_self(struct sg_file_lsm *g, char *err, size_t errlen)
{
	const struct sg_file_rule self = { .rule_id = 0,
					   .deny = SG_FILE_DENY_WRITE | SG_FILE_DENY_READ };
	struct bpf_map *m;
	__u32 id = 0;
	int rc;

	bpf_object__for_each_map(m, g->skel->obj) {
		if (bpf_map__fd(m) < 0)
			continue;	/* not created */
		rc = map_id(bpf_map__fd(m), &id);
		if (!rc)
			rc = guard_id(g, id, &self);
		if (rc) {
			snprintf(err, errlen, "file guard: guard own map %s: %s", bpf_map__name(m),
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static void set_config(struct sg_file_lsm *g, const struct sg_file_guard_config *cfg)
{
	/* .bss is memory-mapped: the programs see each store at once; the switch goes last. */
	volatile struct sg_file_guard_config *live = &g->skel->bss->fg_cfg;

	live->daemon_exe.ino = cfg->daemon_exe.ino;
	live->daemon_exe.dev = cfg->daemon_exe.dev;
	live->daemon_exe.pad = 0;
	live->daemon_tgid = cfg->daemon_tgid;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	live->enforce = cfg->enforce;
}

static int open_load(struct sg_file_lsm *g, const struct sg_file_guard_config *cfg, char *err,
		     size_t errlen)
{
	const void *elf;
	size_t elf_len;
	int idmap, rc;

	g->skel = file_guard_bpf__open();
	if (!g->skel) {
		rc = -errno;
		snprintf(err, errlen, "file guard: open object: %s", strerror(-rc));
		return rc;
	}
	/* BPF-2: refuse forbidden helpers before the kernel sees the object. */
	elf = file_guard_bpf__elf_bytes(&elf_len);
	rc = sg_bpf_object_audit(g->skel->obj, elf, elf_len, err, errlen);
	if (rc)
		return rc;
	idmap = setattr_has_idmap(err, errlen);
	if (idmap < 0)
		return idmap;
	bpf_program__set_autoload(g->skel->progs.sg_fg_setattr, idmap);
	bpf_program__set_autoload(g->skel->progs.sg_fg_setattr_noidmap, !idmap);
	rc = file_guard_bpf__load(g->skel);
	if (rc) {
		snprintf(err, errlen, "file guard: load: %s%s", strerror(-rc),
			 rc == -EPERM ? " (BPF LSM is not usable on this kernel)" : "");
		return rc;
	}
	/* Loaded, not attached yet: nothing is refused before the identity is known. */
	set_config(g, cfg);
	return guard_self(g, err, errlen);
}

int sg_file_lsm_start(struct sg_file_lsm **out, const struct sg_file_guard_config *cfg,
		      sg_file_event_fn on_event, void *ctx, char *err, size_t errlen)
{
	struct sg_file_lsm *g = calloc(1, sizeof(*g));
	struct bpf_program *p;
	int rc;

	*out = NULL;
	if (!g) {
		snprintf(err, errlen, "file guard: out of memory");
		return -ENOMEM;
	}
	g->on_event = on_event;
	g->ctx = ctx;
	rc = open_load(g, cfg, err, errlen);
	if (rc)
		goto fail;
	bpf_object__for_each_program(p, g->skel->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		if (g->nlinks == SG_FG_LINKS) {
			rc = -E2BIG;
			snprintf(err, errlen, "file guard: more than %d programs", SG_FG_LINKS);
			goto fail;
		}
		l = bpf_program__attach(p);
		if (!l) {
			rc = -errno;
			snprintf(err, errlen, "file guard: attach %s: %s", bpf_program__name(p),
				 strerror(-rc));
			goto fail;
		}
		g->links[g->nlinks++] = l;
	}
	g->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.file_events), on_sample, g, NULL);
	if (!g->rb) {
		rc = -errno;
		snprintf(err, errlen, "file guard: ring buffer: %s", strerror(-rc));
		goto fail;
	}
	*out = g;
	return 0;
fail:
	sg_file_lsm_stop(g);
	return rc;
}

void sg_file_lsm_stop(struct sg_file_lsm *g)
{
	unsigned i;

	if (!g)
		return;
	ring_buffer__free(g->rb);
	/* Hooks first, so no refusal outlives the maps that explain it. */
	for (i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	file_guard_bpf__destroy(g->skel);
	free(g);
}

int sg_file_lsm_fd(const struct sg_file_lsm *g)
{
	return ring_buffer__epoll_fd(g->rb);
}

int sg_file_lsm_poll(struct sg_file_lsm *g)
{
	return ring_buffer__consume(g->rb);
}

void sg_file_lsm_configure(struct sg_file_lsm *g, const struct sg_file_guard_config *cfg)
{
	set_config(g, cfg);
}

int sg_file_lsm_protect(struct sg_file_lsm *g, const struct sg_inode_key *key,
			const struct sg_file_rule *rule)
{
	struct sg_inode_key k = { .ino = key->ino, .dev = key->dev };

	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.sg_protected), &k, rule, BPF_ANY))
		return -errno;
	return 0;
}

int sg_file_lsm_unprotect(struct sg_file_lsm *g, const struct sg_inode_key *key)
{
	struct sg_inode_key k = { .ino = key->ino, .dev = key->dev };

	if (bpf_map_delete_elem(bpf_map__fd(g->skel->maps.sg_protected), &k))
		return -errno;
	return 0;
}

int sg_file_lsm_guard_map(struct sg_file_lsm *g, int map_fd, const struct sg_file_rule *rule)
{
	__u32 id = 0;
	int rc = map_id(map_fd, &id);

	return rc ? rc : guard_id(g, id, rule);
}

int sg_file_lsm_unguard_map(struct sg_file_lsm *g, int map_fd)
{
	__u32 id = 0;
	int rc = map_id(map_fd, &id);

	if (rc)
		return rc;
	if (bpf_map_delete_elem(bpf_map__fd(g->skel->maps.sg_guarded_maps), &id))
		return -errno;
	return 0;
}

int sg_file_lsm_counters(struct sg_file_lsm *g, uint64_t out[SG_FCNT_MAX])
{
	int rc = sg_bpf_percpu_sum(bpf_map__fd(g->skel->maps.file_counters), SG_FCNT_MAX, out);

	return rc > 0 ? -EIO : rc;
}

int sg_file_lsm_protect_absent(struct sg_file_lsm *g, const struct sg_inode_key *dir,
			       const char *name, const struct sg_file_rule *rule)
{
	struct sg_absent_key k;

	if (strlen(name) >= sizeof(k.name))
		return -ENAMETOOLONG;
	memset(&k, 0, sizeof(k));
	k.dir.ino = dir->ino;
	k.dir.dev = dir->dev;
	memcpy(k.name, name, strlen(name));
	if (bpf_map_update_elem(bpf_map__fd(g->skel->maps.sg_absent), &k, rule, BPF_ANY))
		return -errno;
	return 0;
}

void sg_file_lsm_clear_absent(struct sg_file_lsm *g)
{
	int fd = bpf_map__fd(g->skel->maps.sg_absent);
	struct sg_absent_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		if (bpf_map_delete_elem(fd, &k))
			break;
}

// SPDX-License-Identifier: Apache-2.0
/* Refusals by the immutable flag: the loader, its map and its ring buffer. */
#include "sense/file_refusal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "file_refusal.skel.h"
#include "sense/bpf_counters.h"
#include "sense/prog_audit.h"

struct sg_file_refusal {
	struct file_refusal_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *link;
	sg_refusal_fn fn;
	void *ctx;
	uint64_t decode_errors;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct sg_file_refusal *r = ctx;
	/* A view holds two PATH_MAX paths: too big for the ring buffer callback's stack. */
	static struct sg_refusal_view v;

	if (sg_refusal_decode(data, size, &v)) {
		r->decode_errors++;
		return 0;
	}
	r->fn(r->ctx, &v);
	return 0;
}

int sg_file_refusal_load(struct sg_file_refusal **out, sg_refusal_fn fn, void *ctx, char *err,
			 size_t errlen)
{
	struct sg_file_refusal *r = calloc(1, sizeof(*r));
	const void *elf;
	size_t elf_len;
	int e;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->fn = fn;
	r->ctx = ctx;
	r->skel = file_refusal_bpf__open();
	if (!r->skel) {
		e = -errno;
		snprintf(err, errlen, "open file_refusal object: %s", strerror(-e));
		goto fail;
	}
	elf = file_refusal_bpf__elf_bytes(&elf_len);
	e = sg_bpf_object_audit(r->skel->obj, elf, elf_len, err, errlen);
	if (e)
		goto fail;
	r->skel->bss->refusal_cfg.daemon_tgid = (__u32)getpid();
	e = file_refusal_bpf__load(r->skel);
	if (e) {
		snprintf(err, errlen, "load file_refusal object: %s", strerror(-e));
		goto fail;
	}
	r->rb = ring_buffer__new(bpf_map__fd(r->skel->maps.refusal_events), on_record, r, NULL);
	if (!r->rb) {
		e = -errno;
		snprintf(err, errlen, "file_refusal ring buffer: %s", strerror(-e));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	sg_file_refusal_stop(r);
	return e;
}

void sg_file_refusal_stop(struct sg_file_refusal *r)
{
	if (!r)
		return;
	bpf_link__destroy(r->link);
	ring_buffer__free(r->rb);
	file_refusal_bpf__destroy(r->skel);
	free(r);
}

static bool has_key(const struct sg_inode_key *keys, size_t n, const struct sg_inode_key *k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i].ino == k->ino && keys[i].dev == k->dev)
			return true;
	return false;
}

int sg_file_refusal_set(struct sg_file_refusal *r, const struct sg_inode_key *keys, size_t n,
			char *err, size_t errlen)
{
	int fd = bpf_map__fd(r->skel->maps.refusal_files);
	struct sg_inode_key k, *prev = NULL;
	__u32 one = 1;
	size_t i;
	int e;

	for (i = 0; i < n; i++) {
		k = keys[i];
		k.pad = 0;
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY)) {
			e = -errno;
			snprintf(err, errlen, "file_refusal: map update: %s", strerror(-e));
			return e;
		}
	}
	/* The protected set is small next to a syscall: a linear check is fine. Deleting restarts the walk. */
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		prev = &k;
		if (!has_key(keys, n, &k)) {
			bpf_map_delete_elem(fd, &k);
			prev = NULL;
		}
	}
	if (!n && r->link) {
		bpf_link__destroy(r->link);
		r->link = NULL;
	} else if (n && !r->link) {
		r->link = bpf_program__attach(r->skel->progs.sg_refusal);
		if (!r->link) {
			e = -errno;
			snprintf(err, errlen, "attach tp_btf/sys_exit: %s", strerror(-e));
			return e;
		}
	}
	return 0;
}

bool sg_file_refusal_attached(const struct sg_file_refusal *r)
{
	return r && r->link;
}

int sg_file_refusal_fd(struct sg_file_refusal *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int sg_file_refusal_consume(struct sg_file_refusal *r)
{
	return ring_buffer__consume(r->rb);
}

int sg_file_refusal_counters(struct sg_file_refusal *r, uint64_t out[SG_RCNT_MAX])
{
	int rc = sg_bpf_percpu_sum(bpf_map__fd(r->skel->maps.refusal_counters), SG_RCNT_MAX, out);

	return rc > 0 ? -EIO : rc;
}

// SPDX-License-Identifier: Apache-2.0
#include "act/egress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "egress.skel.h"
#include "net/egress_lists.h"
#include "sense/bpf_pins.h"
#include "sense/kdev.h"
#include "sense/prog_audit.h"
#include "sense/bpf_counters.h"

/* Each generation owns half of egress_lists. */
#define HALF (SG_EGRESS_LISTS / 2)

/* Open, audit (BPF-2) and load, with the maps pinned or the pinned ones reused (BPF-5). */
static int open_load(struct sg_egress *g, bool with_lsm, char *err, size_t errlen)
{
	const void *elf;
	size_t elf_len;
	int e;

	g->skel = egress_bpf__open();
	if (!g->skel) {
		e = -errno;
		snprintf(err, errlen, "open egress object: %s", strerror(-e));
		return e;
	}
	elf = egress_bpf__elf_bytes(&elf_len);
	e = sg_bpf_object_audit(g->skel->obj, elf, elf_len, err, errlen);
	if (e)
		return e;
	bpf_program__set_autoload(g->skel->progs.sg_lsm_connect, with_lsm);
	e = sg_pins_set_maps(g->skel->obj, SG_PIN_EGRESS);
	if (!e)
		e = egress_bpf__load(g->skel);
	if (e)
		snprintf(err, errlen, "load egress object%s: %s", with_lsm ? " with LSM hook" : "",
			 strerror(-e));
	return e;
}

int sg_egress_start(struct sg_egress *g, const char *cgroup2, bool with_lsm,
		    ring_buffer_sample_fn cb, void *ctx, char *err, size_t errlen)
{
	struct bpf_program *progs[4];
	unsigned i, nprogs = 0;
	bool pinned = sg_pins_exist(SG_PIN_EGRESS);
	int e;

	memset(g, 0, sizeof(*g));
	g->cgroup_fd = -1;
	e = open_load(g, with_lsm, err, errlen);
	if (e && pinned) {
		/* Pinned maps of another build do not fit: start afresh. */
		egress_bpf__destroy(g->skel);
		g->skel = NULL;
		sg_pins_remove(SG_PIN_EGRESS, NULL, NULL);
		e = open_load(g, with_lsm, err, errlen);
	}
	if (e)
		goto fail;
	if (with_lsm) {
		struct bpf_link *l = bpf_program__attach_lsm(g->skel->progs.sg_lsm_connect);

		if (!l) {
			e = -errno;
			snprintf(err, errlen, "attach lsm/socket_connect: %s", strerror(-e));
			goto fail;
		}
		g->links[g->nlinks++] = l;
		g->lsm_attached = true;
	}
	g->cgroup_fd = open(cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (g->cgroup_fd < 0) {
		e = -errno;
		snprintf(err, errlen, "open cgroup2 root %s: %s", cgroup2, strerror(-e));
		goto fail;
	}
	/* With the LSM hook in place, connects are its; the cgroup hooks would record them twice. */
	if (!g->lsm_attached) {
		progs[nprogs++] = g->skel->progs.sg_connect4;
		progs[nprogs++] = g->skel->progs.sg_connect6;
	}
	progs[nprogs++] = g->skel->progs.sg_sendmsg4;
	progs[nprogs++] = g->skel->progs.sg_sendmsg6;
	for (i = 0; i < nprogs; i++) {
		struct bpf_link *l = bpf_program__attach_cgroup(progs[i], g->cgroup_fd);

		if (!l) {
			e = -errno;
			snprintf(err, errlen, "attach %s at %s: %s", bpf_program__name(progs[i]),
				 cgroup2, strerror(-e));
			goto fail;
		}
		g->links[g->nlinks++] = l;
	}
	/* BPF-5: pinned, so a killed daemon leaves the egress deny in force. */
	{
		char names[5][64];
		const char *keep[5];
		struct bpf_link *l;

		for (i = 0; i < g->nlinks; i++) {
			l = g->links[i];
			snprintf(names[i], sizeof(names[i]), "link_%s",
				 g->lsm_attached && i == 0 ? "sg_lsm_connect" :
				 bpf_program__name(progs[i - (g->lsm_attached ? 1 : 0)]));
			keep[i] = names[i];
			e = sg_pins_link(l, SG_PIN_EGRESS, names[i]);
			if (e < 0) {
				snprintf(err, errlen, "pin %s: %s", names[i], strerror(-e));
				goto fail;
			}
		}
		sg_pins_drop_links_except(SG_PIN_EGRESS, keep, g->nlinks);
	}
	g->rb = ring_buffer__new(bpf_map__fd(g->skel->maps.net_events), cb, ctx, NULL);
	if (!g->rb) {
		e = -errno;
		snprintf(err, errlen, "egress ring buffer: %s", strerror(-e));
		goto fail;
	}
	return 0;
fail:
	sg_egress_stop(g);
	return e;
}

void sg_egress_stop(struct sg_egress *g)
{
	unsigned i;

	ring_buffer__free(g->rb);
	for (i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	egress_bpf__destroy(g->skel);
	if (g->cgroup_fd >= 0)
		close(g->cgroup_fd);
	memset(g, 0, sizeof(*g));
	g->cgroup_fd = -1;
}

static int put_prefix(struct sg_egress *g, const struct sg_egress_entry *e, __u32 slot)
{
	if (e->family == 4) {
		struct sg_egress_key4 k = { .prefixlen = e->prefix_len };

		memcpy(k.addr, e->addr, 4);
		return bpf_map_update_elem(bpf_map__fd(g->skel->maps.egress_v4), &k, &slot, BPF_ANY);
	}
	struct sg_egress_key6 k = { .prefixlen = e->prefix_len };

	memcpy(k.addr, e->addr, 16);
	return bpf_map_update_elem(bpf_map__fd(g->skel->maps.egress_v6), &k, &slot, BPF_ANY);
}

static bool in_entries(const struct sg_egress_entry *ents, size_t n, int family,
		       const void *key)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ents[i].family != family)
			continue;
		if (family == 4) {
			const struct sg_egress_key4 *k = key;

			if (k->prefixlen == ents[i].prefix_len && !memcmp(k->addr, ents[i].addr, 4))
				return true;
		} else {
			const struct sg_egress_key6 *k = key;

			if (k->prefixlen == ents[i].prefix_len && !memcmp(k->addr, ents[i].addr, 16))
				return true;
		}
	}
	return false;
}

/* Remove the prefixes of the previous policy that the new one does not have. */
static void drop_stale(struct sg_egress *g, int family, const struct sg_egress_entry *ents,
		       size_t n)
{
	int fd = bpf_map__fd(family == 4 ? g->skel->maps.egress_v4 : g->skel->maps.egress_v6);
	union {
		struct sg_egress_key4 k4;
		struct sg_egress_key6 k6;
	} cur, nxt;
	void *prev = NULL;

	/* Deleting while iterating restarts the walk; collect first, then delete. */
	for (;;) {
		if (bpf_map_get_next_key(fd, prev, &nxt))
			break;
		cur = nxt;
		prev = &cur;
		if (!in_entries(ents, n, family, &cur)) {
			bpf_map_delete_elem(fd, &cur);
			prev = NULL;
		}
	}
}

int sg_egress_apply(struct sg_egress *g, const struct sg_policy *p, bool enforce,
		    sg_egress_skip_fn skipped, void *ctx, char *err, size_t errlen)
{
	size_t n = sg_policy_net_rule_count(p), i, m = 0, nents = 0;
	struct sg_net_rule *rules = calloc(n ? n : 1, sizeof(*rules));
	struct sg_inode_key *exe = calloc(n ? n : 1, sizeof(*exe));
	struct sg_egress_entry *ents = NULL;
	unsigned gen = g->generation ^ 1;
	int lists = bpf_map__fd(g->skel->maps.egress_lists), e = 0;

	if (!rules || !exe) {
		e = -ENOMEM;
		snprintf(err, errlen, "egress: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct sg_net_rule *r = sg_policy_net_rule(p, i);
		struct stat st;

		if (r->exe) {
			if (stat(r->exe, &st)) {
				if (skipped)
					skipped(r, -errno, ctx);
				continue;
			}
			exe[m].ino = st.st_ino;
			exe[m].dev = sg_kdev_from_st(st.st_dev);
		}
		rules[m++] = *r;
	}
	e = sg_egress_build(rules, exe, m, &ents, &nents, err, errlen);
	if (e)
		goto out;
	if (nents > HALF || nents > SG_EGRESS_PREFIXES) {
		e = -E2BIG;
		snprintf(err, errlen, "egress: %zu distinct prefixes, at most %d", nents, HALF);
		goto out;
	}
	for (i = 0; i < nents; i++) {
		__u32 slot = gen * HALF + (__u32)i;

		if (bpf_map_update_elem(lists, &slot, &ents[i].list, BPF_ANY) ||
		    put_prefix(g, &ents[i], slot)) {
			e = -errno;
			snprintf(err, errlen, "egress: map update: %s", strerror(-e));
			goto out;
		}
	}
	drop_stale(g, 4, ents, nents);
	drop_stale(g, 6, ents, nents);
	g->generation = gen;
	g->prefixes = nents;
	g->skel->bss->egress_cfg.enforce = enforce;
out:
	free(ents);
	free(rules);
	free(exe);
	return e;
}

int sg_egress_ringbuf_fd(struct sg_egress *g)
{
	return ring_buffer__epoll_fd(g->rb);
}

int sg_egress_consume(struct sg_egress *g)
{
	return ring_buffer__consume(g->rb);
}

int sg_egress_set_scope(struct sg_egress *g, uint64_t cgroup_id, uint64_t mask)
{
	int fd, rc;

	if (!g->skel)
		return -ENODEV;
	fd = bpf_map__fd(g->skel->maps.egress_scopes);
	rc = mask ? bpf_map_update_elem(fd, &cgroup_id, &mask, BPF_ANY)
		  : bpf_map_delete_elem(fd, &cgroup_id);
	return rc && !(errno == ENOENT && !mask) ? -errno : 0;
}

int sg_egress_counters(struct sg_egress *g, uint64_t out[SG_NCNT_MAX])
{
	int rc = sg_bpf_percpu_sum(bpf_map__fd(g->skel->maps.net_counters), SG_NCNT_MAX, out);

	return rc > 0 ? -EIO : rc;
}

struct bpf_object *sg_egress_object(struct sg_egress *g)
{
	return g->skel ? g->skel->obj : NULL;
}

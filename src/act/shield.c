// SPDX-License-Identifier: Apache-2.0
#include "act/shield.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "net/shield_build.h"
#include "shield.skel.h"
#include "sense/prog_audit.h"
#include "store/bundle_files.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define BPF_FS_ROOT "/sys/fs/bpf"

enum { M_V4ROOT, M_V4POOL, M_V6BKT, M_V6META, M_V6HASH, M_RULES, M_HITS, M_STATS, M_CFG, M_MAX };

static const char *const map_pin[M_MAX] = {
	"v4root", "v4pool", "v6bkt", "v6meta", "v6hash", "rules", "hits", "stats", "cfg",
};
static const bool map_mmap[M_MAX] = {
	[M_V4ROOT] = true, [M_V4POOL] = true, [M_V6BKT] = true, [M_V6META] = true,
	[M_RULES] = true, [M_CFG] = true,
};

struct sg_shield {
	struct shield_bpf *skel;	/* set when this process loaded the program */
	int prog_fd;
	int fd[M_MAX];
	void *mm[M_MAX];
	size_t mmlen[M_MAX];
	struct bpf_map_info info[M_MAX];
	int lock_fd;
	char pin_dir[256];
	struct sg_shield_cfg *cfg;
};

int sg_shield_prog_fd(const struct sg_shield *s)
{
	return s->prog_fd;
}

size_t sg_shield_map_fds(const struct sg_shield *s, int *fds, size_t max)
{
	size_t n = 0;
	int i;

	for (i = 0; i < M_MAX && n < max; i++)
		if (s->fd[i] >= 0)
			fds[n++] = s->fd[i];
	return n;
}

static struct sg_shield *shield_new(const char *pin_dir)
{
	struct sg_shield *s = calloc(1, sizeof(*s));
	int i;

	if (!s)
		return NULL;
	s->prog_fd = -1;
	s->lock_fd = -1;
	for (i = 0; i < M_MAX; i++)
		s->fd[i] = -1;
	if (pin_dir)
		snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", pin_dir);
	return s;
}

void sg_shield_close(struct sg_shield *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < M_MAX; i++) {
		if (s->mm[i])
			munmap(s->mm[i], s->mmlen[i]);
		if (!s->skel && s->fd[i] >= 0)
			close(s->fd[i]);
	}
	if (!s->skel && s->prog_fd >= 0)
		close(s->prog_fd);
	shield_bpf__destroy(s->skel);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s);
}

/* Map every table user space writes; array elements are 8-byte aligned. */
static int map_tables(struct sg_shield *s, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	int i;

	for (i = 0; i < M_MAX; i++) {
		__u32 len = sizeof(s->info[i]);
		size_t sz;

		memset(&s->info[i], 0, sizeof(s->info[i]));
		if (bpf_obj_get_info_by_fd(s->fd[i], &s->info[i], &len)) {
			snprintf(err, errlen, "shield: map %s: %s", map_pin[i], strerror(errno));
			return -errno;
		}
		if (!map_mmap[i])
			continue;
		sz = (size_t)s->info[i].max_entries * ((s->info[i].value_size + 7) & ~7u);
		sz = (sz + page - 1) & ~(size_t)(page - 1);
		s->mm[i] = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd[i], 0);
		if (s->mm[i] == MAP_FAILED) {
			s->mm[i] = NULL;
			snprintf(err, errlen, "shield: mmap %s: %s", map_pin[i], strerror(errno));
			return -errno;
		}
		s->mmlen[i] = sz;
	}
	s->cfg = s->mm[M_CFG];
	return 0;
}

static int ensure_bpffs(char *err, size_t errlen)
{
	struct statfs fs;

	if (!statfs(BPF_FS_ROOT, &fs) && fs.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPF_FS_ROOT, "bpf", 0, NULL)) {
		snprintf(err, errlen, "shield: cannot mount bpffs at %s: %s", BPF_FS_ROOT, strerror(errno));
		return -errno;
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	char p[256], *c;

	snprintf(p, sizeof(p), "%s", dir);
	for (c = p + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0700) && errno != EEXIST)
			return -errno;
		*c = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* One editor at a time: rebuilds must not interleave. */
static int lock_dir(struct sg_shield *s, bool nonblock, char *err, size_t errlen)
{
	s->lock_fd = open(s->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | (nonblock ? LOCK_NB : 0))) {
		snprintf(err, errlen, "shield: cannot lock %s: %s", s->pin_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

static int pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	return snprintf(buf, len, "%s/%s", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

/* Deny lists of 1M CIDRs are ~20 MB of text; anything near this is not a list. */
#define SG_SHIELD_LIST_MAX (256u << 20)

int sg_shield_read_list(const char *path, struct sg_cidr **out, size_t *n, char *err,
			size_t errlen)
{
	char *text = NULL, why[256];
	size_t len = 0;
	int rc = sg_file_read_all(path, SG_SHIELD_LIST_MAX, &text, &len, err, errlen);

	if (rc)
		return rc;
	rc = sg_cidr_parse_list(text, len, out, n, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, why);
	free(text);
	return rc;
}

int sg_shield_create(const struct sg_shield_opts *o, struct sg_shield **out, char *err, size_t errlen)
{
	struct bpf_map *maps[M_MAX];
	struct sg_shield *s;
	char path[512];
	int i, rc;

	if (o->v6_bits < 8 || o->v6_bits > SG_SH_V6_BITS_MAX || !o->max_rules || !o->v4_chunks ||
	    !o->v6_entries ||
	    o->v4_chunks > 0x7fffffffu || o->max_rules > 0x7ffffffeu) {
		snprintf(err, errlen, "shield: bad sizes (rules %u, v4 chunks %u, v6 bits %u: 8..%d)",
			 o->max_rules, o->v4_chunks, o->v6_bits, SG_SH_V6_BITS_MAX);
		return -EINVAL;
	}
	s = shield_new(o->pin_dir);
	if (!s)
		return -ENOMEM;
	s->skel = shield_bpf__open();
	if (!s->skel) {
		rc = -errno;
		snprintf(err, errlen, "shield: cannot open the BPF object: %s", strerror(-rc));
		goto fail;
	}
	{
		size_t elf_len;
		const void *elf = shield_bpf__elf_bytes(&elf_len);

		rc = sg_bpf_object_audit(s->skel->obj, elf, elf_len, err, errlen);	/* BPF-2 */
		if (rc)
			goto fail;
	}
	maps[M_V4ROOT] = s->skel->maps.v4root;
	maps[M_V4POOL] = s->skel->maps.v4pool;
	maps[M_V6BKT] = s->skel->maps.v6bkt;
	maps[M_V6META] = s->skel->maps.v6meta;
	maps[M_V6HASH] = s->skel->maps.v6hash;
	maps[M_RULES] = s->skel->maps.rules;
	maps[M_HITS] = s->skel->maps.hits;
	maps[M_STATS] = s->skel->maps.stats;
	maps[M_CFG] = s->skel->maps.bss;
	bpf_map__set_max_entries(maps[M_V4POOL], o->v4_chunks);
	bpf_map__set_max_entries(maps[M_V6BKT], (SG_SH_SETS << o->v6_bits) / SG_SH_CHUNK);
	bpf_map__set_max_entries(maps[M_V6HASH], o->v6_entries);
	bpf_map__set_max_entries(maps[M_RULES], o->max_rules);
	bpf_map__set_max_entries(maps[M_HITS], o->max_rules + 1);
	s->skel->bss->cfg.v6_bits = o->v6_bits;
	rc = shield_bpf__load(s->skel);
	if (rc) {
		snprintf(err, errlen, "shield: the XDP program did not load (%s); nothing attached, "
			 "traffic is not filtered", strerror(-rc));
		goto fail;
	}
	s->prog_fd = bpf_program__fd(s->skel->progs.sg_shield);
	for (i = 0; i < M_MAX; i++)
		s->fd[i] = bpf_map__fd(maps[i]);
	rc = map_tables(s, err, errlen);
	if (rc)
		goto fail;
	if (o->pin_dir) {
		rc = ensure_bpffs(err, errlen);
		if (rc)
			goto fail;
		rc = mkdir_p(o->pin_dir);
		if (rc) {
			snprintf(err, errlen, "shield: mkdir %s: %s", o->pin_dir, strerror(-rc));
			goto fail;
		}
		rc = lock_dir(s, false, err, errlen);
		if (rc)
			goto fail;
		for (i = 0; i <= M_MAX; i++) {
			rc = pin_path(path, sizeof(path), o->pin_dir, i < M_MAX ? map_pin[i] : "prog");
			if (!rc && bpf_obj_pin(i < M_MAX ? s->fd[i] : s->prog_fd, path))
				rc = -errno;
			if (rc) {
				snprintf(err, errlen, "shield: pin %s: %s", path, strerror(-rc));
				/* Undo only our own pins: another loader may own the rest. */
				while (i-- > 0)
					if (!pin_path(path, sizeof(path), o->pin_dir, i < M_MAX ? map_pin[i] : "prog"))
						unlink(path);
				goto fail;
			}
		}
	}
	*out = s;
	return 0;
fail:
	sg_shield_close(s);
	return rc;
}

static int open_pinned(const char *pin_dir, bool nonblock, struct sg_shield **out, char *err,
		       size_t errlen)
{
	struct sg_shield *s = shield_new(pin_dir);
	char path[512];
	int i, rc;

	if (!s)
		return -ENOMEM;
	for (i = 0; i <= M_MAX; i++) {
		int fd;

		pin_path(path, sizeof(path), pin_dir, i < M_MAX ? map_pin[i] : "prog");
		fd = bpf_obj_get(path);
		if (fd < 0) {
			rc = -errno;
			if (rc == -ENOENT)
				snprintf(err, errlen, "shield: not loaded (no %s): run "
					 "'sysguardctl shield attach IFACE' first", path);
			else
				snprintf(err, errlen, "shield: %s: %s", path, strerror(-rc));
			goto fail;
		}
		if (i < M_MAX)
			s->fd[i] = fd;
		else
			s->prog_fd = fd;
	}
	rc = lock_dir(s, nonblock, err, errlen);
	if (!rc)
		rc = map_tables(s, err, errlen);
	if (rc)
		goto fail;
	*out = s;
	return 0;
fail:
	sg_shield_close(s);
	return rc;
}

int sg_shield_open(const char *pin_dir, struct sg_shield **out, char *err, size_t errlen)
{
	return open_pinned(pin_dir, false, out, err, errlen);
}

int sg_shield_try_open(const char *pin_dir, struct sg_shield **out, char *err, size_t errlen)
{
	return open_pinned(pin_dir, true, out, err, errlen);
}

int sg_shield_unpin(const char *pin_dir)
{
	char path[512];
	struct dirent *d;
	DIR *dir = opendir(pin_dir);
	int rc = 0;

	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		if (pin_path(path, sizeof(path), pin_dir, d->d_name) || unlink(path))
			rc = -errno;
	}
	closedir(dir);
	if (rmdir(pin_dir) && !rc)
		rc = -errno;
	/* The shared parent (/sys/fs/bpf/sysguard) goes too once nothing else is pinned there. */
	if (!rc && snprintf(path, sizeof(path), "%s", pin_dir) < (int)sizeof(path)) {
		char *slash = strrchr(path, '/');

		if (slash && slash != path) {
			*slash = '\0';
			rmdir(path);
		}
	}
	return rc;
}

static uint32_t prog_id(const struct sg_shield *s)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(s->prog_fd, &info, &len) ? 0 : info.id;
}

/* XDP mode flag under which our program sits on ifindex, 0 if it is not there. */
static uint32_t our_mode(const struct sg_shield *s, unsigned ifindex, uint32_t *other)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	uint32_t id = prog_id(s);

	*other = 0;
	if (!id || bpf_xdp_query(ifindex, 0, &q))
		return 0;
	if (q.drv_prog_id == id)
		return XDP_FLAGS_DRV_MODE;
	if (q.skb_prog_id == id)
		return XDP_FLAGS_SKB_MODE;
	if (q.hw_prog_id == id)
		return XDP_FLAGS_HW_MODE;
	*other = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	return 0;
}

/*
 * Attached through netlink, not a bpf_link: the attachment outlives this
 * process and belongs to the interface (deleting the interface or its
 * namespace removes it).
 */
int sg_shield_attach(struct sg_shield *s, const char *ifname, bool generic, const char **mode,
		     char *err, size_t errlen)
{
	unsigned ifindex = if_nametoindex(ifname);
	uint32_t other;
	int rc = -1;

	if (!ifindex) {
		snprintf(err, errlen, "shield: no interface '%s' here: nothing attached, traffic flows",
			 ifname);
		return -ENODEV;
	}
	if (our_mode(s, ifindex, &other)) {
		snprintf(err, errlen, "shield: already attached to %s", ifname);
		return -EEXIST;
	}
	if (other) {
		snprintf(err, errlen, "shield: %s already runs XDP program id %u; not replacing it",
			 ifname, other);
		return -EBUSY;
	}
	if (!generic) {
		rc = bpf_xdp_attach(ifindex, s->prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_DRV_MODE,
				    NULL);
		*mode = "native";
	}
	if (rc) {
		rc = bpf_xdp_attach(ifindex, s->prog_fd, XDP_FLAGS_UPDATE_IF_NOEXIST | XDP_FLAGS_SKB_MODE,
				    NULL);
		*mode = "generic";
	}
	if (rc)
		snprintf(err, errlen, "shield: cannot attach XDP to %s (%s): nothing attached, "
			 "traffic flows", ifname, strerror(-rc));
	return rc;
}

int sg_shield_detach(struct sg_shield *s, const char *ifname, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = s->prog_fd);
	unsigned ifindex = if_nametoindex(ifname);
	uint32_t other, mode;
	int rc;

	mode = ifindex ? our_mode(s, ifindex, &other) : 0;
	if (!mode) {
		snprintf(err, errlen, "shield: not attached to %s", ifname);
		return -ENOENT;
	}
	rc = bpf_xdp_detach(ifindex, mode | XDP_FLAGS_REPLACE, &o);
	if (rc)
		snprintf(err, errlen, "shield: detach from %s: %s", ifname, strerror(-rc));
	return rc;
}

int sg_shield_attached(struct sg_shield *s, char (*names)[IF_NAMESIZE], size_t max, size_t *n)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	uint32_t other;

	*n = 0;
	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++)
		if (our_mode(s, i->if_index, &other) && *n < max)
			snprintf(names[(*n)++], IF_NAMESIZE, "%s", i->if_name);
	if_freenameindex(ifs);
	return 0;
}

static int cmp_rule(const void *x, const void *y)
{
	const struct sg_shield_rule *a = x, *b = y;

	if (a->family != b->family)
		return a->family - b->family;
	if (a->len != b->len)
		return a->len - b->len;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void rule_of(const struct sg_cidr *c, struct sg_shield_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->family = c->family;
	r->len = c->len;
	memcpy(r->addr, c->addr, sizeof(r->addr));
}

static int cmp_cidr(const void *x, const void *y)
{
	const struct sg_cidr *a = x, *b = y;

	if (a->family != b->family)
		return a->family - b->family;
	if (a->len != b->len)
		return a->len - b->len;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* A live rule and its slot, sorted for lookups by rule. */
struct keyed {
	struct sg_shield_rule r;
	uint32_t slot;
};

static int cmp_keyed(const void *x, const void *y)
{
	return cmp_rule(&((const struct keyed *)x)->r, &((const struct keyed *)y)->r);
}

static struct keyed *find_rule(struct keyed *k, size_t n, const struct sg_shield_rule *r)
{
	struct keyed want = { .r = *r };

	return bsearch(&want, k, n, sizeof(*k), cmp_keyed);
}

static int sync_v6_hash(struct sg_shield *s, uint32_t set, const struct sg_sh_build_out *b)
{
	int fd = s->fd[M_V6HASH];
	struct sg_shield_v6key key, next, *stale = NULL, *keys = NULL;
	size_t nstale = 0, cap = 0, i;
	uint32_t *vals = NULL;
	int rc = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if ((next.set_len >> 8) == set) {
			if (nstale == cap) {
				void *p = realloc(stale, (cap = cap ? cap * 2 : 1024) * sizeof(*stale));

				if (!p) {
					rc = -ENOMEM;
					goto out;
				}
				stale = p;
			}
			stale[nstale++] = next;
		}
		key = next;
		prev = &key;
	}
	for (i = 0; i < nstale; i++)
		bpf_map_delete_elem(fd, &stale[i]);
	if (!b->nv6)
		goto out;
	keys = malloc(b->nv6 * sizeof(*keys));
	vals = malloc(b->nv6 * sizeof(*vals));
	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < b->nv6; i++) {
		keys[i] = b->v6[i].key;
		vals[i] = b->v6[i].rule;
	}
	{
		__u32 count = b->nv6;

		if (bpf_map_update_batch(fd, keys, vals, &count, NULL)) {
			for (i = 0; i < b->nv6; i++)
				if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY)) {
					rc = -errno;
					goto out;
				}
		}
	}
out:
	free(stale);
	free(keys);
	free(vals);
	return rc;
}

static void zero_hits(struct sg_shield *s, uint32_t id)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *z = calloc(ncpu > 0 ? ncpu : 1, sizeof(*z));

	if (z)
		bpf_map_update_elem(s->fd[M_HITS], &id, z, BPF_ANY);
	free(z);
}

int sg_shield_update(struct sg_shield *s, const struct sg_cidr *add, size_t nadd,
		     const struct sg_cidr *del, size_t ndel, bool replace, char *err, size_t errlen)
{
	uint32_t max = s->info[M_RULES].max_entries, set = (s->cfg->active & 1) ^ 1, i, free_slot = 0;
	struct sg_shield_rule *live = s->mm[M_RULES], *next = NULL, r;
	struct sg_sh_tables t = {
		.root = s->mm[M_V4ROOT], .pool = s->mm[M_V4POOL], .nchunks = s->info[M_V4POOL].max_entries,
		.v6bkt = s->mm[M_V6BKT], .v6_bits = s->cfg->v6_bits, .v6meta = s->mm[M_V6META],
	};
	struct sg_sh_build_out b = { 0 };
	struct keyed *k = NULL, *hit;
	struct sg_cidr *uadd = NULL;
	uint8_t *fresh = NULL;
	size_t nk = 0, nuadd = 0, j;
	int rc = -ENOMEM;

	next = malloc(max * sizeof(*next));
	k = malloc(max * sizeof(*k));
	fresh = calloc(max, 1);
	if (!next || !k || !fresh) {
		snprintf(err, errlen, "shield: out of memory");
		goto out;
	}
	memcpy(next, live, max * sizeof(*next));
	/* Input duplicates collapse to one rule. */
	uadd = malloc((nadd ? nadd : 1) * sizeof(*uadd));
	if (!uadd) {
		snprintf(err, errlen, "shield: out of memory");
		goto out;
	}
	memcpy(uadd, add, nadd * sizeof(*add));
	qsort(uadd, nadd, sizeof(*uadd), cmp_cidr);
	for (j = 0; j < nadd; j++)
		if (!nuadd || !sg_cidr_equal(&uadd[nuadd - 1], &uadd[j]))
			uadd[nuadd++] = uadd[j];
	add = uadd;
	nadd = nuadd;
	for (i = 0; i < max; i++)
		if (next[i].family)
			k[nk++] = (struct keyed){ .r = next[i], .slot = i };
	qsort(k, nk, sizeof(*k), cmp_keyed);
	if (replace) {
		/* Keep the slot (and counter) of every rule the new list still has. */
		struct keyed *want = malloc((nadd ? nadd : 1) * sizeof(*want));

		if (!want) {
			snprintf(err, errlen, "shield: out of memory");
			goto out;
		}
		for (j = 0; j < nadd; j++)
			rule_of(&add[j], &want[j].r);
		qsort(want, nadd, sizeof(*want), cmp_keyed);
		for (j = 0; j < nk; j++)
			if (!bsearch(&k[j], want, nadd, sizeof(*want), cmp_keyed))
				next[k[j].slot].family = 0;
		free(want);
	}
	for (j = 0; j < ndel; j++) {
		rule_of(&del[j], &r);
		hit = find_rule(k, nk, &r);
		if (!hit || !next[hit->slot].family) {
			char c[SG_CIDR_STRLEN];

			sg_cidr_format(&del[j], c, sizeof(c));
			snprintf(err, errlen, "shield: %s is not in the list", c);
			rc = -ENOENT;
			goto out;
		}
		next[hit->slot].family = 0;
	}
	for (j = 0; j < nadd; j++) {
		rule_of(&add[j], &r);
		hit = find_rule(k, nk, &r);
		if (hit && next[hit->slot].family)
			continue;
		if (hit && !fresh[hit->slot]) {
			/* Deleted above and added again: same slot, counter kept. */
			next[hit->slot] = r;
			continue;
		}
		/* Only slots no live table points at: the old set must not see them change. */
		while (free_slot < max && (next[free_slot].family || live[free_slot].family))
			free_slot++;
		if (free_slot == max) {
			snprintf(err, errlen, "shield: no free rule slot (%u slots hold the live and the "
				 "new list): attach with a larger --max-rules", max);
			rc = -ENOSPC;
			goto out;
		}
		next[free_slot] = r;
		fresh[free_slot] = 1;
	}
	rc = sg_sh_build(&t, set, next, max, &b, err, errlen);
	if (rc)
		goto out;
	rc = sync_v6_hash(s, set, &b);
	if (rc == -E2BIG) {
		snprintf(err, errlen, "shield: IPv6 hash full (%u entries hold the live and the new "
			 "IPv6 rules): attach with a larger --v6-entries", s->info[M_V6HASH].max_entries);
		goto out;
	}
	if (rc) {
		snprintf(err, errlen, "shield: IPv6 table update failed: %s", strerror(-rc));
		goto out;
	}
	for (i = 0; i < max; i++)
		if (fresh[i]) {
			zero_hits(s, i + 1);
			live[i] = next[i];
		}
	/* NET-4: the set is complete in memory; packets switch to it with this one store. */
	__atomic_store_n(&s->cfg->active, set, __ATOMIC_SEQ_CST);
	for (i = 0; i < max; i++)
		if (live[i].family && !next[i].family)
			memset(&live[i], 0, sizeof(live[i]));
out:
	free(b.v6);
	free(uadd);
	free(next);
	free(k);
	free(fresh);
	return rc;
}

int sg_shield_set_dry_run(struct sg_shield *s, bool on)
{
	__atomic_store_n(&s->cfg->dry_run, on ? 1 : 0, __ATOMIC_RELEASE);
	return 0;
}

int sg_shield_set_gateway(struct sg_shield *s, const struct sg_cidr *gw)
{
	uint32_t idx = (s->cfg->gw_idx & 1) ^ 1;
	struct sg_shield_gw *g = &s->cfg->gw[idx];

	memset(g, 0, sizeof(*g));
	if (gw) {
		g->family = gw->family;
		memcpy(g->addr, gw->addr, sizeof(g->addr));
	}
	__atomic_store_n(&s->cfg->gw_idx, idx, __ATOMIC_RELEASE);
	return 0;
}

/* sum[i * width + w] = sum over CPUs of element i, u64 w, for n elements of width u64s. */
static int percpu_sum(int fd, uint32_t n, uint32_t width, uint64_t *sum)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	uint32_t i, w, got = 0, batch;
	uint32_t *keys = NULL;
	uint64_t *v = NULL;
	__u32 out_batch;
	int rc = 0;

	if (ncpu <= 0)
		return -EINVAL;
	batch = n < 4096 ? n : 4096;
	keys = malloc((batch ? batch : 1) * sizeof(*keys));
	v = malloc((size_t)(batch ? batch : 1) * ncpu * width * sizeof(*v));
	if (!keys || !v) {
		rc = -ENOMEM;
		goto out;
	}
	memset(sum, 0, (size_t)n * width * sizeof(*sum));
	while (got < n) {
		LIBBPF_OPTS(bpf_map_batch_opts, bo);
		__u32 cnt = n - got < batch ? n - got : batch, k;

		/* Array batches start at the key after in_batch; NULL starts at 0. */
		if (bpf_map_lookup_batch(fd, got ? &out_batch : NULL, &out_batch, keys, v, &cnt, &bo) &&
		    errno != ENOENT) {
			for (cnt = 0; cnt < batch && got + cnt < n; cnt++) {
				keys[cnt] = got + cnt;
				if (bpf_map_lookup_elem(fd, &keys[cnt], v + (size_t)cnt * ncpu * width))
					memset(v + (size_t)cnt * ncpu * width, 0, ncpu * width * sizeof(*v));
			}
		}
		if (!cnt)
			break;
		for (k = 0; k < cnt; k++) {
			i = keys[k];
			if (i >= n)
				continue;
			for (c = 0; c < ncpu; c++)
				for (w = 0; w < width; w++)
					sum[(size_t)i * width + w] += v[((size_t)k * ncpu + c) * width + w];
		}
		got += cnt;
	}
out:
	free(keys);
	free(v);
	return rc;
}

uint64_t sg_bpf_map_memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

int sg_shield_status(struct sg_shield *s, struct sg_shield_status *st)
{
	struct sg_shield_rule *r = s->mm[M_RULES];
	uint32_t i;

	memset(st, 0, sizeof(*st));
	st->active = s->cfg->active & 1;
	st->dry_run = s->cfg->dry_run;
	st->gw = s->cfg->gw[s->cfg->gw_idx & 1];
	st->max_rules = s->info[M_RULES].max_entries;
	st->v4_chunks = s->info[M_V4POOL].max_entries;
	st->v6_bits = s->cfg->v6_bits;
	for (i = 0; i < st->max_rules; i++)
		st->nrules += r[i].family != 0;
	for (i = 0; i < M_MAX; i++)
		st->map_bytes += sg_bpf_map_memlock(s->fd[i]);
	return percpu_sum(s->fd[M_STATS], 1, SG_SH_CNT_MAX, st->cnt);
}

int sg_shield_rules(struct sg_shield *s, struct sg_shield_rule_stat **out, size_t *n)
{
	uint32_t max = s->info[M_RULES].max_entries, i;
	struct sg_shield_rule *r = s->mm[M_RULES];
	struct sg_shield_rule_stat *v;
	uint64_t *hits;
	size_t cnt = 0;
	int rc;

	hits = calloc(max + 1, sizeof(*hits));
	v = calloc(max ? max : 1, sizeof(*v));
	if (!hits || !v) {
		free(hits);
		free(v);
		return -ENOMEM;
	}
	rc = percpu_sum(s->fd[M_HITS], max + 1, 1, hits);
	for (i = 0; !rc && i < max; i++) {
		if (!r[i].family)
			continue;
		v[cnt].cidr.family = r[i].family;
		v[cnt].cidr.len = r[i].len;
		memcpy(v[cnt].cidr.addr, r[i].addr, sizeof(r[i].addr));
		v[cnt].id = i + 1;
		v[cnt].hits = hits[i + 1];
		cnt++;
	}
	free(hits);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

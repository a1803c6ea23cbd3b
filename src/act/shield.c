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

#include "act/shield_int.h"
#include "shield.skel.h"
#include "sense/prog_audit.h"
#include "store/bundle_files.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define BPF_FS_ROOT "/sys/fs/bpf"

static const char *const map_pin[M_MAX] = {
	"v4idx", "v4list", "v6idx", "v6list", "hits", "stats", "cfg",
};
static const bool map_mmap[M_MAX] = {
	[M_V4IDX] = true, [M_V4LIST] = true, [M_V6IDX] = true, [M_V6LIST] = true,
	[M_HITS] = true, [M_CFG] = true,
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

/* Bytes of each table for these sizes (the kernel rounds each up to pages). */
static void table_sizes(uint32_t b4, uint32_t b6, uint32_t cap4, uint32_t cap6, uint32_t max,
			uint64_t *sz)
{
	sz[M_V4IDX] = SG_SH_SETS * (((uint64_t)1 << b4) + 1) * 4;	/* bucket offsets of both sets */
	sz[M_V4LIST] = SG_SH_SETS * (uint64_t)cap4 * 8;
	sz[M_V6IDX] = SG_SH_SETS * SG_SH_V6_IDX_WORDS(b6) * 4;
	sz[M_V6LIST] = SG_SH_SETS * (uint64_t)cap6 * sizeof(struct sg_shield_v6ent);
	sz[M_HITS] = SG_SH_SETS * (uint64_t)max * 8;
}

uint64_t sg_shield_opts_bytes(const struct sg_shield_opts *o)
{
	uint32_t cap6 = (o->v6_entries < o->max_rules ? o->v6_entries : o->max_rules) + 1;
	uint64_t sz[M_MAX] = { 0 }, total = 0;
	int i;

	table_sizes(o->v4_bits ? o->v4_bits : sg_sh_bits_for(4, o->max_rules),
		    o->v6_bits ? o->v6_bits : sg_sh_bits_for(6, cap6), o->max_rules + 1, cap6,
		    o->max_rules, sz);
	for (i = 0; i < M_MAX; i++)
		total += sz[i];
	return total;
}

int sg_shield_create(const struct sg_shield_opts *o, struct sg_shield **out, char *err, size_t errlen)
{
	/* Each list starts with an entry holding everything (see shield_abi.h). */
	uint32_t cap4 = o->max_rules + 1, cap6, b4, b6;
	struct bpf_map *maps[M_MAX];
	uint64_t sz[M_MAX] = { 0 };
	struct sg_shield *s;
	char path[512];
	int i, rc;

	cap6 = (o->v6_entries < o->max_rules ? o->v6_entries : o->max_rules) + 1;
	b4 = o->v4_bits ? o->v4_bits : sg_sh_bits_for(4, o->max_rules);
	b6 = o->v6_bits ? o->v6_bits : sg_sh_bits_for(6, cap6);

	/* Rule ids and up distances must fit their entry fields. */
	if (!o->max_rules || o->max_rules >= SG_SH6_UP_MASK || !o->v6_entries ||
	    b4 < SG_SH_BITS_MIN || b4 > SG_SH_V4_BITS_MAX || b6 < SG_SH_BITS_MIN ||
	    b6 > SG_SH_V6_BITS_MAX) {
		snprintf(err, errlen, "shield: bad sizes (rules %u: 1..%u, IPv6 rules %u, index bits "
			 "IPv4 %u and IPv6 %u: %d..%d and %d..%d)", o->max_rules, SG_SH6_UP_MASK,
			 o->v6_entries, o->v4_bits, o->v6_bits, SG_SH_BITS_MIN, SG_SH_V4_BITS_MAX, SG_SH_BITS_MIN,
			 SG_SH_V6_BITS_MAX);
		return -EINVAL;
	}
	table_sizes(b4, b6, cap4, cap6, o->max_rules, sz);
	if (o->max_bytes && sg_shield_opts_bytes(o) > o->max_bytes) {
		snprintf(err, errlen, "shield: %u rules (%u IPv6) need %.1f MB of kernel memory, over "
			 "the limit of %.1f MB (--max-memory): nothing attached, traffic is not filtered",
			 o->max_rules, cap6 - 1, sg_shield_opts_bytes(o) / 1e6, o->max_bytes / 1e6);
		return -E2BIG;
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
	maps[M_V4IDX] = s->skel->maps.v4idx;
	maps[M_V4LIST] = s->skel->maps.v4list;
	maps[M_V6IDX] = s->skel->maps.v6idx;
	maps[M_V6LIST] = s->skel->maps.v6list;
	maps[M_HITS] = s->skel->maps.hits;
	maps[M_STATS] = s->skel->maps.stats;
	maps[M_CFG] = s->skel->maps.bss;
	for (i = M_V4IDX; i <= M_HITS; i++) {
		if (sz[i] > 0x7ffffff8u) {
			snprintf(err, errlen, "shield: the %s table would take %.1f GB: attach with a "
				 "smaller --max-rules", map_pin[i], sz[i] / 1e9);
			rc = -E2BIG;
			goto fail;
		}
		bpf_map__set_value_size(maps[i], (uint32_t)sz[i]);
	}
	s->skel->rodata->v4_bits = b4;
	s->skel->rodata->v6_bits = b6;
	s->skel->rodata->cap4 = cap4;
	s->skel->rodata->cap6 = cap6;
	s->skel->rodata->max_rules = o->max_rules;
	s->skel->bss->cfg.v4_bits = b4;
	s->skel->bss->cfg.v6_bits = b6;
	s->skel->bss->cfg.cap4 = cap4;
	s->skel->bss->cfg.cap6 = cap6;
	s->skel->bss->cfg.max_rules = o->max_rules;
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

static bool has_prog_pin(const char *pin_dir)
{
	char path[512];
	int fd;

	if (pin_path(path, sizeof(path), pin_dir, "prog"))
		return false;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int sg_shield_remove_stale(const char *pin_dir, char *err, size_t errlen)
{
	char path[512], names[64][IF_NAMESIZE];
	struct sg_shield *s = shield_new(pin_dir);
	size_t n = 0, i;
	int rc = 0;

	if (!s)
		return -ENOMEM;
	if (!pin_path(path, sizeof(path), pin_dir, "prog"))
		s->prog_fd = bpf_obj_get(path);
	if (s->prog_fd >= 0) {
		sg_shield_attached(s, names, 64, &n);
		for (i = 0; i < n && !rc; i++)
			rc = sg_shield_detach(s, names[i], err, errlen);
	}
	sg_shield_close(s);
	if (!rc)
		rc = sg_shield_unpin(pin_dir);
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
			if (rc == -ENOENT && has_prog_pin(pin_dir)) {
				/* Pins outlive upgrades: an older layout must not look like "not loaded". */
				snprintf(err, errlen, "shield: the Shield pinned in %s was made by an older "
					 "version (no %s): 'sysguardctl shield unload' removes it, then attach "
					 "again; until then the old program keeps filtering", pin_dir,
					 map_pin[i]);
				rc = -ESTALE;
			} else if (rc == -ENOENT)
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
	uint32_t set = s->cfg->active & 1;
	int i;

	memset(st, 0, sizeof(*st));
	st->active = set;
	st->dry_run = s->cfg->dry_run;
	st->gw = s->cfg->gw[s->cfg->gw_idx & 1];
	st->max_rules = s->cfg->max_rules;
	st->max_v6 = s->cfg->cap6 - 1;
	st->nrules = s->cfg->n4[set] + s->cfg->n6[set];
	st->v4_bits = s->cfg->v4_bits;
	st->v6_bits = s->cfg->v6_bits;
	for (i = 0; i < M_MAX; i++)
		st->map_bytes += sg_bpf_map_memlock(s->fd[i]);
	return percpu_sum(s->fd[M_STATS], 1, SG_SH_CNT_MAX, st->cnt);
}

void sg_shield_tables(const struct sg_shield *s, struct sg_sh_tables *t)
{
	t->v4idx = s->mm[M_V4IDX];
	t->v4list = s->mm[M_V4LIST];
	t->v6idx = s->mm[M_V6IDX];
	t->v6list = s->mm[M_V6LIST];
	t->v4_bits = s->cfg->v4_bits;
	t->v6_bits = s->cfg->v6_bits;
	t->cap4 = s->cfg->cap4;
	t->cap6 = s->cfg->cap6;
}

uint64_t *sg_shield_hits(const struct sg_shield *s, uint32_t set)
{
	return (uint64_t *)s->mm[M_HITS] + (size_t)(set & 1) * s->cfg->max_rules;
}

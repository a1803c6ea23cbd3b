// SPDX-License-Identifier: Apache-2.0
/*
 * Shield lookup cost with BPF_PROG_TEST_RUN: ns per packet of the Shield
 * XDP program and of an empty XDP program in the same run, for IPv4/IPv6
 * hit/miss, with N random CIDRs; and the kernel memory of every map.
 *
 *   shield_bench N [--repeat R] [--rounds K] [--v6-bits B]
 *
 * Prints one JSON object on stdout (bench/shield/run.sh makes the table).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/shield.h"
#include "net/shield_build.h"

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Blocklist-like lengths: mostly /24 and /32 (addresses are random). */
static const uint8_t v4_lens[] = { 16, 18, 20, 22, 24, 24, 24, 24, 28, 32, 32, 32, 32 };
static const uint8_t v6_lens[] = { 32, 48, 48, 56, 64, 64, 128 };

static void mask(struct sg_cidr *c)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		unsigned bits = c->len > 32 * i ? c->len - 32 * i : 0;

		c->addr[i] &= htonl(bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0);
	}
}

/* 80% IPv4 outside 10/8 (the miss range), 20% IPv6 in 2000::/3 (misses use fd00::/8). */
static void gen(struct sg_cidr *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sg_cidr *c = &v[i];

		memset(c, 0, sizeof(*c));
		if (i % 5) {
			uint32_t a;

			do
				a = rnd() << 16 ^ rnd();
			while ((a >> 24) == 10);
			c->family = 4;
			c->len = v4_lens[rnd() % sizeof(v4_lens)];
			c->addr[0] = htonl(a);
		} else {
			c->family = 6;
			c->len = v6_lens[rnd() % sizeof(v6_lens)];
			c->addr[0] = htonl(0x20000000u | ((rnd() << 16 ^ rnd()) & 0x1fffffffu));
			c->addr[1] = rnd() << 16 ^ rnd();
			c->addr[2] = rnd() << 16 ^ rnd();
			c->addr[3] = rnd() << 16 ^ rnd();
		}
		mask(c);
	}
}

struct pkt {
	uint8_t b[64];
	size_t len;
};

static void make_pkt(struct pkt *p, const struct sg_cidr *src, bool host_bits)
{
	uint32_t a[4];
	unsigned i;

	memcpy(a, src->addr, sizeof(a));
	if (host_bits)		/* random host part: any address of the prefix */
		for (i = 0; i < 4; i++) {
			unsigned bits = src->len > 32 * i ? src->len - 32 * i : 0;
			uint32_t m = bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;

			if (src->family == 4 && i)
				break;
			a[i] |= htonl(rnd() & ~m);
		}
	memset(p, 0, sizeof(*p));
	memset(p->b, 0x02, 12);
	if (src->family == 4) {
		p->b[12] = 0x08;
		p->b[14] = 0x45;
		p->b[17] = 46;				/* total length */
		p->b[22] = 64;
		p->b[23] = 17;
		memcpy(p->b + 26, &a[0], 4);		/* saddr */
		p->b[30] = 10;				/* daddr 10.0.0.1 */
		p->b[33] = 1;
		p->len = 60;
	} else {
		p->b[12] = 0x86;
		p->b[13] = 0xdd;
		p->b[14] = 0x60;
		p->b[19] = 8;				/* payload length */
		p->b[20] = 17;
		p->b[21] = 64;
		memcpy(p->b + 22, a, 16);		/* saddr; daddr left zero */
		p->len = 62;
	}
}

static double run_ns(int prog_fd, const struct pkt *p, int repeat)
{
	uint8_t out[128];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "test_run: %s\n", strerror(errno));
		exit(1);
	}
	return o.duration;			/* average ns per run */
}

static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_empty", "GPL", insns, 2, NULL);

	if (fd < 0) {
		fprintf(stderr, "empty XDP program: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define NPKT 16
#define MAXROUNDS 31

/* Median over rounds of the mean over NPKT packets; empty program measured in the same round. */
static void measure(int shield_fd, int empty_fd, struct pkt *pk, int rounds, int repeat,
		    double *shield, double *empty)
{
	double s[MAXROUNDS], e[MAXROUNDS];
	int r, i;

	for (r = 0; r < rounds; r++) {
		s[r] = e[r] = 0;
		for (i = 0; i < NPKT; i++) {
			e[r] += run_ns(empty_fd, &pk[i], repeat) / NPKT;
			s[r] += run_ns(shield_fd, &pk[i], repeat) / NPKT;
		}
	}
	qsort(s, rounds, sizeof(double), cmp_d);
	qsort(e, rounds, sizeof(double), cmp_d);
	*shield = s[rounds / 2];
	*empty = e[rounds / 2];
}

/* Chunks the IPv4 trie needs for this list (built in plain memory first). */
static uint32_t chunks_needed(const struct sg_cidr *v, size_t n, uint32_t v6_bits)
{
	struct sg_sh_tables t = { .nchunks = (uint32_t)(n * 5 + 16), .v6_bits = v6_bits };
	struct sg_shield_rule *r = calloc(n, sizeof(*r));
	struct sg_sh_build_out out;
	char err[256];
	size_t i;

	t.root = calloc(SG_SH_SETS * SG_SH_ROOT_SIZE, 4);
	t.pool = calloc((size_t)t.nchunks * SG_SH_CHUNK, 4);
	t.v6bkt = calloc((size_t)SG_SH_SETS << v6_bits, 4);
	t.v6meta = calloc(SG_SH_SETS, sizeof(*t.v6meta));
	for (i = 0; i < n; i++) {
		r[i].family = v[i].family;
		r[i].len = v[i].len;
		memcpy(r[i].addr, v[i].addr, 16);
	}
	if (sg_sh_build(&t, 0, r, n, &out, err, sizeof(err))) {
		fprintf(stderr, "build: %s\n", err);
		exit(1);
	}
	free(out.v6);
	free(r);
	free(t.root);
	free(t.pool);
	free(t.v6bkt);
	free(t.v6meta);
	return out.chunks_used;
}

int main(int argc, char **argv)
{
	int repeat = 200000, rounds = 5, i, empty_fd;
	struct sg_shield_opts o = { .v6_bits = 20 };
	size_t n, nv4 = 0, k;
	struct sg_cidr *v, miss4 = { .family = 4, .len = 8 }, miss6 = { .family = 6, .len = 8 };
	struct pkt pk[NPKT];
	struct sg_shield *s;
	char err[512] = "";
	uint32_t need;
	double sh, em;

	if (argc < 2) {
		fprintf(stderr, "usage: shield_bench N [--repeat R] [--rounds K] [--v6-bits B]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--repeat"))
			repeat = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--v6-bits"))
			o.v6_bits = atoi(argv[i + 1]);
	}
	if (rounds < 1 || rounds > MAXROUNDS)
		rounds = 5;
	v = calloc(n, sizeof(*v));
	gen(v, n);
	for (k = 0; k < n; k++)
		nv4 += v[k].family == 4;
	need = chunks_needed(v, n, o.v6_bits);
	/* Room for the live set and a replacement of the same size (atomic swap). */
	o.max_rules = 2 * n;
	o.v6_entries = 2 * (n - nv4) + 64;
	o.v4_chunks = 2 * need + 64;
	if (sg_shield_create(&o, &s, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (sg_shield_update(s, v, n, NULL, 0, true, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	empty_fd = empty_prog();
	printf("{\"cidrs\": %zu, \"v4\": %zu, \"v6\": %zu, \"v4_chunks_per_set\": %u, "
	       "\"v4_chunks\": %u, \"v6_bits\": %u, \"repeat\": %d, \"rounds\": %d, \"results\": [",
	       n, nv4, n - nv4, need, o.v4_chunks, o.v6_bits, repeat, rounds);
	for (i = 0; i < 4; i++) {
		static const char *const what[] = { "v4 hit", "v4 miss", "v6 hit", "v6 miss" };
		int fam = i < 2 ? 4 : 6, j;

		for (j = 0; j < NPKT; j++) {
			if (i == 1 || i == 3) {
				struct sg_cidr *m = i == 1 ? &miss4 : &miss6;

				m->addr[0] = i == 1 ? htonl(0x0a000000) : htonl(0xfd000000);
				make_pkt(&pk[j], m, true);
				continue;
			}
			do
				k = ((size_t)rnd() << 16 ^ rnd()) % n;
			while (v[k].family != fam);
			make_pkt(&pk[j], &v[k], true);
		}
		measure(sg_shield_prog_fd(s), empty_fd, pk, rounds, repeat, &sh, &em);
		printf("%s{\"case\": \"%s\", \"shield_ns\": %.2f, \"empty_ns\": %.2f}", i ? ", " : "",
		       what[i], sh, em);
	}
	printf("], \"maps\": {");
	{
		/* The maps are not pinned here: reach them through the program's map ids. */
		struct bpf_prog_info info = { 0 };
		uint32_t ids[16], len = sizeof(info);
		uint64_t total = 0;

		info.nr_map_ids = 16;
		info.map_ids = (uintptr_t)ids;
		bpf_obj_get_info_by_fd(sg_shield_prog_fd(s), &info, &len);
		for (k = 0; k < info.nr_map_ids; k++) {
			struct bpf_map_info mi = { 0 };
			uint32_t ml = sizeof(mi);
			int fd = bpf_map_get_fd_by_id(ids[k]);
			uint64_t b = sg_bpf_map_memlock(fd);

			bpf_obj_get_info_by_fd(fd, &mi, &ml);
			total += b;
			printf("\"%s\": %llu, ", mi.name, (unsigned long long)b);
			close(fd);
		}
		printf("\"total\": %llu}}\n", (unsigned long long)total);
	}
	sg_shield_close(s);
	free(v);
	return 0;
}

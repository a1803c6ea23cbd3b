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

/* Average ns per run; exits when the verdict is not `want` (-1: any). */
static double run_ns(int prog_fd, const struct pkt *p, int repeat, int want)
{
	uint8_t out[128];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "test_run: %s\n", strerror(errno));
		exit(1);
	}
	if (want >= 0 && (int)o.retval != want) {
		fprintf(stderr, "wrong verdict %u (want %d)\n", o.retval, want);
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

/* Kernel-side run time of a program so far (kernel.bpf_stats_enabled=1), ns and runs. */
static void prog_time(int fd, unsigned long long *ns, unsigned long long *cnt)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	*ns = *cnt = 0;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		*ns = info.run_time_ns;
		*cnt = info.run_cnt;
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define NPKT 16
#define MAXROUNDS 31

/*
 * Median over rounds of the mean over NPKT packets; the empty program and the
 * LPM trie are measured in the same round, packet by packet, interleaved.
 */
static void measure(int shield_fd, int empty_fd, int lpm_fd, struct pkt *pk, int rounds, int repeat,
		    int want, double *shield, double *empty, double *lpm)
{
	double s[MAXROUNDS], e[MAXROUNDS], l[MAXROUNDS];
	int r, i;

	for (r = 0; r < rounds; r++) {
		s[r] = e[r] = l[r] = 0;
		for (i = 0; i < NPKT; i++) {
			e[r] += run_ns(empty_fd, &pk[i], repeat, XDP_PASS) / NPKT;
			s[r] += run_ns(shield_fd, &pk[i], repeat, want) / NPKT;
			if (lpm_fd >= 0)
				l[r] += run_ns(lpm_fd, &pk[i], repeat, want) / NPKT;
		}
	}
	qsort(s, rounds, sizeof(double), cmp_d);
	qsort(e, rounds, sizeof(double), cmp_d);
	qsort(l, rounds, sizeof(double), cmp_d);
	*shield = s[rounds / 2];
	*empty = e[rounds / 2];
	*lpm = l[rounds / 2];
}

/* The kernel LPM trie program with the same list, for comparison in the same run. */
static int lpm_prog(const char *obj_path, const struct sg_cidr *v, size_t n, size_t nv4,
		    uint64_t *bytes)
{
	struct bpf_object *obj = bpf_object__open_file(obj_path, NULL);
	struct bpf_map *m4, *m6;
	size_t i;
	int fd4, fd6;

	if (!obj) {
		fprintf(stderr, "%s: %s\n", obj_path, strerror(errno));
		exit(1);
	}
	m4 = bpf_object__find_map_by_name(obj, "trie4");
	m6 = bpf_object__find_map_by_name(obj, "trie6");
	bpf_map__set_max_entries(m4, nv4 + 1);
	bpf_map__set_max_entries(m6, n - nv4 + 1);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "LPM trie program: %s\n", strerror(errno));
		exit(1);
	}
	fd4 = bpf_map__fd(m4);
	fd6 = bpf_map__fd(m6);
	for (i = 0; i < n; i++) {
		struct { uint32_t len, addr[4]; } k = { .len = v[i].len };
		uint32_t one = 1;

		memcpy(k.addr, v[i].addr, sizeof(k.addr));
		if (bpf_map_update_elem(v[i].family == 4 ? fd4 : fd6, &k, &one, BPF_ANY)) {
			fprintf(stderr, "LPM trie update: %s\n", strerror(errno));
			exit(1);
		}
	}
	*bytes = sg_bpf_map_memlock(fd4) + sg_bpf_map_memlock(fd6);
	return bpf_program__fd(bpf_object__find_program_by_name(obj, "lpm_xdp"));
}

int main(int argc, char **argv)
{
	int repeat = 200000, rounds = 5, i, empty_fd, lpm_fd;
	struct sg_shield_opts o = { 0 };
	const char *lpm_obj = NULL;
	uint64_t lpm_bytes = 0;
	size_t n, nv4 = 0, k;
	struct sg_cidr *v, miss4 = { .family = 4, .len = 8 }, miss6 = { .family = 6, .len = 8 };
	struct pkt pk[NPKT];
	struct sg_shield *s;
	char err[512] = "";
	double sh, em, lp;

	if (argc < 2) {
		fprintf(stderr, "usage: shield_bench N [--repeat R] [--rounds K] [--lpm OBJ]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--repeat"))
			repeat = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--lpm"))
			lpm_obj = argv[i + 1];
	}
	if (rounds < 1 || rounds > MAXROUNDS)
		rounds = 5;
	v = calloc(n, sizeof(*v));
	gen(v, n);
	for (k = 0; k < n; k++)
		nv4 += v[k].family == 4;
	/* A list of exactly this size; the maps always hold a same-size replacement too. */
	o.max_rules = n;
	o.v6_entries = n - nv4;
	if (sg_shield_create(&o, &s, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (sg_shield_update(s, v, n, NULL, 0, true, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	empty_fd = empty_prog();
	lpm_fd = lpm_obj ? lpm_prog(lpm_obj, v, n, nv4, &lpm_bytes) : -1;
	{
		struct sg_shield_status st;

		sg_shield_status(s, &st);
		printf("{\"cidrs\": %zu, \"v4\": %zu, \"v6\": %zu, \"v4_bits\": %u, \"v6_bits\": %u, "
		       "\"lpm_bytes\": %llu, \"repeat\": %d, \"rounds\": %d, \"results\": [",
		       n, nv4, n - nv4, st.v4_bits, st.v6_bits, (unsigned long long)lpm_bytes, repeat,
		       rounds);
	}
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
		unsigned long long t0[3], c0[3], t1[3], c1[3];
		int fds[3] = { empty_fd, sg_shield_prog_fd(s), lpm_fd }, q;

		for (q = 0; q < 3; q++)
			prog_time(fds[q], &t0[q], &c0[q]);
		measure(sg_shield_prog_fd(s), empty_fd, lpm_fd, pk, rounds, repeat,
			i == 0 || i == 2 ? XDP_DROP : XDP_PASS, &sh, &em, &lp);
		for (q = 0; q < 3; q++)
			prog_time(fds[q], &t1[q], &c1[q]);
		if (c1[1] > c0[1])
			fprintf(stderr, "%s: program time (bpf_stats) empty %.1f shield %.1f lpm %.1f ns\n",
				(const char *[]){ "v4 hit", "v4 miss", "v6 hit", "v6 miss" }[i],
				(double)(t1[0] - t0[0]) / (c1[0] - c0[0] + !(c1[0] - c0[0])),
				(double)(t1[1] - t0[1]) / (c1[1] - c0[1]),
				(double)(t1[2] - t0[2]) / (c1[2] - c0[2] + !(c1[2] - c0[2])));
		printf("%s{\"case\": \"%s\", \"shield_ns\": %.2f, \"empty_ns\": %.2f, \"lpm_ns\": %.2f}",
		       i ? ", " : "", what[i], sh, em, lp);
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

// SPDX-License-Identifier: Apache-2.0
/* Shield tables: the built lookup equals a brute-force longest-prefix match; sets stay apart; edits merge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "net/shield_build.h"

#define CAP 40000

struct fixture {
	struct sg_sh_tables t;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int setup_bits(void **state, uint32_t b4, uint32_t b6)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->t.v4_bits = b4;
	f->t.v6_bits = b6;
	f->t.cap4 = f->t.cap6 = CAP + 1;
	f->t.v4idx = calloc(((size_t)1 << b4) + 1, SG_SH_SETS * sizeof(uint32_t));
	f->t.v6idx = calloc(SG_SH_V6_IDX_WORDS(b6), SG_SH_SETS * sizeof(uint32_t));
	f->t.v4list = calloc((size_t)SG_SH_SETS * f->t.cap4, sizeof(uint64_t));
	f->t.v6list = calloc((size_t)SG_SH_SETS * f->t.cap6, sizeof(struct sg_shield_v6ent));
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_bits(state, 12, 14);
}

/* Index bits at the minimum: big buckets, many entries searched per lookup. */
static int setup_small(void **state)
{
	return setup_bits(state, SG_SH_BITS_MIN, SG_SH_BITS_MIN);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->t.v4idx);
	free(f->t.v6idx);
	free(f->t.v4list);
	free(f->t.v6list);
	free(f);
	return 0;
}

static struct sg_sh_pfx masked(uint64_t hi, uint64_t lo, uint32_t len)
{
	struct sg_sh_pfx p = { .len = len };

	p.hi = len == 0 ? 0 : len >= 64 ? hi : hi & ~(~0ull >> len);
	p.lo = len <= 64 ? 0 : len == 128 ? lo : lo & ~(~0ull >> (len - 64));
	return p;
}

static bool covers(const struct sg_sh_pfx *p, uint64_t hi, uint64_t lo)
{
	struct sg_sh_pfx m = masked(hi, lo, p->len);

	return m.hi == p->hi && m.lo == p->lo;
}

/* Position (1-based) of the longest prefix of sorted p covering the address; 0 if none. */
static uint32_t brute(const struct sg_sh_pfx *p, size_t n, uint64_t hi, uint64_t lo)
{
	uint32_t best = 0;
	int blen = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (covers(&p[i], hi, lo) && (int)p[i].len > blen) {
			blen = p[i].len;
			best = i + 1;
		}
	return best;
}

/* Random blocklist-like prefixes; clustered so that nesting is common. */
static size_t gen(struct sg_sh_pfx *p, size_t n, int family)
{
	static const uint32_t l4[] = { 0, 1, 7, 8, 12, 16, 16, 18, 20, 22, 24, 24, 24, 28, 31, 32, 32 };
	static const uint32_t l6[] = { 0, 3, 16, 29, 32, 48, 56, 63, 64, 65, 100, 127, 128 };
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t hi = rnd64(), lo = rnd64();
		uint32_t len;

		if (family == 4) {
			hi = (hi & 0x0f0fffff00000000ull);		/* dense: lots of nesting */
			len = l4[rnd64() % (sizeof(l4) / sizeof(l4[0]))];
			if (len == 0 && rnd64() % 8)
				len = 24;
			p[i] = masked(hi, 0, len);
		} else {
			/* Mostly global unicast (the fine index), some anywhere (the coarse one). */
			if (i % 7)
				hi = 0x2000000000000000ull | (hi & 0x0ff0ffffffffffffull);
			len = l6[rnd64() % (sizeof(l6) / sizeof(l6[0]))];
			if (len == 0 && rnd64() % 8)
				len = 48;
			p[i] = masked(hi, lo, len);
		}
	}
	return sg_sh_sort(p, n);
}

/* An address inside p (random host bits), or a random one. */
static void probe(const struct sg_sh_pfx *p, int family, uint64_t *hi, uint64_t *lo)
{
	uint64_t rh = rnd64(), rl = rnd64();

	if (!p) {
		*hi = family == 4 ? rh & 0x0f0fffff00000000ull :
		      rl & 1 ? rh : 0x2000000000000000ull | (rh & 0x0ff0ffffffffffffull);
		*lo = family == 4 ? 0 : rl;
		return;
	}
	*hi = p->len >= 64 ? p->hi : p->hi | (rh & (p->len ? ~0ull >> p->len : ~0ull));
	*lo = p->len >= 128 ? p->lo : p->len > 64 ? p->lo | (rl & (~0ull >> (p->len - 64))) : rl;
	if (family == 4) {
		*hi &= 0xffffffff00000000ull;
		*lo = 0;
	}
}

static void check_family(struct fixture *f, int family, size_t want, size_t probes)
{
	static struct sg_sh_pfx p[2][CAP];
	size_t n[2], i;
	uint32_t set;

	n[0] = gen(p[0], want, family);
	n[1] = gen(p[1], want / 3, family);
	assert_int_equal(sg_sh_build(&f->t, 0, family, p[0], n[0]), 0);
	assert_int_equal(sg_sh_build(&f->t, 1, family, p[1], n[1]), 0);
	for (set = 0; set < SG_SH_SETS; set++)
		for (i = 0; i < probes; i++) {
			uint64_t hi, lo;
			uint32_t got, exp;

			probe(i % 3 ? &p[set][rnd64() % n[set]] : NULL, family, &hi, &lo);
			got = sg_sh_lookup(&f->t, set, family, hi, lo);
			exp = brute(p[set], n[set], hi, lo);
			if (got != exp)
				fail_msg("family %d set %u address %016llx:%016llx: got %u (/%u) want %u (/%u)",
					 family, set, (unsigned long long)hi, (unsigned long long)lo, got,
					 got ? p[set][got - 1].len : 0, exp, exp ? p[set][exp - 1].len : 0);
		}
	/* What was written reads back, in order. */
	{
		static struct sg_sh_pfx back[CAP];

		sg_sh_read(&f->t, 0, family, n[0], back);
		assert_memory_equal(back, p[0], n[0] * sizeof(back[0]));
	}
}

static void test_ipv4_lookup_equals_brute_force_lpm(void **state)
{
	check_family(*state, 4, 3000, 100000);
}

static void test_ipv6_lookup_equals_brute_force_lpm(void **state)
{
	check_family(*state, 6, 3000, 100000);
}

static void test_big_buckets_still_match(void **state)
{
	check_family(*state, 4, 20000, 10000);
	check_family(*state, 6, 20000, 10000);
}

static struct sg_sh_pfx v4(uint32_t ip, uint32_t len)
{
	return masked((uint64_t)ip << 32, 0, len);
}

static void test_nested_prefixes_longest_wins(void **state)
{
	struct fixture *f = *state;
	struct sg_sh_pfx p[] = {
		v4(0x0a000000, 8), v4(0x0a010000, 16), v4(0x0a010200, 24), v4(0x0a010203, 32),
		v4(0x0a010280, 25), v4(0, 0), v4(0xffffffff, 32),
	};
	size_t n = sg_sh_sort(p, 7);
#define AT(ip) (p[sg_sh_lookup(&f->t, 1, 4, (uint64_t)(ip) << 32, 0) - 1].len)

	assert_int_equal(sg_sh_build(&f->t, 1, 4, p, n), 0);
	assert_int_equal(AT(0x0a010203), 32);
	assert_int_equal(AT(0x0a010204), 24);
	assert_int_equal(AT(0x0a0102ff), 25);
	assert_int_equal(AT(0x0a01ff00), 16);
	assert_int_equal(AT(0x0aff0000), 8);
	assert_int_equal(AT(0x0b000000), 0);
	assert_int_equal(AT(0xffffffff), 32);
	assert_int_equal(AT(0xfffffffe), 0);
	assert_int_equal(AT(0), 0);
	/* Set 0 was never written: nothing matches there. */
	assert_int_equal(sg_sh_build(&f->t, 0, 4, NULL, 0), 0);
	assert_int_equal(sg_sh_lookup(&f->t, 0, 4, 0x0a01020300000000ull, 0), 0);
#undef AT
}

static void test_full_list_and_no_room(void **state)
{
	struct fixture *f = *state;
	static struct sg_sh_pfx p[CAP + 1];
	size_t i;

	for (i = 0; i <= CAP; i++)
		p[i] = v4((uint32_t)i << 8, 24);
	assert_int_equal(sg_sh_build(&f->t, 0, 4, p, CAP), 0);
	assert_int_equal(sg_sh_build(&f->t, 0, 4, p, CAP + 1), -ENOSPC);
	assert_int_equal(sg_sh_lookup(&f->t, 0, 4, (uint64_t)(CAP - 1) << 40 | 5ull << 32, 0), CAP);
}

static void test_merge_adds_deletes_and_keeps_counters(void **state)
{
	struct sg_sh_pfx old[] = { v4(0x01000000, 8), v4(0x02000000, 8), v4(0x03000000, 8) };
	struct sg_sh_pfx add[] = { v4(0x02000000, 8), v4(0x04000000, 8) };
	struct sg_sh_pfx del[] = { v4(0x01000000, 8), v4(0x02000000, 8) };
	struct sg_sh_pfx out[5], bad[] = { v4(0x05000000, 8) };
	uint32_t from[5];
	size_t n = 0, missing = 99;

	(void)state;
	assert_int_equal(sg_sh_merge(old, 3, add, 2, del, 2, out, from, &n, &missing), 0);
	/* 1/8 deleted; 2/8 deleted and added again keeps its place in old; 4/8 is new. */
	assert_int_equal(n, 3);
	assert_true(!sg_sh_pfx_cmp(&out[0], &old[1]) && from[0] == 2);
	assert_true(!sg_sh_pfx_cmp(&out[1], &old[2]) && from[1] == 3);
	assert_true(!sg_sh_pfx_cmp(&out[2], &add[1]) && from[2] == 0);
	assert_int_equal(sg_sh_merge(old, 3, NULL, 0, bad, 1, out, from, &n, &missing), -ENOENT);
	assert_int_equal(missing, 0);
	/* Deleting a prefix only being added is deleting one not in the list. */
	assert_int_equal(sg_sh_merge(old, 3, bad, 1, bad, 1, out, from, &n, &missing), -ENOENT);
	/* Adding what is there already changes nothing. */
	assert_int_equal(sg_sh_merge(old, 3, old, 3, NULL, 0, out, from, &n, &missing), 0);
	assert_int_equal(n, 3);
	assert_int_equal(from[2], 3);
}

static void test_sort_drops_duplicates(void **state)
{
	struct sg_sh_pfx p[] = { v4(0x0a000000, 8), v4(0x0a000000, 16), v4(0x0a000000, 8), v4(0x09000000, 8) };

	(void)state;
	assert_int_equal(sg_sh_sort(p, 4), 3);
	assert_int_equal(p[0].hi >> 56, 9);
	assert_int_equal(p[1].len, 8);
	assert_int_equal(p[2].len, 16);
}

static void test_cidr_round_trip(void **state)
{
	struct sg_cidr c = { .family = 6, .len = 100 }, back;
	struct sg_sh_pfx p;

	(void)state;
	c.addr[0] = htonl(0x20010db8);
	c.addr[2] = htonl(0x00f00000);
	sg_sh_pfx_of(&c, &p);
	sg_sh_cidr_of(6, &p, &back);
	assert_true(sg_cidr_equal(&c, &back));
	assert_int_equal(p.hi >> 48, 0x2001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv4_lookup_equals_brute_force_lpm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_lookup_equals_brute_force_lpm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_buckets_still_match, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_nested_prefixes_longest_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_list_and_no_room, setup, teardown),
		cmocka_unit_test(test_merge_adds_deletes_and_keeps_counters),
		cmocka_unit_test(test_sort_drops_duplicates),
		cmocka_unit_test(test_cidr_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

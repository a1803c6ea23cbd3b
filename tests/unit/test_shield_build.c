// SPDX-License-Identifier: Apache-2.0
/* Shield tables: the built lookup equals a brute-force longest-prefix match; sets stay apart. */
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

#define CHUNKS 20000
#define V6BITS 16

struct fixture {
	struct sg_sh_tables t;
	struct sg_sh_build_out out[SG_SH_SETS];
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->t.root = calloc(SG_SH_SETS * SG_SH_ROOT_SIZE, sizeof(uint32_t));
	f->t.pool = calloc(CHUNKS * SG_SH_CHUNK, sizeof(uint32_t));
	f->t.nchunks = CHUNKS;
	f->t.v6bkt = calloc(SG_SH_SETS << V6BITS, sizeof(uint32_t));
	f->t.v6_bits = V6BITS;
	f->t.v6meta = calloc(SG_SH_SETS, sizeof(*f->t.v6meta));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->t.root);
	free(f->t.pool);
	free(f->t.v6bkt);
	free(f->t.v6meta);
	free(f->out[0].v6);
	free(f->out[1].v6);
	free(f);
	return 0;
}

static struct sg_shield_rule v4(uint32_t ip, unsigned len)
{
	struct sg_shield_rule r = { .family = 4, .len = len };

	r.addr[0] = htonl(len ? ip & ~(uint32_t)((1ull << (32 - len)) - 1) : 0);
	return r;
}

static bool covers(const struct sg_shield_rule *r, const uint32_t a[4])
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		unsigned bits = r->len > 32 * i ? r->len - 32 * i : 0;
		uint32_t m = htonl(bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0);

		if ((a[i] & m) != r->addr[i])
			return false;
	}
	return true;
}

static uint32_t brute(const struct sg_shield_rule *r, uint32_t n, unsigned family, const uint32_t a[4])
{
	uint32_t i, best = 0;
	int blen = -1;

	for (i = 0; i < n; i++)
		/* >=: of two identical prefixes the later slot wins, as in the builder. */
		if (r[i].family == family && covers(&r[i], a) && r[i].len >= blen) {
			blen = r[i].len;
			best = i + 1;
		}
	return best;
}

struct find_ctx {
	const struct sg_sh_build_out *out;
};

static const uint32_t *find6(const struct sg_shield_v6key *key, void *ctx)
{
	const struct sg_sh_build_out *o = ((struct find_ctx *)ctx)->out;
	size_t i;

	/* Last one wins, as when the entries are written into the hash map in order. */
	for (i = o->nv6; i-- > 0;)
		if (!memcmp(&o->v6[i].key, key, sizeof(*key)))
			return &o->v6[i].rule;
	return NULL;
}

static void build(struct fixture *f, uint32_t set, const struct sg_shield_rule *r, uint32_t n)
{
	char err[256] = "";

	free(f->out[set].v6);
	if (sg_sh_build(&f->t, set, r, n, &f->out[set], err, sizeof(err)))
		fail_msg("build: %s", err);
}

static void test_ipv4_lookup_equals_brute_force_lpm(void **state)
{
	struct fixture *f = *state;
	struct sg_shield_rule r[3000];
	uint32_t i, a[4] = { 0 };

	for (i = 0; i < 3000; i++)
		r[i] = v4(rnd() & 0xff0fffffu, i < 20 ? 4 + rnd() % 12 : 8 + rnd() % 25);
	r[77].family = 0;		/* a free slot is no rule */
	build(f, 0, r, 3000);
	for (i = 0; i < 200000; i++) {
		a[0] = i < 3000 ? r[i].addr[0] | htonl(rnd() & 0xff) : htonl(rnd() & 0xff0fffffu);
		assert_int_equal(sg_sh_lookup4(&f->t, 0, a[0]), brute(r, 3000, 4, a));
	}
}

static void test_nested_prefixes_longest_wins(void **state)
{
	struct fixture *f = *state;
	struct sg_shield_rule r[] = {
		v4(0x0a000000, 8), v4(0x0a010000, 16), v4(0x0a010200, 24), v4(0x0a010203, 32),
		v4(0x0a010280, 25), v4(0, 0),
	};

	build(f, 1, r, 6);
	assert_int_equal(sg_sh_lookup4(&f->t, 1, htonl(0x0a010203)), 4);
	assert_int_equal(sg_sh_lookup4(&f->t, 1, htonl(0x0a010204)), 3);
	assert_int_equal(sg_sh_lookup4(&f->t, 1, htonl(0x0a0102ff)), 5);
	assert_int_equal(sg_sh_lookup4(&f->t, 1, htonl(0x0a01ff00)), 2);
	assert_int_equal(sg_sh_lookup4(&f->t, 1, htonl(0x0aff0000)), 1);
	assert_int_equal(sg_sh_lookup4(&f->t, 1, htonl(0x0b000000)), 6);
	assert_int_equal(sg_sh_lookup4(&f->t, 0, htonl(0x0a010203)), 0);
}

static void test_ipv6_lookup_equals_brute_force_lpm(void **state)
{
	struct fixture *f = *state;
	static const unsigned lens[] = { 2, 4, 10, 12, 18, 29, 32, 48, 56, 64, 100, 128 };
	static struct sg_shield_rule r[2000];
	struct find_ctx ctx = { &f->out[0] };
	uint32_t i, k, a[4];

	for (i = 0; i < 2000; i++) {
		uint32_t raw[4] = { htonl(rnd() & 0xfff0ffffu), rnd(), rnd(), rnd() };
		unsigned l = lens[rnd() % 12];

		r[i] = (struct sg_shield_rule){ .family = 6, .len = l };
		for (k = 0; k < 4; k++) {
			unsigned bits = l > 32 * k ? l - 32 * k : 0;

			r[i].addr[k] = raw[k] & htonl(bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0);
		}
	}
	build(f, 0, r, 2000);
	f->t.rules = r;
	for (i = 0; i < 20000; i++) {
		const struct sg_shield_rule *b = &r[rnd() % 2000];

		for (k = 0; k < 4; k++)
			a[k] = i & 1 ? b->addr[k] | (rnd() & ~htonl(0xffff0000u)) : rnd();
		assert_int_equal(sg_sh_lookup6(&f->t, 0, a, find6, &ctx), brute(r, 2000, 6, a));
	}
}

static void test_rebuild_leaves_the_live_set_intact(void **state)
{
	struct fixture *f = *state;
	struct sg_shield_rule a[500], b[500];
	uint32_t i, probe[4] = { 0 };

	for (i = 0; i < 500; i++) {
		a[i] = v4(rnd(), 20 + rnd() % 13);
		b[i] = v4(rnd(), 20 + rnd() % 13);
	}
	build(f, 0, a, 500);
	build(f, 1, b, 500);
	build(f, 1, b, 250);		/* rebuilds reuse only the free chunks */
	assert_true(f->out[1].chunks_other > 0);
	for (i = 0; i < 500; i++) {
		probe[0] = a[i].addr[0];
		assert_int_equal(sg_sh_lookup4(&f->t, 0, probe[0]), brute(a, 500, 4, probe));
		probe[0] = b[i].addr[0];
		assert_int_equal(sg_sh_lookup4(&f->t, 1, probe[0]), brute(b, 250, 4, probe));
	}
}

static void test_full_pool_is_reported(void **state)
{
	struct fixture *f = *state;
	struct sg_shield_rule *r = calloc(CHUNKS, sizeof(*r));
	struct sg_sh_build_out out;
	char err[256] = "";
	uint32_t i;

	for (i = 0; i < CHUNKS; i++)
		r[i] = v4((i << 12) | 0x5a5, 32);	/* one chain of 4 chunks each */
	assert_int_equal(sg_sh_build(&f->t, 0, r, CHUNKS, &out, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "--v4-chunks"));
	free(r);
}

static void test_too_many_ipv6_lengths_refused(void **state)
{
	struct fixture *f = *state;
	struct sg_shield_rule r[40];
	struct sg_sh_build_out out;
	char err[256] = "";
	uint32_t i;

	for (i = 0; i < 40; i++)
		r[i] = (struct sg_shield_rule){ .family = 6, .len = 40 + i, .addr = { htonl(0x20010db8) } };
	assert_int_equal(sg_sh_build(&f->t, 0, r, 40, &out, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "distinct IPv6 prefix lengths"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv4_lookup_equals_brute_force_lpm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_prefixes_longest_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_lookup_equals_brute_force_lpm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_leaves_the_live_set_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_pool_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_ipv6_lengths_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: Apache-2.0
/* Hash cache: hits only under the same stamp, LRU bound, removal under churn. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "policy/hash_cache.h"

static void sha_of(uint64_t n, uint8_t out[SG_SHA256_LEN])
{
	memset(out, 0, SG_SHA256_LEN);
	memcpy(out, &n, sizeof(n));
	out[31] = 0x5a;
}

static void test_hit_returns_stored_hash(void **state)
{
	struct sg_hash_cache *c = sg_hash_cache_new(4);
	struct sg_file_id id = { 2049, 12 };
	struct sg_file_stamp st = { .ctime_ns = 100, .mtime_ns = 90, .size = 4096 };
	uint8_t in[SG_SHA256_LEN], out[SG_SHA256_LEN];
	struct sg_hash_cache_stats s;

	assert_non_null(c);
	sha_of(7, in);
	assert_false(sg_hash_cache_get(c, &id, &st, out));
	sg_hash_cache_put(c, &id, &st, in);
	assert_true(sg_hash_cache_get(c, &id, &st, out));
	assert_memory_equal(in, out, SG_SHA256_LEN);
	sg_hash_cache_stats(c, &s);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.misses, 1);
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.max_entries, 4);
	sg_hash_cache_free(c);
}

static void test_other_identity_is_a_miss(void **state)
{
	struct sg_hash_cache *c = sg_hash_cache_new(4);
	struct sg_file_id id = { 1, 2 }, other_dev = { 9, 2 }, other_ino = { 1, 3 };
	struct sg_file_stamp st = { 1, 1, 1 };
	uint8_t h[SG_SHA256_LEN], out[SG_SHA256_LEN];

	sha_of(1, h);
	sg_hash_cache_put(c, &id, &st, h);
	assert_false(sg_hash_cache_get(c, &other_dev, &st, out));
	assert_false(sg_hash_cache_get(c, &other_ino, &st, out));
	sg_hash_cache_free(c);
}

static void test_changed_stamp_is_stale_and_dropped(void **state)
{
	static const struct sg_file_stamp changed[] = {
		{ .ctime_ns = 101, .mtime_ns = 90, .size = 4096 },
		{ .ctime_ns = 100, .mtime_ns = 91, .size = 4096 },
		{ .ctime_ns = 100, .mtime_ns = 90, .size = 4097 },
	};
	struct sg_file_stamp st = { .ctime_ns = 100, .mtime_ns = 90, .size = 4096 };
	struct sg_hash_cache *c = sg_hash_cache_new(4);
	struct sg_file_id id = { 3, 4 };
	uint8_t h[SG_SHA256_LEN], out[SG_SHA256_LEN];
	struct sg_hash_cache_stats s;
	size_t i;

	sha_of(5, h);
	for (i = 0; i < 3; i++) {
		sg_hash_cache_put(c, &id, &st, h);
		assert_false(sg_hash_cache_get(c, &id, &changed[i], out));
		/* The stale entry is gone: even the old stamp misses now. */
		assert_false(sg_hash_cache_get(c, &id, &st, out));
	}
	sg_hash_cache_stats(c, &s);
	assert_int_equal(s.stale, 3);
	assert_int_equal(s.entries, 0);
	sg_hash_cache_free(c);
}

/* The exec path knows only the kernel's ctime: it alone must hit, and a new one drop. */
static void test_ctime_lookup(void **state)
{
	struct sg_file_stamp st = { .ctime_ns = 100, .mtime_ns = 90, .size = 4096 };
	struct sg_hash_cache *c = sg_hash_cache_new(4);
	struct sg_file_id id = { 3, 4 }, other = { 3, 5 };
	uint8_t h[SG_SHA256_LEN], out[SG_SHA256_LEN];
	struct sg_hash_cache_stats s;

	sha_of(9, h);
	sg_hash_cache_put(c, &id, &st, h);
	assert_false(sg_hash_cache_get_ctime(c, &other, 100, out));
	memset(out, 0, sizeof(out));
	assert_true(sg_hash_cache_get_ctime(c, &id, 100, out));
	assert_memory_equal(out, h, SG_SHA256_LEN);
	assert_false(sg_hash_cache_get_ctime(c, &id, 101, out));
	/* Dropped: the full stamp misses too, until the file is hashed again. */
	assert_false(sg_hash_cache_get(c, &id, &st, out));
	sg_hash_cache_stats(c, &s);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.stale, 1);
	assert_int_equal(s.entries, 0);
	sg_hash_cache_free(c);
}

static void test_put_replaces_hash_and_stamp(void **state)
{
	struct sg_hash_cache *c = sg_hash_cache_new(2);
	struct sg_file_id id = { 3, 4 };
	struct sg_file_stamp a = { 1, 1, 1 }, b = { 2, 2, 2 };
	uint8_t h1[SG_SHA256_LEN], h2[SG_SHA256_LEN], out[SG_SHA256_LEN];
	struct sg_hash_cache_stats s;

	sha_of(1, h1);
	sha_of(2, h2);
	sg_hash_cache_put(c, &id, &a, h1);
	sg_hash_cache_put(c, &id, &b, h2);
	assert_true(sg_hash_cache_get(c, &id, &b, out));
	assert_memory_equal(out, h2, SG_SHA256_LEN);
	sg_hash_cache_stats(c, &s);
	assert_int_equal(s.entries, 1);
	sg_hash_cache_free(c);
}

static void test_lru_bound_evicts_least_recently_used(void **state)
{
	struct sg_hash_cache *c = sg_hash_cache_new(3);
	struct sg_file_stamp st = { 1, 1, 1 };
	struct sg_file_id id[4] = { { 1, 1 }, { 1, 2 }, { 1, 3 }, { 1, 4 } };
	uint8_t h[SG_SHA256_LEN], out[SG_SHA256_LEN];
	struct sg_hash_cache_stats s;
	int i;

	for (i = 0; i < 3; i++) {
		sha_of(i, h);
		sg_hash_cache_put(c, &id[i], &st, h);
	}
	/* Touch the oldest, so the second becomes least recently used. */
	assert_true(sg_hash_cache_get(c, &id[0], &st, out));
	sha_of(3, h);
	sg_hash_cache_put(c, &id[3], &st, h);

	assert_false(sg_hash_cache_get(c, &id[1], &st, out));
	assert_true(sg_hash_cache_get(c, &id[0], &st, out));
	assert_true(sg_hash_cache_get(c, &id[2], &st, out));
	assert_true(sg_hash_cache_get(c, &id[3], &st, out));
	sha_of(3, h);
	assert_memory_equal(out, h, SG_SHA256_LEN);
	sg_hash_cache_stats(c, &s);
	assert_int_equal(s.entries, 3);
	assert_int_equal(s.evictions, 1);
	sg_hash_cache_free(c);
}

static void test_forget_and_clear(void **state)
{
	struct sg_hash_cache *c = sg_hash_cache_new(8);
	struct sg_file_stamp st = { 1, 1, 1 };
	struct sg_file_id a = { 1, 1 }, b = { 1, 2 };
	uint8_t h[SG_SHA256_LEN], out[SG_SHA256_LEN];
	struct sg_hash_cache_stats s;

	sha_of(1, h);
	sg_hash_cache_put(c, &a, &st, h);
	sg_hash_cache_put(c, &b, &st, h);
	sg_hash_cache_forget(c, &a);
	sg_hash_cache_forget(c, &a);
	assert_false(sg_hash_cache_get(c, &a, &st, out));
	assert_true(sg_hash_cache_get(c, &b, &st, out));
	sg_hash_cache_clear(c);
	assert_false(sg_hash_cache_get(c, &b, &st, out));
	sg_hash_cache_stats(c, &s);
	assert_int_equal(s.entries, 0);
	sg_hash_cache_put(c, &a, &st, h);
	assert_true(sg_hash_cache_get(c, &a, &st, out));
	sg_hash_cache_free(c);
}

static void test_rejects_bad_size(void **state)
{
	assert_null(sg_hash_cache_new(0));
	assert_null(sg_hash_cache_new((size_t)1 << 31));
	sg_hash_cache_free(NULL);
}

/*
 * Many keys through a small cache, with forgets and stale lookups mixed in:
 * whatever the table reshuffles, exactly the last `max` live keys stay found.
 */
static void test_churn_keeps_exactly_the_recent_entries(void **state)
{
	enum { MAX = 64, N = 20000 };
	struct sg_hash_cache *c = sg_hash_cache_new(MAX);
	struct sg_file_stamp st = { 5, 5, 5 };
	uint8_t h[SG_SHA256_LEN], out[SG_SHA256_LEN];
	struct sg_hash_cache_stats s;
	uint64_t i, k;

	for (i = 0; i < N; i++) {
		/* Identities that collide in the low bits to stress probing. */
		struct sg_file_id id = { .dev = i % 3, .ino = i * 1024 };

		sha_of(i, h);
		sg_hash_cache_put(c, &id, &st, h);
		if (i % 7 == 0 && i >= 3) {
			struct sg_file_id old = { .dev = (i - 3) % 3, .ino = (i - 3) * 1024 };

			sg_hash_cache_forget(c, &old);
		}
	}
	sg_hash_cache_stats(c, &s);
	assert_true(s.entries <= MAX);
	for (k = N - 40; k < N; k++) {
		struct sg_file_id id = { .dev = k % 3, .ino = k * 1024 };
		bool forgotten = (k + 3) % 7 == 0 && k + 3 < N;

		sha_of(k, h);
		if (forgotten) {
			assert_false(sg_hash_cache_get(c, &id, &st, out));
		} else {
			assert_true(sg_hash_cache_get(c, &id, &st, out));
			assert_memory_equal(out, h, SG_SHA256_LEN);
		}
	}
	for (k = 0; k < N - 200; k++) {
		struct sg_file_id id = { .dev = k % 3, .ino = k * 1024 };

		assert_false(sg_hash_cache_get(c, &id, &st, out));
	}
	sg_hash_cache_free(c);
}

/* A plain array LRU, obviously right, to check the real one against. */
struct model {
	struct {
		struct sg_file_id id;
		struct sg_file_stamp st;
		uint8_t sha[SG_SHA256_LEN];
		uint64_t used;		/* 0 = empty slot */
	} e[16];
	size_t max;
	uint64_t clock;
};

static int model_find(struct model *m, const struct sg_file_id *id)
{
	size_t i;

	for (i = 0; i < m->max; i++)
		if (m->e[i].used && m->e[i].id.dev == id->dev && m->e[i].id.ino == id->ino)
			return (int)i;
	return -1;
}

static bool model_get(struct model *m, const struct sg_file_id *id,
		      const struct sg_file_stamp *st, uint8_t *out)
{
	int i = model_find(m, id);

	if (i < 0)
		return false;
	if (memcmp(&m->e[i].st, st, sizeof(*st))) {
		m->e[i].used = 0;
		return false;
	}
	memcpy(out, m->e[i].sha, SG_SHA256_LEN);
	m->e[i].used = ++m->clock;
	return true;
}

static void model_put(struct model *m, const struct sg_file_id *id,
		      const struct sg_file_stamp *st, const uint8_t *sha)
{
	int i = model_find(m, id);
	size_t k;

	if (i < 0) {
		for (k = 0; k < m->max; k++)
			if (!m->e[k].used)
				break;
		if (k == m->max) {
			k = 0;
			for (size_t j = 1; j < m->max; j++)
				if (m->e[j].used < m->e[k].used)
					k = j;
		}
		i = (int)k;
	}
	m->e[i].id = *id;
	m->e[i].st = *st;
	memcpy(m->e[i].sha, sha, SG_SHA256_LEN);
	m->e[i].used = ++m->clock;
}

static void test_matches_reference_lru_under_random_ops(void **state)
{
	struct model m = { .max = 16 };
	struct sg_hash_cache *c = sg_hash_cache_new(m.max);
	unsigned seed = 7;
	int n;

	for (n = 0; n < 200000; n++) {
		struct sg_file_id id;
		struct sg_file_stamp st;
		uint8_t h[SG_SHA256_LEN], a[SG_SHA256_LEN], b[SG_SHA256_LEN];
		unsigned r, op;
		bool got, want;
		int i;

		seed = seed * 1103515245 + 12345;
		r = seed >> 8;
		op = r % 10;
		id.dev = (r >> 4) % 2;
		id.ino = ((r >> 5) % 40) * 64;	/* shared low bits: long probe runs */
		st.ctime_ns = (r >> 12) % 2;
		st.mtime_ns = 1;
		st.size = 1;
		if (op < 5) {
			sha_of(r, h);
			model_put(&m, &id, &st, h);
			sg_hash_cache_put(c, &id, &st, h);
		} else if (op < 9) {
			want = model_get(&m, &id, &st, a);
			got = sg_hash_cache_get(c, &id, &st, b);
			assert_int_equal(got, want);
			if (got)
				assert_memory_equal(a, b, SG_SHA256_LEN);
		} else {
			i = model_find(&m, &id);
			if (i >= 0)
				m.e[i].used = 0;
			sg_hash_cache_forget(c, &id);
		}
	}
	sg_hash_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_returns_stored_hash),
		cmocka_unit_test(test_other_identity_is_a_miss),
		cmocka_unit_test(test_changed_stamp_is_stale_and_dropped),
		cmocka_unit_test(test_ctime_lookup),
		cmocka_unit_test(test_put_replaces_hash_and_stamp),
		cmocka_unit_test(test_lru_bound_evicts_least_recently_used),
		cmocka_unit_test(test_forget_and_clear),
		cmocka_unit_test(test_rejects_bad_size),
		cmocka_unit_test(test_churn_keeps_exactly_the_recent_entries),
		cmocka_unit_test(test_matches_reference_lru_under_random_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

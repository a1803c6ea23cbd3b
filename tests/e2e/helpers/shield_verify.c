// SPDX-License-Identifier: Apache-2.0
/*
 * The Shield's verdict in the kernel against a reference longest-prefix match.
 *
 *   shield_verify N LOOKUPS SEED
 *
 * Loads N random CIDRs (IPv4 and IPv6, blocklist-like lengths plus short and
 * nested ones) into a Shield program of its own (nothing pinned, nothing
 * attached), then runs LOOKUPS packets through it with BPF_PROG_TEST_RUN:
 * each must be dropped exactly when the reference finds a prefix, and the
 * drop must be counted on that prefix (the longest). The reference is a hash
 * of (length, masked address) probed from the longest length present down:
 * nothing of the Shield's tables. Then it edits the list (removes and adds a
 * thousand CIDRs), replaces it with another random list, and checks again.
 * Prints one JSON line; exits 1 on the first wrong answer.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/shield.h"
#include "act/shield_int.h"
#include "net/shield_build.h"

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct sg_sh_pfx masked(uint64_t hi, uint64_t lo, uint32_t len)
{
	struct sg_sh_pfx p = { .len = len };

	p.hi = len == 0 ? 0 : len >= 64 ? hi : hi & ~(~0ull >> len);
	p.lo = len <= 64 ? 0 : len == 128 ? lo : lo & ~(~0ull >> (len - 64));
	return p;
}

static void gen(struct sg_cidr *v, size_t n)
{
	static const uint8_t l4[] = { 1, 7, 8, 16, 16, 18, 20, 22, 24, 24, 24, 24, 28, 31, 32, 32, 32 };
	static const uint8_t l6[] = { 3, 16, 29, 32, 48, 48, 56, 64, 64, 65, 100, 127, 128 };
	size_t i;

	for (i = 0; i < n; i++) {
		struct sg_sh_pfx p;

		if (i % 5) {
			/* Half of them in a tenth of the space: nested and crowded buckets. */
			uint64_t hi = rnd() & 0xffffffff00000000ull;

			if (i % 2)
				hi &= 0x0f0fffff00000000ull;
			p = masked(hi, 0, l4[rnd() % sizeof(l4)]);
			if (p.len < 12 && rnd() % 512)
				p = masked(hi, 0, 24);
			sg_sh_cidr_of(4, &p, &v[i]);
		} else {
			uint64_t hi = 0x2000000000000000ull | (rnd() & 0x1fffffffffffffffull);

			/* Some outside global unicast: the index's coarse part. */
			if (i % 7 == 0)
				hi = rnd();
			else if (i % 2)
				hi &= 0x2fff0fffffffffffull;
			p = masked(hi, rnd(), l6[rnd() % sizeof(l6)]);
			if (p.len < 16 && rnd() % 512)
				p = masked(hi, 0, 48);
			sg_sh_cidr_of(6, &p, &v[i]);
		}
	}
}

/* The reference: open addressing over (family, length, masked address). */
struct ref {
	struct sg_sh_pfx *key;
	uint8_t *fam;
	size_t cap;
	uint8_t lens[2][129];		/* lengths present, per family */
};

static size_t slot_of(const struct ref *r, int family, const struct sg_sh_pfx *p)
{
	uint64_t h = p->hi * 0x9e3779b97f4a7c15ull ^ p->lo * 0xc2b2ae3d27d4eb4full ^
		     ((uint64_t)p->len << 8 | (uint64_t)family);

	h ^= h >> 29;
	return (size_t)(h * 0xbf58476d1ce4e5b9ull >> 7) & (r->cap - 1);
}

static void ref_build(struct ref *r, const struct sg_cidr *v, size_t n)
{
	size_t i;

	for (r->cap = 1; r->cap < 2 * n + 16; r->cap <<= 1)
		;
	free(r->key);
	free(r->fam);
	r->key = calloc(r->cap, sizeof(*r->key));
	r->fam = calloc(r->cap, 1);
	memset(r->lens, 0, sizeof(r->lens));
	for (i = 0; i < n; i++) {
		struct sg_sh_pfx p;
		size_t s;

		sg_sh_pfx_of(&v[i], &p);
		r->lens[v[i].family == 6][p.len] = 1;
		for (s = slot_of(r, v[i].family, &p); r->fam[s]; s = (s + 1) & (r->cap - 1))
			if (r->fam[s] == v[i].family && !sg_sh_pfx_cmp(&r->key[s], &p))
				break;
		r->key[s] = p;
		r->fam[s] = v[i].family;
	}
}

/* The longest prefix holding the address, or len 255 when none does. */
static struct sg_sh_pfx ref_lookup(const struct ref *r, int family, uint64_t hi, uint64_t lo)
{
	int len;

	for (len = family == 4 ? 32 : 128; len >= 0; len--) {
		struct sg_sh_pfx p;
		size_t s;

		if (!r->lens[family == 6][len])
			continue;
		p = masked(hi, lo, len);
		for (s = slot_of(r, family, &p); r->fam[s]; s = (s + 1) & (r->cap - 1))
			if (r->fam[s] == family && !sg_sh_pfx_cmp(&r->key[s], &p))
				return p;
	}
	return (struct sg_sh_pfx){ .len = 255 };
}

static void packet(uint8_t *b, size_t *len, int family, uint64_t hi, uint64_t lo)
{
	uint32_t a[4] = { htonl(hi >> 32), htonl((uint32_t)hi), htonl(lo >> 32), htonl((uint32_t)lo) };

	memset(b, 0, 64);
	memset(b, 0x02, 12);
	if (family == 4) {
		b[12] = 0x08;
		b[14] = 0x45;
		b[17] = 46;
		b[22] = 64;
		b[23] = 17;
		memcpy(b + 26, &a[0], 4);
		*len = 60;
	} else {
		b[12] = 0x86;
		b[13] = 0xdd;
		b[14] = 0x60;
		b[19] = 8;
		b[20] = 17;
		b[21] = 64;
		memcpy(b + 22, a, 16);
		*len = 62;
	}
}

/* The rule id the Shield gives p in its live set: its position among the sorted rules. */
static uint32_t id_of(struct sg_shield *s, int family, const struct sg_sh_pfx *p)
{
	uint32_t set = s->cfg->active & 1, n = family == 4 ? s->cfg->n4[set] : s->cfg->n6[set];
	uint32_t lo = 0, hi = n;
	struct sg_sh_tables t;
	struct sg_sh_pfx e;

	/* A binary search over the live entries (sorted) through the builder's reader. */
	sg_shield_tables(s, &t);
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		sg_sh_read_one(&t, set, family, mid, &e);
		if (sg_sh_pfx_cmp(&e, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (family == 6 ? s->cfg->n4[set] : 0) + lo + 1;
}

static int check(struct sg_shield *s, const struct ref *r, const struct sg_cidr *v, size_t n,
		 size_t lookups, size_t *drops)
{
	size_t i;

	for (i = 0; i < lookups; i++) {
		uint8_t b[64], out[128];
		size_t len;
		int family = i % 5 ? 4 : 6;
		uint64_t hi = rnd(), lo = rnd();
		const struct sg_cidr *c = &v[rnd() % n];
		struct sg_sh_pfx want, inside;
		uint64_t *hits, before = 0;
		uint32_t id = 0;

		if (i % 2 && c->family == family) {
			sg_sh_pfx_of(c, &inside);
			/* An address of that prefix: its bits, then random host bits. */
			hi = inside.len >= 64 ? inside.hi : inside.hi | (hi & (inside.len ? ~0ull >> inside.len : ~0ull));
			lo = inside.len >= 128 ? inside.lo : inside.len > 64 ? inside.lo | (lo & (~0ull >> (inside.len - 64))) : lo;
		} else if (family == 6 && i % 3) {
			hi = 0x2000000000000000ull | (hi & 0x1fffffffffffffffull);
		}
		if (family == 4) {
			hi &= 0xffffffff00000000ull;
			lo = 0;
		}
		want = ref_lookup(r, family, hi, lo);
		hits = sg_shield_hits(s, s->cfg->active & 1);
		if (want.len != 255) {
			id = id_of(s, family, &want);
			before = hits[id - 1];
		}
		packet(b, &len, family, hi, lo);
		{
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = len,
				    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

			if (bpf_prog_test_run_opts(sg_shield_prog_fd(s), &o)) {
				fprintf(stderr, "test_run: %s\n", strerror(errno));
				return -1;
			}
			if (o.retval != (want.len != 255 ? XDP_DROP : XDP_PASS) ||
			    (id && hits[id - 1] != before + 1)) {
				struct sg_cidr x;
				char a[SG_CIDR_STRLEN], w[SG_CIDR_STRLEN] = "none";
				struct sg_sh_pfx ap = { .hi = hi, .lo = lo, .len = family == 4 ? 32 : 128 };

				sg_sh_cidr_of(family, &ap, &x);
				sg_cidr_format(&x, a, sizeof(a));
				if (want.len != 255) {
					sg_sh_cidr_of(family, &want, &x);
					sg_cidr_format(&x, w, sizeof(w));
				}
				printf("{\"mismatch\": \"%s\", \"want\": \"%s\", \"verdict\": %u, "
				       "\"counted\": %llu}\n", a, w, o.retval,
				       id ? (unsigned long long)(hits[id - 1] - before) : 0ull);
				return 1;
			}
		}
		*drops += want.len != 255;
	}
	return 0;
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

/* n random CIDRs, each once (so that deleting one removes it from the reference too). */
static size_t gen_unique(struct sg_cidr *v, size_t n)
{
	size_t i, k = 0, tries;

	for (tries = 0; k < n && tries < 20; tries++) {
		gen(v + k, n - k);
		qsort(v, n, sizeof(*v), cmp_cidr);
		for (i = 0, k = 0; i < n; i++)
			if (!k || cmp_cidr(&v[k - 1], &v[i]))
				v[k++] = v[i];
	}
	/* Two chains as deep as prefixes nest: one IPv4 address under /8../32, one IPv6 under /16../128. */
	if (k > 200 + 1000) {
		uint64_t hi = rnd() | 0x2000000000000000ull, lo = rnd();
		uint32_t len;
		struct sg_sh_pfx p;

		for (len = 8; len <= 32; len++) {
			p = masked(hi & 0xffffffff00000000ull, 0, len);
			sg_sh_cidr_of(4, &p, &v[k - 200 + len]);
		}
		for (len = 16; len <= 128; len++) {
			p = masked(hi, lo, len);
			sg_sh_cidr_of(6, &p, &v[k - 160 + (len - 16)]);
		}
		qsort(v, k, sizeof(*v), cmp_cidr);
		for (i = 0, n = k, k = 0; i < n; i++)
			if (!k || cmp_cidr(&v[k - 1], &v[i]))
				v[k++] = v[i];
	}
	/* Shuffled again: the edit below removes random ones. */
	for (i = k; i > 1; i--) {
		size_t j = rnd() % i;
		struct sg_cidr t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
	return k;
}

int main(int argc, char **argv)
{
	struct sg_shield_opts o = { 0 };
	struct sg_cidr *v, *w;
	struct ref r = { 0 };
	struct sg_shield *s;
	size_t n, lookups, drops = 0, i, k, nv6 = 0;
	char err[512] = "";
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: shield_verify N LOOKUPS SEED\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	lookups = strtoul(argv[2], NULL, 10);
	rng = strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull | 1;
	v = calloc(n + 1000, sizeof(*v));
	w = calloc(n, sizeof(*w));
	n = gen_unique(v, n);
	for (i = 0; i < n; i++)
		nv6 += v[i].family == 6;
	o.max_rules = n + 1000;
	o.v6_entries = n + 1000;		/* any mix, for the second list too */
	if (sg_shield_create(&o, &s, err, sizeof(err)) ||
	    sg_shield_update(s, v, n, NULL, 0, true, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ref_build(&r, v, n);
	rc = check(s, &r, v, n, lookups / 3, &drops);
	/* An edit: a thousand out, a thousand in. */
	if (!rc) {
		struct sg_cidr *del = v, add[1000];

		gen(add, 1000);
		if (sg_shield_update(s, add, 1000, del, 1000, false, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		for (k = 0; k < 1000; k++)
			v[k] = add[k];
		ref_build(&r, v, n);
		rc = check(s, &r, v, n, lookups / 3, &drops);
	}
	/* A new list of the same size replaces it, at once. */
	if (!rc) {
		n = gen_unique(w, n);
		for (i = 0, nv6 = 0; i < n; i++)
			nv6 += w[i].family == 6;
		if (sg_shield_update(s, w, n, NULL, 0, true, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		ref_build(&r, w, n);
		rc = check(s, &r, w, n, lookups - 2 * (lookups / 3), &drops);
	}
	if (!rc)
		printf("{\"cidrs\": %zu, \"lookups\": %zu, \"drops\": %zu, \"mismatches\": 0}\n", n,
		       lookups, drops);
	sg_shield_close(s);
	return rc ? 1 : 0;
}

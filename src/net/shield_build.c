// SPDX-License-Identifier: Apache-2.0
#include "net/shield_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void sg_sh_pfx_of(const struct sg_cidr *c, struct sg_sh_pfx *p)
{
	p->len = c->len;
	if (c->family == 4) {
		p->hi = (uint64_t)ntohl(c->addr[0]) << 32;
		p->lo = 0;
		return;
	}
	p->hi = (uint64_t)ntohl(c->addr[0]) << 32 | ntohl(c->addr[1]);
	p->lo = (uint64_t)ntohl(c->addr[2]) << 32 | ntohl(c->addr[3]);
}

void sg_sh_cidr_of(int family, const struct sg_sh_pfx *p, struct sg_cidr *c)
{
	memset(c, 0, sizeof(*c));
	c->family = family;
	c->len = p->len;
	c->addr[0] = htonl(p->hi >> 32);
	if (family == 4)
		return;
	c->addr[1] = htonl((uint32_t)p->hi);
	c->addr[2] = htonl(p->lo >> 32);
	c->addr[3] = htonl((uint32_t)p->lo);
}

int sg_sh_pfx_cmp(const struct sg_sh_pfx *a, const struct sg_sh_pfx *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return (a->len > b->len) - (a->len < b->len);
}

static int cmp_pfx(const void *a, const void *b)
{
	return sg_sh_pfx_cmp(a, b);
}

size_t sg_sh_sort(struct sg_sh_pfx *p, size_t n)
{
	size_t i, k = 0;

	qsort(p, n, sizeof(*p), cmp_pfx);
	for (i = 0; i < n; i++)
		if (!k || sg_sh_pfx_cmp(&p[k - 1], &p[i]))
			p[k++] = p[i];
	return k;
}

uint32_t sg_sh_bits_for(int family, uint32_t cap)
{
	uint32_t bits = 0, max = family == 4 ? SG_SH_V4_BITS_MAX : SG_SH_V6_BITS_MAX;

	while (bits < 32 && (1ull << bits) < cap)
		bits++;
	/* About one bucket per entry: most searches then compare one or two entries. */
	return bits < SG_SH_BITS_MIN ? SG_SH_BITS_MIN : bits > max ? max : bits;
}

int sg_sh_merge(const struct sg_sh_pfx *old, size_t nold, const struct sg_sh_pfx *add, size_t nadd,
		const struct sg_sh_pfx *del, size_t ndel, struct sg_sh_pfx *out, uint32_t *from,
		size_t *nout, size_t *missing)
{
	size_t i = 0, a = 0, d = 0, k = 0;

	while (i < nold || a < nadd) {
		int c = i == nold ? 1 : a == nadd ? -1 : sg_sh_pfx_cmp(&old[i], &add[a]);
		const struct sg_sh_pfx *p = c <= 0 ? &old[i] : &add[a];
		int dc = d < ndel ? sg_sh_pfx_cmp(&del[d], p) : 1;

		/* A delete sorting before the smallest prefix left, or of a new one, is not in old. */
		if (dc < 0 || (dc == 0 && c > 0)) {
			*missing = d;
			return -ENOENT;
		}
		if (dc == 0)
			d++;
		if (dc == 0 && c < 0) {
			i++;
			continue;
		}
		/* Deleted and added again in one edit stays, with its counter. */
		out[k] = *p;
		from[k++] = c <= 0 ? (uint32_t)i + 1 : 0;
		if (c <= 0)
			i++;
		if (c >= 0)
			a++;
	}
	if (d < ndel) {
		*missing = d;
		return -ENOENT;
	}
	*nout = k;
	return 0;
}

/* a holds b's address (so, as prefixes never overlap partly, b when a is not longer). */
static bool holds(const struct sg_sh_pfx *a, const struct sg_sh_pfx *b)
{
	if (a->len == 0)
		return true;
	if (a->len <= 64)
		return !((a->hi ^ b->hi) >> (64 - a->len));
	return a->hi == b->hi && !((a->lo ^ b->lo) >> (128 - a->len));
}

static void put(struct sg_sh_tables *t, uint32_t set, int family, size_t pos,
		const struct sg_sh_pfx *p, size_t up)
{
	if (family == 4) {
		t->v4list[(size_t)set * t->cap4 + pos] = (p->hi & 0xffffffff00000000ull) |
			(uint64_t)p->len << SG_SH4_LEN_SHIFT | up;
		return;
	}
	struct sg_shield_v6ent *e = &t->v6list[(size_t)set * t->cap6 + pos];

	e->hi = p->hi;
	e->lo = p->lo;
	e->len_up = p->len << SG_SH6_LEN_SHIFT | (uint32_t)up;
	e->pad = 0;
}

static uint32_t up_of(const struct sg_sh_tables *t, uint32_t set, int family, size_t pos)
{
	if (family == 4)
		return t->v4list[(size_t)set * t->cap4 + pos] & SG_SH4_UP_MASK;
	return t->v6list[(size_t)set * t->cap6 + pos].len_up & SG_SH6_UP_MASK;
}

#define V6_UNICAST	0x2000000000000000ull	/* 2000::/3 */

/*
 * One part of an index: nb buckets of 2^shift high-half addresses from
 * first_hi. Per bucket, the position of the last entry before it (the sets'
 * words interleave), flagged when nothing before the bucket holds its start;
 * word nb ends the last bucket (at first_hi + nb << shift when `bounded`,
 * else at the list's end).
 */
static void index_part(const struct sg_sh_tables *t, uint32_t set, int family,
		       const struct sg_sh_pfx *p, size_t n, uint32_t *idx, uint32_t nb,
		       uint64_t first_hi, uint32_t shift, bool bounded)
{
	size_t j = 0, at;
	uint32_t b;

	for (b = 0; b <= nb; b++) {
		struct sg_sh_pfx start = { .hi = first_hi + ((uint64_t)b << shift), .len = 128 };

		if (b == nb && !bounded) {
			j = n;
		} else {
			while (j < n && p[j].hi < start.hi)
				j++;
		}
		at = j;
		/* Walk up from that entry: does anything before the bucket hold its start? */
		while (b < nb && at && !holds(&p[at - 1], &start))
			at -= up_of(t, set, family, at);
		idx[(size_t)b << 1 | set] = (uint32_t)j | (b < nb && !at ? SG_SH_IDX_NONE : 0);
	}
}

int sg_sh_build(struct sg_sh_tables *t, uint32_t set, int family, const struct sg_sh_pfx *p,
		size_t n)
{
	uint32_t bits = family == 4 ? t->v4_bits : t->v6_bits, cap = family == 4 ? t->cap4 : t->cap6;
	uint32_t *idx = family == 4 ? t->v4idx : t->v6idx;
	static const struct sg_sh_pfx everything = { 0 };
	size_t stack[130], depth = 1, i;

	if (n + 1 > cap)
		return -ENOSPC;
	/* Position 0 holds everything and means "no rule": every walk ends there at the latest. */
	put(t, set, family, 0, &everything, 0);
	stack[0] = 0;
	for (i = 0; i < n; i++) {
		while (depth > 1 && !holds(&p[stack[depth - 1] - 1], &p[i]))
			depth--;
		put(t, set, family, i + 1, &p[i], i + 1 - stack[depth - 1]);
		/* Lengths strictly grow along a chain of enclosing prefixes: 129 at most. */
		if (depth < sizeof(stack) / sizeof(stack[0]))
			stack[depth++] = i + 1;
	}
	if (family == 4) {
		index_part(t, set, family, p, n, idx, 1u << bits, 0, 64 - bits, false);
	} else {
		index_part(t, set, family, p, n, idx, 1u << bits, V6_UNICAST, 61 - bits, true);
		index_part(t, set, family, p, n, idx + (((size_t)1 << bits) + 1) * SG_SH_SETS,
			   1u << SG_SH_V6_WIDE_BITS, 0, 64 - SG_SH_V6_WIDE_BITS, false);
	}
	return 0;
}

static void entry(const struct sg_sh_tables *t, uint32_t set, int family, size_t i,
		  struct sg_sh_pfx *p, uint32_t *up)
{
	if (family == 4) {
		uint64_t e = t->v4list[(size_t)set * t->cap4 + i];

		p->hi = e & 0xffffffff00000000ull;
		p->lo = 0;
		p->len = (e >> SG_SH4_LEN_SHIFT) & 63;
		*up = e & SG_SH4_UP_MASK;
		return;
	}
	const struct sg_shield_v6ent *e = &t->v6list[(size_t)set * t->cap6 + i];

	p->hi = e->hi;
	p->lo = e->lo;
	p->len = e->len_up >> SG_SH6_LEN_SHIFT;
	*up = e->len_up & SG_SH6_UP_MASK;
}

void sg_sh_read(const struct sg_sh_tables *t, uint32_t set, int family, size_t n,
		struct sg_sh_pfx *out)
{
	uint32_t up;
	size_t i;

	for (i = 0; i < n; i++)
		entry(t, set, family, i + 1, &out[i], &up);
}

void sg_sh_read_one(const struct sg_sh_tables *t, uint32_t set, int family, size_t i,
		    struct sg_sh_pfx *out)
{
	uint32_t up;

	entry(t, set, family, i + 1, out, &up);
}

uint32_t sg_sh_lookup(const struct sg_sh_tables *t, uint32_t set, int family, uint64_t hi,
		      uint64_t lo)
{
	uint32_t bits = family == 4 ? t->v4_bits : t->v6_bits;
	const uint32_t *idx = family == 4 ? t->v4idx : t->v6idx;
	struct sg_sh_pfx x = { .hi = hi, .lo = family == 4 ? 0 : lo, .len = 128 }, e;
	size_t b = (size_t)(hi >> (64 - bits)) << 1 | set;

	if (family == 6 && (hi >> 61) == 1)
		b = (size_t)((hi >> (61 - bits)) & ((1ull << bits) - 1)) << 1 | set;
	else if (family == 6)
		b = (((size_t)1 << bits) + 1 + (size_t)(hi >> (64 - SG_SH_V6_WIDE_BITS))) << 1 | set;
	uint32_t first = idx[b] & SG_SH_IDX_POS, at = first, up, steps;
	uint32_t n = (idx[b + 2] & SG_SH_IDX_POS) + 1 - first, none = idx[b] & SG_SH_IDX_NONE;

	if (family == 4)
		x.hi |= 0xffffffffull;		/* the key sorts after every entry at this address */
	while (n > 1) {
		uint32_t half = n >> 1;

		entry(t, set, family, at + half, &e, &up);
		if (e.hi < x.hi || (e.hi == x.hi && e.lo <= x.lo))
			at += half;
		n -= half;
	}
	for (steps = 0; steps < 130; steps++) {
		if (none && at <= first)
			return 0;
		entry(t, set, family, at, &e, &up);
		if (holds(&e, &x))
			return at;
		at -= up;
	}
	return 0;
}

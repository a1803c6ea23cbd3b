// SPDX-License-Identifier: Apache-2.0
#include "net/shield_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mark_used(const struct sg_sh_tables *t, uint32_t e, int depth, uint8_t *used)
{
	uint32_t c = e & ~SG_SH_PTR, i;

	if (!(e & SG_SH_PTR) || depth >= SG_SH_LEVELS || c >= t->nchunks || used[c])
		return;
	used[c] = 1;
	for (i = 0; i < SG_SH_CHUNK; i++)
		mark_used(t, t->pool[c * SG_SH_CHUNK + i], depth + 1, used);
}

struct alloc {
	const struct sg_sh_tables *t;
	uint8_t *used;
	uint32_t next, n;
};

/* A fresh chunk whose 16 entries all hold `fill` (leaf pushing), or -1. */
static int64_t chunk_new(struct alloc *a, uint32_t fill)
{
	uint32_t i;

	while (a->next < a->t->nchunks && a->used[a->next])
		a->next++;
	if (a->next >= a->t->nchunks)
		return -1;
	a->used[a->next] = 1;
	for (i = 0; i < SG_SH_CHUNK; i++)
		a->t->pool[a->next * SG_SH_CHUNK + i] = fill;
	a->n++;
	return a->next++;
}

static int cmp_len(const void *x, const void *y, void *ctx)
{
	const struct sg_shield_rule *r = ctx;
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return r[a].len != r[b].len ? r[a].len - r[b].len : (a > b) - (a < b);
}

/* Inserting shortest first means a range being filled never holds a pointer. */
static int insert4(struct alloc *a, uint32_t *root, uint32_t ip, unsigned len, uint32_t id)
{
	uint32_t *e, i, consumed = SG_SH_ROOT_BITS, first, span;
	int64_t c;

	if (len <= SG_SH_ROOT_BITS) {
		first = len ? (ip >> SG_SH_ROOT_BITS) & ~((1u << (SG_SH_ROOT_BITS - len)) - 1) : 0;
		span = 1u << (SG_SH_ROOT_BITS - len);
		for (i = 0; i < span; i++)
			root[first + i] = id;
		return 0;
	}
	e = &root[ip >> SG_SH_ROOT_BITS];
	for (;;) {
		if (!(*e & SG_SH_PTR)) {
			c = chunk_new(a, *e);
			if (c < 0)
				return -ENOSPC;
			*e = SG_SH_PTR | (uint32_t)c;
		}
		c = *e & ~SG_SH_PTR;
		i = (ip >> (32 - consumed - SG_SH_STRIDE)) & (SG_SH_CHUNK - 1);
		if (len <= consumed + SG_SH_STRIDE)
			break;
		e = &a->t->pool[c * SG_SH_CHUNK + i];
		consumed += SG_SH_STRIDE;
	}
	span = 1u << (consumed + SG_SH_STRIDE - len);
	first = i & ~(span - 1);
	for (i = 0; i < span; i++)
		a->t->pool[c * SG_SH_CHUNK + first + i] = id;
	return 0;
}

static int build4(struct sg_sh_tables *t, uint32_t set, const struct sg_shield_rule *rules,
		  uint32_t nrules, struct sg_sh_build_out *out, char *err, size_t errlen)
{
	uint32_t *root = t->root + set * SG_SH_ROOT_SIZE, *order, n = 0, i;
	const uint32_t *other = t->root + (set ^ 1) * SG_SH_ROOT_SIZE;
	struct alloc a = { .t = t };
	int rc = 0;

	a.used = calloc(t->nchunks ? t->nchunks : 1, 1);
	order = malloc((nrules ? nrules : 1) * sizeof(*order));
	if (!a.used || !order) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < SG_SH_ROOT_SIZE; i++)
		mark_used(t, other[i], 0, a.used);
	for (i = 0; i < t->nchunks; i++)
		out->chunks_other += a.used[i];
	for (i = 0; i < nrules; i++)
		if (rules[i].family == 4)
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), cmp_len, (void *)rules);
	memset(root, 0, SG_SH_ROOT_SIZE * sizeof(*root));
	for (i = 0; i < n; i++) {
		const struct sg_shield_rule *r = &rules[order[i]];

		rc = insert4(&a, root, ntohl(r->addr[0]), r->len, order[i] + 1);
		if (rc) {
			snprintf(err, errlen,
				 "IPv4 chunk pool full (%u chunks, %u held by the live set): "
				 "attach with a larger --v4-chunks", t->nchunks, out->chunks_other);
			goto out;
		}
	}
	out->chunks_used = a.n;
out:
	free(a.used);
	free(order);
	return rc;
}

static void mask6(unsigned len, uint32_t m[4])
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		unsigned bits = len > 32 * i ? len - 32 * i : 0;

		m[i] = htonl(bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0);
	}
}

static int build6(struct sg_sh_tables *t, uint32_t set, const struct sg_shield_rule *rules,
		  uint32_t nrules, struct sg_sh_build_out *out, char *err, size_t errlen)
{
	struct sg_shield_v6meta *meta = &t->v6meta[set];
	uint32_t *bkt = t->v6bkt + ((size_t)set << t->v6_bits), i, k;
	uint8_t present[129] = { 0 }, cls[129];
	size_t n = 0;

	for (i = 0; i < nrules; i++)
		if (rules[i].family == 6) {
			present[rules[i].len] = 1;
			n++;
		}
	memset(meta, 0, sizeof(*meta));
	for (k = 129; k-- > 0;) {
		if (!present[k])
			continue;
		if (meta->nclass == SG_SH_V6_CLASSES) {
			snprintf(err, errlen, "more than %d distinct IPv6 prefix lengths in one list",
				 SG_SH_V6_CLASSES);
			return -E2BIG;
		}
		cls[k] = meta->nclass;
		meta->len[meta->nclass] = k;
		mask6(k, meta->mask[meta->nclass]);
		/* A prefix spanning more than 256 buckets (or all) is checked for every packet instead. */
		if (k <= SG_SH_V6_SKIP || k - SG_SH_V6_SKIP + 8 < t->v6_bits)
			meta->short_mask |= 1u << meta->nclass;
		meta->nclass++;
	}
	memset(bkt, 0, sizeof(*bkt) << t->v6_bits);
	out->v6 = malloc((n ? n : 1) * sizeof(*out->v6));
	if (!out->v6) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < nrules; i++) {
		const struct sg_shield_rule *r = &rules[i];
		struct sg_sh_v6entry *e;
		uint32_t first, span, b, c, len;

		if (r->family != 6)
			continue;
		c = cls[r->len];
		e = &out->v6[out->nv6++];
		memset(e, 0, sizeof(*e));
		e->key.set_len = set << 8 | r->len;
		for (k = 0; k < 4; k++)
			e->key.addr[k] = r->addr[k] & meta->mask[c][k];
		e->rule = i + 1;
		if (meta->short_mask & (1u << c))
			continue;
		b = (ntohl(r->addr[0]) << SG_SH_V6_SKIP) >> (32 - t->v6_bits);
		len = r->len - SG_SH_V6_SKIP;		/* bits of the bucket index it fixes */
		span = len >= t->v6_bits ? 1 : 1u << (t->v6_bits - len);
		first = b & ~(span - 1);
		for (k = 0; k < span; k++) {
			uint32_t *x = &bkt[first + k];

			if (!*x) {
				*x = SG_SH_ONE | (i + 1);	/* alone so far: no hash lookup */
			} else {
				if (*x & SG_SH_ONE)
					*x = 1u << cls[rules[(*x & ~SG_SH_ONE) - 1].len];
				*x |= 1u << c;
			}
		}
	}
	return 0;
}

int sg_sh_build(struct sg_sh_tables *t, uint32_t set, const struct sg_shield_rule *rules,
		uint32_t nrules, struct sg_sh_build_out *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (set >= SG_SH_SETS || !t->v6_bits || t->v6_bits > SG_SH_V6_BITS_MAX) {
		snprintf(err, errlen, "bad rule set %u or bucket bits %u", set, t->v6_bits);
		return -EINVAL;
	}
	rc = build4(t, set, rules, nrules, out, err, errlen);
	if (!rc)
		rc = build6(t, set, rules, nrules, out, err, errlen);
	if (rc) {
		free(out->v6);
		out->v6 = NULL;
		out->nv6 = 0;
	}
	return rc;
}

uint32_t sg_sh_lookup4(const struct sg_sh_tables *t, uint32_t set, uint32_t addr_be)
{
	uint32_t ip = ntohl(addr_be), v = t->root[set * SG_SH_ROOT_SIZE + (ip >> 16)];
	uint32_t shift = 16, idx;
	int i;

	for (i = 0; i < SG_SH_LEVELS && (v & SG_SH_PTR); i++) {
		shift -= SG_SH_STRIDE;
		idx = ((v & ~SG_SH_PTR) << SG_SH_STRIDE) | ((ip >> shift) & (SG_SH_CHUNK - 1));
		if (idx >= t->nchunks * SG_SH_CHUNK)
			return 0;
		v = t->pool[idx];
	}
	return v & SG_SH_PTR ? 0 : v;
}

uint32_t sg_sh_lookup6(const struct sg_sh_tables *t, uint32_t set, const uint32_t a[4],
		       sg_sh_find6_fn find, void *ctx)
{
	const struct sg_shield_v6meta *meta = &t->v6meta[set];
	uint32_t m = t->v6bkt[((size_t)set << t->v6_bits) |
			      ((ntohl(a[0]) << SG_SH_V6_SKIP) >> (32 - t->v6_bits))];
	struct sg_shield_v6key key;
	const uint32_t *r;

	if (m & SG_SH_ONE) {
		uint32_t id = m & ~SG_SH_ONE, k, mk[4];
		const struct sg_shield_rule *one = &t->rules[id - 1];
		bool hit = one->family == 6;

		mask6(one->len, mk);
		for (k = 0; k < 4; k++)
			hit = hit && (a[k] & mk[k]) == one->addr[k];
		if (hit)
			return id;
		m = 0;
	}
	m |= meta->short_mask;
	while (m) {
		uint32_t c = __builtin_ctz(m), k;

		m &= m - 1;
		key.set_len = set << 8 | meta->len[c];
		for (k = 0; k < 4; k++)
			key.addr[k] = a[k] & meta->mask[c][k];
		r = find(&key, ctx);
		if (r)
			return *r;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * The Shield's rule list (NET-4): an edit or a new list is merged with the
 * live list, written into the idle set and made live by one aligned store.
 * Counters follow their rules: copied into the new set before the switch,
 * and what the old set counted while packets still walked it is added after.
 */
#include "act/shield.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "act/shield_int.h"

/* A family's side of one edit. */
struct side {
	int family;
	struct sg_sh_pfx *old, *add, *del, *out;
	uint32_t *from;
	size_t nold, nadd, ndel, nout;
};

static void side_free(struct side *f)
{
	free(f->old);
	free(f->add);
	free(f->del);
	free(f->out);
	free(f->from);
}

/* The prefixes of c[0..n) of the family, sorted and unique. */
static int pick(const struct sg_cidr *c, size_t n, int family, struct sg_sh_pfx **out, size_t *nout)
{
	size_t i, k = 0;

	*out = malloc((n ? n : 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (c[i].family == family)
			sg_sh_pfx_of(&c[i], &(*out)[k++]);
	*nout = sg_sh_sort(*out, k);
	return 0;
}

static int side_merge(struct sg_shield *s, struct side *f, uint32_t live, const struct sg_cidr *add,
		      size_t nadd, const struct sg_cidr *del, size_t ndel, bool replace, char *err,
		      size_t errlen)
{
	struct sg_sh_tables t;
	size_t missing = 0;
	int rc;

	sg_shield_tables(s, &t);
	f->nold = f->family == 4 ? s->cfg->n4[live] : s->cfg->n6[live];
	f->old = malloc((f->nold ? f->nold : 1) * sizeof(*f->old));
	if (!f->old || pick(add, nadd, f->family, &f->add, &f->nadd))
		goto nomem;
	sg_sh_read(&t, live, f->family, f->nold, f->old);
	if (replace) {
		/* Every live rule goes, except those the new list has again (counter kept). */
		f->del = malloc((f->nold ? f->nold : 1) * sizeof(*f->del));
		if (!f->del)
			goto nomem;
		memcpy(f->del, f->old, f->nold * sizeof(*f->del));
		f->ndel = f->nold;
	} else if (pick(del, ndel, f->family, &f->del, &f->ndel)) {
		goto nomem;
	}
	f->out = malloc((f->nold + f->nadd + 1) * sizeof(*f->out));
	f->from = malloc((f->nold + f->nadd + 1) * sizeof(*f->from));
	if (!f->out || !f->from)
		goto nomem;
	rc = sg_sh_merge(f->old, f->nold, f->add, f->nadd, f->del, f->ndel, f->out, f->from,
			 &f->nout, &missing);
	if (rc == -ENOENT) {
		char c[SG_CIDR_STRLEN];
		struct sg_cidr x;

		sg_sh_cidr_of(f->family, &f->del[missing], &x);
		sg_cidr_format(&x, c, sizeof(c));
		snprintf(err, errlen, "shield: %s is not in the list", c);
	}
	return rc;
nomem:
	snprintf(err, errlen, "shield: out of memory");
	return -ENOMEM;
}

/* XDP runs under RCU: after a grace period no packet still walks the old set. */
static void wait_for_packets(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0)
		usleep(50000);
}

int sg_shield_update(struct sg_shield *s, const struct sg_cidr *add, size_t nadd,
		     const struct sg_cidr *del, size_t ndel, bool replace, char *err, size_t errlen)
{
	uint32_t live = s->cfg->active & 1, next = live ^ 1;
	struct side f[2] = { { .family = 4 }, { .family = 6 } };
	uint64_t *hn = sg_shield_hits(s, next), *ho = sg_shield_hits(s, live), *snap = NULL;
	size_t base_new[2], base_old[2], i, k;
	struct sg_sh_tables t;
	int rc = 0;

	for (k = 0; k < 2 && !rc; k++)
		rc = side_merge(s, &f[k], live, add, nadd, del, ndel, replace, err, errlen);
	if (rc)
		goto out;
	if (f[0].nout + 1 > s->cfg->cap4 || f[1].nout + 1 > s->cfg->cap6 ||
	    f[0].nout + f[1].nout > s->cfg->max_rules) {
		snprintf(err, errlen, "shield: the list would hold %zu CIDRs (%zu IPv6); the Shield was "
			 "attached for %u (%u IPv6): unload it and attach again with a larger "
			 "--max-rules or --v6-entries", f[0].nout + f[1].nout, f[1].nout,
			 s->cfg->max_rules, s->cfg->cap6 - 1);
		rc = -ENOSPC;
		goto out;
	}
	sg_shield_tables(s, &t);
	for (k = 0; k < 2 && !rc; k++)
		rc = sg_sh_build(&t, next, f[k].family, f[k].out, f[k].nout);
	if (rc) {
		snprintf(err, errlen, "shield: table build failed: %s", strerror(-rc));
		goto out;
	}
	snap = malloc((f[0].nout + f[1].nout + 1) * sizeof(*snap));
	if (!snap) {
		snprintf(err, errlen, "shield: out of memory");
		rc = -ENOMEM;
		goto out;
	}
	/* Counters of the new set: ids are positions, IPv4 first. */
	base_new[0] = base_old[0] = 0;
	base_new[1] = f[0].nout;
	base_old[1] = f[0].nold;
	for (k = 0; k < 2; k++)
		for (i = 0; i < f[k].nout; i++) {
			uint32_t from = f[k].from[i];

			snap[base_new[k] + i] = from ? __atomic_load_n(&ho[base_old[k] + from - 1],
								       __ATOMIC_RELAXED) : 0;
			hn[base_new[k] + i] = snap[base_new[k] + i];
		}
	s->cfg->n4[next] = (uint32_t)f[0].nout;
	s->cfg->n6[next] = (uint32_t)f[1].nout;
	/* NET-4: the set is complete in memory; packets switch to it with this one store. */
	__atomic_store_n(&s->cfg->active, next, __ATOMIC_SEQ_CST);
	wait_for_packets();
	for (k = 0; k < 2; k++)
		for (i = 0; i < f[k].nout; i++) {
			uint32_t from = f[k].from[i];
			uint64_t d;

			if (!from)
				continue;
			d = __atomic_load_n(&ho[base_old[k] + from - 1], __ATOMIC_RELAXED) -
			    snap[base_new[k] + i];
			if (d)
				__atomic_fetch_add(&hn[base_new[k] + i], d, __ATOMIC_RELAXED);
		}
out:
	free(snap);
	side_free(&f[0]);
	side_free(&f[1]);
	return rc;
}

int sg_shield_rules(struct sg_shield *s, struct sg_shield_rule_stat **out, size_t *n)
{
	uint32_t set = s->cfg->active & 1, n4 = s->cfg->n4[set], n6 = s->cfg->n6[set];
	const uint64_t *hits = sg_shield_hits(s, set);
	struct sg_shield_rule_stat *v;
	struct sg_sh_pfx *p;
	struct sg_sh_tables t;
	uint32_t i;

	v = calloc((size_t)n4 + n6 + 1, sizeof(*v));
	p = malloc(((size_t)(n4 > n6 ? n4 : n6) + 1) * sizeof(*p));
	if (!v || !p) {
		free(v);
		free(p);
		return -ENOMEM;
	}
	sg_shield_tables(s, &t);
	sg_sh_read(&t, set, 4, n4, p);
	for (i = 0; i < n4; i++)
		sg_sh_cidr_of(4, &p[i], &v[i].cidr);
	sg_sh_read(&t, set, 6, n6, p);
	for (i = 0; i < n6; i++)
		sg_sh_cidr_of(6, &p[i], &v[n4 + i].cidr);
	for (i = 0; i < n4 + n6; i++) {
		v[i].id = i + 1;
		v[i].hits = __atomic_load_n(&hits[i], __ATOMIC_RELAXED);
	}
	free(p);
	*out = v;
	*n = (size_t)n4 + n6;
	return 0;
}

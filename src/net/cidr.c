// SPDX-License-Identifier: Apache-2.0
#include "net/cidr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mask_addr(uint32_t addr[4], unsigned len, uint32_t out[4])
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		unsigned bits = len > 32 * i ? len - 32 * i : 0;
		uint32_t m = bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;

		out[i] = addr[i] & htonl(m);
	}
}

int sg_cidr_parse(const char *text, struct sg_cidr *out, char *err, size_t errlen)
{
	char buf[SG_CIDR_STRLEN], *slash, *end;
	uint32_t addr[4] = { 0 }, masked[4];
	size_t n;
	long len;
	int fam;

	while (isspace((unsigned char)*text))
		text++;
	n = strlen(text);
	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	if (n == 0) {
		snprintf(err, errlen, "empty CIDR");
		return -EINVAL;
	}
	if (n >= sizeof(buf)) {
		snprintf(err, errlen, "'%.20s...' is too long for a CIDR", text);
		return -EINVAL;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, &addr[0]) == 1) {
		fam = 4;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		fam = 6;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", buf);
		return -EINVAL;
	}
	len = fam == 4 ? 32 : 128;
	if (slash) {
		if (!isdigit((unsigned char)slash[1])) {
			snprintf(err, errlen, "prefix length after '/' missing or not a number in '%s/%s'",
				 buf, slash + 1);
			return -EINVAL;
		}
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (*end || errno || len > (fam == 4 ? 32 : 128)) {
			snprintf(err, errlen, "bad prefix length '%s' (IPv%d allows 0-%d)", slash + 1, fam,
				 fam == 4 ? 32 : 128);
			return -EINVAL;
		}
	}
	mask_addr(addr, (unsigned)len, masked);
	if (memcmp(masked, addr, sizeof(addr))) {
		struct sg_cidr want = { .family = fam, .len = (uint8_t)len };
		char canon[SG_CIDR_STRLEN];

		memcpy(want.addr, masked, sizeof(masked));
		sg_cidr_format(&want, canon, sizeof(canon));
		snprintf(err, errlen, "'%s/%ld' has host bits set; did you mean %s?", buf, len, canon);
		return -EINVAL;
	}
	out->family = fam;
	out->len = (uint8_t)len;
	memcpy(out->addr, addr, sizeof(addr));
	return 0;
}

void sg_cidr_format(const struct sg_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "%s/%u", a, c->len);
}

int sg_cidr_equal(const struct sg_cidr *a, const struct sg_cidr *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

bool sg_cidr_unmap_v4(struct sg_cidr *c)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (c->family != 6 || c->len < 96 || memcmp(c->addr, mapped, sizeof(mapped)))
		return false;
	c->family = 4;
	c->len -= 96;
	c->addr[0] = c->addr[3];
	c->addr[1] = c->addr[2] = c->addr[3] = 0;
	return true;
}

int sg_cidr_parse_list(const char *text, size_t len, struct sg_cidr **out, size_t *n,
		       char *err, size_t errlen)
{
	struct sg_cidr *v = NULL;
	size_t cap = 0, cnt = 0, pos = 0, line = 0;
	char why[192], cur[SG_CIDR_STRLEN + 2];

	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos, k;

		pos += l + (nl ? 1 : 0);
		line++;
		for (k = 0; k < l; k++)
			if (s[k] == '#')
				break;
		l = k;
		while (l && isspace((unsigned char)s[l - 1]))
			l--;
		while (l && isspace((unsigned char)*s)) {
			s++;
			l--;
		}
		if (!l)
			continue;
		if (memchr(s, '\0', l) || l >= sizeof(cur) - 1) {
			snprintf(err, errlen, "line %zu: not a CIDR (too long or binary data)", line);
			goto fail;
		}
		memcpy(cur, s, l);
		cur[l] = '\0';
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			struct sg_cidr *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				free(v);
				snprintf(err, errlen, "line %zu: out of memory", line);
				return -ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		if (sg_cidr_parse(cur, &v[cnt], why, sizeof(why))) {
			snprintf(err, errlen, "line %zu: %s", line, why);
			goto fail;
		}
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
fail:
	free(v);
	return -EINVAL;
}

// SPDX-License-Identifier: Apache-2.0
/*
 * Glob matcher: the pattern is compiled into tokens, and matching simulates
 * the token automaton over the path one character at a time, keeping the
 * set of live positions. That is O(pattern * path) whatever the pattern, so
 * "a*a*a*a*a*b" cannot blow up the way a backtracking matcher does.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "glob.h"

enum tok_type {
	T_LIT,		/* one literal byte */
	T_ANY,		/* ? */
	T_CLASS,	/* [...] */
	T_STAR,		/* * : stays within a path component */
	T_DSTAR,	/* ** : crosses '/' */
	/*
	 * A whole "**" "/" component is three tokens: T_DIRS, T_DSTAR and
	 * T_DIRS_SLASH. T_DIRS consumes nothing and either enters the group
	 * or skips all of it, so the group matches "" or anything ending in '/'.
	 */
	T_DIRS,
	T_DIRS_SLASH,	/* the '/' closing the group */
};

struct tok {
	uint8_t type;
	uint8_t ch;		/* T_LIT */
	uint16_t cls;		/* T_CLASS: index into classes */
};

struct sg_glob {
	struct tok *tok;
	size_t ntok;
	uint8_t (*cls)[32];	/* 256-bit sets, '/' and NUL never set */
	size_t ncls;
	/* Literal head and tail of the pattern, checked before the automaton. */
	char *prefix;
	size_t prefix_len;	/* also the number of leading T_LIT tokens */
	char *suffix;
	size_t suffix_len;
	bool literal;		/* no wildcard at all: plain string compare */
};


static void cls_set(uint8_t *set, unsigned c)
{
	set[c >> 3] |= 1u << (c & 7);
}

static bool cls_has(const uint8_t *set, unsigned c)
{
	return set[c >> 3] & (1u << (c & 7));
}

/* Parse the class starting after '[' at *pp; leaves *pp after the closing ']'. */
static int parse_class(const char **pp, uint8_t *set, const char **why)
{
	const char *p = *pp;
	bool neg = false, first = true;
	unsigned i;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	for (;;) {
		unsigned lo, hi;

		if (*p == '\0') {
			*why = "unterminated [...] class; write \\[ for a literal [";
			return -EINVAL;
		}
		if (*p == ']' && !first)
			break;
		first = false;
		if (p[0] == '[' && p[1] == ':') {
			*why = "[:name:] classes are not supported; write a range such as [0-9]";
			return -EINVAL;
		}
		if (*p == '\\') {
			p++;
			if (*p == '\0') {
				*why = "pattern ends with a lone \\";
				return -EINVAL;
			}
		}
		lo = (unsigned char)*p++;
		hi = lo;
		if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
			p++;
			if (*p == '\\') {
				p++;
				if (*p == '\0') {
					*why = "pattern ends with a lone \\";
					return -EINVAL;
				}
			}
			hi = (unsigned char)*p++;
			if (hi < lo) {
				*why = "reversed range in [...] class; write the low end first, e.g. [a-z]";
				return -EINVAL;
			}
		}
		for (i = lo; i <= hi; i++)
			cls_set(set, i);
	}
	if (neg)
		for (i = 0; i < 32; i++)
			set[i] = ~set[i];
	/* A class stands for one character of a path component. */
	set['/' >> 3] &= ~(1u << ('/' & 7));
	set[0] &= ~1u;
	*pp = p + 1;
	return 0;
}

static int tokenize(struct sg_glob *g, const char *pat, const char **why)
{
	const char *p = pat;

	while (*p) {
		struct tok t = { .type = T_LIT };

		const char *run_start = p;

		switch (*p) {
		case '*':
			if (p[1] != '*') {
				t.type = T_STAR;
				p++;
				break;
			}
			while (*p == '*')
				p++;
			if (*p == '/' && (run_start == pat || run_start[-1] == '/')) {
				g->tok[g->ntok++].type = T_DIRS;
				g->tok[g->ntok++].type = T_DSTAR;
				t.type = T_DIRS_SLASH;
				p++;
			} else {
				t.type = T_DSTAR;
			}
			break;
		case '?':
			t.type = T_ANY;
			p++;
			break;
		case '[': {
			int rc;

			p++;
			t.type = T_CLASS;
			t.cls = (uint16_t)g->ncls;
			memset(g->cls[g->ncls], 0, sizeof(g->cls[0]));
			rc = parse_class(&p, g->cls[g->ncls], why);
			if (rc)
				return rc;
			g->ncls++;
			break;
		}
		case '\\':
			p++;
			if (*p == '\0') {
				*why = "pattern ends with a lone \\";
				return -EINVAL;
			}
			t.ch = (uint8_t)*p++;
			break;
		default:
			t.ch = (uint8_t)*p++;
			break;
		}
		g->tok[g->ntok++] = t;
	}
	return 0;
}

/* Copy the literal tokens tok[from, to) into a new string. */
static char *lit_string(const struct sg_glob *g, size_t from, size_t to)
{
	char *s = malloc(to - from + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = from; i < to; i++)
		s[i - from] = (char)g->tok[i].ch;
	s[to - from] = '\0';
	return s;
}

int sg_glob_compile(const char *pattern, struct sg_glob **out, const char **why)
{
	size_t len = strlen(pattern), head, tail;
	struct sg_glob *g;
	int rc = -ENOMEM;

	*why = "out of memory";
	if (len > SG_GLOB_MAX_LEN) {
		*why = "pattern is longer than 4095 bytes";
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	/* Each token takes at least one byte, each class at least two. */
	g->tok = calloc(len + 1, sizeof(*g->tok));
	g->cls = calloc(len / 2 + 1, sizeof(*g->cls));
	if (!g->tok || !g->cls)
		goto err;
	rc = tokenize(g, pattern, why);
	if (rc)
		goto err;

	for (head = 0; head < g->ntok && g->tok[head].type == T_LIT; head++)
		;
	g->literal = head == g->ntok;
	for (tail = g->ntok; tail > head && g->tok[tail - 1].type == T_LIT; tail--)
		;
	rc = -ENOMEM;
	*why = "out of memory";
	g->prefix = lit_string(g, 0, head);
	g->suffix = lit_string(g, tail, g->ntok);
	if (!g->prefix || !g->suffix)
		goto err;
	g->prefix_len = head;
	g->suffix_len = g->ntok - tail;
	*out = g;
	return 0;
err:
	sg_glob_free(g);
	return rc;
}

/*
 * Add the positions reachable without consuming a character: past a star
 * (which may match nothing), and into or past a "**" "/" group. Targets lie
 * ahead, so one ascending pass finds them all.
 */
static void closure(const struct sg_glob *g, uint8_t *set, size_t lo, size_t *hi)
{
	size_t i;

	for (i = lo; i <= *hi && i < g->ntok; i++) {
		if (!set[i])
			continue;
		switch (g->tok[i].type) {
		case T_STAR:
		case T_DSTAR:
			set[i + 1] = 1;
			if (i + 1 > *hi)
				*hi = i + 1;
			break;
		case T_DIRS:
			set[i + 1] = 1;
			set[i + 3] = 1;
			if (i + 3 > *hi)
				*hi = i + 3;
			break;
		}
	}
}

/*
 * Run the automaton over s from token `start`. Live positions are kept in a
 * byte set; [lo, hi] bounds the live ones so a step only visits that span.
 */
static bool run(const struct sg_glob *g, size_t start, const unsigned char *s)
{
	uint8_t a[SG_GLOB_MAX_LEN + 1], b[SG_GLOB_MAX_LEN + 1];
	uint8_t *cur = a, *nxt = b, *tmp;
	size_t m = g->ntok, lo = start, hi = start, i;

	memset(cur, 0, m + 1);
	cur[start] = 1;
	closure(g, cur, lo, &hi);
	for (; *s; s++) {
		unsigned c = *s;
		size_t nlo = SIZE_MAX, nhi = 0;

		memset(nxt, 0, m + 1);
		for (i = lo; i <= hi && i < m; i++) {
			const struct tok *t = &g->tok[i];

			if (!cur[i])
				continue;
			switch (t->type) {
			case T_LIT:
				if (c == t->ch)
					nxt[i + 1] = 1;
				break;
			case T_ANY:
				if (c != '/')
					nxt[i + 1] = 1;
				break;
			case T_CLASS:
				if (cls_has(g->cls[t->cls], c))
					nxt[i + 1] = 1;
				break;
			case T_STAR:
				if (c != '/')
					nxt[i] = 1;
				break;
			case T_DSTAR:
				nxt[i] = 1;
				break;
			case T_DIRS_SLASH:
				if (c == '/')
					nxt[i + 1] = 1;
				break;
			case T_DIRS:
				break;	/* only ever left through closure() */
			}
		}
		for (i = lo; i <= hi + 1 && i <= m; i++) {
			if (nxt[i]) {
				if (nlo == SIZE_MAX)
					nlo = i;
				nhi = i;
			}
		}
		if (nlo == SIZE_MAX)
			return false;
		lo = nlo;
		hi = nhi;
		closure(g, nxt, lo, &hi);
		tmp = cur;
		cur = nxt;
		nxt = tmp;
	}
	return cur[m];
}

bool sg_glob_match(const struct sg_glob *g, const char *s)
{
	size_t n = strlen(s);

	if (g->literal)
		return n == g->prefix_len && memcmp(s, g->prefix, n) == 0;
	if (n < g->prefix_len + g->suffix_len ||
	    memcmp(s, g->prefix, g->prefix_len) != 0 ||
	    memcmp(s + n - g->suffix_len, g->suffix, g->suffix_len) != 0)
		return false;
	return run(g, g->prefix_len, (const unsigned char *)s + g->prefix_len);
}

void sg_glob_free(struct sg_glob *g)
{
	if (!g)
		return;
	free(g->tok);
	free(g->cls);
	free(g->prefix);
	free(g->suffix);
	free(g);
}

size_t sg_glob_literal_dir(const char *pattern)
{
	size_t n = strcspn(pattern, "*?[\\");

	while (n > 0 && pattern[n - 1] != '/')
		n--;
	return n;
}

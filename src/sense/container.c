// SPDX-License-Identifier: Apache-2.0
#include "sense/container.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char *const runtime_names[] = {
	[SG_RUNTIME_NONE] = NULL,
	[SG_RUNTIME_DOCKER] = "docker",
	[SG_RUNTIME_CONTAINERD] = "containerd",
	[SG_RUNTIME_CRIO] = "cri-o",
	[SG_RUNTIME_PODMAN] = "podman",
};

const char *sg_runtime_name(enum sg_runtime r)
{
	return (unsigned)r < sizeof(runtime_names) / sizeof(runtime_names[0]) ?
		runtime_names[r] : NULL;
}

/* Runtimes name container scopes "<prefix><id>.scope"; conmon is CRI-O's and podman's monitor. */
static const struct {
	const char *prefix;
	enum sg_runtime rt;
	bool monitor;
} scope_prefixes[] = {
	{ "docker-", SG_RUNTIME_DOCKER, false },
	{ "cri-containerd-", SG_RUNTIME_CONTAINERD, false },
	{ "crio-conmon-", SG_RUNTIME_CRIO, true },
	{ "crio-", SG_RUNTIME_CRIO, false },
	{ "libpod-conmon-", SG_RUNTIME_PODMAN, true },
	{ "libpod-", SG_RUNTIME_PODMAN, false },
};

/* The "slice:prefix:id" form runc's systemd driver uses, seen from outside systemd. */
static const struct {
	const char *prefix;
	enum sg_runtime rt;
} colon_prefixes[] = {
	{ "cri-containerd", SG_RUNTIME_CONTAINERD },
	{ "crio", SG_RUNTIME_CRIO },
	{ "docker", SG_RUNTIME_DOCKER },
	{ "libpod", SG_RUNTIME_PODMAN },
};

struct seg {
	const char *s;
	size_t n;
};

/* Lowercase only: the runtimes and the kubelet never write uppercase. */
static bool is_lhex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool is_hex64(struct seg g)
{
	size_t i;

	if (g.n != SG_CONTAINER_ID_LEN)
		return false;
	for (i = 0; i < g.n; i++)
		if (!is_lhex(g.s[i]))
			return false;
	return true;
}

/* A UUID whose four separators are `sep`; copied out with dashes, out untouched if not. */
static bool take_uid(struct seg g, char sep, char out[SG_POD_UID_LEN + 1])
{
	char uid[SG_POD_UID_LEN + 1];
	size_t i;

	if (g.n != SG_POD_UID_LEN)
		return false;
	for (i = 0; i < g.n; i++) {
		bool at_sep = i == 8 || i == 13 || i == 18 || i == 23;

		if (at_sep ? g.s[i] != sep : !is_lhex(g.s[i]))
			return false;
		uid[i] = at_sep ? '-' : g.s[i];
	}
	uid[g.n] = '\0';
	memcpy(out, uid, sizeof(uid));
	return true;
}

static bool starts(struct seg g, const char *p)
{
	size_t n = strlen(p);

	return g.n >= n && memcmp(g.s, p, n) == 0;
}

static bool ends(struct seg g, const char *p)
{
	size_t n = strlen(p);

	return g.n >= n && memcmp(g.s + g.n - n, p, n) == 0;
}

static bool equals(struct seg g, const char *p)
{
	return g.n == strlen(p) && memcmp(g.s, p, g.n) == 0;
}

static bool contains(struct seg g, const char *p)
{
	size_t n = strlen(p), i;

	for (i = 0; i + n <= g.n; i++)
		if (memcmp(g.s + i, p, n) == 0)
			return true;
	return false;
}

/*
 * A pod cgroup: "pod<uid>" (cgroupfs driver, below a kubepods cgroup) or
 * "kubepods[-<qos>]-pod<uid_with_underscores>.slice" (systemd driver).
 */
static bool pod_segment(struct seg g, bool under_kubepods, char out[SG_POD_UID_LEN + 1])
{
	static const char tail[] = ".slice";
	const size_t tail_n = sizeof(tail) - 1;

	if (under_kubepods && starts(g, "pod") && take_uid((struct seg){ g.s + 3, g.n - 3 }, '-', out))
		return true;
	if (!contains(g, "kubepods") || !ends(g, tail) || g.n < 4 + SG_POD_UID_LEN + tail_n)
		return false;
	if (memcmp(g.s + g.n - tail_n - SG_POD_UID_LEN - 4, "-pod", 4))
		return false;
	return take_uid((struct seg){ g.s + g.n - tail_n - SG_POD_UID_LEN, SG_POD_UID_LEN }, '_', out);
}

enum seg_kind { SEG_OTHER, SEG_CONTAINER, SEG_MONITOR };

/* Whether g names a container (its id and runtime into c) or a runtime's monitor. */
static enum seg_kind container_segment(struct seg g, struct seg parent, struct sg_container *c,
				       char pod[SG_POD_UID_LEN + 1])
{
	const char *colon = memchr(g.s, ':', g.n);
	struct seg id;
	size_t i;

	if (colon) {
		const char *colon2 = memchr(colon + 1, ':', g.n - (colon + 1 - g.s));
		struct seg slice = { g.s, colon - g.s }, prefix;

		if (!colon2)
			return SEG_OTHER;
		prefix = (struct seg){ colon + 1, colon2 - colon - 1 };
		id = (struct seg){ colon2 + 1, g.n - (colon2 + 1 - g.s) };
		if (!is_hex64(id))
			return SEG_OTHER;
		for (i = 0; i < sizeof(colon_prefixes) / sizeof(colon_prefixes[0]); i++)
			if (equals(prefix, colon_prefixes[i].prefix))
				break;
		if (i == sizeof(colon_prefixes) / sizeof(colon_prefixes[0]))
			return SEG_OTHER;
		c->runtime = colon_prefixes[i].rt;
		pod_segment(slice, true, pod);
		goto found;
	}
	if (is_hex64(g)) {
		id = g;
		c->runtime = equals(parent, "docker") ? SG_RUNTIME_DOCKER : SG_RUNTIME_NONE;
		goto found;
	}
	/* "<prefix><id>.scope" (systemd); podman's cgroupfs driver leaves off ".scope". */
	if (ends(g, ".scope"))
		g.n -= strlen(".scope");
	for (i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		size_t pn = strlen(scope_prefixes[i].prefix);

		if (!starts(g, scope_prefixes[i].prefix))
			continue;
		id = (struct seg){ g.s + pn, g.n - pn };
		if (!is_hex64(id))
			return SEG_OTHER;
		if (scope_prefixes[i].monitor)
			return SEG_MONITOR;
		c->runtime = scope_prefixes[i].rt;
		goto found;
	}
	return SEG_OTHER;
found:
	memcpy(c->id, id.s, SG_CONTAINER_ID_LEN);
	c->id[SG_CONTAINER_ID_LEN] = '\0';
	return SEG_CONTAINER;
}

int sg_container_from_path(const char *path, size_t len, struct sg_container *c)
{
	struct seg parent = { "", 0 };
	struct sg_container cur;
	char pod[SG_POD_UID_LEN + 1] = "";
	bool under_kubepods = false, found = false;
	size_t off = 1;

	memset(c, 0, sizeof(*c));
	if (!path || len == 0 || len > SG_CGROUP_PATH_MAX || path[0] != '/' ||
	    memchr(path, '\0', len) || memchr(path, '\n', len))
		return -EINVAL;
	while (off < len) {
		const char *slash = memchr(path + off, '/', len - off);
		struct seg g = { path + off, (slash ? (size_t)(slash - path) : len) - off };

		off += g.n + 1;
		if (g.n == 0)
			continue;
		memset(&cur, 0, sizeof(cur));
		switch (container_segment(g, parent, &cur, pod)) {
		case SEG_CONTAINER:
			/* Innermost wins; a pod labels only the containers below it. */
			memcpy(cur.pod_uid, pod, sizeof(pod));
			*c = cur;
			found = true;
			pod[0] = '\0';
			under_kubepods = false;
			break;
		case SEG_MONITOR:
			break;
		case SEG_OTHER:
			if (starts(g, "kubepods") || contains(g, "-kubepods"))
				under_kubepods = true;
			pod_segment(g, under_kubepods, pod);
			break;
		}
		parent = g;
	}
	return found ? 0 : -ENOENT;
}

/* One "<hierarchy>:<controllers>:<path>" line. */
struct cg_line {
	unsigned hier;
	struct seg controllers;
	struct seg path;
};

static int parse_line(struct seg l, struct cg_line *out)
{
	const char *c1 = memchr(l.s, ':', l.n), *c2;
	size_t i;

	if (!c1 || c1 == l.s)
		return -EINVAL;
	c2 = memchr(c1 + 1, ':', l.n - (c1 + 1 - l.s));
	if (!c2)
		return -EINVAL;
	out->hier = 0;
	for (i = 0; l.s + i < c1; i++) {
		if (l.s[i] < '0' || l.s[i] > '9' || i >= 4)
			return -EINVAL;
		out->hier = out->hier * 10 + (unsigned)(l.s[i] - '0');
	}
	out->controllers = (struct seg){ c1 + 1, c2 - c1 - 1 };
	out->path = (struct seg){ c2 + 1, l.n - (c2 + 1 - l.s) };
	return 0;
}

#define SG_CG_MAX_LINES 64

int sg_container_from_proc(const char *content, size_t len, struct sg_container *c,
			   int *from_v2)
{
	struct cg_line lines[SG_CG_MAX_LINES];
	uint64_t seen = 0;
	size_t n = 0, off = 0, i;
	int v2 = -1, systemd = -1, err;
	int pass;

	memset(c, 0, sizeof(*c));
	if (from_v2)
		*from_v2 = 0;
	if (!content || memchr(content, '\0', len))
		return -EINVAL;
	while (off < len) {
		const char *nl = memchr(content + off, '\n', len - off);
		struct seg l = { content + off, (nl ? (size_t)(nl - content) : len) - off };

		off += l.n + 1;
		if (l.n == 0)
			continue;
		if (n == SG_CG_MAX_LINES || parse_line(l, &lines[n]))
			return -EINVAL;
		/* A hierarchy twice means a cgroup name carried a newline: trust none. */
		if (lines[n].hier >= 64 || (seen & (1ull << lines[n].hier)))
			return -EINVAL;
		seen |= 1ull << lines[n].hier;
		if (lines[n].hier == 0 && lines[n].controllers.n == 0)
			v2 = (int)n;
		else if (equals(lines[n].controllers, "name=systemd"))
			systemd = (int)n;
		n++;
	}
	if (v2 >= 0) {
		err = sg_container_from_path(lines[v2].path.s, lines[v2].path.n, c);
		if (err != -ENOENT) {
			if (from_v2 && err == 0)
				*from_v2 = 1;
			return err;
		}
	}
	/* v1: name=systemd first, then the controllers in the order listed. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if ((int)i == v2 || (pass == 0) != ((int)i == systemd))
				continue;
			err = sg_container_from_path(lines[i].path.s, lines[i].path.n, c);
			if (err != -ENOENT)
				return err;
		}
	}
	return -ENOENT;
}

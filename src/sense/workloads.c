// SPDX-License-Identifier: Apache-2.0
/*
 * The containers running now, from the runtimes' state directories, and
 * which one a process is in. A directory listing is re-read only when a
 * state root (or a namespace directory in it) changed, which is when a
 * container was created or removed; answers are cached by cgroup id, and a
 * "no container" answer only until the listing changes, so a container that
 * starts after its cgroup was first seen is still found.
 */
#include "sense/workload.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sense/proc.h"

#define WL_CACHE 1024		/* power of two, direct-mapped */
#define WL_DIRS_MAX 256		/* state roots and their namespace directories */
/*
 * A container that is gone (its state removed) still names its processes'
 * records a while: the exec sensor's records are read after the fact, and a
 * short-lived container may be removed before its last one is.
 */
#define WL_GONE_MAX 256
#define WL_GONE_KEEP_S 30
#define WL_RECHECK_NS 1000000000ull

struct wl_cache_entry {
	uint64_t cgroup_id;	/* 0: free */
	uint64_t gen;		/* for a NULL answer: the listing it holds for */
	struct sg_workload *wl;	/* NULL: not in a container */
};

struct wl_dir {
	char path[PATH_MAX];
	struct timespec mtime;
};

struct sg_workloads {
	pthread_mutex_t lock;
	char **roots;
	size_t nroots;
	char cg2_root[PATH_MAX];
	struct sg_workload **known;
	size_t nknown, cap;
	struct wl_dir dirs[WL_DIRS_MAX];
	size_t ndirs;
	bool dirty;		/* a state file could not be read yet: look again */
	atomic_bool changed;	/* for sg_workloads_take_changed() */
	uint64_t checked_ns;	/* when the state directories were last looked at */
	uint64_t gen;
	struct wl_cache_entry cache[WL_CACHE];
	struct {
		struct sg_workload *wl;
		time_t at;	/* CLOCK_MONOTONIC seconds it went */
	} gone[WL_GONE_MAX];
	size_t ngone;		/* oldest first */
};

static void put(struct sg_workload *wl)
{
	free(wl);
}

struct sg_workloads *sg_workloads_new(const char *const *roots, const char *cgroup2_root)
{
	struct sg_workloads *w = calloc(1, sizeof(*w));
	size_t n = 0;

	if (!w)
		return NULL;
	while (roots && roots[n])
		n++;
	w->roots = calloc(n + 1, sizeof(*w->roots));
	if (!w->roots) {
		free(w);
		return NULL;
	}
	for (w->nroots = 0; w->nroots < n; w->nroots++)
		if (!(w->roots[w->nroots] = strdup(roots[w->nroots]))) {
			sg_workloads_free(w);
			return NULL;
		}
	snprintf(w->cg2_root, sizeof(w->cg2_root), "%s", cgroup2_root ? cgroup2_root : "");
	pthread_mutex_init(&w->lock, NULL);
	w->dirty = true;
	return w;
}

void sg_workloads_free(struct sg_workloads *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->nknown; i++)
		put(w->known[i]);
	for (i = 0; i < w->ngone; i++)
		put(w->gone[i].wl);
	for (i = 0; i < w->nroots; i++)
		free(w->roots[i]);
	free(w->roots);
	free(w->known);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static bool dirs_changed(struct sg_workloads *w)
{
	struct stat st;
	size_t i;

	w->checked_ns = mono_ns();
	for (i = 0; i < w->ndirs; i++) {
		if (stat(w->dirs[i].path, &st))
			return true;
		if (st.st_mtim.tv_sec != w->dirs[i].mtime.tv_sec ||
		    st.st_mtim.tv_nsec != w->dirs[i].mtime.tv_nsec)
			return true;
	}
	/* A root that did not exist may exist now (a runtime's first container). */
	for (i = 0; i < w->nroots; i++) {
		size_t k;
		bool watched = false;

		for (k = 0; k < w->ndirs && !watched; k++)
			watched = !strcmp(w->dirs[k].path, w->roots[i]);
		if (!watched && stat(w->roots[i], &st) == 0)
			return true;
	}
	return false;
}

/*
 * Directory times are coarse (a clock tick): a change within the tick we
 * read a directory in leaves its time as we saw it. Until a directory's
 * time is a second old, every lookup lists it again.
 */
static bool recent(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec - t->tv_sec <= 1;
}

static void watch_dir(struct sg_workloads *w, const char *path)
{
	struct stat st;

	if (w->ndirs == WL_DIRS_MAX || stat(path, &st))
		return;
	if (recent(&st.st_mtim))
		w->dirty = true;
	snprintf(w->dirs[w->ndirs].path, sizeof(w->dirs[0].path), "%s", path);
	w->dirs[w->ndirs++].mtime = st.st_mtim;
}

static struct sg_workload *known_by_dir(struct sg_workloads *w, const char *dir)
{
	size_t i;

	for (i = 0; i < w->nknown; i++)
		if (!strcmp(w->known[i]->state_dir, dir))
			return w->known[i];
	return NULL;
}

/* New list: what is still there keeps its entry, the new is read, the gone is dropped. */
struct listing {
	struct sg_workload **v;
	size_t n, cap;
};

static void keep(struct listing *l, struct sg_workload *wl)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p) {
			put(wl);
			return;
		}
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = wl;
}

static void take_dir(struct sg_workloads *w, struct listing *l, const char *dir)
{
	char state[PATH_MAX + 16];
	struct sg_workload *wl = known_by_dir(w, dir);

	if (wl) {
		keep(l, wl);
		return;
	}
	snprintf(state, sizeof(state), "%s/state.json", dir);
	wl = calloc(1, sizeof(*wl));
	if (!wl)
		return;
	if (sg_workload_read_state(state, wl)) {
		/* Being written, or not a container's: look again next time. */
		free(wl);
		if (access(state, F_OK) == 0)
			w->dirty = true;
		return;
	}
	snprintf(wl->state_dir, sizeof(wl->state_dir), "%s", dir);
	keep(l, wl);
}

static void scan(struct sg_workloads *w, const char *dir, unsigned depth, struct listing *l)
{
	char sub[PATH_MAX], state[PATH_MAX + 16];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	watch_dir(w, dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub))
			continue;
		snprintf(state, sizeof(state), "%s/state.json", sub);
		if (access(state, F_OK) == 0)
			take_dir(w, l, sub);
		else if (depth == 0)
			scan(w, sub, 1, l);	/* containerd's and docker's namespace directories */
		else
			watch_dir(w, sub);	/* a container's, before its runtime wrote state.json */
	}
	closedir(d);
}

static time_t mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

static void forget(struct sg_workloads *w, struct sg_workload *wl)
{
	size_t c;

	for (c = 0; c < WL_CACHE; c++)
		if (w->cache[c].wl == wl)
			w->cache[c] = (struct wl_cache_entry){ 0 };
	put(wl);
}

static void drop_oldest_gone(struct sg_workloads *w)
{
	forget(w, w->gone[0].wl);
	memmove(&w->gone[0], &w->gone[1], (w->ngone - 1) * sizeof(w->gone[0]));
	w->ngone--;
}

static void keep_gone(struct sg_workloads *w, struct sg_workload *wl)
{
	if (w->ngone == WL_GONE_MAX)
		drop_oldest_gone(w);
	w->gone[w->ngone].wl = wl;
	w->gone[w->ngone++].at = mono_s();
}

static void expire_gone(struct sg_workloads *w)
{
	time_t now = mono_s();

	while (w->ngone && now - w->gone[0].at > WL_GONE_KEEP_S)
		drop_oldest_gone(w);
}

static void refresh(struct sg_workloads *w)
{
	struct listing l = { 0 };
	size_t i;

	if (!w->dirty && w->ndirs && !dirs_changed(w))
		return;
	w->dirty = false;
	w->ndirs = 0;
	w->checked_ns = mono_ns();
	for (i = 0; i < w->nroots; i++)
		scan(w, w->roots[i], 0, &l);
	/* Entries still listed moved to the new list; the rest are gone. */
	for (i = 0; i < w->nknown; i++) {
		size_t k;
		bool kept = false;

		for (k = 0; k < l.n && !kept; k++)
			kept = l.v[k] == w->known[i];
		if (!kept)
			keep_gone(w, w->known[i]);
	}
	expire_gone(w);
	if (l.n != w->nknown || (l.n && memcmp(l.v, w->known, l.n * sizeof(*l.v))))
		atomic_store(&w->changed, true);
	free(w->known);
	w->known = l.v;
	w->nknown = l.n;
	w->cap = l.cap;
	w->gen++;
}

/* The container whose cgroup these /proc/PID/cgroup lines are in: running ones, then gone ones. */
static struct sg_workload *by_cgroups(struct sg_workloads *w, const char *content, size_t len)
{
	size_t i;

	for (i = 0; i < w->nknown; i++)
		if (sg_workload_has_cgroup(w->known[i], content, len, w->cg2_root))
			return w->known[i];
	for (i = w->ngone; i-- > 0;)
		if (sg_workload_has_cgroup(w->gone[i].wl, content, len, w->cg2_root))
			return w->gone[i].wl;
	return NULL;
}

bool sg_workloads_lookup(struct sg_workloads *w, pid_t pid, uint64_t cgroup_id,
			 struct sg_workload_info *out)
{
	struct wl_cache_entry *c = w && cgroup_id ? &w->cache[cgroup_id & (WL_CACHE - 1)] : NULL;
	struct sg_workload *found = NULL;
	char content[16384];
	ssize_t n;
	size_t i;

	out->id[0] = '\0';
	if (!w)
		return false;
	pthread_mutex_lock(&w->lock);
	if (c && c->cgroup_id == cgroup_id && c->wl) {
		found = c->wl;
		goto out;
	}
	/*
	 * A cgroup seen before as no container's: a container's first exec is
	 * in a cgroup made for it, after its runtime wrote its state, so a host
	 * exec need not look at the state directories again within the second.
	 */
	if (c && c->cgroup_id == cgroup_id && c->gen == w->gen && !w->dirty &&
	    mono_ns() - w->checked_ns < WL_RECHECK_NS)
		goto out;
	refresh(w);
	if (c && c->cgroup_id == cgroup_id && c->gen == w->gen)
		goto out;
	if (w->nknown == 0 && w->ngone == 0)
		goto cache;
	/* Its own cgroup is the container's (the usual case, and all that is left of a process gone). */
	for (i = 0; cgroup_id && i < w->nknown && !found; i++)
		if (w->known[i]->cgroup_ino == cgroup_id)
			found = w->known[i];
	for (i = w->ngone; cgroup_id && i-- > 0 && !found;)
		if (w->gone[i].wl->cgroup_ino == cgroup_id)
			found = w->gone[i].wl;
	if (found)
		goto cache;
	n = sg_proc_read(pid, "cgroup", content, sizeof(content));
	if (n <= 0)
		goto out;	/* gone: nothing to cache */
	found = by_cgroups(w, content, (size_t)n);
cache:
	if (c)
		*c = (struct wl_cache_entry){ .cgroup_id = cgroup_id, .gen = w->gen, .wl = found };
out:
	if (found)
		*out = found->info;
	pthread_mutex_unlock(&w->lock);
	return found != NULL;
}

bool sg_workloads_take_changed(struct sg_workloads *w)
{
	return w && atomic_exchange(&w->changed, false);
}

void sg_workloads_foreach(struct sg_workloads *w,
			  void (*fn)(const struct sg_workload *wl, void *ctx), void *ctx)
{
	size_t i;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->nknown; i++)
		fn(w->known[i], ctx);
	pthread_mutex_unlock(&w->lock);
}

bool sg_workloads_lookup_cgroups(struct sg_workloads *w, const char *content, size_t len,
				 struct sg_workload_info *out)
{
	struct sg_workload *found = NULL;

	out->id[0] = '\0';
	if (!w || !content || !len)
		return false;
	pthread_mutex_lock(&w->lock);
	refresh(w);
	found = by_cgroups(w, content, len);
	if (found)
		*out = found->info;
	pthread_mutex_unlock(&w->lock);
	return found != NULL;
}

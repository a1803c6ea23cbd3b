// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * VM harness self-check loader (statically linked, runs inside the guest).
 *
 *   loader attach PIN_DIR FILE...   load + attach the LSM program, deny FILE...,
 *                                   pin link and maps under PIN_DIR, exit
 *   loader stats PIN_DIR            print call and deny-hit counters
 *   loader detach PIN_DIR           unpin everything (the program goes away)
 *   loader exec FILE ARGV0 [ARG...] execv() FILE with that argv (ARGV0 picks
 *                                   the busybox applet); on failure print
 *                                   "loader: exec-errno=N (text)" and exit 126
 *
 * The BPF object is embedded (skeleton); nothing is read from disk.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "selfcheck.skel.h"

struct ino_key {
	unsigned long long ino;
	unsigned long long dev;
};

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !getenv("SELFCHECK_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void pin_path(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

/* Kernel-internal dev_t (MKDEV: major << 20 | minor) from a user-space st_dev. */
static unsigned long long kdev(dev_t d)
{
	return ((unsigned long long)major(d) << 20) | minor(d);
}

static int do_attach(const char *dir, int nfiles, char **files)
{
	struct selfcheck_bpf *skel;
	struct bpf_link *link;
	char p[512];
	int err, i;

	skel = selfcheck_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "loader: open_and_load failed: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < nfiles; i++) {
		struct stat st;
		struct ino_key key = {};
		unsigned long long zero = 0;

		if (stat(files[i], &st)) {
			fprintf(stderr, "loader: stat %s: %s\n", files[i], strerror(errno));
			goto fail;
		}
		key.ino = st.st_ino;
		key.dev = kdev(st.st_dev);
		err = bpf_map__update_elem(skel->maps.deny_inodes, &key, sizeof(key),
					   &zero, sizeof(zero), BPF_ANY);
		if (err) {
			fprintf(stderr, "loader: map update: %s\n", strerror(-err));
			goto fail;
		}
		printf("loader: deny %s (dev %llu:%llu ino %llu)\n", files[i],
		       (unsigned long long)major(st.st_dev),
		       (unsigned long long)minor(st.st_dev), key.ino);
	}
	link = bpf_program__attach_lsm(skel->progs.selfcheck_bprm);
	err = libbpf_get_error(link);
	if (err) {
		fprintf(stderr, "loader: attach_lsm: %s\n", strerror(-err));
		goto fail;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "loader: mkdir %s: %s\n", dir, strerror(errno));
		goto fail;
	}
	pin_path(p, sizeof(p), dir, "link");
	err = bpf_link__pin(link, p);
	if (!err) {
		pin_path(p, sizeof(p), dir, "deny_inodes");
		err = bpf_map__pin(skel->maps.deny_inodes, p);
	}
	if (!err) {
		pin_path(p, sizeof(p), dir, "calls");
		err = bpf_map__pin(skel->maps.calls, p);
	}
	if (err) {
		fprintf(stderr, "loader: pin: %s\n", strerror(-err));
		goto fail;
	}
	printf("loader: attached lsm/bprm_check_security, pinned in %s\n", dir);
	/* Closing our fds is fine: the pinned link keeps the program attached. */
	selfcheck_bpf__destroy(skel);
	return 0;
fail:
	selfcheck_bpf__destroy(skel);
	return 1;
}

static int do_stats(const char *dir)
{
	struct ino_key key, next, *prev = NULL;
	unsigned long long v;
	unsigned int zero = 0;
	char p[512];
	int fd;

	pin_path(p, sizeof(p), dir, "calls");
	fd = bpf_obj_get(p);
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &v)) {
		fprintf(stderr, "loader: %s: %s\n", p, strerror(errno));
		return 1;
	}
	printf("loader: bprm_check_security calls=%llu\n", v);
	close(fd);
	pin_path(p, sizeof(p), dir, "deny_inodes");
	fd = bpf_obj_get(p);
	if (fd < 0) {
		fprintf(stderr, "loader: %s: %s\n", p, strerror(errno));
		return 1;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bpf_map_lookup_elem(fd, &next, &v))
			printf("loader: ino %llu denied %llu time(s)\n", next.ino, v);
		key = next;
		prev = &key;
	}
	close(fd);
	return 0;
}

static int do_detach(const char *dir)
{
	static const char *names[] = { "link", "deny_inodes", "calls" };
	char p[512];
	int rc = 0;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pin_path(p, sizeof(p), dir, names[i]);
		if (unlink(p)) {
			fprintf(stderr, "loader: unlink %s: %s\n", p, strerror(errno));
			rc = 1;
		}
	}
	rmdir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	libbpf_set_print(print_fn);
	if (argc >= 4 && !strcmp(argv[1], "attach"))
		return do_attach(argv[2], argc - 3, argv + 3);
	if (argc == 3 && !strcmp(argv[1], "stats"))
		return do_stats(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return do_detach(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "exec")) {
		execv(argv[2], argv + 3);
		int e = errno;
		printf("loader: exec-errno=%d (%s)\n", e, strerror(e));
		return 126;
	}
	fprintf(stderr, "usage: %s attach PIN_DIR FILE... | stats PIN_DIR | detach PIN_DIR | exec FILE ARGV0 [ARG...]\n",
		argv[0]);
	return 2;
}

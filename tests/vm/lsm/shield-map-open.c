// SPDX-License-Identifier: Apache-2.0
/*
 * BPF-7 for the Shield, in the VM: BPF_OBJ_GET on every pinned Shield map,
 * read-write and read-only, as a process that is not the daemon.
 *   shield-map-open deny DIR   every open must fail with EPERM (daemon running)
 *   shield-map-open allow DIR  every open must succeed (no daemon: no guard)
 * Exit 0 when every map behaved so, 1 otherwise (each failure printed).
 */
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int obj_get(const char *path, unsigned flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = (unsigned long)path;
	a.file_flags = flags;
	return (int)syscall(__NR_bpf, BPF_OBJ_GET, &a, sizeof(a));
}

int main(int argc, char **argv)
{
	static const unsigned flags[] = { 0, BPF_F_RDONLY };
	char path[4096];
	struct dirent *e;
	int deny, bad = 0, maps = 0;
	unsigned i;
	DIR *d;

	if (argc != 3 || (strcmp(argv[1], "deny") && strcmp(argv[1], "allow"))) {
		fprintf(stderr, "usage: shield-map-open deny|allow DIR\n");
		return 2;
	}
	deny = !strcmp(argv[1], "deny");
	d = opendir(argv[2]);
	if (!d) {
		printf("FAIL: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	while ((e = readdir(d))) {
		/* The program pin and the editors' lock file are no maps. */
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "prog") || strstr(e->d_name, "lock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[2], e->d_name);
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			int fd = obj_get(path, flags[i]), err = errno;

			if (fd >= 0)
				close(fd);
			if (deny ? (fd < 0 && err == EPERM) : fd >= 0)
				continue;
			printf("FAIL: BPF_OBJ_GET %s %s: %s\n", path, flags[i] ? "rdonly" : "rdwr",
			       fd >= 0 ? "got an fd" : strerror(err));
			bad++;
		}
		maps++;
	}
	closedir(d);
	if (!maps) {
		printf("FAIL: no pinned map in %s\n", argv[2]);
		return 1;
	}
	printf("shield-map-open %s: %d maps, %d failures\n", argv[1], maps, bad);
	return bad ? 1 : 0;
}

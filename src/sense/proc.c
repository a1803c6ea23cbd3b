// SPDX-License-Identifier: Apache-2.0
#include "sense/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sg_proc_table_init(struct sg_proc_table *t)
{
	t->slots = calloc(SG_PROC_TABLE_SIZE, sizeof(*t->slots));
	t->used = 0;
	return t->slots ? 0 : -ENOMEM;
}

void sg_proc_table_free(struct sg_proc_table *t)
{
	size_t i;

	if (!t->slots)
		return;
	for (i = 0; i < SG_PROC_TABLE_SIZE; i++)
		free(t->slots[i].exe);
	free(t->slots);
	t->slots = NULL;
}

static size_t slot_of(pid_t pid)
{
	return ((uint32_t)pid * 2654435761u) & (SG_PROC_TABLE_SIZE - 1);
}

static struct sg_proc_entry *find(const struct sg_proc_table *t, pid_t pid, bool for_insert)
{
	size_t i = slot_of(pid), n;
	struct sg_proc_entry *tomb = NULL;

	for (n = 0; n < SG_PROC_TABLE_SIZE; n++, i = (i + 1) & (SG_PROC_TABLE_SIZE - 1)) {
		struct sg_proc_entry *e = &t->slots[i];

		if (e->pid == pid)
			return e;
		if (e->pid == -1 && !tomb)
			tomb = e;
		if (e->pid == 0)
			return for_insert ? (tomb ? tomb : e) : NULL;
	}
	return for_insert ? tomb : NULL;
}

void sg_proc_table_set(struct sg_proc_table *t, pid_t pid, const char *exe)
{
	struct sg_proc_entry *e;
	char *copy;

	/* Keep a quarter free so probes stay short; /proc covers the rest. */
	if (!t->slots || pid <= 0 || t->used >= SG_PROC_TABLE_SIZE * 3 / 4)
		return;
	e = find(t, pid, true);
	copy = strdup(exe);
	if (!e || !copy) {
		free(copy);
		return;
	}
	if (e->pid != pid)
		t->used++;
	free(e->exe);
	e->pid = pid;
	e->exe = copy;
}

void sg_proc_table_del(struct sg_proc_table *t, pid_t pid)
{
	struct sg_proc_entry *e = t->slots && pid > 0 ? find(t, pid, false) : NULL;

	if (!e)
		return;
	free(e->exe);
	e->exe = NULL;
	e->pid = -1;
	t->used--;
}

const char *sg_proc_table_get(const struct sg_proc_table *t, pid_t pid)
{
	struct sg_proc_entry *e = t && t->slots && pid > 0 ? find(t, pid, false) : NULL;

	return e ? e->exe : NULL;
}

int sg_proc_exe(const struct sg_proc_table *t, pid_t pid, char *buf, size_t len)
{
	const char *known = sg_proc_table_get(t, pid);
	char link[64];
	ssize_t n;

	if (known) {
		snprintf(buf, len, "%s", known);
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int sg_proc_ppid(pid_t pid, pid_t *ppid)
{
	char path[64], buf[1024], *close_paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: parse after the last ')'. */
	close_paren = strrchr(buf, ')');
	if (!close_paren || sscanf(close_paren + 1, " %*c %d", ppid) != 1)
		return -EIO;
	return 0;
}

uint64_t sg_proc_cgroup_id(pid_t pid, const char *cg2_root)
{
	char path[64], buf[4096], dir[4352], *line, *save = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	if (!cg2_root || !*cg2_root)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The v2 hierarchy is the line "0::/path". */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3))
			continue;
		snprintf(dir, sizeof(dir), "%s%s", cg2_root, line + 3);
		return stat(dir, &st) == 0 ? (uint64_t)st.st_ino : 0;
	}
	return 0;
}

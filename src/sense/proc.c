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

#define SG_ROOT_CGROUP_ID 1	/* the cgroup2 root: host processes and kernel threads */
#define SG_FILEID_KERNFS 0xfe	/* file handle type of kernfs (cgroup2) inodes */

int sg_proc_table_init(struct sg_proc_table *t)
{
	t->slots = calloc(SG_PROC_TABLE_SIZE, sizeof(*t->slots));
	t->cgroups = calloc(SG_CGROUP_CACHE_SIZE, sizeof(*t->cgroups));
	t->exited = calloc(SG_PROC_EXITED, sizeof(*t->exited));
	t->exited_next = 0;
	t->used = 0;
	if (t->slots && t->cgroups && t->exited)
		return 0;
	sg_proc_table_free(t);
	return -ENOMEM;
}

void sg_proc_table_free(struct sg_proc_table *t)
{
	size_t i;

	free(t->cgroups);
	t->cgroups = NULL;
	if (t->exited) {
		for (i = 0; i < SG_PROC_EXITED; i++)
			free(t->exited[i].exe);
		free(t->exited);
		t->exited = NULL;
	}
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

void sg_proc_table_exited(struct sg_proc_table *t, pid_t pid, const char *comm)
{
	struct sg_proc_entry *e = t->slots && pid > 0 ? find(t, pid, false) : NULL;
	struct sg_proc_exited *x;

	if (!t->exited || pid <= 0) {
		sg_proc_table_del(t, pid);
		return;
	}
	x = &t->exited[t->exited_next++ % SG_PROC_EXITED];
	free(x->exe);
	x->exe = NULL;
	if (e) {
		x->exe = e->exe;	/* moved, not copied */
		e->exe = NULL;
		e->pid = -1;
		t->used--;
	}
	x->pid = pid;
	snprintf(x->comm, sizeof(x->comm), "%s", comm ? comm : "");
}

static const struct sg_proc_exited *exited_get(const struct sg_proc_table *t, pid_t pid)
{
	size_t i;

	if (!t || !t->exited || pid <= 0)
		return NULL;
	/* Newest first: a reused pid's latest exit is the one that matters. */
	for (i = 1; i <= SG_PROC_EXITED; i++) {
		const struct sg_proc_exited *x =
			&t->exited[(t->exited_next - i) % SG_PROC_EXITED];

		if (x->pid == pid)
			return x;
	}
	return NULL;
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
	if (n < 0) {
		const struct sg_proc_exited *x = exited_get(t, pid);

		if (!x || !x->exe)
			return -errno;
		snprintf(buf, len, "%s", x->exe);
		return 0;
	}
	buf[n] = '\0';
	return 0;
}

int sg_proc_identify(const struct sg_proc_table *t, pid_t pid, char *exe, size_t exelen,
		     char *comm, size_t commlen)
{
	const struct sg_proc_exited *x;
	const char *known;
	char link[64];
	ssize_t n;
	bool have_exe = false, have_comm = false;

	exe[0] = comm[0] = '\0';
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, exe, exelen - 1);
	if (n > 0) {
		exe[n] = '\0';
		have_exe = true;
	}
	n = sg_proc_read(pid, "comm", comm, commlen - 1);
	if (n > 0) {
		comm[n] = '\0';
		if (comm[n - 1] == '\n')
			comm[n - 1] = '\0';
		have_comm = true;
	} else {
		comm[0] = '\0';
	}
	if (have_exe && have_comm)
		return 0;
	known = sg_proc_table_get(t, pid);
	if (!have_exe && known) {
		snprintf(exe, exelen, "%s", known);
		have_exe = true;
	}
	x = exited_get(t, pid);
	if (x && !have_exe && x->exe) {
		snprintf(exe, exelen, "%s", x->exe);
		have_exe = true;
	}
	if (x && !have_comm)
		snprintf(comm, commlen, "%s", x->comm);
	return have_exe ? 0 : -ESRCH;
}

/* State letter and parent from /proc/pid/stat. 0 or -errno. */
static int proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char buf[1024], *close_paren;
	ssize_t n = sg_proc_read(pid, "stat", buf, sizeof(buf) - 1);

	if (n <= 0)
		return n < 0 ? n : -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: parse after the last ')'. */
	close_paren = strrchr(buf, ')');
	if (!close_paren || sscanf(close_paren + 1, " %c %d", state, ppid) != 2)
		return -EIO;
	return 0;
}

int sg_proc_ppid(pid_t pid, pid_t *ppid)
{
	char state;

	return proc_stat(pid, &state, ppid);
}

bool sg_proc_running(pid_t pid)
{
	pid_t ppid;
	char state;

	return proc_stat(pid, &state, &ppid) == 0 && state != 'Z' && state != 'X';
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

/* The path of a cgroup id below the cgroup2 mount, from its kernfs file handle. */
static int cgroup_path_by_id(const char *cg2_root, uint64_t id, char *buf, size_t len)
{
	union {
		struct file_handle fh;
		char raw[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], full[PATH_MAX];
	size_t root_len = strlen(cg2_root);
	ssize_t n;
	int mfd, fd, err;

	mfd = open(cg2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return -errno;
	h.fh.handle_bytes = sizeof(id);
	h.fh.handle_type = SG_FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	close(mfd);
	if (err)
		return err;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, full, sizeof(full) - 1);
	err = -errno;
	close(fd);
	if (n < 0)
		return err;
	full[n] = '\0';
	/* A cgroup outside what this mount shows (another cgroup namespace) has no path here. */
	if ((size_t)n < root_len || memcmp(full, cg2_root, root_len) ||
	    (full[root_len] != '/' && full[root_len] != '\0'))
		return -EXDEV;
	snprintf(buf, len, "%s", full[root_len] ? full + root_len : "/");
	return 0;
}

ssize_t sg_proc_read(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	size_t off = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < len && (n = read(fd, buf + off, len - off)) > 0)
		off += n;
	close(fd);
	return off == len ? -E2BIG : (ssize_t)off;
}

/* Whether the v2 path on line "0::path" is the cgroup with this id. */
static bool v2_line_is(const char *content, size_t len, const char *cg2_root, uint64_t id)
{
	char dir[PATH_MAX];
	struct stat st;
	const char *nl = memchr(content, '\n', len);

	if (len < 3 || memcmp(content, "0::", 3) || !nl || (size_t)(nl - content) + 1 != len)
		return false;
	snprintf(dir, sizeof(dir), "%s%.*s", cg2_root, (int)(nl - content - 3), content + 3);
	return stat(dir, &st) == 0 && (uint64_t)st.st_ino == id;
}

int sg_proc_container(struct sg_proc_table *t, pid_t pid, uint64_t cgroup_id,
		      const char *cg2_root, struct sg_container *out)
{
	struct sg_cgroup_entry *e = NULL;
	char path[SG_CGROUP_PATH_MAX + 1], content[16384];
	bool have_v2 = cg2_root && *cg2_root;
	bool cacheable = false;
	ssize_t n;
	int err = -ENOENT, by_id = -ENOENT;

	memset(out, 0, sizeof(*out));
	if (cgroup_id == SG_ROOT_CGROUP_ID)
		return -ENOENT;
	if (cgroup_id && t && t->cgroups) {
		e = &t->cgroups[cgroup_id & (SG_CGROUP_CACHE_SIZE - 1)];
		if (e->cgroup_id == cgroup_id) {
			*out = e->c;
			return out->id[0] ? 0 : -ENOENT;
		}
	}
	if (cgroup_id && have_v2 && cgroup_path_by_id(cg2_root, cgroup_id, path, sizeof(path)) == 0) {
		by_id = sg_container_from_path(path, strlen(path), out);
		cacheable = by_id == 0;
	}
	if (by_id) {
		/* cgroup v1 hierarchies, or no usable cgroup2 handle: what the process says. */
		n = sg_proc_read(pid, "cgroup", content, sizeof(content));
		if (n < 0)
			return by_id == -ENOENT ? -ENOENT : (int)n;
		err = sg_container_from_proc(content, n, out, NULL);
		/* Only a cgroup2-only process whose line is this very cgroup speaks for it. */
		cacheable = (err == 0 || err == -ENOENT) && cgroup_id && have_v2 &&
			    v2_line_is(content, n, cg2_root, cgroup_id);
	} else {
		err = 0;
	}
	if (e && cacheable) {
		e->cgroup_id = cgroup_id;
		e->c = *out;
	}
	return err;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process facts: a table of executables by pid, fed by exec/exit events, with
 * /proc as the fallback for processes started before the daemon.
 */
#ifndef SG_PROC_H
#define SG_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sense/container.h"

#define SG_PROC_TABLE_SIZE 65536	/* power of two; a full table falls back to /proc */
#define SG_CGROUP_CACHE_SIZE 1024	/* power of two; direct-mapped, a collision re-reads */

struct sg_proc_entry {
	pid_t pid;		/* 0: free; -1: deleted */
	char *exe;
};

/* Container identity by cgroup id: cgroup v2 ids are never reused. */
struct sg_cgroup_entry {
	uint64_t cgroup_id;	/* 0: free */
	struct sg_container c;
};

/*
 * A process that made a change may exit before its record is written (a
 * short-lived `mv`): the last exits keep its executable and name a while.
 */
#define SG_PROC_EXITED 512

struct sg_proc_exited {
	pid_t pid;		/* 0: free */
	char *exe;
	char comm[16];
};

struct sg_proc_table {
	struct sg_proc_entry *slots;
	size_t used;
	struct sg_cgroup_entry *cgroups;
	struct sg_proc_exited *exited;	/* ring of the last SG_PROC_EXITED exits */
	size_t exited_next;
};

int sg_proc_table_init(struct sg_proc_table *t);
void sg_proc_table_free(struct sg_proc_table *t);
void sg_proc_table_set(struct sg_proc_table *t, pid_t pid, const char *exe);
void sg_proc_table_del(struct sg_proc_table *t, pid_t pid);
/* pid exited: drop it from the table, keep its executable and comm among the last exits. */
void sg_proc_table_exited(struct sg_proc_table *t, pid_t pid, const char *comm);
const char *sg_proc_table_get(const struct sg_proc_table *t, pid_t pid);

/* Read /proc/<pid>/<name> into buf: its length, -E2BIG when it fills buf, or -errno. */
ssize_t sg_proc_read(pid_t pid, const char *name, char *buf, size_t len);

/* The executable of pid: the table first, then /proc/pid/exe. 0 or -errno. */
int sg_proc_exe(const struct sg_proc_table *t, pid_t pid, char *buf, size_t len);

/*
 * Who pid is or was: executable and comm from /proc while it lives, else
 * from the table's record of its exec, else from its recent exit. Either
 * buffer may come back empty when nothing is known. 0 when exe was found.
 */
int sg_proc_identify(const struct sg_proc_table *t, pid_t pid, char *exe, size_t exelen,
		     char *comm, size_t commlen);

/*
 * The cgroup v2 id of pid (the inode of its cgroup directory under the
 * cgroup2 mount `cg2_root`), as bpf_get_current_cgroup_id() reports it.
 * 0 when unknown.
 */
uint64_t sg_proc_cgroup_id(pid_t pid, const char *cg2_root);

/*
 * The container pid runs in (id, runtime, pod UID), parsed once per cgroup:
 * from the cgroup id through the cgroup2 mount (works after pid exited and
 * across cgroup namespaces), else from /proc/pid/cgroup (also cgroup v1).
 * The root cgroup (id 1) is the host. 0 and *out filled, -ENOENT when not
 * in a container, other -errno when unknown; *out is cleared unless 0.
 */
int sg_proc_container(struct sg_proc_table *t, pid_t pid, uint64_t cgroup_id,
		      const char *cg2_root, struct sg_container *out);

/* The parent of pid from /proc/pid/stat. 0 or -errno. */
int sg_proc_ppid(pid_t pid, pid_t *ppid);

/* pid exists and is not a zombie. */
bool sg_proc_running(pid_t pid);

#endif

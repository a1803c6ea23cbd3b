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

#define SG_PROC_TABLE_SIZE 65536	/* power of two; a full table falls back to /proc */

struct sg_proc_entry {
	pid_t pid;		/* 0: free; -1: deleted */
	char *exe;
};

struct sg_proc_table {
	struct sg_proc_entry *slots;
	size_t used;
};

int sg_proc_table_init(struct sg_proc_table *t);
void sg_proc_table_free(struct sg_proc_table *t);
void sg_proc_table_set(struct sg_proc_table *t, pid_t pid, const char *exe);
void sg_proc_table_del(struct sg_proc_table *t, pid_t pid);
const char *sg_proc_table_get(const struct sg_proc_table *t, pid_t pid);

/* The executable of pid: the table first, then /proc/pid/exe. 0 or -errno. */
int sg_proc_exe(const struct sg_proc_table *t, pid_t pid, char *buf, size_t len);

/*
 * The cgroup v2 id of pid (the inode of its cgroup directory under the
 * cgroup2 mount `cg2_root`), as bpf_get_current_cgroup_id() reports it.
 * 0 when unknown.
 */
uint64_t sg_proc_cgroup_id(pid_t pid, const char *cg2_root);

/* The parent of pid from /proc/pid/stat. 0 or -errno. */
int sg_proc_ppid(pid_t pid, pid_t *ppid);

#endif

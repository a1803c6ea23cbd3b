/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File-open audit records (FILE-4) in user-space form: decoding a ring
 * buffer record and naming what it says. Pure: no I/O, every field from the
 * kernel is checked, so it is safe on hostile input.
 */
#ifndef SG_OPEN_EVENT_H
#define SG_OPEN_EVENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "policy/policy.h"
#include "sense/container.h"
#include "sysguard.h"

enum sg_open_access {
	SG_ACCESS_NONE = 0,	/* neither read nor write (e.g. O_WRONLY|O_RDWR on a device: ioctl only) */
	SG_ACCESS_READ,
	SG_ACCESS_WRITE,
	SG_ACCESS_READ_WRITE,
	SG_ACCESS_PATH,		/* O_PATH: a handle on the name, no data access */
};

/* What one audited open was, ready for the record writer. */
struct sg_open_facts {
	pid_t pid;			/* thread group id: what user space calls the pid */
	pid_t tid;			/* the thread that opened */
	pid_t ppid;
	uid_t uid;
	gid_t gid;
	uint64_t cgroup_id;
	struct sg_container container;	/* id "" when not in a container */
	char comm[16];
	char exe[PATH_MAX];
	bool has_exe;
	struct sg_file_id exe_id;	/* st_dev form */
	bool has_exe_id;
	const char *name;		/* the opened file's basename: any byte but NUL and '/' */
	size_t name_len;
	const char *path;		/* its full path as the opener saw it; NULL if unknown */
	size_t path_len;
	bool path_truncated;		/* deeper or longer than the kernel's walk reads */
	struct sg_file_id file;		/* st_dev form */
	uint32_t imode;			/* i_mode: type and permission bits */
	uint32_t flags;			/* f_flags after the open */
	uint32_t fmode;			/* f_mode */
	/* The file_audit: rule that selected the process. */
	uint32_t rule_id;
	const char *rule_name;
	const char *rule_fragment;	/* its policy fragment, NULL in the main policy */
	unsigned rule_line;
	bool by_cgroup;			/* selected by cgroup, not by executable */
	const char *target;		/* the rule's exe or cgroup as written */
};

/*
 * Copy an open-audit record out of the ring. 0 with *name_len the length
 * of out->name (NUL terminated), or -EINVAL when the record is short, of
 * another type, names no rule or has no NUL in its name.
 */
int sg_decode_open(const void *data, size_t size, struct sg_open_event *out, size_t *name_len);

/* From the kernel's f_mode (FMODE_READ 1, FMODE_WRITE 2) and f_flags. */
enum sg_open_access sg_open_access_of(uint32_t fmode, uint32_t flags);
/* "read", "write", "read_write", "path", "none". */
const char *sg_open_access_name(enum sg_open_access a);

/* "regular", "directory", "char_device", "block_device", "fifo", "socket", "symlink", "unknown". */
const char *sg_file_type_name(uint32_t imode);

/*
 * Names of the O_* flags set in `flags` besides the access mode, in
 * a fixed order ("O_APPEND", "O_NONBLOCK", ...); bits without a name here are
 * only in the numeric field. Fills out[0..max) and returns how many are named
 * (may exceed max).
 */
size_t sg_open_flag_names(uint32_t flags, const char **out, size_t max);

#endif

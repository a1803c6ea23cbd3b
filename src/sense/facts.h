/* SPDX-License-Identifier: Apache-2.0 */
/* What the sense stage learned about one exec, whichever sensor saw it. */
#ifndef SG_FACTS_H
#define SG_FACTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "sense/container.h"
#include "sense/workload.h"

enum sg_sensor {
	SG_SENSOR_EXEC_TP = 0,	/* tp_btf/sched_process_exec: the exec happened */
	SG_SENSOR_FANOTIFY,	/* FAN_OPEN_EXEC_PERM: the exec is waiting for us */
	SG_SENSOR_BPF_LSM,	/* an LSM hook denied it in the kernel */
};

struct sg_exec_facts {
	enum sg_sensor sensor;
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	gid_t gid;
	uint64_t cgroup_id;
	struct sg_container container;	/* id "" when not in a container */
	bool has_container_path;
	const char *drift;		/* why the file is drift (not from the image), or NULL */
	char comm[16];
	size_t path_len;	/* of path, which may hold any byte but NUL */
	bool has_path;
	struct sg_file_id id;
	bool has_id;
	uint64_t ctime_ns;	/* the file's ctime as the kernel read it at exec; 0 unknown */
	uint8_t sha256[SG_SHA256_LEN];
	bool has_sha256;
	int hash_err;		/* why sha256 is missing when it was needed */
	bool has_parent;
	const char *filename;	/* execve() argument, as given */
	size_t filename_len;
	const char *args;	/* NUL-separated argv */
	size_t args_len;
	bool args_truncated;
	bool fileless;		/* memfd or deleted file */
	bool loader;		/* the dynamic loader run as the program */
	bool via_mmap;		/* denied at mmap(PROT_EXEC), not at exec */
	bool held;		/* stopped in the kernel until user space decided */
	bool interp;		/* an interpreter of scripts: control: what it runs is judged */
	bool has_interpreter;	/* interpreter is set */
	const char *script;	/* "file", "inline", "stdin", "stream", "interactive" or NULL */
	bool audit_only;	/* allowed, on record as audit (inline code under inline: audit) */
	bool library;		/* the subject is a shared object about to run as code (libraries:) */
	uint64_t start_ns;	/* the process's start time, as the kernel's held map keys it */
	/*
	 * The path could not be read whole, or is another mount namespace's
	 * name with no host name to map it to: path rules cannot say "no
	 * match", so a verdict that would rest on them is a deny.
	 */
	bool path_unknown;
	const char *reason;	/* why, when no policy rule decided (e.g. "fileless_exec") */
	/*
	 * The large buffers last: sg_exec_facts_clear() zeroes what is before
	 * them and empties them, as every exec's record would otherwise clear
	 * about 40 KB.
	 */
	/* The container as its runtime recorded it; id "" on the host (or none known). */
	struct sg_workload_info workload;
	char container_path[PATH_MAX];	/* the path as the container sees it */
	char path[PATH_MAX];
	char parent_path[PATH_MAX];
	/*
	 * Set once a script or a library is the subject: the process's own
	 * executable (the interpreter, or the program loading the library).
	 */
	char interpreter[PATH_MAX];
};

/* Empty facts: as zeroed, without writing the large buffers whole. */
static inline void sg_exec_facts_clear(struct sg_exec_facts *f)
{
	memset(f, 0, offsetof(struct sg_exec_facts, workload));
	sg_workload_info_clear(&f->workload);
	f->container_path[0] = '\0';
	f->path[0] = '\0';
	f->parent_path[0] = '\0';
	f->interpreter[0] = '\0';
}

/* One outbound connect or sendto that an egress rule matched (NET-1). */
struct sg_net_facts {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	gid_t gid;
	uint64_t cgroup_id;
	char comm[16];
	char exe[PATH_MAX];
	bool has_exe;
	const char *op;		/* "connect" or "sendmsg" */
	const char *protocol;	/* "tcp", "udp" or NULL when unknown */
	char daddr[48];		/* text form */
	bool mapped;		/* an IPv6 socket's ::ffff:daddr, decided as IPv4 */
	uint16_t dport;
	const struct sg_net_rule *rule;
	bool blocked;		/* the call failed with EPERM */
};

#endif

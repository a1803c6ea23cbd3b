/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container identity from cgroup paths (no I/O). Recognises the shapes that
 * docker, containerd, CRI-O, podman and the kubelet (cgroupfs and systemd
 * drivers) give their cgroups. The identity is read from cgroup names, which
 * anyone allowed to create cgroups (e.g. a delegated rootless user) chooses:
 * it labels events, it is not a security boundary.
 */
#ifndef SG_CONTAINER_H
#define SG_CONTAINER_H

#include <stddef.h>

#define SG_CONTAINER_ID_LEN 64		/* lowercase hex */
#define SG_POD_UID_LEN 36		/* 8-4-4-4-12 lowercase hex with dashes */
#define SG_CGROUP_PATH_MAX 4096		/* longer input is refused */

enum sg_runtime {
	SG_RUNTIME_NONE = 0,		/* no container, or the path does not name the runtime */
	SG_RUNTIME_DOCKER,
	SG_RUNTIME_CONTAINERD,
	SG_RUNTIME_CRIO,
	SG_RUNTIME_PODMAN,
};

struct sg_container {
	char id[SG_CONTAINER_ID_LEN + 1];	/* "" when not in a container */
	char pod_uid[SG_POD_UID_LEN + 1];	/* "" when not in a Kubernetes pod */
	enum sg_runtime runtime;
};

/*
 * Parse one cgroup path ("/kubepods/besteffort/pod<uid>/<id>"), len bytes
 * without a terminating NUL. The innermost container wins (a kind node is
 * itself a container). 0 and *c filled when a container is named; -ENOENT
 * for a host cgroup; -EINVAL for malformed input (NUL, newline, too long).
 * *c is cleared unless 0 is returned.
 */
int sg_container_from_path(const char *path, size_t len, struct sg_container *c);

/*
 * Parse the content of /proc/PID/cgroup: the cgroup v2 line ("0::/path")
 * first, then the v1 lines (name=systemd first). *from_v2 (may be NULL) says
 * whether the answer came from the v2 line. Returns as sg_container_from_path;
 * -EINVAL also for malformed lines or a hierarchy listed twice.
 */
int sg_container_from_proc(const char *content, size_t len, struct sg_container *c,
			   int *from_v2);

/* "docker", "containerd", "cri-o", "podman"; NULL for SG_RUNTIME_NONE. */
const char *sg_runtime_name(enum sg_runtime r);

#endif

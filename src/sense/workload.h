/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which container a process runs in, from the container runtime's own state
 * (runc's state.json, the OCI bundle's config.json, podman's storage), never
 * from names a process can choose: a cgroup path only says where to look,
 * and the process must sit in the cgroup the runtime recorded. Only state
 * that root owns and only root can write counts, so a rootless runtime's
 * containers (and a process in a user namespace it made itself) are not
 * containers here: host rules apply to them.
 */
#ifndef SG_WORKLOAD_H
#define SG_WORKLOAD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "policy/policy.h"
#include "sense/container.h"

#define SG_WL_ID_MAX 128	/* containerd ids are up to 76 bytes of [A-Za-z0-9_.-] */
#define SG_WL_TEXT_MAX 256
#define SG_WL_LABELS_MAX 64	/* annotations beyond these are not kept */
#define SG_WL_LABELS_BYTES 4096
#define SG_WL_LAYERS_BYTES 16384

/* What is known of one container; a plain value, copied into each exec's facts. */
struct sg_workload_info {
	char id[SG_WL_ID_MAX + 1];		/* "" when not in a container */
	enum sg_runtime runtime;
	char name[SG_WL_TEXT_MAX];		/* the runtime's container name */
	char image[SG_WL_TEXT_MAX];		/* image name as the runtime recorded it */
	char image_digest[80];			/* "sha256:..." when the runtime records it */
	char pod_namespace[SG_WL_TEXT_MAX];	/* Kubernetes, from the CRI annotations */
	char pod_name[SG_WL_TEXT_MAX];
	char pod_uid[64];
	char k8s_container[SG_WL_TEXT_MAX];	/* the container's name in its pod spec */
	pid_t init_pid;
	size_t labels_len;
	unsigned nlabels;
	size_t layers_len;
	size_t upper_len;	/* bytes of layers the upper layer takes (with its NUL), or 0 */
	bool overlay;		/* the root is an overlay mount whose layers are known */
	/*
	 * The large buffers last, so sg_workload_info_clear() need not zero
	 * them: every exec's facts start with a cleared one.
	 */
	char rootfs[PATH_MAX];			/* the container's root as the daemon's mounts show it */
	/* OCI annotations (podman --annotation, ctr --label): "key\0value\0" pairs. */
	char labels[SG_WL_LABELS_BYTES];
	/*
	 * An overlay root's layers as real host paths, NUL-separated: the upper
	 * (writable) layer first when upper_len, then the lower (image) layers,
	 * topmost first. The kernel may report a file by its layer's path.
	 */
	char layers[SG_WL_LAYERS_BYTES];
};

/* "No container": every field empty, without writing the large buffers whole. */
static inline void sg_workload_info_clear(struct sg_workload_info *w)
{
	memset(w, 0, offsetof(struct sg_workload_info, rootfs));
	w->rootfs[0] = '\0';
	w->labels[0] = '\0';
	w->layers[0] = '\0';
}

/* One container as the runtime's state shows it. */
struct sg_workload {
	struct sg_workload_info info;
	char cgroup[PATH_MAX];			/* its cgroup v2 path (or v1 name=systemd/pids path) */
	bool cgroup_v2;
	uint64_t cgroup_ino;			/* its cgroup v2 directory's inode: the kernel's cgroup id */
	char state_dir[PATH_MAX];		/* the runtime state directory it was read from */
};

/* Where runtimes keep container state, root's defaults; a NULL-terminated list. */
extern const char *const sg_workload_default_roots[];

struct sg_workloads;

/* roots: runc-style state roots (each holding <id>/state.json, or <ns>/<id>/state.json). */
struct sg_workloads *sg_workloads_new(const char *const *roots, const char *cgroup2_root);
void sg_workloads_free(struct sg_workloads *w);

/* Whether the set of containers changed since the last call (any thread's lookup may change it). */
bool sg_workloads_take_changed(struct sg_workloads *w);

/* Every container known now, under the table's lock (fn must not look up). */
void sg_workloads_foreach(struct sg_workloads *w,
			  void (*fn)(const struct sg_workload *wl, void *ctx), void *ctx);

/*
 * The container pid runs in: true and *out filled, or false (out->id "")
 * when it runs in none that a runtime recorded. cgroup_id caches the
 * answer (0: no cache). Thread-safe.
 */
bool sg_workloads_lookup(struct sg_workloads *w, pid_t pid, uint64_t cgroup_id,
			 struct sg_workload_info *out);

/*
 * The same, from /proc/PID/cgroup content read earlier (while the process
 * was still there): for records written after it may have exited.
 */
bool sg_workloads_lookup_cgroups(struct sg_workloads *w, const char *proc_cgroup, size_t len,
				 struct sg_workload_info *out);

/*
 * The container's fields as policy selectors match them. keys and values
 * must hold SG_WL_LABELS_MAX pointers; they point into info.
 */
void sg_workload_attrs(const struct sg_workload_info *info, struct sg_workload_attrs *a,
		       char **keys, char **values);

/*
 * The path as the container sees it for a host path under its root: 0 and
 * out filled, -ENOENT when the host path is not under it (a volume, a bind
 * mount: no name in the container is known).
 */
int sg_workload_container_path(const struct sg_workload_info *wl, const char *host_path,
			       char *out, size_t len);

/* Parse one runtime state file into *wl (no cache). 0 or -errno. */
int sg_workload_read_state(const char *state_json, struct sg_workload *wl);

/*
 * Whether the process's /proc/PID/cgroup content puts it in wl's cgroup or
 * one below it. cg2_root is where cgroup2 is mounted (for v2 paths).
 */
bool sg_workload_has_cgroup(const struct sg_workload *wl, const char *proc_cgroup, size_t len,
			    const char *cg2_root);

#endif

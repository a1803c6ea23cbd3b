/* SPDX-License-Identifier: Apache-2.0 */
/* The "container" object of records: who runs this, as the runtime recorded it. */
#ifndef SG_CONTAINER_RECORD_H
#define SG_CONTAINER_RECORD_H

#include "report/json.h"
#include "sense/container.h"
#include "sense/workload.h"

/*
 * Nothing on the host. The runtime's state (w) wins; without it, what the
 * cgroup path names (c), which is a label only.
 */
void sg_record_container(struct sg_json *j, const struct sg_container *c,
			 const struct sg_workload_info *w);

/*
 * Records written outside the exec path (files, network) look the process's
 * container up through this hook, which the daemon sets once at start (the
 * CLI never does: its records have no processes).
 */
typedef bool (*sg_workload_lookup_fn)(void *ctx, pid_t pid, uint64_t cgroup_id,
				      const char *proc_cgroup, struct sg_workload_info *out);
void sg_record_set_workload_lookup(sg_workload_lookup_fn fn, void *ctx);

/* The "container" object of pid (nothing on the host); c: the cgroup's label, or NULL. */
void sg_record_container_of(struct sg_json *j, pid_t pid, uint64_t cgroup_id,
			    const struct sg_container *c);

/* The same from /proc/PID/cgroup read while the process was there (it may be gone now). */
void sg_record_container_of_cgroups(struct sg_json *j, pid_t pid, const char *proc_cgroup);

#endif

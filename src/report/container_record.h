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

#endif

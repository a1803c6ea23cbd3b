/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's part for execs in containers (engine_container.c). */
#ifndef SG_ENGINE_CONTAINER_H
#define SG_ENGINE_CONTAINER_H

#include "decide/engine.h"

/* The selector view of f's container, for one evaluation. */
struct sg_container_subject {
	struct sg_workload_attrs attrs;
	char *keys[SG_WL_LABELS_MAX];
	char *values[SG_WL_LABELS_MAX];
};

/* Fill s's container fields when f runs in a container (c holds them). */
void sg_engine_container_subject(struct sg_exec_facts *f, struct sg_container_subject *c,
				 struct sg_exec_subject *s);

/* A scoped name rule cannot say "no match" without the container's name for the file. */
void sg_engine_container_fail_closed(const struct sg_policy *p, struct sg_exec_facts *f,
				     const struct sg_exec_subject *s, struct sg_verdict *v);

/* Drift rules: a file not from the container's image is denied (or audited). */
void sg_engine_drift(const struct sg_policy *p, struct sg_exec_facts *f, int fd,
		     const struct sg_exec_subject *s, struct sg_verdict *v);

#endif

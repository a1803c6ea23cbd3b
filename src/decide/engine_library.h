/* SPDX-License-Identifier: Apache-2.0 */
/* Shared objects under the libraries: rules: what the kernel reported about a file's code. */
#ifndef SG_ENGINE_LIBRARY_H
#define SG_ENGINE_LIBRARY_H

#include "decide/engine.h"
#include "sense/decode.h"

/* The exec facts a ring-buffer record carries (engine.c). */
void sg_engine_facts(struct sg_engine *e, const struct sg_exec_view *v, struct sg_exec_facts *f);

/*
 * A library record: already killed or refused in the kernel (recorded), or
 * held for a verdict (judged by the libraries: rules, then killed or
 * resumed, and an allow cached in the kernel), or seen in monitor mode.
 */
void sg_engine_on_library(struct sg_engine *e, struct sg_exec_facts *f,
			  const struct sg_exec_event *ev);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Scripts: the exec rules judge what an interpreter is asked to run (scripts: in the policy). */
#ifndef SG_ENGINE_SCRIPT_H
#define SG_ENGINE_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "decide/engine.h"

/*
 * Resolve the policy's interpreters (stat, symlinks followed; a missing
 * one is skipped) into e->interps, and their kernel keys into keys[0..max).
 * Returns how many, or -errno. An interpreter whose language its name does
 * not tell is reported through `unknown` and left out.
 */
int sg_engine_scripts_resolve(struct sg_engine *e, struct sg_inode_key *keys, size_t max,
			      void (*unknown)(const char *path, void *ctx), void *ctx);

/* Free e->interps (at a new policy, and with the engine). */
void sg_engine_scripts_free(struct sg_engine *e);

/* Is the file `id` one of the policy's interpreters? */
bool sg_engine_is_interpreter(const struct sg_engine *e, const struct sg_file_id *id);

/*
 * Is the program behind fd (f's exec) an interpreter the policy did not
 * list by its path: a copy of one (same size and sha256), or a container's
 * own (its file at a listed path under the container's root)? Then it is
 * added to e->interps and reported through e->interp_found: 1. 0 when it
 * is none or known already; -errno when it is one but could not be added
 * (enforce mode must not let it run unheld).
 */
int sg_engine_interp_learn(struct sg_engine *e, struct sg_exec_facts *f, int fd);

/* An allowed run of an interpreter found by sg_engine_interp_learn that could not be held: denied. */
void sg_engine_deny_untracked(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v);

/*
 * f is a run of an interpreter that v allowed: judge what it was handed.
 * The script file becomes the subject (f->path, f->id, the hash) and v its
 * verdict; inline code gets the policy's inline: answer. f->interpreter
 * keeps the interpreter's path.
 */
void sg_engine_decide_script(struct sg_engine *e, struct sg_exec_facts *f, struct sg_verdict *v);

#endif

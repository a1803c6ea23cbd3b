/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Shield's commands (attach, detach, unload, add, del, load, list,
 * stats, dry-run, gateway) on its pinned objects, with their output and
 * errors written to streams. `sysguardctl shield` runs them itself when no
 * daemon answers; sysguardd runs them for it through <state-dir>/shield.sock
 * (src/act/shield_ctl.c), so that the same words are checked the same way.
 */
#ifndef SG_ACT_SHIELD_OPS_H
#define SG_ACT_SHIELD_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sg_shield_run {
	const char *pin_dir;
	FILE *out, *err;
	/* `load NAME`: the list's text, read by the caller (NULL: read NAME itself). */
	const char *list;
	size_t list_len;
};

/* Runs argv[0] (a subcommand) with its arguments. The exit status: 0, 1 failed, 2 usage. */
int sg_shield_run(const struct sg_shield_run *x, int argc, char **argv);

/* True for the subcommands that change the Shield (audited by the daemon). */
bool sg_shield_op_changes(const char *sub);

void sg_shield_ops_usage(FILE *out);

#endif

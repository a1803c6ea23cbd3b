/* SPDX-License-Identifier: Apache-2.0 */
/* Which program a direct run of the dynamic loader (ld.so [options] PROG) would load. */
#ifndef SG_LOADER_ARGS_H
#define SG_LOADER_ARGS_H

#include <stddef.h>

/*
 * argv as NUL-separated bytes (argv[0] is the loader), complete, as read from
 * /proc/pid/cmdline. Returns the first argument that is not a loader option,
 * or NULL. A missing final NUL ends the last argument. Pure; bounded by len.
 */
const char *sg_loader_program(const char *args, size_t len);

#endif

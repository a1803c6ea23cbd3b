/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decode ring-buffer records into user-space form. Pure: no I/O, every
 * length from the kernel is checked, so it is safe on hostile input (fuzzed).
 */
#ifndef SG_DECODE_H
#define SG_DECODE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "sysguard.h"

struct sg_exec_view {
	const struct sg_exec_event *ev;
	/* Absolute path rebuilt from the kernel's leaf-first components. */
	char path[SG_PATH_BUF + 2];
	size_t path_len;
	bool path_truncated;
	const char *args;	/* NUL-separated argv, not NUL terminated */
	size_t args_len;
	const char *filename;	/* execve() argument as given */
	size_t filename_len;
};

/* Returns the event type (SG_EV_*) or a negative errno when data is malformed. */
int sg_event_type(const void *data, size_t size);

/* 0, or -EINVAL when the record is short or its lengths are out of range. */
int sg_decode_exec(const void *data, size_t size, struct sg_exec_view *out);

/* Copy an egress record out of the ring; 0, or -EINVAL when short or its fields are out of range. */
int sg_decode_net(const void *data, size_t size, struct sg_net_event *out);

/*
 * Rebuild "/a/b/c" from "c\0b\0a\0" (depth components); a pseudo name
 * (memfd:x) is returned without a leading slash. Returns the length.
 */
size_t sg_path_from_components(const char *comp, size_t comp_len, unsigned depth,
			       bool pseudo, char *out, size_t out_len);

#endif

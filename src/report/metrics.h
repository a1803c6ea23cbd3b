/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text format from the daemon's stats JSON: every number or
 * boolean at any depth becomes "sysguard_<path> <value>", the path being
 * the keys joined with '_' ({"kernel":{"kills":3}} -> sysguard_kernel_kills 3).
 * Strings, arrays and nulls are left out, and so is a name longer than
 * 255 characters with everything under it. One source of truth: the counters
 * are written once, as stats.json.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stddef.h>

/* Malloc'd text in *out (caller frees), or -EINVAL for input that is not our JSON, -ENOMEM. */
int sg_metrics_from_stats(const char *json, size_t len, char **out, size_t *out_len);

#endif

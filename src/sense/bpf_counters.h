/* SPDX-License-Identifier: Apache-2.0 */
/* Per-CPU counter arrays of our BPF objects, summed over the CPUs. */
#ifndef SG_BPF_COUNTERS_H
#define SG_BPF_COUNTERS_H

#include <stdint.h>

/*
 * out[k] = the sum over every possible CPU of key k of the per-CPU array
 * `map_fd`, for k < n. A key that cannot be read stays 0. Returns how many
 * keys could not be read, or -errno when nothing could be (no CPU count,
 * no memory).
 */
int sg_bpf_percpu_sum(int map_fd, uint32_t n, uint64_t *out);

#endif

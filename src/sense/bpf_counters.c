// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sense/bpf_counters.h"

int sg_bpf_percpu_sum(int map_fd, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus(), c, failed = 0;
	uint64_t *vals;
	uint32_t k;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(map_fd, &k, vals)) {
			failed++;
			continue;
		}
		for (c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return failed;
}

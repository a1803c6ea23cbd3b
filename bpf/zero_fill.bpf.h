/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SG_ZERO_FILL_BPF_H
#define SG_ZERO_FILL_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/*
 * Records are too large for an inlined memset; copy from a zeroed buffer
 * instead so every byte is initialised before submit (BPF-6).
 */
#define SG_ZERO_BYTES 4096
const volatile char sg_zero[SG_ZERO_BYTES] = {};
#define sg_zero_fill(ptr, size) bpf_probe_read_kernel((ptr), (size), (const void *)sg_zero)

#endif

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Cost of the refusal sensor (bpf/file_refusal.bpf.c) on calls that succeed
# or fail with anything but EPERM: detached/attached slots interleaved in
# one run, no daemon. Prints a markdown table of throughput ratios.
#
#   bench/refusal/run.sh [PAIRS] [CALLS_PER_SLOT]     (root)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
make -C "$repo" -s build/file_refusal.skel.h
mkdir -p "$repo/build/bench"
cc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$repo/build" -I"$repo/bench" -I"$repo/bpf" \
	"$here/refusal_bench.c" -lbpf -lelf -lz -o "$repo/build/bench/refusal_bench"
exec "$repo/build/bench/refusal_bench" "$@"

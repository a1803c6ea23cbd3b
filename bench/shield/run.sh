#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Shield (XDP) lookup cost and memory, with BPF_PROG_TEST_RUN.
#
#   bench/shield/run.sh [--sizes "100000 1000000"] [--repeat R] [--rounds K]
#
# For each size N: N random CIDRs (80% IPv4 with blocklist-like lengths, 20%
# IPv6), maps sized for a list of N plus a same-size replacement (atomic
# swap). Per case, 16 different packets run R times each in the kernel;
# a round is their mean, the result the median of K rounds. The empty XDP
# program and the kernel's LPM trie (the same list, bench/shield/lpm.bpf.c)
# are measured in the same rounds with the same packets, interleaved. Prints
# a markdown table (ns/packet and the ratios to the empty program) and the
# kernel memory of every map (memlock from /proc/self/fdinfo). Raw JSON goes
# to build/bench/shield-N.json. Needs root; does not touch any interface. With
# kernel.bpf_stats_enabled=1 it also prints each program's own run time (stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/build/bench"
sizes="100000 1000000"
repeat=200000
rounds=11
while [ $# -gt 0 ]; do
	case "$1" in
	--sizes) sizes=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	-h|--help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

make -C "$repo" -j2 >&2
mkdir -p "$out"
${CC:-gcc} -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$repo/src" -I"$repo/build" -I"$repo/bpf" \
	"$here/shield_bench.c" "$repo/build/src/act/shield.o" "$repo/build/src/act/shield_list.o" \
	"$repo/build/src/net/cidr.o" \
	"$repo/build/src/net/shield_build.o" "$repo/build/src/sense/prog_audit.o" \
	"$repo/build/src/sense/helper_audit.o" "$repo/build/src/store/bundle_files.o" \
	"$repo/build/src/policy/bundle.o" -lbpf -lelf -lz -lsodium -o "$out/shield_bench"
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I"$repo/build" -c "$here/lpm.bpf.c" \
	-o "$out/lpm.bpf.o"

for n in $sizes; do
	echo "shield bench: $n CIDRs ..." >&2
	"$out/shield_bench" "$n" --repeat "$repeat" --rounds "$rounds" --lpm "$out/lpm.bpf.o" > "$out/shield-$n.json"
done

python3 - "$out" $sizes <<'PY'
import json, sys
out, sizes = sys.argv[1], sys.argv[2:]
runs = [json.load(open(f"{out}/shield-{n}.json")) for n in sizes]
print(f"Kernel {open('/proc/sys/kernel/osrelease').read().strip()}, {runs[0]['repeat']} runs x 16 packets per round, "
      f"median of {runs[0]['rounds']} rounds.\n")
print("| CIDRs | case | empty XDP ns | Shield ns | LPM trie ns | Shield / empty | LPM trie / empty | Shield <= 2x empty |")
print("|---:|---|---:|---:|---:|---:|---:|---|")
for d in runs:
    for r in d["results"]:
        ratio = r["shield_ns"] / r["empty_ns"]
        print(f"| {d['cidrs']:,} | {r['case']} | {r['empty_ns']:.1f} | {r['shield_ns']:.1f} | {r['lpm_ns']:.1f} | "
              f"{ratio:.2f} | {r['lpm_ns'] / r['empty_ns']:.2f} | {'yes' if ratio <= 2 else 'no'} |")
print()
names = [k for k in runs[0]["maps"] if k != "total"]
print("| map | " + " | ".join(f"{d['cidrs']:,} CIDRs (MB)" for d in runs) + " |")
print("|---|" + "---:|" * len(runs))
for k in names:
    print(f"| {k} | " + " | ".join(f"{d['maps'].get(k, 0) / 1e6:.2f}" for d in runs) + " |")
print("| **total** | " + " | ".join(f"**{d['maps']['total'] / 1e6:.1f}**" for d in runs) + " |")
print("| kernel LPM tries (memlock) | " + " | ".join(f"{d['lpm_bytes'] / 1e6:.1f}" for d in runs) + " |")
print()
for d in runs:
    print(f"- {d['cidrs']:,} CIDRs ({d['v4']:,} IPv4, {d['v6']:,} IPv6): index bits IPv4 {d['v4_bits']}, IPv6 {d['v6_bits']}")
PY

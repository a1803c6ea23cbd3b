#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Shield (XDP) lookup cost and memory, with BPF_PROG_TEST_RUN.
#
#   bench/shield/run.sh [--sizes "100000 1000000"] [--repeat R] [--rounds K] [--v6-bits B]
#
# For each size N: N random CIDRs (80% IPv4 with blocklist-like lengths, 20%
# IPv6), maps sized for the live list plus a same-size replacement (atomic
# swap). Per case, 16 different packets run R times each in the kernel;
# a round is their mean, the result the median of K rounds, and the empty
# XDP program is measured in the same round with the same packets. Prints a
# markdown table (ns/packet, and the Shield minus the empty program) and the
# kernel memory of every map (memlock from /proc/self/fdinfo). Raw JSON goes
# to build/bench/shield-N.json. Needs root; does not touch any interface.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/build/bench"
sizes="100000 1000000"
repeat=200000
rounds=11
v6bits=20
while [ $# -gt 0 ]; do
	case "$1" in
	--sizes) sizes=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--v6-bits) v6bits=$2; shift 2 ;;
	-h|--help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

make -C "$repo" -j2 >&2
mkdir -p "$out"
${CC:-gcc} -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$repo/src" -I"$repo/build" -I"$repo/bpf" \
	"$here/shield_bench.c" "$repo/build/src/act/shield.o" "$repo/build/src/net/cidr.o" \
	"$repo/build/src/net/shield_build.o" "$repo/build/src/sense/prog_audit.o" \
	"$repo/build/src/sense/helper_audit.o" "$repo/build/src/store/bundle_files.o" \
	"$repo/build/src/policy/bundle.o" -lbpf -lelf -lz -lsodium -o "$out/shield_bench"

for n in $sizes; do
	echo "shield bench: $n CIDRs ..." >&2
	"$out/shield_bench" "$n" --repeat "$repeat" --rounds "$rounds" --v6-bits "$v6bits" > "$out/shield-$n.json"
done

python3 - "$out" $sizes <<'PY'
import json, sys
out, sizes = sys.argv[1], sys.argv[2:]
runs = [json.load(open(f"{out}/shield-{n}.json")) for n in sizes]
print(f"Kernel {open('/proc/sys/kernel/osrelease').read().strip()}, {runs[0]['repeat']} runs x 16 packets per round, "
      f"median of {runs[0]['rounds']} rounds; IPv6 bucket bits {runs[0]['v6_bits']}.\n")
print("| CIDRs | case | empty XDP ns | Shield ns | Shield - empty ns | target <= 10 |")
print("|---:|---|---:|---:|---:|---|")
for d in runs:
    for r in d["results"]:
        delta = r["shield_ns"] - r["empty_ns"]
        print(f"| {d['cidrs']:,} | {r['case']} | {r['empty_ns']:.1f} | {r['shield_ns']:.1f} | {delta:.1f} | "
              f"{'yes' if delta <= 10 else 'no'} |")
print()
names = [k for k in runs[0]["maps"] if k != "total"]
print("| map | " + " | ".join(f"{d['cidrs']:,} CIDRs (MB)" for d in runs) + " |")
print("|---|" + "---:|" * len(runs))
for k in names:
    print(f"| {k} | " + " | ".join(f"{d['maps'].get(k, 0) / 1e6:.2f}" for d in runs) + " |")
print("| **total** | " + " | ".join(f"**{d['maps']['total'] / 1e6:.1f}**" for d in runs) + " |")
print()
for d in runs:
    print(f"- {d['cidrs']:,} CIDRs ({d['v4']:,} IPv4, {d['v6']:,} IPv6): IPv4 trie {d['v4_chunks_per_set']:,} "
          f"chunks per set, pool {d['v4_chunks']:,} chunks (two sets)")
PY

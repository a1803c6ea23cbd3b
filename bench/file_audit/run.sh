#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Open-loop cost of the file-open audit (FILE-4) while attached.
#
#   bench/file_audit/run.sh [--quick] [--pairs N] [--modes other,self] [--cpu N] [--wait S] [--keep]
#
# Builds openloop into build/bench/file_audit/ and the daemon with make, then runs
# fa_bench.py: one daemon, arms switched by policy reload (file_audit off /
# selecting an idle executable and an empty cgroup / selecting the loop
# itself), ABBA pairs, median of per-pair open-throughput ratios, and the
# sg_fa_* programs' run time per open. Writes build/bench/file_audit/results.json.
# Root only; refuses to run while another sysguardd runs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/build/bench/file_audit"
CC=${CC:-gcc}

case "${1:-}" in
-h|--help)
	sed -n '4,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0 ;;
esac

mkdir -p "$out"
"$CC" -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$out/openloop" "$repo/bench/openloop.c"
if ! make -s -C "$repo" >"$out/make.log" 2>&1; then
	echo "bench: make -C $repo failed; see $out/make.log" >&2
	tail -n 20 "$out/make.log" >&2
	exit 3
fi
exec python3 "$here/fa_bench.py" "$@"

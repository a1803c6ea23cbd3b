#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Exec and open overhead of sysguardd against a no-daemon baseline.
#
#   bench/run.sh [--quick] [--pairs N] [--modes LIST] [--budget SECS] [...]
#
# Builds the benchmark binaries into build/bench/ (and the daemon with make
# when a mode needs it), then runs bench/harness.py: alternating pairs of
# baseline / mode slots, median of per-pair throughput ratios, PASS/MISS
# against >= 0.98. Modes fapolicyd-allow and fapolicyd-stock measure
# fapolicyd (Debian's package) the same way, in a private mount namespace
# with its own config, for comparison. Prints markdown tables; writes
# build/bench/results.json. Exits non-zero when a daemon cannot be built or
# started, or a loop fails; a missed target is reported, not an error. See
# bench/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out="$repo/build/bench"
CC=${CC:-gcc}

build_daemon=1
modes="monitor-10k,enforce-10k"
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--no-build) build_daemon=0 ;;
	--modes) modes="$2"; args+=("$1" "$2"); shift ;;
	--modes=*) modes="${1#--modes=}"; args+=("$1") ;;
	-h|--help)
		sed -n '4,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		python3 "$here/harness.py" --help
		exit 0 ;;
	*) args+=("$1") ;;
	esac
	shift
done

mkdir -p "$out"
cflags="-O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror"
"$CC" -static -nostdlib -O2 -fno-stack-protector -fno-pie -no-pie -Wall -Wextra -Werror \
	-o "$out/tiny" "$here/tiny.c"
"$CC" $cflags -o "$out/execloop" "$here/execloop.c"
"$CC" $cflags -o "$out/openloop" "$here/openloop.c"
"$out/tiny" || { echo "bench: $out/tiny does not exit 0" >&2; exit 3; }

# The sysguardd modes need the daemon built; baseline and fapolicyd-* do not.
if [ "$build_daemon" = 1 ] && [ -n "$(echo "$modes" | tr ',' '\n' | grep -E '^(monitor|enforce)' || true)" ]; then
	if ! make -s -C "$repo" >"$out/make.log" 2>&1; then
		echo "bench: make -C $repo failed; see $out/make.log" >&2
		tail -n 20 "$out/make.log" >&2
		exit 3
	fi
fi

if echo "$modes" | tr ',' '\n' | grep -q '^fapolicyd'; then
	"$here/fapolicyd/install.sh"
fi

exec python3 "$here/harness.py" "${args[@]}"

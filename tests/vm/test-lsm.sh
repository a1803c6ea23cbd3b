#!/usr/bin/env bash
# The BPF LSM backend, for real: boot a Debian 6.1 kernel with BPF LSM active
# and run the statically linked daemon against real binaries inside it.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/sysguard-vm-lsm.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

make -C "$ROOT" -s static build/static/file-guard-test
cp "$ROOT/build/static/sysguardd" "$ROOT/build/static/sysguardctl" "$OUT/"
# The file guard's own test (tests/vm/file_guard/guard-test.c), run in the same boot.
cp "$ROOT/build/static/file-guard-test" "$OUT/"
cp "$HERE/lsm/guest-test.sh" "$HERE/lsm/policy.yaml" "$HERE/lsm/shield.yaml" "$HERE/lsm/shield-deny.txt" "$OUT/"
cc -static -O2 -Wall -Wextra -Werror -o "$OUT/short-connect" "$HERE/lsm/short-connect.c"
cc -static -O2 -Wall -Wextra -Werror -o "$OUT/mapped-connect" "$HERE/lsm/mapped-connect.c"
cc -static -O2 -Wall -Wextra -Werror -o "$OUT/shield-map-open" "$HERE/lsm/shield-map-open.c"
# A shared object whose constructor leaves a marker: the libraries: rule must keep it from running.
cc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$OUT/denied-lib.so" "$ROOT/tests/e2e/helpers/ctor_marker.c"
touch_bin="$(command -v touch)"
cp "$touch_bin" "$OUT/denied-touch"
cp "$touch_bin" "$OUT/allowed-touch"
# Dynamic binaries need glibc and the loader in the guest: run-vm.sh adds their libraries.
echo "$touch_bin" > "$OUT/libs.txt"
# bpftool, when the host has one, for the Shield's BPF-7 check (shield-map-open covers it otherwise).
bpftool_bin="$(command -v bpftool || true)"
[ -n "$bpftool_bin" ] && echo "$bpftool_bin" >> "$OUT/libs.txt"
"$HERE/run-vm.sh" "$OUT"

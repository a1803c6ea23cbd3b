#!/usr/bin/env bash
# Build the VM harness self-check and run it in the VM. Exit status as run-vm.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/sysguard-vm-selfcheck.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
"$HERE/build.sh" "$OUT" >/dev/null
"$HERE/../run-vm.sh" "$OUT"

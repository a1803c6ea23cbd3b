#!/usr/bin/env bash
# Install what is missing, build, and run every test: unit (plain and under
# ASan+UBSan), end-to-end as root against the real kernel, and the BPF LSM
# backend inside a qemu VM. Set SYSGUARD_SKIP_VM=1 to leave the VM out locally.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test: the end-to-end tests need root" >&2; exit 1; }
scripts/setup.sh

step() { printf '\n===== %s =====\n' "$*"; }

step build
make -j"$(nproc)"
make -j"$(nproc)" static
# The fleet scale bench links the daemon's objects: built here so that it keeps building.
make -j"$(nproc)" fleet-scale

step "unit tests"
make unit

step "unit tests under ASan + UBSan"
make -j"$(nproc)" unit-asan

step "BPF helper audit on real objects (BPF-2)"
make helper-audit

step "fuzzing (libFuzzer, 4 targets x 20 s)"
make fuzz FUZZ_SECONDS=20

step "end-to-end tests (real kernel, root)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e

step "deployment files (systemd unit, Dockerfile, DaemonSet, Helm chart)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/deploy

if [ "${SYSGUARD_SKIP_VM:-0}" != 1 ]; then
	step "BPF LSM backend in a qemu VM (Debian 6.1 kernel)"
	tests/vm/test-lsm.sh
fi

#!/usr/bin/env bash
# Install what is missing to build and run it (no test tools), build, and run
# sysguardd in the foreground with the default policy (monitor mode). Extra
# arguments go to sysguardd.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run-daemon: sysguardd needs root (BPF, fanotify)" >&2; exit 1; }
scripts/setup.sh run
make -j"$(nproc)" >/dev/null
mkdir -p /var/log/sysguard /etc/sysguard
[ -f /etc/sysguard/policy.yaml ] || install -m 0600 policies/default.yaml /etc/sysguard/policy.yaml
exec build/sysguardd --policy /etc/sysguard/policy.yaml --log /var/log/sysguard/audit.log --stdout "$@"

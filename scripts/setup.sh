#!/usr/bin/env bash
# Install whatever Debian packages are missing: `setup.sh run` only what
# building and running the daemon needs (scripts/apt-packages-run.txt);
# `setup.sh` that and what the unit, e2e, deployment and VM tests need.
# Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

lists=(scripts/apt-packages-run.txt)
[ "${1:-all}" = run ] || lists+=(scripts/apt-packages.txt tests/vm/deps.txt)
want=()
for f in "${lists[@]}"; do
	[ -f "$f" ] || continue
	while read -r pkg _; do
		case "$pkg" in ''|'#'*) continue ;; esac
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || want+=("$pkg")
	done < "$f"
done
if [ "${#want[@]}" -gt 0 ]; then
	echo "setup: installing ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi
[ "${1:-all}" != run ] || exit 0
# Node.js and npm for the dashboard and deployment tests: Debian's packages
# unless a node is already installed (e.g. from another source, whose npm
# would conflict with Debian's).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "setup: installing nodejs npm"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

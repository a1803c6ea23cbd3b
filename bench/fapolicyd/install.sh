#!/usr/bin/env bash
# Install Debian's fapolicyd for the benchmark only (bench/run.sh calls this
# when a fapolicyd mode is asked for; CI never installs it). Its postinst
# enables fapolicyd.service and starts it where systemd runs, and with
# Debian's one rule (deny_audit perm=execute all : all) it would deny every
# exec on the host: the install runs under a policy-rc.d that exits 101 and
# the unit is disabled after it. The benchmark never uses the host's
# /etc/fapolicyd, trust db or service: it runs its own fapolicyd in a
# private mount namespace (bench/fapolicyd/ns-run.sh).
set -euo pipefail
command -v fapolicyd >/dev/null 2>&1 && exit 0
export DEBIAN_FRONTEND=noninteractive
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends fapolicyd >/dev/null
systemctl disable fapolicyd.service >/dev/null 2>&1 || true
if [ -d /run/systemd/system ]; then
	systemctl stop fapolicyd.service >/dev/null 2>&1 || true
fi

#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# fapolicyd in the foreground, in a private mount namespace where its
# config, trust db, run and log directories are the benchmark's own:
#
#   ns-run.sh WORKDIR [fapolicyd options]
#
# WORKDIR holds etc/ (fapolicyd.conf, compiled.rules, fapolicyd.trust,
# trust.d/), lib/ (the trust db), run/ and log/. They are bind-mounted over
# /etc/fapolicyd, /var/lib/fapolicyd, /run and /var/log inside the new
# namespace only, so the host's config, trust db, pid file and access log
# are never read or written. The last step execs fapolicyd, so the caller's
# child PID is the daemon's: SIGTERM it to stop it, and run the loops in
# its namespace with `nsenter -t PID -m`.
#
# fapolicyd marks mounts (allow_filesystem_mark = 0), and the mounts of a
# private namespace are copies: it sees the accesses made in this
# namespace, not the host's.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 WORKDIR [fapolicyd options]" >&2; exit 2; }
w=$(cd "$1" && pwd)
shift
if [ "${SG_FAPOLICYD_IN_NS:-}" != 1 ]; then
	SG_FAPOLICYD_IN_NS=1 exec unshare -m --propagation private -- "$0" "$w" "$@"
fi
# Mounts under /run and /var/log (ip netns's /run/netns, say) would be hidden
# by the binds below, and fapolicyd refuses to start when it cannot mark a
# mount point it reads from the mount table: take them off here (this
# namespace only).
for m in $(awk '$5 ~ "^/(run|var/log)/" { print $5 }' /proc/self/mountinfo | sort -r); do
	umount -l "$m" 2>/dev/null || true
done
mount --bind "$w/etc" /etc/fapolicyd
mount --bind "$w/lib" /var/lib/fapolicyd
mount --bind "$w/run" /run
mount --bind "$w/log" /var/log
exec fapolicyd "$@"

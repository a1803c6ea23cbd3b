#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The daemon's own CPU per exec: runs N execs of the bench's `tiny` under
# each given sysguardd (the bench's 10,000-rule policy, monitor or enforce)
# and prints the daemon's CPU time (all its threads, from /proc/PID/stat)
# divided by the execs, and the exec loop's rate against a no-daemon run
# made just before it. Daemons run one after another, ROUNDS times
# interleaved, so a drifting machine moves them alike.
#
#   bench/exec_cost/daemon-cpu.sh [-n EXECS] [-r ROUNDS] [-m monitor|enforce] [DAEMON...]
#
# Root, and no other sysguardd on the machine. Build build/bench/ first
# (bench/run.sh --quick does).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
execs=5000 rounds=3 mode=enforce
while getopts n:r:m: o; do
	case $o in
	n) execs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	m) mode=$OPTARG ;;
	*) echo "usage: $0 [-n EXECS] [-r ROUNDS] [-m monitor|enforce] [DAEMON...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- "$here/build/sysguardd"
loop=$here/build/bench/execloop tiny=$here/build/bench/tiny
[ -x "$loop" ] && [ -x "$tiny" ] || { echo "$0: build $loop and $tiny first (bench/run.sh builds them)" >&2; exit 2; }
hz=$(getconf CLK_TCK)
pol=$(mktemp)
trap 'rm -f "$pol"' EXIT
python3 "$here/bench/gen-policy.py" -n 10000 --mode "$mode" --avoid "$tiny" -o "$pol"

# CPU ticks of a process and all its threads (utime + stime).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Execs per second of one loop run.
rate() { "$loop" -n "$execs" "$tiny" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"ops_per_s\"])"; }

one() {
	local daemon=$1 w pid before after base with
	w=$(mktemp -d)
	base=$(rate)
	"$daemon" --policy "$pol" --log "$w/audit.log" --state-dir "$w/state" --node-id exec-cost 2>"$w/err" &
	pid=$!
	for i in $(seq 100); do [ -s "$w/state/stats.json" ] && break; sleep 0.1; done
	sleep 1
	before=$(ticks "$pid")
	with=$(rate)
	sleep 0.5	# the records of the last execs are handled
	after=$(ticks "$pid")
	kill "$pid"
	wait "$pid" || true
	awk -v d="$daemon" -v b="$before" -v a="$after" -v n="$execs" -v hz="$hz" -v r0="$base" -v r1="$with" \
		'BEGIN { printf "%s: %.1f us daemon CPU per exec; exec rate %.0f/s against %.0f/s without (%.3f)\n", d, (a - b) * 1e6 / hz / n, r1, r0, r1 / r0 }'
	rm -rf "$w"
}

for r in $(seq "$rounds"); do
	for d in "$@"; do one "$d"; done
done

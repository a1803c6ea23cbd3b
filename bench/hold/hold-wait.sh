#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What a hold costs a program's start: runs a one-line bash script
# (#!/usr/bin/bash) N times under sysguardd enforcing with script control on
# (every run held until the daemon judged the script), and prints the
# daemon's own mean wait from the exec to its go-ahead (stats.json:
# decisions.resume_wait_us / decisions.resumed). Several daemons may be
# given: they run one after another, ROUNDS times interleaved, so a drifting
# machine moves them alike.
#
#   bench/hold/hold-wait.sh [-n RUNS] [-r ROUNDS] [DAEMON...]   (default: build/sysguardd)
#
# Root, and no other sysguardd on the machine.
set -euo pipefail
runs=300 rounds=3
while getopts n:r: o; do
	case $o in
	n) runs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) echo "usage: $0 [-n RUNS] [-r ROUNDS] [DAEMON...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- "$(dirname "$0")/../../build/sysguardd"

counters() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['decisions']; print(d['resumed'], d['resume_wait_us'])" "$1"
}

one() {
	local daemon=$1 w pid before after i
	w=$(mktemp -d)
	printf '#!/usr/bin/bash\n:\n' >"$w/s.sh"
	chmod +x "$w/s.sh"
	printf 'version: hold-wait\nmode: enforce\ndefault: allow\nrules:\n  - name: none\n    action: deny\n    path: /nonexistent/x\nscripts: {}\n' >"$w/p.yaml"
	"$daemon" --policy "$w/p.yaml" --log "$w/audit.log" --state-dir "$w/state" --node-id hold-wait 2>"$w/err" &
	pid=$!
	for i in $(seq 100); do [ -s "$w/state/stats.json" ] && break; sleep 0.1; done
	sleep 1.2	# one stats period: the start-up's own holds are counted before
	before=$(counters "$w/state/stats.json")
	for i in $(seq "$runs"); do "$w/s.sh"; done
	sleep 1.2
	after=$(counters "$w/state/stats.json")
	kill "$pid"
	wait "$pid" || true
	python3 -c "import sys; b=sys.argv[1].split(); a=sys.argv[2].split(); n=int(a[0])-int(b[0]); print('%s: %.1f us mean wait over %d holds' % (sys.argv[3], (int(a[1])-int(b[1]))/max(1,n), n))" "$before" "$after" "$daemon"
	rm -rf "$w"
}

for r in $(seq "$rounds"); do
	for d in "$@"; do one "$d"; done
done

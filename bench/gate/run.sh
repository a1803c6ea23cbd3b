#!/usr/bin/env bash
# Cost of the hold gate (tp_btf/page_fault_user) per user page fault.
# Interleaved rounds of: no daemon | daemon in monitor mode (no gate) |
# daemon in enforce mode (gate attached); prints each round and the medians
# with the ratios to no daemon. As root, no other sysguardd running.
#   bench/gate/run.sh [ROUNDS] [SECS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-10}
SECS=${2:-1}
make -s build/sysguardd
W=$(mktemp -d /tmp/sysguard-gate-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
cc -O2 -Wall -o "$W/faultloop" bench/gate/faultloop.c
for m in monitor enforce; do
	printf 'version: "gate-%s"\nmode: %s\ndefault: allow\nrules:\n  - {name: none, action: deny, path: /nonexistent/x}\n' \
		"$m" "$m" > "$W/$m.yaml"
done
loop() { taskset -c 1 "$W/faultloop" "$SECS"; }
with_daemon() {
	mkdir -p "$W/st"
	build/sysguardd --policy "$W/$1.yaml" --log "$W/audit.log" --state-dir "$W/st" \
		--self-defence off 2>"$W/err" &
	local pid=$! i
	for i in $(seq 100); do [ -f "$W/st/ready" ] && break; sleep 0.1; done
	[ -f "$W/st/ready" ] || { cat "$W/err" >&2; exit 3; }
	loop
	kill "$pid"; wait "$pid" || true
	rm -f "$W/st/ready"
}
: > "$W/rows"
for r in $(seq "$ROUNDS"); do
	a=$(loop); b=$(with_daemon monitor); c=$(with_daemon enforce)
	echo "round $r: none $a  monitor $b  enforce $c ns/fault" >&2
	echo "$a $b $c" >> "$W/rows"
done
python3 - "$W/rows" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
med = [statistics.median(c) for c in zip(*rows)]
print(f"| ns per page fault (median of {len(rows)}) | no daemon | monitor (no gate) | enforce (gate) |")
print("|---|---:|---:|---:|")
print(f"| ns | {med[0]:.0f} | {med[1]:.0f} | {med[2]:.0f} |")
print(f"| throughput ratio to no daemon | 1.000 | {med[0]/med[1]:.3f} | {med[0]/med[2]:.3f} |")
PY

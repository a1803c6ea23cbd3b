#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Fleet scale, simulated: N nodes speaking to a fresh 3-server JetStream
# cluster on 127.0.0.1, each with the daemon's own publisher and policy
# watcher code (build/fleet-scale, bench/fleet/fleet_scale.c).
#
#   bench/fleet/run.sh [--cases "1000x100 1000x10"] [--duration S] [--per-conn G]
#                      [--rounds P] [--drain S] [--replicas K] [-- fleet-scale options]
#
# A case NxR is N nodes at R exec records/s each, for S seconds (default 30),
# with P bundle puts before the load and P during it (default 5). Every case
# gets a new cluster (its own store under a temporary directory), made with
# the stream (sysguard.>, file storage, K replicas, default 3) and both
# buckets. Prints a markdown table per case, the servers' CPU during the
# load and their RSS; raw JSON goes to build/bench/fleet-NxR.json, the
# servers' logs next to it.
# Needs nats-server (NATS_SERVER, default /usr/sbin/nats-server).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/build/bench"
nats_server=${NATS_SERVER:-/usr/sbin/nats-server}
cases="1000x100 1000x10"
duration=30
per_conn=1
rounds=5
drain=15
replicas=3
extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--cases) cases=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--per-conn) per_conn=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--drain) drain=$2; shift 2 ;;
	--replicas) replicas=$2; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	-h|--help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

nice -n 19 make -C "$repo" -j1 fleet-scale >&2
mkdir -p "$out"
tmp=$(mktemp -d /tmp/sg-fleet-bench.XXXXXX)
pids=()

stop_servers() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	pids=()
}
trap 'stop_servers; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Ports the kernel says are free now, on loopback only.
free_ports() {
	python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# Three servers clustered on loopback, like tests/e2e/nats_bus.py; sets url, pids, http.
start_cluster() {
	local dir=$1 i j routes
	read -r -a ports <<<"$(free_ports 9)"
	url=""
	http=()
	for i in 0 1 2; do
		routes=""
		for j in 0 1 2; do
			[ "$i" = "$j" ] || routes+="${routes:+,}nats://127.0.0.1:${ports[$((3 + j))]}"
		done
		mkdir -p "$dir/store$i"
		"$nats_server" -js -a 127.0.0.1 -p "${ports[$i]}" -m "${ports[$((6 + i))]}" \
			-n "bench-$i" -sd "$dir/store$i" --cluster_name bench \
			--cluster "nats://127.0.0.1:${ports[$((3 + i))]}" --routes "$routes" \
			>"$dir/server$i.log" 2>&1 &
		pids+=($!)
		url+="${url:+,}nats://127.0.0.1:${ports[$i]}"
		http+=("${ports[$((6 + i))]}")
	done
	for i in 0 1 2; do
		for _ in $(seq 1 900); do
			curl -fs "http://127.0.0.1:${http[$i]}/healthz" >/dev/null 2>&1 && break
			kill -0 "${pids[$i]}" 2>/dev/null || { cat "$dir/server$i.log" >&2; exit 1; }
			sleep 0.1
		done
	done
}

nats_version=$("$nats_server" --version 2>&1 | head -1)
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $nats_version," \
	"libnats $(sed -n 's/.*NATS_VERSION_STRING *"\(.*\)".*/\1/p' /usr/include/nats/version.h)"
for c in $cases; do
	n=${c%x*}
	rate=${c#*x}
	dir="$tmp/$c"
	mkdir -p "$dir"
	echo "fleet bench: $n nodes x $rate/s for ${duration}s ..." >&2
	start_cluster "$dir"
	# libnats starts its threads with the default stack size (the stack limit): 1 MiB is plenty.
	(ulimit -s 1024; "${FLEET_SCALE:-$repo/build/fleet-scale}" --url "$url" --nodes "$n" --rate "$rate" \
		--duration "$duration" --per-conn "$per_conn" --rounds "$rounds" --drain "$drain" \
		--replicas "$replicas" --server-pids "$(IFS=,; echo "${pids[*]}")" "${extra[@]}") \
		>"$out/fleet-$c.json"
	for i in 0 1 2; do
		curl -fs "http://127.0.0.1:${http[$i]}/varz" >"$dir/varz$i.json" || echo '{}' >"$dir/varz$i.json"
	done
	python3 "$here/report.py" "$out/fleet-$c.json" "$dir"/varz{0,1,2}.json
	stop_servers
	for i in 0 1 2; do
		cp "$dir/server$i.log" "$out/fleet-$c-server$i.log"
	done
done

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Alerts-on / alerts-off throughput ratios (target >= 0.98). Builds into
# build/bench/alerts/, then:
#
#   bench/alerts/run.sh loop [alertloop options]    in-process record loop (no root)
#   bench/alerts/run.sh daemon [daemon_ratio.py options]
#                                                   real sysguardd, denied execs (root,
#                                                   no other sysguardd running)
#
# Both print a markdown table on stdout and progress on stderr. The
# dispatcher's own delivery-failure lines (alertloop posts to a dead port)
# are filtered out of stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/bench/alerts
CC=${CC:-cc}
what=${1:-loop}
shift || true
mkdir -p "$out"
warn="-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter"

case "$what" in
loop)
	$CC -std=gnu11 -O2 -g $warn -D_GNU_SOURCE -Isrc -Ibpf -Ibench bench/alerts/alertloop.c \
		src/report/*.c src/policy/*.c src/net/*.c -lyaml -lsodium -lcurl -lmicrohttpd -lpthread -o "$out/alertloop"
	"$out/alertloop" "$@" 2> >(grep --line-buffered -v "^sysguardd: alerts:" >&2) |
		tee "$out/loop_results.jsonl" | python3 -c '
import json, sys
print("| mode | pairs | off (records/s) | on (records/s) | median ratio on/off | target |")
print("|---|---|---|---|---|---|")
for line in sys.stdin:
    r = json.loads(line)
    verdict = "PASS" if r["median_ratio"] >= 0.98 else "MISS"
    print("| %s | %d | %.0f | %.0f | %.4f | >= 0.98 %s |" % (r["mode"], r["pairs"],
          r["median_off_per_s"], r["median_on_per_s"], r["median_ratio"], verdict))
'
	;;
daemon)
	$CC -static -nostdlib -O2 -fno-stack-protector -fno-pie -no-pie -Wall -Wextra -Werror \
		-o "$out/tiny" bench/tiny.c
	$CC -std=gnu11 -O2 $warn -D_GNU_SOURCE -Ibench -o "$out/denyloop" bench/alerts/denyloop.c
	[ -x build/sysguardd ] || make -j"$(nproc)"
	python3 bench/alerts/daemon_ratio.py "$@"
	;;
*)
	sed -n '3,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Markdown tables from one fleet-scale JSON result and the servers' /varz (bench/fleet/run.sh)."""
import json
import statistics
import sys


def ms(h):
    return f"{h['p50']:.1f} / {h['p99']:.1f} / {h['max']:.0f}"


def main():
    d = json.load(open(sys.argv[1]))
    varz = [json.load(open(p)) for p in sys.argv[2:]]
    case = f"{d['nodes']} x {d['rate']}/s"
    print(f"\n### {case}, {d['duration']} s, {d['connections']} publisher connections "
          f"({d['per_conn']} node(s) each) + "
          f"{d['nodes'] if d['reach_idle'] else 'no'} watcher connections\n")
    print("| offered msgs/s | acked msgs/s (MB/s) | steady msgs/s | acked / offered | backlog at end "
          "| publish->ack ms p50 / p99 / max | due->ack ms p50 / p99 / max | batches (mean size) "
          "| errors | rejected |")
    print("|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
    mean = d['ack_ms']['n'] / d['batches'] if d['batches'] else 0
    print(f"| {d['offered_msgs_s']:,} | {d['acked_msgs_s']:,.0f} ({d['acked_mb_s']:.1f}) "
          f"| {d['steady_msgs_s']:,} | {d['acked_msgs_s'] / d['offered_msgs_s']:.2f} "
          f"| {d['backlog_end']:,} | {ms(d['ack_ms'])} | {ms(d['due_to_ack_ms'])} "
          f"| {d['batches']:,} ({mean:.1f}) | {d['errors']} | {d['rejected']} |")
    if d['first_error']:
        print(f"\nFirst publish error: `{d['first_error']}`")
    for name, key in (("idle", "reach_idle"), ("under load", "reach_load")):
        rounds = d[key]
        if not rounds:
            continue
        print(f"\nBundle reach, {name} ({len(rounds)} puts of a 4 KiB value to policy.default):\n")
        print("| put | nodes seen | put ack ms | p50 ms | p99 ms | max ms | all N ms |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for i, r in enumerate(rounds, 1):
            if not r['seen']:
                print(f"| {i} | 0 | {r['put_ms']:.1f} (failed) | - | - | - | - |")
                continue
            print(f"| {i} | {r['seen']} | {r['put_ms']:.1f} | {r['p50']:.1f} | {r['p99']:.1f} "
                  f"| {r['max']:.1f} | {r['all']:.1f} |")
        rounds = [r for r in rounds if r['seen']]
        if not rounds:
            continue
        med = lambda k: statistics.median(r[k] for r in rounds)
        print(f"| median of {len(rounds)} | | {med('put_ms'):.1f} | {med('p50'):.1f} | {med('p99'):.1f} "
              f"| {med('max'):.1f} | {med('all'):.1f} |")
    print("\n| process | CPU % during the load | RSS MiB at end | messages in (whole run) | slow consumers |")
    print("|---|---:|---:|---:|---:|")
    for i, s in enumerate(d['servers']):
        v = varz[i] if i < len(varz) else {}
        print(f"| nats-server {i} | {s['cpu_pct']:.0f} | {s['rss_kb'] / 1024:.0f} "
              f"| {v.get('in_msgs', 0):,} | {v.get('slow_consumers', '?')} |")
    print(f"| fleet-scale ({d['bench_threads']} threads) | {d['bench_cpu_pct']:.0f} "
          f"| {d['bench_rss_kb'] / 1024:.0f} | | |")
    print(f"\nAcked per second: {d['per_sec']}")


if __name__ == "__main__":
    main()

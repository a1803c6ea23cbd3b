#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Deny throughput of the real sysguardd with alerts on against alerts off.

Run through `bench/alerts/run.sh daemon` (builds tiny and denyloop first), as
root, with no other sysguardd on the machine. A glob rule denies 64 copies of
tiny; glob rules are not kernel-enforceable, so every exec waits on a
fanotify permission event answered by the daemon's event loop, which also
writes the audit record and, with alerts on, calls sg_alerts_submit(). The
deny loop runs one exec at a time, so its rate is bounded by the loop.

Pairs of slots in ABBA order (off on | on off | ...), one fresh daemon per
slot; the figure per mode is the median over pairs of rate(on) / rate(off).
Nothing starts while another sysguardd, an e2e run (pytest tests/e2e) or
the exec/open benchmark (bench/harness.py) runs, and a pair during which one
appears is discarded and run again: they would share the CPU, and our
daemon would spoil their baseline.

Modes:
  gated   --alert-enabled with the defaults (dedup 60 s, 30 a minute): a deny
          storm is almost all dedup and rate-limit checks.
  queued  dedup 0, 100000 a minute (the daemon's maximum): every deny is
          copied into the queue and the worker never idles; it posts to a
          loopback port that refuses connections, so what it burns is the
          dispatcher's own CPU, not a receiver's.
"""
import argparse
import http.server
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TARGET = 0.98
OWN_DAEMON = None	# path of this run's private copy of the daemon
MODES = {
    "gated": ("receiver", []),
    "queued": ("dead", ["--alert-dedup-window", "0", "--alert-per-minute", "100000"]),
}


def log(msg):
    print(f"[alerts-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Fatal(Exception):
    pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.posts += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def receiver():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.posts = 0
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def foreign(own_pids=()):
    """
    Processes that would skew a slot, or whose results our daemons would skew:
    another sysguardd, an e2e test run, the exec/open benchmark harness.
    """
    found = []
    for e in os.listdir("/proc"):
        if not e.isdigit() or int(e) in own_pids or int(e) == os.getpid():
            continue
        try:
            with open(f"/proc/{e}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{e}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        try:
            if os.readlink(f"/proc/{e}/exe") == OWN_DAEMON:
                continue	# ours: the sampler may look before start() returns its pid
        except OSError:
            pass
        if (comm == "sysguardd"
                or (any(b"pytest" in a for a in argv) and any(b"tests/e2e" in a for a in argv))
                or any(a.endswith(b"bench/harness.py") for a in argv)):
            found.append(int(e))
    return found


def wait_alone(timeout):
    deadline = time.monotonic() + timeout
    while foreign():
        if time.monotonic() > deadline:
            raise Fatal(f"another sysguardd or e2e run keeps running: {foreign()}")
        time.sleep(0.5)


class Sampler:
    """Watches for foreign processes during a pair; a pair that saw one is discarded."""

    def __init__(self):
        self.own = set()
        self.seen = False
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(0.25):
            if foreign(self.own):
                self.seen = True

    def stop(self):
        self._stop.set()
        self._t.join()


class Daemon:
    def __init__(self, args, work, policy, alert_flags, n):
        self.state = os.path.join(work, f"state-{n}")
        self.log = os.path.join(work, f"audit-{n}.log")
        self.err = os.path.join(work, f"stderr-{n}.txt")
        self.cmd = [args.daemon, "--policy", policy, "--log", self.log, "--state-dir", self.state,
                    "--node-id", "bench-node"] + alert_flags
        self.proc = None

    def start(self, timeout):
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        ready = os.path.join(self.state, "ready")
        t0 = time.monotonic()
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() - t0 > timeout:
                self.stop()
                with open(self.err, errors="replace") as f:
                    tail = f.read()[-2000:]
                raise Fatal(f"daemon not ready: {' '.join(self.cmd)}\n{tail}")
            time.sleep(0.02)

    def alert_stats(self):
        try:
            with open(os.path.join(self.state, "stats.json")) as f:
                return json.load(f).get("alerts")
        except (OSError, ValueError):
            return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if os.path.exists(self.log):
            os.unlink(self.log)


def deny_slot(args, bins):
    r = subprocess.run([args.denyloop, "-W", "-t", str(args.secs / args.reps), "-r", str(args.reps)]
                       + bins, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        raise Fatal(f"denyloop failed ({r.returncode}): {r.stdout} {r.stderr}")
    return json.loads(r.stdout)["median_ops_per_s"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", default="build/sysguardd")
    ap.add_argument("--denyloop", default="build/bench/alerts/denyloop")
    ap.add_argument("--tiny", default="build/bench/alerts/tiny")
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--secs", type=float, default=2.0, help="deny-loop time per slot")
    ap.add_argument("--reps", type=int, default=5, help="sub-runs per slot (median)")
    ap.add_argument("--modes", default="gated,queued")
    ap.add_argument("--wait-alone", type=float, default=600,
                    help="seconds to wait for another sysguardd to exit")
    ap.add_argument("--budget", type=float, default=1800,
                    help="seconds for the whole run, waiting for a quiet machine included")
    ap.add_argument("--out", default="build/bench/alerts/daemon_results.json")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))	# run the finally blocks
    if os.geteuid() != 0:
        print("daemon_ratio: needs root (the daemon uses BPF and fanotify)", file=sys.stderr)
        return 3

    work = tempfile.mkdtemp(prefix="sg-alert-bench-", dir="/var/tmp")
    # Our own copy: others may rebuild build/sysguardd while the pairs run.
    shutil.copy2(args.daemon, os.path.join(work, "sysguardd"))
    args.daemon = os.path.join(work, "sysguardd")
    global OWN_DAEMON
    OWN_DAEMON = args.daemon
    bindir = os.path.join(work, "bin")
    os.mkdir(bindir)
    bins = []
    for i in range(64):
        b = os.path.join(bindir, f"t{i:02d}")
        shutil.copyfile(args.tiny, b)
        os.chmod(b, 0o755)
        bins.append(b)
    policy = os.path.join(work, "policy.yaml")
    with open(policy, "w") as f:
        f.write('version: "alert-bench-1"\nmode: enforce\ndefault: allow\nrules:\n'
                f'  - {{name: deny-bench, action: deny, glob: {json.dumps(bindir + "/*")}}}\n')
    rcv = receiver()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    urls = {"receiver": f"http://127.0.0.1:{rcv.server_address[1]}/hook",
            "dead": f"http://127.0.0.1:{dead.getsockname()[1]}/hook"}
    results = {}
    n = 0
    deadline = time.monotonic() + args.budget
    try:
        for mode in args.modes.split(","):
            target, extra = MODES[mode]
            on_flags = ["--alert-enabled", "--alert-url", urls[target]] + extra
            pairs = []
            p = 0
            while len(pairs) < args.pairs:
                if time.monotonic() > deadline:
                    raise Fatal(f"budget spent with {len(pairs)} clean {mode} pairs")
                order = [("off", []), ("on", on_flags)]
                if p % 2:
                    order.reverse()
                p += 1
                wait_alone(args.wait_alone)
                sampler = Sampler()
                rate = {}
                try:
                    for name, flags in order:
                        d = Daemon(args, work, policy, flags, n)
                        n += 1
                        d.start(30)
                        sampler.own.add(d.proc.pid)
                        try:
                            rate[name] = deny_slot(args, bins)
                            time.sleep(1.1)	# one stats.json period
                            st = d.alert_stats()
                        finally:
                            d.stop()
                        if name == "on":
                            on_stats = st
                finally:
                    sampler.stop()
                if sampler.seen:
                    log(f"{mode}: pair discarded, another sysguardd or e2e run appeared")
                    continue
                pairs.append({"off": rate["off"], "on": rate["on"], "ratio": rate["on"] / rate["off"],
                              "alerts": on_stats})
                log(f"{mode} pair {len(pairs) - 1}: off {rate['off']:.0f}/s on {rate['on']:.0f}/s "
                    f"ratio {rate['on'] / rate['off']:.4f} alerts {on_stats}")
            results[mode] = {
                "pairs": pairs,
                "median_off": statistics.median(x["off"] for x in pairs),
                "median_on": statistics.median(x["on"] for x in pairs),
                "median_ratio": statistics.median(x["ratio"] for x in pairs),
            }
    except Fatal as e:
        log(f"FATAL: {e}")
        return 3
    finally:
        rcv.shutdown()
        dead.close()
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print("| mode | pairs | off (denies/s) | on (denies/s) | median ratio on/off | target |")
    print("|---|---|---|---|---|---|")
    for mode, r in results.items():
        verdict = "PASS" if r["median_ratio"] >= TARGET else "MISS"
        print(f"| {mode} | {len(r['pairs'])} | {r['median_off']:.0f} | {r['median_on']:.0f} "
              f"| {r['median_ratio']:.4f} | >= {TARGET} {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Open-loop cost of the file-open audit (FILE-4) while it is attached.

One daemon runs the whole time (monitor mode, no exec rules); the arms are
switched by reloading its policy, so the only difference between them is
the file audit:

  off    no file_audit: rules -> the tracepoints are detached (the baseline)
  other  file_audit selects an executable that never runs and an empty
         cgroup one level below the root: every open on the host pays the
         filter (cgroup lookup, ancestor walk, executable identity, lookup)
         and nothing is recorded
  self   file_audit selects the open loop itself: every open also does the
         dedup lookup (a hit after the first open of each file)

Pairs in ABBA order (off/mode, mode/off, ...); per pair, ratio = open
throughput in the mode / in the off arm of the same pair; per mode, the
median over pairs. Then, with kernel.bpf_stats_enabled for a few seconds,
the run time of the sg_fa_* programs per run, i.e. per open on the host
(runs per loop open above 1 means other processes opened files meanwhile).

Needs root and no other sysguardd running (it refuses to start otherwise;
it never stops someone else's daemon).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from harness import (bpf_prog_runtime, busy_cpus, foreign_daemons,  # noqa: E402
                     log, median_ci95)

MODES = ("other", "self")


class Fatal(Exception):
    pass


def cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            _, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return mnt
    return None


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="sysguard-fa-bench.")
        self.files = os.path.join(self.work, "files")
        self.policy = os.path.join(self.work, "policy.yaml")
        self.state = os.path.join(self.work, "state")
        self.log_path = os.path.join(self.work, "audit.log")
        self.openloop = os.path.join(args.bin_dir, "openloop")
        # An executable that never runs: a copy, its own inode.
        self.idle_exe = os.path.join(self.work, "never-runs")
        shutil.copyfile("/bin/true", self.idle_exe)
        os.chmod(self.idle_exe, 0o755)
        cg2 = cgroup2_mount()
        self.cgroup = os.path.join(cg2, f"sg-bench-fa-{os.getpid()}") if cg2 else None
        if self.cgroup:
            os.mkdir(self.cgroup)
        self.proc = None
        self.n = 0

    def selectors(self, arm):
        if arm == "other":
            sel = [{"name": "idle-exe", "exe": self.idle_exe}]
            if self.cgroup:
                sel.append({"name": "empty-cgroup", "cgroup": self.cgroup})
            return sel
        if arm == "self":
            return [{"name": "openloop", "exe": os.path.realpath(self.openloop)}]
        return []

    def write_policy(self, arm):
        self.n += 1
        version = f"bench-fa-{arm}-{self.n}"
        lines = [f'version: "{version}"', "mode: monitor", "default: allow", "rules: []"]
        sel = self.selectors(arm)
        if sel:
            lines.append("file_audit:")
            lines += ["  - {" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in s.items()) + "}"
                      for s in sel]
        tmp = self.policy + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, self.policy)
        return version

    def ready(self):
        try:
            with open(os.path.join(self.state, "ready")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_ready(self, version, attached):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fatal(f"daemon exited with {self.proc.returncode}; see {self.work}/stderr")
            r = self.ready()
            if r and r.get("policy_version") == version:
                if ("file_audit" in r.get("backends", [])) != attached:
                    raise Fatal(f"policy {version}: file_audit attached is not {attached}: {r}")
                return r
            time.sleep(0.01)
        raise Fatal(f"daemon did not take policy {version} within 30 s")

    def start(self):
        version = self.write_policy("off")
        cmd = [self.args.daemon, "--policy", self.policy, "--log", self.log_path,
               "--state-dir", self.state]
        helptext = subprocess.run([self.args.daemon, "--help"], capture_output=True,
                                  text=True).stdout
        if "--self-defence" in helptext:
            # Self-defence would refuse our rewrites of the policy file.
            cmd += ["--self-defence", "off", "--blocklist", os.path.join(self.work, "blocklist")]
        with open(os.path.join(self.work, "stderr"), "w") as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        self.wait_ready(version, False)

    def arm(self, arm):
        version = self.write_policy(arm)
        self.proc.send_signal(signal.SIGHUP)
        self.wait_ready(version, arm != "off")
        time.sleep(self.args.settle)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Fatal("daemon ignored SIGTERM for 15 s")
            if self.proc.returncode != 0:
                raise Fatal(f"daemon exited with {self.proc.returncode} on SIGTERM")

    def cleanup(self):
        if self.cgroup:
            try:
                os.rmdir(self.cgroup)
            except OSError:
                pass
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def loop(self, secs, reps, warm=True):
        cmd = [self.openloop, "-f", "64", "-t", f"{secs / reps:g}", "-r", str(reps)]
        cmd += ["-W", self.files] if warm else [self.files]
        pin = None
        if self.args.cpu is not None:
            def pin():
                os.sched_setaffinity(0, {self.args.cpu})
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, preexec_fn=pin)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        if r.returncode or res.get("failures"):
            raise Fatal(f"open loop failed: {r.stderr.strip()}")
        return res

    def direct_cost(self, mode, secs=3.0):
        """Run time of the sg_fa_* programs per open, with bpf_stats on for this phase only."""
        path = "/proc/sys/kernel/bpf_stats_enabled"
        with open(path) as f:
            old = f.read().strip()
        self.arm(mode)
        try:
            with open(path, "w") as f:
                f.write("1")
            b0 = bpf_prog_runtime()
            res = self.loop(secs, 1, warm=False)  # every open it makes is counted
            b1 = bpf_prog_runtime()
        finally:
            with open(path, "w") as f:
                f.write(old)
        opens = res["ops"]
        t = sum(b1[n][0] - b0.get(n, (0, 0))[0] for n in b1 if n.startswith("sg_fa_"))
        c = sum(b1[n][1] - b0.get(n, (0, 0))[1] for n in b1 if n.startswith("sg_fa_"))
        # One run per successful open on the host: the loop's, and any other process's.
        return {"opens": opens, "open_ns": round(res["elapsed_ns"] / opens),
                "bpf_runs": c, "bpf_ns_per_run": round(t / c, 1) if c else None,
                "runs_per_loop_open": round(c / opens, 2)}


def run_mode(b, mode, args):
    pairs = []
    for i in range(args.pairs):
        order = ("off", mode) if i % 2 == 0 else (mode, "off")
        busy = busy_cpus()
        slot = {}
        for arm in order:
            b.arm(arm)
            slot[arm] = b.loop(args.secs, args.reps)
        others = foreign_daemons(own_pid=b.proc.pid)
        ratio = slot[mode]["median_ops_per_s"] / slot["off"]["median_ops_per_s"]
        pair = {"index": i, "order": list(order), "ratio": ratio, "foreign_busy_cpus": busy,
                "off_ops_per_s": slot["off"]["median_ops_per_s"],
                "mode_ops_per_s": slot[mode]["median_ops_per_s"]}
        if others:
            pair["contaminated"] = [f"{c} pid {p}" for p, c in others]
        pairs.append(pair)
        log(f"{mode} pair {i + 1}/{args.pairs} ({'/'.join(order)}): open {ratio:.3f}"
            + (" (another sysguardd ran: excluded)" if others else ""))
    clean = [p for p in pairs if "contaminated" not in p] or pairs
    ratios = [p["ratio"] for p in clean]
    return {"mode": mode, "pairs": pairs, "excluded_pairs": len(pairs) - len(clean),
            "summary": {"pairs": len(ratios), "median_ratio": round(statistics.median(ratios), 4),
                        "median_ratio_ci95": median_ci95(ratios),
                        "min_ratio": round(min(ratios), 4), "max_ratio": round(max(ratios), 4),
                        "off_median_ops_per_s": round(statistics.median(
                            p["off_ops_per_s"] for p in clean)),
                        "mode_median_ops_per_s": round(statistics.median(
                            p["mode_ops_per_s"] for p in clean))},
            "direct_cost": b.direct_cost(mode)}


def markdown(results):
    lines = ["| mode | pairs | median open ratio | 95% CI of median | min | max "
             "| off ops/s | mode ops/s | BPF ns per open (per run) | runs per loop open |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in results["modes"]:
        s, c = m["summary"], m["direct_cost"]
        ci = s["median_ratio_ci95"]
        ci = "-" if ci is None else f"{ci[0]:.3f}-{ci[1]:.3f}"
        lines.append(f"| {m['mode']} | {s['pairs']} | {s['median_ratio']:.3f} | {ci} "
                     f"| {s['min_ratio']:.3f} | {s['max_ratio']:.3f} "
                     f"| {s['off_median_ops_per_s']:,} | {s['mode_median_ops_per_s']:,} "
                     f"| {c['bpf_ns_per_run']} | {c['runs_per_loop_open']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", default=",".join(MODES), help="comma list of other, self")
    ap.add_argument("--pairs", type=int, default=12)
    ap.add_argument("--secs", type=float, default=0.5, help="open loop per slot (default 0.5)")
    ap.add_argument("--reps", type=int, default=5, help="sub-runs per slot; median (default 5)")
    ap.add_argument("--settle", type=float, default=0.2, help="after each reload (default 0.2)")
    ap.add_argument("--cpu", type=int, default=None, help="pin the open loop to this CPU")
    ap.add_argument("--quick", action="store_true", help="4 pairs of 0.2 s slots")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (policy, audit log)")
    ap.add_argument("--wait", type=float, default=0,
                    help="wait up to this many seconds for other sysguardd processes to exit")
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    ap.add_argument("--daemon", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in MODES for m in modes):
        ap.error(f"--modes: choose from {', '.join(MODES)}")
    if args.quick:
        args.pairs, args.secs = min(args.pairs, 4), 0.2
    args.bin_dir = os.path.join(args.repo, "build", "bench", "file_audit")
    args.daemon = os.path.abspath(args.daemon or os.path.join(args.repo, "build", "sysguardd"))
    args.out = args.out or os.path.join(args.bin_dir, "results.json")
    if os.geteuid() != 0:
        log("needs root")
        return 3
    deadline = time.monotonic() + args.wait
    while foreign_daemons() and time.monotonic() < deadline:
        time.sleep(1)
    if foreign_daemons():
        log("another sysguardd is running (" + ", ".join(f"pid {p}" for p, _ in foreign_daemons())
            + "); not started: it would be measured too, and it is not ours to stop")
        return 3

    b = Bench(args)
    status = 0
    results = {"suite": "sysguard file-open audit cost", "modes": [],
               "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "host": {"kernel": os.uname().release, "cpus": os.cpu_count()},
               "config": {"pairs": args.pairs, "secs": args.secs, "reps": args.reps,
                          "cpu": args.cpu, "open_files": 64, "cgroup": b.cgroup}}
    try:
        subprocess.run([b.openloop, "--setup", "-f", "64", b.files], check=True)
        b.start()
        for mode in modes:
            results["modes"].append(run_mode(b, mode, args))
        b.stop()
    except Fatal as e:
        log(f"FATAL: {e}")
        status = 3
    finally:
        try:
            b.stop()
        except Fatal as e:
            log(f"FATAL: {e}")
            status = 3
        b.cleanup()
    results["status"] = status
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    if results["modes"]:
        print(markdown(results))
        print(f"\nresults in {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())

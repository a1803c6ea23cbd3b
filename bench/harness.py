#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Exec/open overhead of sysguardd against a no-daemon baseline.

Run through bench/run.sh, which builds the binaries first. Method (see
bench/README.md): for each mode, pairs of (baseline, mode) slots in ABBA
order -- B M | M B | B M | ... -- so the daemon is started or stopped once
per pair and linear drift cancels out. A baseline slot runs with NO daemon
process and no sysguard BPF program loaded; a mode slot runs with the daemon
started, its ready file present and its policy verified. Each slot runs the
exec loop, then the open loop. The figure reported per (mode, bench) is the
median over pairs of ops_per_s(mode) / ops_per_s(baseline) from the same pair.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import container_arm
import fapolicyd_arm
import report
from bench_errors import Fatal, log, stop_clean

TARGET = 0.98
BENCHES = ("exec", "open")
# Loops --loops may add: an interpreter run of an allowed script (a shebang
# script, so the kernel runs /usr/bin/bash on it) and a dynamically linked
# program (the loader maps libc: what the library check looks at).
EXTRA_LOOPS = ("script", "dynexec")
DYN_TARGET = "/usr/bin/true"


def parse_mode(spec):
    """'baseline', 'monitor', 'enforce-10k', 'monitor-500', 'enforce-0',
    'fapolicyd-allow', 'fapolicyd-stock' ...; MODE@container runs the loops
    in a container (both arms of each pair); MODE+scripts turns script and
    library control on (scripts: {} and two library rules that match nothing)."""
    if spec.endswith("+scripts") and not spec.startswith(("fapolicyd", "baseline")):
        m = parse_mode(spec[:-len("+scripts")])
        m["name"] += "+scripts"
        m["scripts"] = True
        return m
    base, at, where = spec.partition("@")
    if at:
        if where != "container" or base.startswith("fapolicyd"):
            raise argparse.ArgumentTypeError(f"unknown mode {spec!r} (only SYSGUARD_MODE@container)")
        m = parse_mode(base)
        m["name"] += "@container"
        m["container"] = True
        return m
    if spec == "baseline":
        return {"name": spec, "kind": "baseline", "rules": 0}
    if spec.startswith("fapolicyd-"):
        ruleset = spec.partition("-")[2]
        if ruleset not in fapolicyd_arm.RULESETS:
            raise argparse.ArgumentTypeError(
                f"unknown mode {spec!r} (fapolicyd-{' or fapolicyd-'.join(fapolicyd_arm.RULESETS)})")
        return {"name": spec, "kind": "fapolicyd", "rules": None, "ruleset": ruleset}
    kind, _, n = spec.partition("-")
    if kind not in ("monitor", "enforce"):
        raise argparse.ArgumentTypeError(f"unknown mode {spec!r}")
    if not n:
        n = "10k"
    try:
        rules = int(n[:-1]) * 1000 if n.endswith("k") else int(n)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad rule count in {spec!r}")
    return {"name": f"{kind}-{n}", "kind": kind, "rules": rules}


# --- contamination checks: a baseline slot must really be a baseline -------

def foreign_daemons(own_pid=None):
    """PIDs of processes that would skew a baseline (sysguardd, fapolicyd)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == own_pid:
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("sysguardd", "fapolicyd"):
            found.append((int(entry), comm))
    return found


def sysguard_bpf_progs():
    """IDs of loaded BPF programs that look like ours (sg_* names)."""
    if not shutil.which("bpftool"):
        return []
    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                             text=True, timeout=10).stdout
        progs = json.loads(out or "[]")
    except (subprocess.SubprocessError, ValueError):
        return []
    return [p["id"] for p in progs if str(p.get("name", "")).startswith("sg_")]


def baseline_contamination():
    why = []
    for pid, comm in foreign_daemons():
        why.append(f"{comm} running (pid {pid})")
    progs = sysguard_bpf_progs()
    if progs:
        why.append(f"sysguard BPF programs loaded (ids {progs})")
    if os.path.exists("/sys/fs/bpf/sysguard"):
        why.append("pinned state in /sys/fs/bpf/sysguard")
    return why


# --- the daemon -------------------------------------------------------------

class Daemon:
    def __init__(self, args, mode, policy, workdir):
        self.args = args
        self.mode = mode
        self.policy = policy
        self.expect_version = f"bench-{mode['kind']}-{mode['rules']}"
        self.workdir = workdir
        self.state_dir = os.path.join(workdir, "state")
        self.audit_log = os.path.join(workdir, "audit.log")
        self.stderr_path = os.path.join(workdir, "daemon.stderr")
        self.proc = None
        self.ready = None
        self.starts = 0
        self.start_s = []
        self.stop_s = []
        self.extra = ["--no-stdout"] if "--no-stdout" in daemon_help(args.daemon) else []

    def wrap(self, arm):
        """Prefix for a loop's command in this arm: none, our daemon watches
        the whole host."""
        return []

    def describe(self):
        return {"ready": self.ready, "starts": self.starts,
                "audit_log_bytes": os.path.getsize(self.audit_log)
                if os.path.exists(self.audit_log) else 0}

    def start(self):
        if self.mode["kind"] == "baseline":
            return
        if os.path.exists(os.path.join(self.state_dir, "ready")):
            os.unlink(os.path.join(self.state_dir, "ready"))
        # Self-defence would make the daemon binary immutable while it runs.
        cmd = [self.args.daemon, "--policy", self.policy, "--log", self.audit_log,
               "--state-dir", self.state_dir, "--self-defence", "off",
               "--blocklist", os.path.join(self.workdir, "blocklist")] + self.extra
        t0 = time.monotonic()
        err = open(self.stderr_path, "a")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        self.starts += 1
        ready = os.path.join(self.state_dir, "ready")
        while not os.path.exists(ready):
            if self.proc.poll() is not None:
                raise Fatal(f"daemon exited with status {self.proc.returncode} before "
                            f"ready; see {self.stderr_path}\n  command: {' '.join(cmd)}")
            if time.monotonic() - t0 > self.args.ready_timeout:
                self.stop()
                raise Fatal(f"daemon not ready after {self.args.ready_timeout}s; "
                            f"see {self.stderr_path}")
            time.sleep(0.01)
        self.start_s.append(time.monotonic() - t0)
        self.ready = self._read_ready(ready)
        if self.starts == 1:
            log(f"daemon ready in {self.start_s[-1]:.2f}s: {json.dumps(self.ready)}")

    def _read_ready(self, path):
        # The file may be caught mid-write; retry briefly.
        for _ in range(50):
            try:
                with open(path) as f:
                    ready = json.load(f)
                break
            except (OSError, ValueError):
                time.sleep(0.01)
        else:
            self.stop()
            raise Fatal(f"{path}: not readable JSON")
        # A daemon that fell back to a failsafe policy would measure nothing useful.
        problems = []
        if ready.get("policy_version", self.expect_version) != self.expect_version:
            problems.append(f"policy_version {ready.get('policy_version')!r}, "
                            f"expected {self.expect_version!r}")
        if ready.get("mode", self.mode["kind"]) != self.mode["kind"]:
            problems.append(f"mode {ready.get('mode')!r}, expected {self.mode['kind']!r}")
        if problems:
            self.stop()
            raise Fatal("daemon did not load the benchmark policy: " + "; ".join(problems)
                        + f"; see {self.audit_log}")
        return ready

    def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        self.stop_s.append(stop_clean(proc, "daemon", self.args.stop_timeout, self.stderr_path))
        if os.path.exists(os.path.join(self.state_dir, "ready")):
            raise Fatal("daemon left its ready file behind after SIGTERM")


def daemon_help(path):
    try:
        r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
        return r.stdout + r.stderr
    except (OSError, subprocess.SubprocessError):
        return ""


# --- the loops --------------------------------------------------------------

def run_loop(args, bench, secs=None, count=None, reps=1, wrap=(), warm=True):
    if bench in EXTRA_LOOPS:
        cmd = [os.path.join(args.bin_dir, "execloop"), "-m", args.exec_method]
        target = script_target(args) if bench == "script" else DYN_TARGET
    elif bench == "exec":
        cmd = [os.path.join(args.bin_dir, "execloop"), "-m", args.exec_method]
        # In a container: the image's copy, on its overlay root.
        target = container_arm.TARGET_IN_IMAGE if wrap[:2] == [container_arm.PODMAN, "exec"] \
            else os.path.join(args.bin_dir, "tiny")
    else:
        cmd = [os.path.join(args.bin_dir, "openloop"), "-f", str(args.open_files)]
        target = args.open_dir
    cmd += ["-t", f"{secs:g}"] if secs else ["-n", str(count)]
    cmd = list(wrap) + cmd + (["-W"] if warm else []) + ["-r", str(reps), target]
    pin = None
    if args.cpu is not None:
        def pin():
            os.sched_setaffinity(0, {args.cpu})
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, preexec_fn=pin)
    try:
        res = json.loads(r.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        res = None
    if r.returncode != 0 or res is None or res.get("failures"):
        raise Fatal(f"{bench} loop failed (status {r.returncode}): {r.stderr.strip()} "
                    f"{r.stdout.strip()}\n  A failed exec or open under the daemon means a "
                    f"benchmark rule matched the benchmark itself, or the daemon broke it.", 4)
    return res


def cpu_pressure():
    """(loadavg 1 min, CPU pressure avg10 %) for the record; None where unknown."""
    load = psi = None
    try:
        load = os.getloadavg()[0]
        with open("/proc/pressure/cpu") as f:
            psi = float(f.readline().split()[1].split("=")[1])
    except (OSError, IndexError, ValueError):
        pass
    return load, psi


def script_target(args):
    """An allowed script the kernel hands to bash: what an interpreter's start-up costs."""
    path = os.path.join(args.bin_dir, "bench-script.sh")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write("#!/usr/bin/bash\n:\n")
        os.chmod(path, 0o755)
    return path


def run_slot(args, arm, wrap=()):
    """The exec loop, then the open loop (then --loops extras); each drops a first warm-up sub-run."""
    slot = {"arm": arm}
    for b in BENCHES:
        secs = args.open_secs if b == "open" else args.exec_secs
        slot[b] = run_loop(args, b, secs=secs / args.reps, reps=args.reps, wrap=wrap)
    return slot


def add_script_control(policy):
    """scripts: on, and library rules the kernel must ask about (a glob, a hash) that match nothing."""
    with open(policy, "a") as f:
        f.write("scripts: {}\nlibraries:\n"
                '  - {name: bench-lib-glob, action: deny, glob: "/opt/sysguard-bench-nothing-lib/**"}\n'
                "  - {name: bench-lib-hash, action: deny, sha256: \"%s\"}\n" % ("5a" * 32))


def busy_cpus(window=0.2):
    """CPUs busy (0..ncpu) over a short window while the benchmark is idle:
    the foreign load a pair was measured under, for the record."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v[:8]), idle
    try:
        t0, i0 = sample()
        time.sleep(window)
        t1, i1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if t1 == t0:
        return None
    return round((1 - (i1 - i0) / (t1 - t0)) * (os.cpu_count() or 1), 2)


# --- one mode ---------------------------------------------------------------

def add_protected_files(policy, directory, n):
    """n files under `directory`, each protected by its own files: rule."""
    os.makedirs(directory, exist_ok=True)
    with open(policy, "a") as f:
        f.write("files:\n")
        for i in range(n):
            path = os.path.join(directory, "p%05d" % i)
            with open(path, "w") as g:
                g.write("protected\n")
            f.write(f'  - {{path: "{path}"}}\n')


def run_mode(args, mode, budget_s, workroot):
    workdir = os.path.join(workroot, mode["name"])
    os.makedirs(workdir, exist_ok=True)
    policy = None
    if mode["kind"] == "fapolicyd":
        trusted = set()
        for exe in ("execloop", "openloop", "tiny"):
            trusted |= fapolicyd_arm.elf_deps(os.path.join(args.bin_dir, exe))
        if "script" in BENCHES:
            trusted |= fapolicyd_arm.elf_deps("/usr/bin/bash") | {script_target(args)}
        if "dynexec" in BENCHES:
            trusted |= fapolicyd_arm.elf_deps(DYN_TARGET)
        daemon = fapolicyd_arm.Fapolicyd(args, mode, workdir, trusted)
    elif mode["kind"] != "baseline":
        policy = os.path.join(workdir, "policy.yaml")
        gen = [sys.executable, os.path.join(args.bench_dir, "gen-policy.py"),
               "-n", str(mode["rules"]), "--mode", mode["kind"], "-o", policy,
               "--avoid", os.path.join(args.bin_dir, "tiny"),
               "--avoid", os.path.join(args.bin_dir, "execloop"),
               "--avoid", os.path.join(args.bin_dir, "openloop"),
               "--avoid", args.open_dir]
        for i in range(args.open_files):
            gen += ["--avoid", os.path.join(args.open_dir, "f%03d" % i)]
        subprocess.run(gen, check=True)
        if mode.get("scripts"):
            add_script_control(policy)
        if args.protected_files:
            add_protected_files(policy, os.path.join(workdir, "protected"), args.protected_files)
    if mode["kind"] != "fapolicyd":
        daemon = Daemon(args, mode, policy, workdir)

    mode_wrap = []
    if mode.get("container"):
        args.container.start()
        mode_wrap = args.container.wrap()

    t_start = time.monotonic()
    pairs, excluded, running = [], [], False
    try:
        for i in range(args.pairs):
            elapsed = time.monotonic() - t_start
            if i >= args.min_pairs and elapsed > budget_s:
                log(f"{mode['name']}: time budget {budget_s:.0f}s reached after {i} pairs")
                break
            order = ("base", "mode") if i % 2 == 0 else ("mode", "base")
            slots, dirty = {}, []
            busy = busy_cpus()
            waited = 0.0
            while waited < args.quiet_wait and (
                    (busy is not None and busy > args.quiet_below)
                    or foreign_daemons(own_pid=daemon.proc.pid if daemon.proc else None)):
                time.sleep(0.5)
                waited += 0.7
                busy = busy_cpus()
            for arm in order:
                want = arm == "mode" and mode["kind"] != "baseline"
                if want and not running:
                    daemon.start()
                    running = True
                    time.sleep(args.settle)
                elif not want and running:
                    daemon.stop()
                    running = False
                    time.sleep(args.settle)
                for when in ("before", "after"):
                    if when == "after":
                        slots[arm] = run_slot(args, arm, daemon.wrap(arm) + mode_wrap)
                    if arm == "base" or mode["kind"] == "baseline":
                        dirty += baseline_contamination()
                    else:
                        # Only our daemon may run during a mode slot.
                        dirty += [f"another {comm} running (pid {pid})" for pid, comm
                                  in foreign_daemons(own_pid=daemon.proc.pid)]
            load, psi = cpu_pressure()
            pair = {"index": i, "order": list(order), "t": round(time.monotonic() - t_start, 2),
                    "loadavg1": load, "cpu_psi_avg10": psi, "foreign_busy_cpus": busy,
                    "busy": busy is not None and busy > args.quiet_below,
                    "waited_s": round(waited, 1)}
            for b in BENCHES:
                sb, sm = slots["base"][b], slots["mode"][b]
                base, other = sb[args.key], sm[args.key]
                pair[b] = {"base_ops_per_s": base, "mode_ops_per_s": other,
                           "ratio": other / base,
                           "ratio_of_totals": sm["ops_per_s"] / sb["ops_per_s"],
                           "base_runs": sb["runs_ops_per_s"],
                           "mode_runs": sm["runs_ops_per_s"],
                           "base_ops": sb["ops"], "mode_ops": sm["ops"]}
            if dirty:
                pair["contaminated"] = sorted(set(dirty))
                excluded.append(pair)
                log(f"{mode['name']} pair {i}: baseline not clean, excluded: "
                    + "; ".join(pair["contaminated"]))
            else:
                pairs.append(pair)
            log(f"{mode['name']} pair {i + 1}/{args.pairs} ({'/'.join(order)}): "
                + "  ".join(f"{b} {pair[b]['ratio']:.3f}" for b in BENCHES))
    finally:
        if running:
            daemon.stop()

    if not pairs:
        raise Fatal(f"{mode['name']}: no clean pair (baseline contaminated every time)")
    out = {"mode": mode["name"], "kind": mode["kind"], "rules": mode["rules"],
           "ruleset": mode.get("ruleset"),
           "pairs": pairs, "excluded_pairs": excluded,
           "seconds": round(time.monotonic() - t_start, 1),
           "daemon": None}
    if mode["kind"] != "baseline":
        out["direct_cost"] = direct_cost(args, daemon, mode_wrap)
        log(f"{mode['name']}: direct cost per exec: BPF {out['direct_cost']['bpf_ns_per_exec']} ns "
            f"of {out['direct_cost']['exec_ns']} ns, daemon CPU "
            f"{out['direct_cost']['daemon_cpu_us_per_exec']} us (other core)")
        out["daemon"] = daemon.describe()
        out["daemon"]["median_start_s"] = round(statistics.median(daemon.start_s), 3)
        out["daemon"]["median_stop_s"] = round(statistics.median(daemon.stop_s), 3)
    if mode["kind"] == "fapolicyd":
        check_fapolicyd_saw_loops(mode, pairs + excluded, out)
    busy = [p["foreign_busy_cpus"] for p in pairs if p["foreign_busy_cpus"] is not None]
    out["foreign_busy_cpus_median"] = round(statistics.median(busy), 2) if busy else None
    out["busy_pairs"] = sum(1 for p in pairs if p["busy"])
    out["summary"] = {}
    for b in BENCHES:
        ratios = [p[b]["ratio"] for p in pairs]
        med = statistics.median(ratios)
        out["summary"][b] = {
            "pairs": len(ratios),
            "median_ratio": round(med, 4),
            "median_ratio_ci95": median_ci95(ratios),
            "p25_ratio": round(statistics.quantiles(ratios, n=4)[0], 4) if len(ratios) > 1 else None,
            "p75_ratio": round(statistics.quantiles(ratios, n=4)[2], 4) if len(ratios) > 1 else None,
            "median_ratio_of_totals": round(statistics.median(
                p[b]["ratio_of_totals"] for p in pairs), 4),
            "min_ratio": round(min(ratios), 4),
            "max_ratio": round(max(ratios), 4),
            "base_median_ops_per_s": round(statistics.median(
                p[b]["base_ops_per_s"] for p in pairs), 1),
            "mode_median_ops_per_s": round(statistics.median(
                p[b]["mode_ops_per_s"] for p in pairs), 1),
            # fapolicyd is the comparison, not held to our target.
            "target": None if mode["kind"] == "fapolicyd" else TARGET,
            "result": "comparison" if mode["kind"] == "fapolicyd"
            else "PASS" if med >= TARGET else "MISS",
        }
    return out


def check_fapolicyd_saw_loops(mode, pairs, out):
    """fapolicyd must have decided at least one access per exec and open of
    the mode slots, or the loops ran where it was not watching."""
    ops = sum(p[b]["mode_ops"] for p in pairs for b in BENCHES)
    ops += out["direct_cost"]["execs"]
    events = out["daemon"]["events"]
    out["daemon"]["loop_ops"] = ops
    if events["allowed"] < ops:
        raise Fatal(f"{mode['name']}: fapolicyd decided {events['allowed']} accesses "
                    f"for {ops} execs and opens of the loops: it did not see them")
    if events["denied"]:
        raise Fatal(f"{mode['name']}: fapolicyd denied {events['denied']} accesses "
                    f"(see fapolicyd.stderr in the work dir)", 4)


def bpf_prog_runtime():
    """{name: (run_time_ns, run_cnt)} of our programs; needs kernel.bpf_stats_enabled."""
    try:
        out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                             text=True, timeout=10).stdout
        progs = json.loads(out or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    got = {}
    for p in progs:
        name = str(p.get("name", ""))
        if name.startswith("sg_"):
            t, c = got.get(name, (0, 0))
            got[name] = (t + p.get("run_time_ns", 0), c + p.get("run_cnt", 0))
    return got


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def direct_cost(args, daemon, mode_wrap=(), secs=3.0):
    """
    What one exec costs the kernel programs and the daemon, measured rather
    than inferred from throughput: run time of the sg_* programs
    (kernel.bpf_stats_enabled, switched on only for this phase: it adds a
    clock read to every BPF run) and the daemon's CPU time, per exec.
    These are exact where the throughput ratios are noisy.
    """
    stats_path = "/proc/sys/kernel/bpf_stats_enabled"
    with open(stats_path) as f:
        old = f.read().strip()
    daemon.start()
    try:
        with open(stats_path, "w") as f:
            f.write("1")
        time.sleep(args.settle)
        b0, c0 = bpf_prog_runtime(), proc_cpu_s(daemon.proc.pid)
        # No warm-up sub-run: its execs would run the programs and the daemon
        # but not be counted in ops, doubling every cost per exec.
        res = run_loop(args, "exec", secs=secs, reps=1, wrap=daemon.wrap("mode") + list(mode_wrap),
                       warm=False)
        b1, c1 = bpf_prog_runtime(), proc_cpu_s(daemon.proc.pid)
    finally:
        with open(stats_path, "w") as f:
            f.write(old)
        daemon.stop()
    execs = res["ops"]
    exec_ns = res["elapsed_ns"] / execs
    progs = {}
    for name, (t, c) in b1.items():
        t0, n0 = b0.get(name, (0, 0))
        if c - n0 > 0:
            progs[name] = {"runs": c - n0, "ns_per_run": round((t - t0) / (c - n0), 1),
                           "ns_per_exec": round((t - t0) / execs, 1)}
    bpf_ns = sum(v["ns_per_exec"] for v in progs.values())
    return {"execs": execs, "exec_ns": round(exec_ns), "programs": progs,
            "bpf_ns_per_exec": round(bpf_ns, 1),
            "bpf_share_of_exec": round(bpf_ns / exec_ns, 5),
            "daemon_cpu_us_per_exec": round((c1 - c0) * 1e6 / execs, 1)}


def median_ci95(values):
    """Distribution-free ~95% confidence interval of the median (order
    statistics, normal approximation of the binomial); None under 6 values."""
    v = sorted(values)
    n = len(v)
    if n < 6:
        return None
    half = 0.98 * n ** 0.5
    lo = max(int(n / 2 - half), 0)
    hi = min(int(-(-(n / 2 + half) // 1)), n - 1)
    return [round(v[lo], 4), round(v[hi], 4)]


def git_rev(repo):
    try:
        r = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def main():
    ap = argparse.ArgumentParser(description="exec/open overhead of sysguardd")
    ap.add_argument("--quick", action="store_true",
                    help="~30 s smoke run: up to 6 pairs, short loops")
    ap.add_argument("--pairs", type=int, help="pairs per mode at most (default 20, quick 6)")
    ap.add_argument("--modes", default="monitor-10k,enforce-10k",
                    help="comma list: baseline | monitor[-N] | enforce[-N] | "
                         "fapolicyd-allow | fapolicyd-stock (default "
                         "monitor-10k,enforce-10k; 'baseline' measures baseline "
                         "against itself: the noise floor; fapolicyd-* measure "
                         "fapolicyd for comparison)")
    ap.add_argument("--budget", type=float,
                    help="seconds for the whole suite (default 150, quick 30); "
                         "pairs stop early when exceeded")
    ap.add_argument("--exec-secs", type=float, help="exec loop per slot (default 0.5, quick 0.25)")
    ap.add_argument("--open-secs", type=float, help="open loop per slot (default 0.25, quick 0.1)")
    ap.add_argument("--exec-method", choices=("fork", "vfork", "spawn"), default="fork")
    ap.add_argument("--reps", type=int, default=5,
                    help="sub-runs per loop per slot (default 5)")
    ap.add_argument("--estimator", choices=("median", "total"), default="median",
                    help="slot throughput: median of its sub-runs (default) or "
                         "total ops / total time")
    ap.add_argument("--settle", type=float, default=0.3,
                    help="seconds to wait after each daemon start/stop (default 0.3)")
    ap.add_argument("--cpu", type=int, default=None,
                    help="pin the exec and open loops (not the daemon) to this CPU")
    ap.add_argument("--quiet-below", type=float, default=0.25,
                    help="foreign load (busy CPUs, sampled before each pair) above "
                         "which a pair is flagged busy (default 0.25)")
    ap.add_argument("--quiet-wait", type=float, default=0,
                    help="wait up to this many seconds before each pair for the "
                         "foreign load to drop and other sysguardd/fapolicyd "
                         "processes to exit (default 0: do not wait)")
    ap.add_argument("--protected-files", type=int, default=0,
                    help="FILE-1: also protect this many files (a files: rule each, "
                         "deny write+delete) that the loops never open (default 0)")
    ap.add_argument("--loops", default="exec,open",
                    help="loops per slot: exec, open, and optionally script (bash running an "
                         "allowed script), dynexec (a dynamically linked program)")
    ap.add_argument("--daemon", default=None, help="daemon binary (default build/sysguardd)")
    ap.add_argument("--ready-timeout", type=float, default=60)
    ap.add_argument("--stop-timeout", type=float, default=15)
    ap.add_argument("--out", default=None, help="results JSON (default build/bench/results.json)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (policies, logs)")
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args()
    global BENCHES
    BENCHES = tuple(b.strip() for b in args.loops.split(",") if b.strip())
    unknown = set(BENCHES) - {"exec", "open"} - set(EXTRA_LOOPS)
    if unknown or not {"exec", "open"} <= set(BENCHES):
        ap.error(f"--loops: exec and open, plus any of {', '.join(EXTRA_LOOPS)}")

    q = args.quick
    args.pairs = args.pairs or (6 if q else 20)
    args.budget = args.budget or (30 if q else 150)
    args.exec_secs = args.exec_secs or (0.25 if q else 0.5)
    args.open_secs = args.open_secs or (0.1 if q else 0.25)
    if args.cpu is not None and args.cpu not in os.sched_getaffinity(0):
        ap.error(f"--cpu {args.cpu}: not an allowed CPU here")
    if not 1 <= args.reps <= 100:
        ap.error("--reps must be 1..100")
    args.key = "median_ops_per_s" if args.estimator == "median" else "ops_per_s"
    args.open_files = 64
    args.min_pairs = 3 if args.pairs >= 3 else args.pairs
    if args.pairs < 1:
        ap.error("--pairs must be >= 1")
    modes = [parse_mode(s.strip()) for s in args.modes.split(",") if s.strip()]
    if not modes:
        ap.error("no mode")
    args.bench_dir = os.path.join(args.repo, "bench")
    args.bin_dir = os.path.join(args.repo, "build", "bench")
    args.daemon = os.path.abspath(args.daemon or os.path.join(args.repo, "build", "sysguardd"))
    args.out = args.out or os.path.join(args.bin_dir, "results.json")

    need_daemon = any(m["kind"] in ("monitor", "enforce") for m in modes)
    if need_daemon and not os.access(args.daemon, os.X_OK):
        log(f"{args.daemon}: not found or not executable (make -C {args.repo})")
        return 3
    if any(m["kind"] == "fapolicyd" for m in modes) and not fapolicyd_arm.binary():
        log("fapolicyd not installed (apt-get install fapolicyd; it is in "
            "scripts/apt-packages.txt)")
        return 3
    if any(m["kind"] != "baseline" for m in modes) and os.geteuid() != 0:
        log("the daemons need root")
        return 3

    workroot = tempfile.mkdtemp(prefix="sysguard-bench.")
    args.open_dir = os.path.join(workroot, "files")
    subprocess.run([os.path.join(args.bin_dir, "openloop"), "--setup", "-f",
                    str(args.open_files), args.open_dir], check=True)

    started = time.monotonic()
    results = {
        "suite": "sysguard exec/open overhead",
        "loops": list(BENCHES),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git": git_rev(args.repo),
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "machine": platform.machine()},
        "config": {"pairs": args.pairs, "min_pairs": args.min_pairs,
                   "budget_s": args.budget, "exec_secs": args.exec_secs,
                   "open_secs": args.open_secs, "exec_method": args.exec_method,
                   "reps": args.reps, "estimator": args.estimator, "cpu": args.cpu,
                   "warmup": "one extra sub-run per loop, dropped", "open_files": args.open_files,
                   "settle_s": args.settle, "quiet_below": args.quiet_below,
                   "quiet_wait_s": args.quiet_wait, "quick": q, "order": "ABBA",
                   "target": TARGET},
        "modes": [],
    }
    status = 0
    args.container = container_arm.BenchContainer(args, workroot)
    try:
        if baseline_contamination():
            log("warning: baseline not clean at start: " + "; ".join(baseline_contamination()))
        for k, mode in enumerate(modes):
            remaining = args.budget - (time.monotonic() - started)
            budget_s = max(remaining / (len(modes) - k), 0)
            log(f"mode {mode['name']}: up to {args.pairs} pairs, budget {budget_s:.0f}s")
            results["modes"].append(run_mode(args, mode, budget_s, workroot))
    except Fatal as e:
        log(f"FATAL: {e}")
        status = e.status
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        args.container.stop()
        results["seconds"] = round(time.monotonic() - started, 1)
        if not args.keep and status == 0:
            shutil.rmtree(workroot, ignore_errors=True)
        else:
            log(f"work dir kept: {workroot}")
            results["workdir"] = workroot
    results["status"] = status
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    os.replace(args.out + ".tmp", args.out)
    busy = [m for m in results["modes"] if m["busy_pairs"] * 2 > len(m["pairs"])]
    if busy:
        log("warning: most pairs of " + ", ".join(m["mode"] for m in busy)
            + f" ran while other processes kept > {args.quiet_below} CPU busy; "
            "their ratios say more about that load than about the daemon "
            "(rerun on a quiet machine, or with --quiet-wait)")
    if results["modes"]:
        print(report.markdown(results))
        print()
        print(f"{results['seconds']}s in all; results in {args.out}")
    return status


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: Apache-2.0
"""fapolicyd as a benchmark arm, measured in the same run as sysguardd.

Modes:
  fapolicyd-allow  one rule, `allow perm=any all : all`: what fapolicyd
                   costs when it decides nothing (every exec and open still
                   goes to the daemon and back; the trust db is still built)
  fapolicyd-stock  the "known-libs" rule set from the rule files the Debian
                   package ships (/usr/share/fapolicyd/sample-rules, listed
                   in its README-rules): trusted ELF may run, shared
                   libraries must be trusted, every other open is allowed

Both get Debian's default fapolicyd.conf (bench/fapolicyd/fapolicyd.conf,
permissive = 0) and a file trust db holding the benchmark's own binaries and
the libraries they load, so the stock rules let the loops run.

fapolicyd runs in the foreground (--debug-deny: denials on stderr) in a
private mount namespace (bench/fapolicyd/ns-run.sh) whose /etc/fapolicyd,
/var/lib/fapolicyd, /run and /var/log are directories of the work dir: the
host's config, trust db and pid file are never touched. It marks mounts,
and a private namespace's mounts are copies, so it sees only accesses made
in that namespace: the mode slot's loops run there (nsenter -m), and for
the same path the baseline slot's loops run in a fresh private namespace
of their own (unshare -m).
"""
import os
import re
import shutil
import subprocess
import time

from bench_errors import Fatal, log, stop_clean

SAMPLE_RULES = "/usr/share/fapolicyd/sample-rules"
# The "fapolicyd.rules.known-libs" set of sample-rules/README-rules (upstream's
# default policy, what fagenrules builds on Fedora and RHEL).
KNOWN_LIBS = ("10-languages.rules", "20-dracut.rules", "21-updaters.rules",
              "30-patterns.rules", "40-bad-elf.rules", "41-shared-obj.rules",
              "42-trusted-elf.rules", "70-trusted-lang.rules", "72-shell.rules",
              "90-deny-execute.rules", "95-allow-open.rules")
RULESETS = ("allow", "stock")
READY_LINE = "Starting to listen for events"
# Capabilities fapolicyd keeps when it drops to its own user (fapolicyd.c):
# DAC_OVERRIDE, SYS_PTRACE, SYS_ADMIN, SYS_NICE, SYS_RESOURCE, AUDIT_WRITE.
KEPT_CAPS = (1, 19, 21, 23, 24, 29)


def binary():
    return shutil.which("fapolicyd") or ("/usr/sbin/fapolicyd"
                                         if os.access("/usr/sbin/fapolicyd", os.X_OK) else None)


def rules_text(ruleset, sample_dir=SAMPLE_RULES):
    """The compiled.rules for a rule set: the files concatenated in order,
    as fagenrules does."""
    if ruleset == "allow":
        return "allow perm=any all : all\n"
    parts = []
    for name in KNOWN_LIBS:
        with open(os.path.join(sample_dir, name)) as f:
            parts.append(f.read().rstrip("\n") + "\n")
    return "".join(parts)


def elf_deps(path):
    """The real paths of `path` and every library ldd says it loads."""
    out = {os.path.realpath(path)}
    r = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30)
    for line in r.stdout.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            out.add(os.path.realpath(m.group(1)))
    return out


def trust_lines(paths):
    """fapolicyd.trust lines (path size sha256) for the given files."""
    import hashlib
    lines = []
    for p in sorted(paths):
        with open(p, "rb") as f:
            data = f.read()
        lines.append(f"{p} {len(data)} {hashlib.sha256(data).hexdigest()}\n")
    return lines


def bounding_caps():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    return 0


def conf_text(conf_path):
    """Debian's default conf; as root only when fapolicyd could not keep its
    capabilities after dropping to its user (a container's bounding set)."""
    with open(conf_path) as f:
        text = f.read()
    bnd = bounding_caps()
    missing = [c for c in KEPT_CAPS if not bnd >> c & 1]
    if missing:
        text = re.sub(r"(?m)^uid = .*$", "uid = root", text)
        text = re.sub(r"(?m)^gid = .*$", "gid = root", text)
    return text, missing


def parse_report(text):
    got = {}
    for key, name in (("allowed", "Allowed accesses"), ("denied", "Denied accesses")):
        m = re.search(rf"^{name}: (\d+)", text, re.M)
        if m:
            got[key] = int(m.group(1))
    return got


class Fapolicyd:
    """Same interface as harness.Daemon: start(), stop(), proc, wrap(arm)."""

    def __init__(self, args, mode, workdir, trusted):
        self.args = args
        self.mode = mode
        self.workdir = workdir
        self.root = os.path.join(workdir, "fapolicyd")
        self.stderr_path = os.path.join(workdir, "fapolicyd.stderr")
        self.report_path = os.path.join(self.root, "log", "fapolicyd-access.log")
        self.proc = None
        self.ready = None
        self.starts = 0
        self.start_s = []
        self.stop_s = []
        self.events = {"allowed": 0, "denied": 0}
        self.exe = binary()
        if not self.exe:
            raise Fatal("fapolicyd not installed (apt-get install fapolicyd; "
                        "scripts/apt-packages.txt lists it)")
        self._prepare(trusted)

    def _prepare(self, trusted):
        etc = os.path.join(self.root, "etc")
        for d in ("etc/trust.d", "etc/rules.d", "lib", "run/fapolicyd", "log"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        conf, missing = conf_text(os.path.join(self.args.bench_dir, "fapolicyd",
                                               "fapolicyd.conf"))
        self.runs_as = "root" if missing else "fapolicyd"
        with open(os.path.join(etc, "fapolicyd.conf"), "w") as f:
            f.write(conf)
        self.rules = rules_text(self.mode["ruleset"])
        with open(os.path.join(etc, "compiled.rules"), "w") as f:
            f.write(self.rules)
        with open(os.path.join(etc, "fapolicyd.trust"), "w") as f:
            f.write("# the benchmark's binaries and the libraries they load\n")
            f.writelines(trust_lines(trusted))
        self.trusted = sorted(trusted)
        if self.runs_as == "fapolicyd":
            # As the package's postinst and tmpfiles.d set them up.
            shutil.chown(os.path.join(self.root, "lib"), "fapolicyd", "fapolicyd")
            shutil.chown(os.path.join(self.root, "run", "fapolicyd"), "root", "fapolicyd")
            os.chmod(os.path.join(self.root, "run", "fapolicyd"), 0o770)

    def wrap(self, arm):
        """Prefix for a loop's command: the daemon's namespace in the mode
        slot, a fresh private one in the baseline slot."""
        if arm == "mode":
            return ["nsenter", "-t", str(self.proc.pid), "-m", "--"]
        return ["unshare", "-m", "--propagation", "private", "--"]

    def _stderr_tail(self, start):
        with open(self.stderr_path, errors="replace") as f:
            f.seek(start)
            return f.read()

    def start(self):
        cmd = [os.path.join(self.args.bench_dir, "fapolicyd", "ns-run.sh"), self.root,
               "--debug-deny"]
        err = open(self.stderr_path, "a")
        offset = err.tell()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        self.starts += 1
        while READY_LINE not in self._stderr_tail(offset):
            if self.proc.poll() is not None:
                status, self.proc = self.proc.returncode, None
                raise Fatal(f"fapolicyd exited with status {status} before it "
                            f"listened for events:\n{self._stderr_tail(offset).strip()}"
                            f"\n  command: {' '.join(cmd)}")
            if time.monotonic() - t0 > self.args.ready_timeout:
                self.stop()
                raise Fatal(f"fapolicyd not listening after {self.args.ready_timeout}s; "
                            f"see {self.stderr_path}")
            time.sleep(0.01)
        self.start_s.append(time.monotonic() - t0)
        text = self._stderr_tail(offset)
        m = re.search(r"Loaded (\d+) rules", text)
        self.ready = {"rules_loaded": int(m.group(1)) if m else None,
                      "ruleset": self.mode["ruleset"], "runs_as": self.runs_as,
                      "trusted_files": len(self.trusted)}
        if self.starts == 1:
            log(f"fapolicyd listening in {self.start_s[-1]:.2f}s: {self.ready}")

    def stop(self):
        if self.proc is None:
            return
        pid = self.proc.pid
        proc, self.proc = self.proc, None
        self.stop_s.append(stop_clean(proc, "fapolicyd", self.args.stop_timeout, self.stderr_path))
        if os.path.exists(f"/proc/{pid}"):
            raise Fatal(f"fapolicyd (pid {pid}) still there after SIGTERM")
        try:
            with open(self.report_path) as f:
                got = parse_report(f.read())
        except OSError:
            got = {}
        if "allowed" not in got:
            raise Fatal(f"fapolicyd wrote no usage report to {self.report_path}")
        for k in self.events:
            self.events[k] += got.get(k, 0)

    def describe(self):
        return {"ready": self.ready, "starts": self.starts, "binary": self.exe,
                "runs_as": self.runs_as, "rules": self.rules.splitlines(),
                "trusted": self.trusted, "events": dict(self.events)}

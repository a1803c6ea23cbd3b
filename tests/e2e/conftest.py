# SPDX-License-Identifier: Apache-2.0
"""
End-to-end tests of sysguardd against the real kernel (root only).

Only one sysguardd may run on the machine at a time, so the tests run
serially, each with its own daemon, its own policy and its own directory of
test binaries. Other processes on the machine exec things too: always pick
records by the exe path or pid of what the test itself ran.

Set SYSGUARD_E2E_KEEP=1 to keep the work directory (policies, audit logs,
daemon stderr) for a look after the run.

Fixtures:
  tools    session: built helper programs (marker, sgexec, forker, openat2_flip,
           preload_open.so) and file helpers
  workdir  per test: a fresh directory on the root filesystem (/var/tmp)
  daemon   per test: factory; daemon(policy_text, ...) starts sysguardd, waits
           for DIR/ready and returns a Daemon; every daemon is stopped at
           teardown, even on failure
"""
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAEMON_BIN = REPO / "build" / "sysguardd"
CTL_BIN = REPO / "build" / "sysguardctl"
HELPERS_SRC = Path(__file__).resolve().parent / "helpers"
# Directories (and so daemon command lines) of this suite carry this tag: a
# leftover daemon of an interrupted run is recognised by it, and only such
# daemons are ever killed by the suite.
E2E_TAG = "sysguard-e2e-"
WORK_PARENT = "/var/tmp"
LOADER = "/lib64/ld-linux-x86-64.so.2"

READY_TIMEOUT = 30.0
WAIT_TIMEOUT = 10.0

# Every log written during the session, checked as a whole by test_zz_session_logs.py.
SESSION_LOGS = []
# The node id a log's records carry, where a test's daemon is not "e2e-node".
SESSION_NODE_IDS = {}


# --------------------------------------------------------------------------
# Session set-up: build, leftovers, helper programs
# --------------------------------------------------------------------------

def _build():
    """make -C REPO; someone may be mid-edit, so retry for a while."""
    deadline = time.monotonic() + 120
    last = None
    while True:
        r = subprocess.run(["make", "-C", str(REPO), "-j", str(os.cpu_count() or 2)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode == 0:
            return
        last = r.stdout[-4000:]
        if time.monotonic() > deadline:
            break
        time.sleep(20)
    if DAEMON_BIN.exists() and CTL_BIN.exists():
        sys.stderr.write("e2e: build failing, testing the existing binaries:\n" + last + "\n")
        return
    pytest.exit("e2e: build failed:\n" + last, returncode=1)


def _proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None


def sysguardd_pids():
    """(pid, argv) of every running sysguardd."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() != "sysguardd":
                    continue
        except OSError:
            continue
        argv = _proc_cmdline(entry)
        if argv is not None:
            found.append((int(entry), argv))
    return found


def _pid_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except (OSError, IndexError):
            return True
        time.sleep(0.05)
    return False


def _kill_leftover_e2e_daemons():
    """Stop sysguardd processes left by an interrupted run of this suite (and only those)."""
    for pid, argv in sysguardd_pids():
        if not any(E2E_TAG.encode() in a for a in argv):
            continue
        sys.stderr.write(f"e2e: stopping leftover e2e daemon pid {pid}\n")
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        if not _pid_gone(pid, 10):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _pid_gone(pid, 5)


def _wait_foreign_daemons(timeout=90):
    """Another sysguardd (a benchmark, a developer) would act on our execs too: wait for it."""
    deadline = time.monotonic() + timeout
    others = sysguardd_pids()
    while others and time.monotonic() < deadline:
        time.sleep(0.5)
        others = sysguardd_pids()
    if others:
        sys.stderr.write("e2e: WARNING: other sysguardd running, results may be disturbed: "
                         + ", ".join(str(p) for p, _ in others) + "\n")


class Tools:
    """Helper programs built for the session, and file helpers."""

    def __init__(self, root):
        self.root = Path(root)
        self.marker = self.root / "bin" / "marker"
        self.sgexec = self.root / "bin" / "sgexec"
        self.forker = self.root / "bin" / "forker"
        self.openat2_flip = self.root / "bin" / "openat2_flip"
        # Asks the kernel before running a file (execveat AT_EXECVE_CHECK), as interpreters may.
        self.execve_check = self.root / "bin" / "execve_check"
        # LD_PRELOAD library that opens a file from its constructor.
        self.preload_open = self.root / "bin" / "preload_open.so"
        # Statically linked: reaches main() at once, so it shows a late kill.
        self.marker_static = self.root / "bin" / "marker-static"
        self.loader = LOADER
        self._n = 0

    def build(self):
        (self.root / "bin").mkdir()
        for name in ("marker", "sgexec", "forker", "openat2_flip", "execve_check"):
            r = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-pthread",
                                "-o", str(self.root / "bin" / name),
                                str(HELPERS_SRC / f"{name}.c")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode:
                pytest.exit(f"e2e: cannot build helper {name}:\n{r.stdout}", returncode=1)
        r = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-shared", "-fPIC",
                            "-o", str(self.preload_open), str(HELPERS_SRC / "preload_open.c")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            pytest.exit(f"e2e: cannot build helper preload_open.so:\n{r.stdout}", returncode=1)
        self.marker_bytes = self.marker.read_bytes()
        r = subprocess.run(["cc", "-O2", "-static", "-o", str(self.marker_static),
                            str(HELPERS_SRC / "marker.c")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            sys.stderr.write(f"e2e: no static libc ({r.stdout.strip()}); using the dynamic marker\n")
            shutil.copyfile(self.marker, self.marker_static)
        self.marker_static_bytes = self.marker_static.read_bytes()

    def make_bin(self, directory, name, tag=None, static=False):
        """
        A copy of the marker program at directory/name (str or bytes). A tag
        is appended after the ELF image so each tag gives its own SHA-256
        (the kernel ignores trailing bytes). static=True copies the statically
        linked build instead. Returns the path, as bytes when
        name is bytes.
        """
        self._n += 1
        if tag is None:
            tag = f"auto-{self._n}"
        if isinstance(name, bytes):
            path = os.fsencode(directory) + b"/" + name
        else:
            path = os.path.join(os.fspath(directory), name)
        with open(path, "wb") as f:
            image = self.marker_static_bytes if static else self.marker_bytes
            f.write(image + b"\0SG-E2E-TAG:" + tag.encode() + b"\0")
        os.chmod(path, 0o755)
        return path

    def copy_of(self, src, dst):
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755)
        return str(dst)

    def sgexec_run(self, mode, prog, *args, exe=None, timeout=40, attack=None, user=None):
        """
        Run sgexec (or a copy of it at exe); returns its JSON report.
        attack: "sigcont" or "ptrace" (undo a hold); user: run it as this uid.
        """
        argv = [os.fspath(exe or self.sgexec)] + ([f"--{attack}"] if attack else [])
        argv += [mode, os.fspath(prog)] + [os.fspath(a) for a in args]
        if user is not None:
            argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + argv
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        assert r.returncode == 0, f"sgexec failed: rc={r.returncode} stderr={r.stderr!r}"
        return json.loads(r.stdout)


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# A fresh machine has no tracefs or debugfs mounted. A session that left
# them mounted must not make the suite pass here and fail on the next
# machine, so every run starts from that state: the whole pytest process
# (and so every daemon and helper it starts) moves into a private mount
# namespace where they are unmounted. The daemon mounts what it needs.
FRESH_UNMOUNT = ("/sys/kernel/debug/tracing", "/sys/kernel/tracing", "/sys/kernel/debug")
_CLONE_NEWNS = 0x00020000
_MS_REC, _MS_PRIVATE, _MNT_DETACH = 0x4000, 0x40000, 2


def _mounted_at(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def enter_fresh_mount_namespace():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(_CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    if libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
    for path in FRESH_UNMOUNT:
        while _mounted_at(path):
            if libc.umount2(path.encode(), _MNT_DETACH) != 0:
                raise OSError(ctypes.get_errno(), f"umount {path}")


def pytest_configure(config):
    # Once, before any thread exists (unshare(CLONE_NEWNS) needs that).
    if os.geteuid() == 0 and os.environ.get("SYSGUARD_E2E_HOST_MOUNTS") != "1":
        enter_fresh_mount_namespace()


# Two pytest sessions at once (two developers, or a developer and a helper
# agent) would kill each other's daemons as leftovers: the second one waits.
SESSION_LOCK = "/run/lock/sysguard-e2e.lock"


def _take_session_lock():
    os.makedirs(os.path.dirname(SESSION_LOCK), exist_ok=True)
    fd = os.open(SESSION_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.stderr.write(f"e2e: another e2e session holds {SESSION_LOCK}; waiting\n")
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


@pytest.fixture(scope="session")
def tools():
    if os.geteuid() != 0:
        pytest.skip("the e2e tests need root (BPF, fanotify)")
    lock_fd = _take_session_lock()
    _build()
    _kill_leftover_e2e_daemons()
    _wait_foreign_daemons()
    root = os.path.realpath(os.path.join(WORK_PARENT, E2E_TAG + f"{os.getpid()}-{int(time.time())}"))
    os.mkdir(root, 0o755)
    t = Tools(root)
    t.build()
    yield t
    if os.environ.get("SYSGUARD_E2E_KEEP"):
        sys.stderr.write(f"e2e: kept {root}\n")
    else:
        shutil.rmtree(root, ignore_errors=True)
    os.close(lock_fd)


@pytest.fixture
def workdir(tools, request):
    tools._n += 1
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:80]
    d = tools.root / "t" / f"{tools._n:03d}-{name}"
    d.mkdir(parents=True)
    return Path(os.path.realpath(d))


# --------------------------------------------------------------------------
# The daemon
# --------------------------------------------------------------------------

class Policy:
    """A policy document; rule_line[name] is the line the rule starts on."""

    def __init__(self, rules=(), *, version="e2e-1", mode="enforce", default="allow",
                 fileless="inspect"):
        head = [f"version: {json.dumps(version)}", f"mode: {mode}", f"default: {default}",
                f"fileless_exec: {fileless}"]
        lines = list(head)
        self.rule_line = {}
        if rules:
            lines.append("rules:")
            for r in rules:
                lines.append("  - {" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in r.items()) + "}")
                if "name" in r:
                    self.rule_line[r["name"]] = len(lines)
        else:
            lines.append("rules: []")
        self.text = "\n".join(lines) + "\n"
        self.version = version


def _yaml_value(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, int):
        return str(v)
    return json.dumps(os.fspath(v))  # a JSON string is a YAML double-quoted scalar


class DaemonError(AssertionError):
    pass


class Daemon:
    def __init__(self, directory, policy, *, strict=False, mode=None, disable=(), extra=(),
                 node_id="e2e-node", self_defence=False, stdout=None):
        self.dir = Path(directory)
        # Where the daemon's stdout goes (--stdout writes records there): a
        # file object or fd; /dev/null unless a test passes one.
        self.stdout = subprocess.DEVNULL if stdout is None else stdout
        self.dir.mkdir(parents=True, exist_ok=True)
        self.policy_path = self.dir / "policy.yaml"
        self.log_path = self.dir / "audit.log"
        self.state_dir = self.dir / "state"
        self.stderr_path = self.dir / "stderr.txt"
        self.node_id = node_id
        self.write_policy(policy)
        self.blocklist_path = self.dir / "blocklist"
        # Self-defence makes the daemon's binary (build/sysguardd) and policy
        # immutable while it runs, and most tests rewrite the policy behind
        # its back: only the tests of self-defence turn it on.
        self.argv = [str(DAEMON_BIN), "--policy", str(self.policy_path), "--log", str(self.log_path),
                     "--state-dir", str(self.state_dir), "--node-id", node_id,
                     "--blocklist", str(self.blocklist_path),
                     "--self-defence", "on" if self_defence else "off"]
        if strict:
            self.argv.append("--strict")
        if mode:
            self.argv += ["--mode", mode]
        for b in disable:
            self.argv += ["--disable-backend", b]
        self.argv += list(extra)
        self.proc = None
        self.ready = None
        self.returncode = None
        self._records = []
        self.bad_lines = []
        self._buf = b""
        self._off = 0

    # -- files ---------------------------------------------------------
    def write_policy(self, policy):
        text = policy.text if isinstance(policy, Policy) else policy
        data = text.encode() if isinstance(text, str) else text
        tmp = self.dir / "policy.yaml.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.policy_path)

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- life cycle ------------------------------------------------------
    def start(self, timeout=READY_TIMEOUT):
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=self.stdout, stderr=err)
        SESSION_LOGS.append(self.log_path)
        if self.node_id != "e2e-node":
            SESSION_NODE_IDS[self.log_path] = self.node_id
        ready = self.state_dir / "ready"
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise DaemonError(f"sysguardd exited with {self.proc.returncode} before ready; "
                                  f"stderr:\n{self.stderr()}")
            try:
                self.ready = json.loads(ready.read_text())
                if self.ready.get("pid") == self.proc.pid:
                    return self
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise DaemonError(f"sysguardd not ready after {timeout}s; stderr:\n{self.stderr()}")
            time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid

    def stats(self, part=None):
        """stats.json (or its `part`), None while it is not there or half written."""
        try:
            s = json.loads((self.state_dir / "stats.json").read_text())
            return s[part] if part else s
        except (OSError, ValueError, KeyError):
            return None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL; returns the exit status. Uses no exec (fail-closed safe)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                # A killed daemon leaves its programs pinned and enforcing (BPF-5).
                subprocess.run([str(CTL_BIN), "--state-dir", str(self.state_dir), "reset"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
        self.returncode = self.proc.returncode
        self._read()
        return self.returncode

    def reload(self, policy):
        self.write_policy(policy)
        os.kill(self.proc.pid, signal.SIGHUP)

    # -- the audit log -----------------------------------------------------
    def _read(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._off)
                chunk = f.read()
        except FileNotFoundError:
            return
        self._off += len(chunk)
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        for raw in lines:
            try:
                rec = json.loads(raw.decode("utf-8"))
                if not isinstance(rec, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                self.bad_lines.append((raw, str(e)))
                continue
            self._records.append(rec)

    def log_records(self, settle=0.03):
        """
        Every record so far. The daemon writes its log from a queue, so a
        record of what just happened may be a moment behind: read until the
        log stops growing for `settle` seconds (at most half a second).
        """
        self._read()
        deadline = time.monotonic() + 0.5
        seen = -1
        while seen != len(self._records) and time.monotonic() < deadline:
            seen = len(self._records)
            time.sleep(settle)
            self._read()
        return list(self._records)

    def wait_for(self, pred, timeout=WAIT_TIMEOUT, count=1, what=None):
        """Wait until `count` records satisfy pred; returns them (all matches)."""
        deadline = time.monotonic() + timeout
        while True:
            self._read()
            hits = [r for r in self._records if _safe(pred, r)]
            if len(hits) >= count:
                return hits
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise AssertionError(
                    f"timed out waiting for {count} record(s) {what or ''}: got {len(hits)}\n"
                    f"matching: {hits}\ndaemon running: {self.running()}\n"
                    f"stderr:\n{self.stderr()[-3000:]}")
            time.sleep(0.02)

    # -- convenience ---------------------------------------------------------
    def records_for(self, exe=None, pid=None, type=None):
        """Records about a process, by exe path (str or bytes) and/or pid."""
        return [r for r in self.log_records() if matches_process(r, exe=exe, pid=pid, type=type)]

    def wait_exec(self, exe=None, pid=None, decision=None, count=1, timeout=WAIT_TIMEOUT):
        def pred(r):
            return (matches_process(r, exe=exe, pid=pid, type="exec")
                    and (decision is None or r.get("decision") == decision))
        return self.wait_for(pred, timeout=timeout, count=count,
                             what=f"exec exe={exe!r} pid={pid} decision={decision}")

    def mitigations_for(self, exec_rec):
        eid = exec_rec["event_id"]
        return [r for r in self.log_records()
                if r.get("type") in ("mitigation", "action_error") and r.get("decision_event_id") == eid]


def _safe(pred, r):
    try:
        return bool(pred(r))
    except (KeyError, TypeError, AttributeError):
        return False


def record_exe_bytes(r, where="process"):
    """The exact bytes of process.exe (or parent.exe), using exe_hex when present."""
    obj = r.get(where) or {}
    if "exe_hex" in obj:
        return bytes.fromhex(obj["exe_hex"])
    exe = obj.get("exe")
    return None if exe is None else exe.encode()


def matches_process(r, exe=None, pid=None, type=None):
    if type is not None and r.get("type") != type:
        return False
    proc = r.get("process")
    if not isinstance(proc, dict):
        return False
    if pid is not None and proc.get("pid") != pid:
        return False
    if exe is not None and record_exe_bytes(r) != os.fsencode(exe):
        return False
    return True


@pytest.fixture
def daemon(workdir):
    """Factory: daemon(policy, strict=False, mode=None, disable=(), extra=()) -> Daemon."""
    started = []

    def start(policy, **kw):
        for d in started:
            assert not d.running(), "one daemon at a time: stop the previous one first"
        d = Daemon(workdir / f"daemon{len(started)}", policy, **kw)
        started.append(d)
        return d.start()

    yield start
    for d in started:
        d.stop()


# --------------------------------------------------------------------------
# Running things
# --------------------------------------------------------------------------

class Ran:
    """Outcome of an exec attempt from the test process."""

    def __init__(self, argv, returncode=None, exec_errno=0, pid=None):
        self.argv = argv
        self.returncode = returncode
        self.exec_errno = exec_errno
        self.pid = pid

    def __repr__(self):
        return (f"Ran(argv={self.argv!r}, returncode={self.returncode}, "
                f"exec_errno={errno.errorcode.get(self.exec_errno, self.exec_errno)}, pid={self.pid})")


NOBODY = 65534


def as_user(argv, user):
    """argv run as uid/gid `user` (no supplementary groups); as it is for None or 0."""
    if not user:
        return list(argv)
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + list(argv)


@pytest.fixture
def open_dir():
    """A world-writable directory under /tmp: attacks run as nobody reach and write it."""
    d = tempfile.mkdtemp(prefix=E2E_TAG + "open-", dir="/tmp")
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


_GIVEN_PORTS = set()


def free_port():
    """
    A TCP port on 127.0.0.1 that nothing listens on now, below the kernel's
    range for outgoing connections: a server killed and restarted on it
    (nats_bus.py) would otherwise find it taken as some connection's source
    port ("address already in use").
    """
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(max(1024, low - 12000), low)
        if port in _GIVEN_PORTS:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN_PORTS.add(port)
        return port
    raise AssertionError("no free TCP port below the ephemeral range")


def tcp_connect(addr, port, family=None, kind=socket.SOCK_STREAM):
    """
    connect() from this process; 0 or the errno (EPERM: an egress rule
    refused it). kind=socket.SOCK_DGRAM connects a UDP socket instead.
    """
    family = family or (socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s = socket.socket(family, kind)
    s.settimeout(2)
    try:
        s.connect((addr, port))
        return 0
    except OSError as e:
        return e.errno
    finally:
        s.close()


def run(argv, timeout=20, cwd=None):
    """Exec argv from this (python) process; a failed exec is reported, not raised."""
    argv = [os.fspath(a) for a in argv]
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=cwd)
    except OSError as e:
        return Ran(argv, exec_errno=e.errno)
    try:
        p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()  # a held child nobody resumed: do not leave it stopped
        p.wait()
        raise AssertionError(f"{argv!r} still running after {timeout}s (held and never resumed?)")
    return Ran(argv, returncode=p.returncode, pid=p.pid)



# --------------------------------------------------------------------------
# sysguardctl and signed bundles (test_bundles.py, the fleet tests)
# --------------------------------------------------------------------------

def ctl(*args, check=True, timeout=30):
    r = subprocess.run([str(CTL_BIN), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    if check:
        assert r.returncode == 0, r
    return r


@pytest.fixture
def keys(workdir):
    """(ops.key, ops.pub, other.key): a trusted signing key and one that is not."""
    ctl("policy", "keygen", workdir / "ops")
    ctl("policy", "keygen", workdir / "other")
    return workdir / "ops.key", workdir / "ops.pub", workdir / "other.key"


def bundle(workdir, key, version, policy, name=None):
    """The policy signed with key as bundle `version`."""
    src = workdir / f"p{version}-{name or 'x'}.yaml"
    src.write_text(policy.text)
    out = workdir / f"b{version}-{name or 'x'}.bundle"
    ctl("policy", "sign", "--key", key, "--version", version, src, "-o", out)
    return out

# SPDX-License-Identifier: Apache-2.0
"""
sysguardctl's command line: every command and subcommand answers --help (and
-h) with its usage and does nothing else, whatever else is on the line (no
file written, no signal to the daemon, no pin added or removed); bad command
lines exit 2, a missing daemon 3; the global options; tables and -o json.

The destructive commands are run for real once too, against the same fake
daemon and the same files, to show that each check would see the side effect.
"""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import CTL_BIN, REPO, Policy, run

PIN_ROOT = Path("/sys/fs/bpf/sysguard")
FAKE_PIN_DIR = PIN_ROOT / "egress"

SHIELD_SUBS = ["attach", "detach", "unload", "add", "del", "load", "list", "stats", "dry-run",
               "gateway"]


def ctl(*args, timeout=30):
    return subprocess.run([str(CTL_BIN), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def tree(root):
    """Every path under root with its inode, size and mtime: what a side effect changes."""
    out = {}
    root = Path(root)
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_ino, st.st_size, st.st_mtime_ns)
    st = root.lstat()
    out["."] = (st.st_ino, st.st_mtime_ns)
    return out


class FakeDaemon:
    """
    A process named sysguardd (a shell script) whose pid is in STATE/ready, as
    sysguardctl looks for it; it writes a line to `hups` for each SIGHUP.
    """

    SCRIPT = ("#!/bin/sh\n"
              "trap 'echo hup >> \"$1\"' HUP\n"
              "touch \"$2\"\n"
              "while :; do sleep 0.05; done\n")

    def __init__(self, workdir):
        self.dir = workdir / "fake"
        self.dir.mkdir()
        self.state = self.dir / "state"
        self.state.mkdir()
        self.hups = self.dir / "hups"
        self.blocklist = self.dir / "blocklist"
        script = self.dir / "sysguardd"
        script.write_text(self.SCRIPT)
        script.chmod(0o755)
        armed = self.dir / "armed"
        self.proc = subprocess.Popen([str(script), str(self.hups), str(armed)])
        deadline = time.monotonic() + 10
        while not armed.exists():
            assert time.monotonic() < deadline, "the fake daemon did not start"
            time.sleep(0.02)
        assert Path(f"/proc/{self.proc.pid}/comm").read_text().strip() == "sysguardd"
        ready = {"pid": self.proc.pid, "version": "fake", "mode": "enforce", "break_glass": False,
                 "policy_version": "fake-1", "backends": ["fanotify"],
                 "blocklist": str(self.blocklist)}
        (self.state / "ready").write_text(json.dumps(ready, separators=(",", ":")))

    def hup_count(self):
        try:
            return len(self.hups.read_text().splitlines())
        except FileNotFoundError:
            return 0

    def state(self):
        """The fake's process state, for a failure's message (is it stopped? by whom?)."""
        try:
            st = open(f"/proc/{self.proc.pid}/status").read()
            return [l for l in st.splitlines() if l.startswith(("State", "SigIgn", "SigBlk"))]
        except OSError as e:
            return str(e)

    def wait_hups(self, n, timeout=5.0):
        """The count once it reached n (the shell runs its trap after its sleep), or at timeout."""
        deadline = time.monotonic() + timeout
        while self.hup_count() < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.hup_count()

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def fake(workdir):
    f = FakeDaemon(workdir)
    yield f
    f.stop()


@pytest.fixture
def fake_pins(tools):
    """A real pinned map in a SysGuard pin directory, as a killed daemon leaves them."""
    # Mounted in the suite's own mount namespace (conftest), as the daemon would.
    mounted = subprocess.run(["stat", "-f", "-c", "%T", "/sys/fs/bpf"], capture_output=True,
                             text=True).stdout.strip() != "bpf_fs"
    if mounted:
        subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check=True)
    if FAKE_PIN_DIR.exists():
        pytest.skip(f"{FAKE_PIN_DIR} exists: pins of another daemon, not ours to play with")
    made_root = not PIN_ROOT.exists()
    FAKE_PIN_DIR.mkdir(parents=True)
    pin = FAKE_PIN_DIR / "sg_cli_test"
    subprocess.run(["bpftool", "map", "create", str(pin), "type", "array", "key", "4", "value", "4",
                    "entries", "1", "name", "sg_cli_test"], check=True, capture_output=True)
    yield pin
    if pin.exists():
        pin.unlink()
    if FAKE_PIN_DIR.exists():
        FAKE_PIN_DIR.rmdir()
    if made_root:
        try:
            PIN_ROOT.rmdir()
        except OSError:
            pass
    if mounted:
        subprocess.run(["umount", "/sys/fs/bpf"], check=True)


def command_lines(w, fake):
    """
    Every command path with the arguments that would make it act, so that
    --help must win over a complete, valid command line.
    """
    policy = w / "p.yaml"
    policy.write_text(Policy([], version="cli-help").text)
    target = w / "victim"
    target.write_text("x\n")
    lines = {
        (): [],
        ("probe",): ["-o", "json"],
        ("status",): ["-o", "json"],
        ("stats",): [],
        ("events",): ["--follow", "--token-file", w / "token"],
        ("reload",): ["--timeout=1"],
        ("reset",): [],
        ("break-glass",): [],
        ("break-glass", "on"): ["--reason", "help must not switch"],
        ("break-glass", "off"): [],
        ("policy",): [],
        ("policy", "keygen"): [w / "k"],
        ("policy", "sign"): ["--key", w / "k.key", "--version", "1", policy, "-o", w / "b"],
        ("policy", "verify"): ["--pub", w / "k.pub", w / "b"],
        ("policy", "apply"): [policy],
        # The policy tools: each would write its -o file (or read a log) without --help.
        ("policy", "check"): [policy],
        ("policy", "test"): [policy, "--exe", "/usr/bin/true", "-o", "json"],
        ("policy", "learn"): ["--from", w / "audit.log", "-o", w / "learned.yaml"],
        ("policy", "trust"): ["dpkg", "-o", w / "trusted.yaml"],
        ("policy", "diff"): [policy, policy, "--log", w / "audit.log"],
        ("block",): [],
        ("block", "add"): [target],
        ("block", "del"): [target],
        ("block", "list"): [],
        ("shield",): [],
        ("shield", "attach"): ["lo", "--generic"],
        ("shield", "detach"): ["lo"],
        ("shield", "unload"): [],
        ("shield", "add"): ["192.0.2.1"],
        ("shield", "del"): ["192.0.2.1"],
        ("shield", "load"): [w / "list.txt"],
        ("shield", "list"): [],
        ("shield", "stats"): ["--all"],
        ("shield", "dry-run"): ["on"],
        ("shield", "gateway"): ["192.0.2.254"],
    }
    (w / "list.txt").write_text("192.0.2.0/24\n")
    (w / "audit.log").write_text("")
    assert {p[1] for p in lines if p[:1] == ("shield",) and len(p) == 2} == set(SHIELD_SUBS)
    return lines


def test_help_everywhere_prints_usage_and_does_nothing(workdir, fake, fake_pins):
    lines = command_lines(workdir, fake)
    before_files, before_pins = tree(workdir), tree(PIN_ROOT)
    for path, args in lines.items():
        for flag in ("--help", "-h"):
            # The flag last, after everything that would make the command act.
            argv = ["--state-dir", fake.state, *path, *args, flag]
            r = ctl(*argv)
            # break-glass on|off are its argument, not commands of their own.
            words = path[:1] if path[:1] == ("break-glass",) else path
            want = "usage: sysguardctl " + " ".join(words)
            assert r.returncode == 0, (argv, r)
            assert r.stdout.startswith(want.rstrip()), (argv, r.stdout[:200])
            assert r.stderr == "", (argv, r.stderr)
        assert tree(workdir) == before_files, f"{path} --help changed files"
        assert tree(PIN_ROOT) == before_pins, f"{path} --help changed the pins"
        assert fake.hup_count() == 0, f"{path} --help signalled the daemon"
    # --help right after the command word, before its arguments, is help as well.
    r = ctl("--state-dir", fake.state, "break-glass", "--help", "on", "--reason", "x")
    assert r.returncode == 0 and r.stdout.startswith("usage: sysguardctl break-glass")
    # ...but a --help that is the value of an option is that value.
    r = ctl("--state-dir", fake.state, "break-glass", "off", "--reason", "--help")
    assert r.returncode == 2 and r.stdout == ""
    assert not (fake.state / "break-glass").exists() and fake.hup_count() == 0


def test_the_checks_see_what_the_commands_do(workdir, fake, fake_pins):
    """The same commands without --help: each side effect the help test looks for shows."""
    w = workdir
    command_lines(w, fake)
    r = ctl("--state-dir", fake.state, "reload", "--timeout=0.5")
    assert r.returncode == 1 and "kept its policy" in r.stderr, r
    assert fake.wait_hups(1) == 1, (r, fake.state())
    r = ctl("--state-dir", fake.state, "break-glass", "on", "--reason", "drill", "--timeout", "0.3")
    assert r.returncode == 1, r
    assert (fake.state / "break-glass").read_text() == "drill" and fake.wait_hups(2) == 2
    r = ctl("policy", "keygen", w / "k")
    assert r.returncode == 0 and (w / "k.key").exists(), r
    r = ctl("policy", "sign", "--key", w / "k.key", "--version=1", w / "p.yaml", "--output", w / "b")
    assert r.returncode == 0 and (w / "b").exists(), r
    r = ctl("policy", "verify", "--pub", w / "k.pub", "--min-version=1", w / "b")
    assert r.returncode == 0 and "ok: version 1" in r.stdout, r
    assert fake_pins.exists()
    r = ctl("--state-dir", fake.state, "reset")
    assert r.returncode == 0 and f"removed {fake_pins}" in r.stdout, r
    assert not fake_pins.exists()


def test_bad_command_lines_exit_2_with_a_hint(workdir):
    cases = [
        (["--bogus"], "try 'sysguardctl --help'"),
        (["frobnicate"], "try 'sysguardctl --help'"),
        ([], "try 'sysguardctl --help'"),
        (["--state-dir"], "try 'sysguardctl --help'"),
        (["status", "--bogus"], "try 'sysguardctl status --help'"),
        (["status", "-o"], "try 'sysguardctl status --help'"),
        (["status", "-o", "xml"], "try 'sysguardctl status --help'"),
        # -o last, with no value: the word before it is not its value (the --help scan
        # once moved it behind -o, and this ran `status -o json`).
        (["status", "json", "-o"], "try 'sysguardctl status --help'"),
        (["stats", "extra"], "try 'sysguardctl stats --help'"),
        (["reload", "--timeout=soon"], "try 'sysguardctl reload --help'"),
        (["reset", "-x"], "try 'sysguardctl reset --help'"),
        (["break-glass", "on"], "try 'sysguardctl break-glass --help'"),
        (["break-glass", "sideways"], "try 'sysguardctl break-glass --help'"),
        (["events"], "try 'sysguardctl events --help'"),
        (["policy"], "try 'sysguardctl policy --help'"),
        (["policy", "burn"], "try 'sysguardctl policy --help'"),
        (["policy", "sign", "--version", "x"], "try 'sysguardctl policy sign --help'"),
        (["policy", "keygen"], "try 'sysguardctl policy keygen --help'"),
        (["policy", "apply", "--bogus", "f"], "try 'sysguardctl policy apply --help'"),
        (["policy", "check"], "try 'sysguardctl policy check --help'"),
        (["policy", "check", "--strict", "p.yaml"], "try 'sysguardctl policy check --help'"),
        (["policy", "test", "p.yaml"], "try 'sysguardctl policy test --help'"),
        (["policy", "test", "p.yaml", "--exe"], "try 'sysguardctl policy test --help'"),
        (["policy", "test", "p.yaml", "--exe", "/usr/bin/true", "-o", "text"],
         "try 'sysguardctl policy test --help'"),
        (["policy", "test", "p.yaml", "--exe", "/usr/bin/true", "--uid", "-1"],
         "try 'sysguardctl policy test --help'"),
        (["policy", "learn"], "try 'sysguardctl policy learn --help'"),
        (["policy", "learn", "audit.log", "--from"], "try 'sysguardctl policy learn --help'"),
        (["policy", "learn", "--from", "audit.log", "--since", "yesterday"],
         "try 'sysguardctl policy learn --help'"),
        (["policy", "trust", "rpm"], "try 'sysguardctl policy trust --help'"),
        (["policy", "trust", "dpkg", "-o"], "try 'sysguardctl policy trust --help'"),
        (["policy", "diff", "old.yaml", "new.yaml"], "try 'sysguardctl policy diff --help'"),
        (["policy", "diff", "old.yaml", "new.yaml", "--log=audit.log", "--quiet"],
         "try 'sysguardctl policy diff --help'"),
        (["block", "add"], "try 'sysguardctl block add --help'"),
        (["block", "chmod", "x"], "try 'sysguardctl block --help'"),
        (["shield", "attach"], "try 'sysguardctl shield attach --help'"),
        (["shield", "stats", "--bogus"], "try 'sysguardctl shield stats --help'"),
        (["shield", "warp"], "try 'sysguardctl shield --help'"),
        (["probe", "--jsn"], "try 'sysguardctl probe --help'"),
    ]
    before = tree(workdir)
    for argv, hint in cases:
        r = ctl("--state-dir", workdir / "state", *argv)
        assert r.returncode == 2, (argv, r)
        assert r.stderr.strip().endswith(hint), (argv, r.stderr)
        assert r.stdout == "", (argv, r.stdout)
    assert tree(workdir) == before
    # A value the Shield's commands themselves refuse is a usage error too, with the hint.
    r = ctl("shield", "--pin-dir", workdir / "pins", "gateway", "10.0.0.0/8")
    assert r.returncode == 2 and "try 'sysguardctl shield gateway --help'" in r.stderr, r


def test_no_daemon_exits_3(workdir):
    state = workdir / "empty-state"
    state.mkdir()
    victim = workdir / "victim"
    victim.write_text("x\n")
    for argv in (["status"], ["stats", "-o", "json"], ["reload"], ["break-glass", "off"],
                 ["block", "list"], ["block", "add", victim], ["policy", "apply", victim]):
        r = ctl("--state-dir", state, *argv)
        assert r.returncode == 3, (argv, r)
        assert "no running sysguardd" in r.stderr, (argv, r.stderr)
    assert list(state.iterdir()) == []
    (workdir / "token").write_text("t" * 20)
    r = ctl("--state-dir", state, "events", "--token-file", workdir / "token")
    assert r.returncode == 3 and "API socket" in r.stderr, r


def test_version_is_the_one_of_the_build():
    version = (REPO / "VERSION").read_text().strip()
    tag = subprocess.run(["git", "-C", str(REPO), "describe", "--tags", "--match", "v[0-9]*",
                          "--dirty"], capture_output=True, text=True)
    if tag.returncode == 0:
        version = tag.stdout.strip()[1:]
    for flag in ("--version", "-V"):
        r = ctl(flag)
        assert r.returncode == 0 and r.stdout == f"sysguardctl {version}\n", r
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version)


def table_rows(text):
    """A two-column table as {name: value}: columns are two spaces or more apart."""
    rows = {}
    for line in text.splitlines():
        name, _, value = re.split(r"(\s{2,})", line, maxsplit=1)
        rows[name] = value
    return rows


def flatten(obj, prefix=""):
    out = {}
    for k, v in obj.items():
        name = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            out.update(flatten(v, name))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                if isinstance(x, dict):
                    out.update(flatten(x, f"{name}[{i}]"))
                else:
                    out[f"{name}[{i}]"] = x
        else:
            out[name] = v
    return out


@pytest.fixture
def api_daemon(tools, workdir, daemon):
    tok = workdir / "token"
    tok.write_text("cli-test-token-0123456789\n")
    bad = tools.make_bin(workdir, "cli-denied")
    d = daemon(Policy([{"name": "no-cli-bad", "action": "deny", "path": bad}], version="cli-v1"),
               extra=["--api-token-file", str(tok)])
    return d, tok, bad


def test_status_and_stats_tables_and_json(api_daemon, workdir):
    d, tok, bad = api_daemon
    # --state-dir=DIR and --state-dir DIR are one option.
    a = ctl(f"--state-dir={d.state_dir}", "status", "-o", "json")
    b = ctl("--state-dir", d.state_dir, "status", "--output=json")
    assert a.returncode == 0 and b.returncode == 0, (a, b)
    assert json.loads(a.stdout) == json.loads(b.stdout) == d.ready

    r = ctl("--state-dir", d.state_dir, "status")
    assert r.returncode == 0, r
    rows = table_rows(r.stdout)
    assert rows["mode"] == d.ready["mode"] == "enforce"
    assert rows["policy version"] == "cli-v1"
    assert rows["backends"] == ", ".join(d.ready["backends"])
    assert rows["pid"] == str(d.pid)
    assert re.fullmatch(r"\d+s|\d+m \d\ds", rows["uptime"]), rows["uptime"]
    # The values start in one column.
    starts = {len(line) - len(line[len(name):].lstrip()) for line in r.stdout.splitlines()
              for name in [line.split("  ")[0]]}
    assert len(starts) == 1, r.stdout

    # Through the API: the same fields, and the API's uptime.
    r = ctl("--state-dir", d.state_dir, "status", "--token-file", tok)
    assert r.returncode == 0 and table_rows(r.stdout)["policy version"] == "cli-v1", r
    j = json.loads(ctl("--state-dir", d.state_dir, "status", "-o", "json", "--token-file",
                       tok).stdout)
    assert "uptime_s" in j and j["policy_version"] == "cli-v1"

    for extra in ([], ["--token-file", tok]):
        tj = ctl("--state-dir", d.state_dir, "stats", "-o", "json", *extra)
        tt = ctl("--state-dir", d.state_dir, "stats", *extra)
        assert tj.returncode == 0 and tt.returncode == 0, (tj, tt)
        lines = tt.stdout.splitlines()
        assert re.fullmatch(r"COUNTER\s+VALUE", lines[0])
        rows = table_rows("\n".join(lines[1:]))
        flat = flatten(json.loads(tj.stdout))
        assert set(rows) == set(flat), set(rows) ^ set(flat)
        assert rows["policy_version"] == "cli-v1"
        assert rows["fanotify.active"] == ("yes" if flat["fanotify.active"] else "no")
        assert int(rows["decisions.allowed"]) >= 0


def test_events_table_shows_a_deny(api_daemon, workdir):
    d, tok, bad = api_daemon
    ran = run([bad, workdir / "m"])
    assert ran.exec_errno != 0
    d.wait_exec(exe=bad, decision="deny")
    deadline = time.monotonic() + 10
    while True:
        j = json.loads(ctl("--state-dir", d.state_dir, "events", "-o", "json",
                           "--token-file", tok).stdout)
        if any(e.get("type") == "exec" and e["process"]["exe"] == bad for e in j):
            break
        assert time.monotonic() < deadline, "the deny is not in /events"
        time.sleep(0.2)
    r = ctl("--state-dir", d.state_dir, "events", f"--token-file={tok}")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["TIME", "TYPE", "DECISION", "PID", "EXE"]
    mine = [line for line in lines[1:] if line.endswith(bad)]
    assert mine, r.stdout
    cols = mine[0].split()
    assert cols[1:3] == ["exec", "deny"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", cols[0])
    assert len(lines) >= len(j) + 1


def test_reload_exits_1_on_a_refused_policy(daemon):
    """reload waits for the daemon's answer (--timeout): systemctl reload fails on a bad policy."""
    d = daemon(Policy([], version="cli-v1"))
    r = ctl("--state-dir", d.state_dir, "reload")
    assert r.returncode == 0 and table_rows(r.stdout)["policy version"] == "cli-v1", r
    d.write_policy("version: [\n")
    t0 = time.monotonic()
    r = ctl("--state-dir", d.state_dir, "reload", "--timeout", "1.5")
    took = time.monotonic() - t0
    # The daemon answers at once that it refused: no waiting for the timeout.
    assert r.returncode == 1 and "kept its policy: refused" in r.stderr, r
    assert took < 1.4, took
    d.write_policy(Policy([], version="cli-v2"))
    r = ctl("--state-dir", d.state_dir, "reload", "--timeout=10", "-o", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["policy_version"] == "cli-v2", r
    assert d.running()

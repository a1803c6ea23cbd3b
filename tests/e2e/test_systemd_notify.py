"""
systemd's service manager protocol, with the daemon started as a
Type=notify unit starts it: $NOTIFY_SOCKET names a datagram socket that
listens here (PID 1 on these machines is not systemd). READY=1 comes only
once enforcement is active; the watchdog is pinged; a reload says
RELOADING=1 then READY=1 and its answer is in reload.result; a stop says
STOPPING=1.
"""
import errno
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import CTL_BIN, DAEMON_BIN, REPO, Daemon, Policy, run


class NotifyListener:
    """Reads every datagram as it arrives, noting what was on disk at that moment."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.watch_file = None
        self.messages = []   # (monotonic time, {key: value}, watch_file existed)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.seen = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            existed = self.watch_file is not None and self.watch_file.exists()
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields, existed))

    def wait(self, key, timeout=30, value=""):
        """The next message (after those already waited for) that carries key (containing value)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                while self.seen < len(self.messages):
                    m = self.messages[self.seen]
                    self.seen += 1
                    if key in m[1] and value in m[1][key]:
                        return m
            time.sleep(0.01)
        raise AssertionError(f"no {key} from the daemon; got {self.messages}")

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture
def notify(workdir, monkeypatch):
    # sun_path holds 108 bytes: the workdir's path is too long for it.
    short = tempfile.mkdtemp(prefix="sgn-", dir="/tmp")
    listener = NotifyListener(os.path.join(short, "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", listener.path)
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    yield listener
    listener.close()
    shutil.rmtree(short, ignore_errors=True)


def test_ready_only_once_enforcing_then_watchdog_reload_and_stop(tools, workdir, daemon, notify):
    bad = tools.make_bin(workdir, "bad")
    marker = workdir / "bad.marker"
    policy = Policy([{"name": "deny-bad", "action": "deny", "path": bad}])
    notify.watch_file = workdir / "daemon0" / "state" / "ready"
    d = daemon(policy)
    _, ready, ready_file_existed = notify.wait("READY")
    assert ready["READY"] == "1"
    assert "enforce mode, policy e2e-1" in ready["STATUS"]
    # READY=1 comes after the ready file, which is written once every backend started.
    assert ready_file_existed
    ran = run([bad, marker])
    assert ran.exec_errno == errno.EPERM and not marker.exists(), ran

    # WATCHDOG_USEC=1s: the event loop pings about every half second.
    time.sleep(2.2)
    with notify.lock:
        pings = [m for m in notify.messages if m[1].get("WATCHDOG") == "1"]
    assert len(pings) >= 3, pings

    # A refused reload: RELOADING=1, then READY=1 again; the answer says refused. (The
    # rewritten file also reloads by itself, through the policy watch: a second pair.)
    result = d.state_dir / "reload.result"
    d.reload("version: [unclosed\n")
    notify.wait("RELOADING")
    notify.wait("READY")
    assert result.read_text().startswith("refused:"), result.read_text()
    # A good one is applied.
    d.reload(Policy([{"name": "deny-bad", "action": "deny", "path": bad}], version="e2e-2"))
    notify.wait("RELOADING")
    notify.wait("STATUS", value="policy e2e-2")
    assert result.read_text() == "applied e2e-2\n"

    os.kill(d.pid, signal.SIGTERM)
    notify.wait("STOPPING")
    assert d.stop() == 0


def test_without_notify_socket_nothing_is_sent(daemon, monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    d = daemon(Policy(mode="monitor"))
    assert d.running()
    assert d.stop() == 0


def unit_settings():
    unit = {}
    for line in (REPO / "deploy" / "systemd" / "sysguardd.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            unit[k.strip()] = v.strip()
    return unit


def test_the_units_own_commands_under_a_notify_listener(tools, workdir, notify, monkeypatch):
    """ExecStart and ExecReload of the shipped unit, as systemd would run them (Type=notify)."""
    unit = unit_settings()
    assert unit["Type"] == "notify" and unit["NotifyAccess"] == "main"
    assert unit["WatchdogSec"].endswith("s")
    monkeypatch.setenv("WATCHDOG_USEC", str(int(unit["WatchdogSec"][:-1]) * 1000000))
    start = shlex.split(unit["ExecStart"])
    reload_cmd = shlex.split(unit["ExecReload"])
    assert start[0] == "/usr/sbin/sysguardd" and reload_cmd == ["/usr/sbin/sysguardctl", "reload"]

    bad = tools.make_bin(workdir, "unit-bad")
    config = workdir / "sysguard.yaml"
    shutil.copy(REPO / "deploy" / "sysguard.yaml", config)
    d = Daemon(workdir / "unit", Policy([{"name": "no-bad", "action": "deny", "path": bad}]))
    # The unit's command, from the build tree, with this test's files in place of the host's.
    d.argv = ([str(DAEMON_BIN)] + [str(config) if a == "/etc/sysguard/sysguard.yaml" else a
                                   for a in start[1:]]
              + ["--policy", str(d.policy_path), "--log", str(d.log_path),
                 "--state-dir", str(d.state_dir), "--blocklist", str(d.blocklist_path),
                 "--node-id", "e2e-node"])
    notify.watch_file = d.state_dir / "ready"
    try:
        d.start()
        _, msg, ready_file_existed = notify.wait("READY")
        assert ready_file_existed and "enforce mode" in msg["STATUS"]
        assert run([bad, workdir / "m"]).exec_errno == errno.EPERM

        def reload():
            return subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir)] + reload_cmd[1:],
                                  capture_output=True, text=True, timeout=30)
        # The reference settings keep self-defence on: the policy file is the daemon's
        # to write, so a new one goes through its inbox, as sysguardctl policy apply does.
        inbox = d.state_dir / "policy.inbox"
        # ExecReload fails when the daemon refuses the new policy (so does systemctl reload)...
        inbox.write_text("version: [\n")
        r = reload()
        assert r.returncode == 1 and "refused" in r.stderr, r
        # ...and succeeds when it takes it.
        inbox.write_text(Policy([{"name": "no-bad", "action": "deny", "path": bad}],
                                version="unit-2").text)
        r = reload()
        assert r.returncode == 0, r
        assert json.loads((d.state_dir / "ready").read_text())["policy_version"] == "unit-2"
        os.kill(d.pid, signal.SIGTERM)
        notify.wait("STOPPING")
    finally:
        assert d.stop() == 0

# SPDX-License-Identifier: Apache-2.0
"""
BPF-5: programs, links and maps pinned under /sys/fs/bpf/sysguard. A daemon
killed with SIGKILL leaves the in-kernel exec kill and the egress deny in
force; a restarted daemon adopts them instead of stacking a second copy; a
clean stop and `sysguardctl reset` remove them. Holds need a live daemon:
with none, a memfd exec runs instead of being stopped for ever.
"""
import errno
import json
import os
import signal
import subprocess
import time

from conftest import CTL_BIN, run, tcp_connect

PIN_ROOT = "/sys/fs/bpf/sysguard"


def policy(bad):
    return (f'version: "pinned-1"\nmode: enforce\ndefault: allow\nrules:\n'
            f'  - {{name: no-bad, action: deny, identity: "{bad}"}}\n'
            f'egress:\n  - {{name: no-77, action: deny, cidr: 127.0.0.77/32, port: 9}}\n')


def kill_9(d):
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait()


def programs(name):
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return [p for p in json.loads(out or "[]") if p.get("name") == name]


def test_kill_9_leaves_enforcement_and_a_restart_adopts_it(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "pinned-denied", static=True)
    ok = tools.make_bin(workdir, "pinned-ok", tag="pinned-ok", static=True)
    d = daemon(policy(bad))
    assert run([bad, workdir / "m0"]).exec_errno == errno.EPERM
    kill_9(d)
    try:
        ran = run([bad, workdir / "m1"])
        assert ran.returncode == -signal.SIGKILL, ran      # killed at exec, in the kernel
        assert not (workdir / "m1").exists()
        assert tcp_connect("127.0.0.77", 9) == errno.EPERM
        assert tcp_connect("127.0.0.77", 10) == errno.ECONNREFUSED
        # No daemon to answer a hold: the memfd exec runs rather than hang.
        rep = tools.sgexec_run("memfd", ok, workdir / "m2", timeout=20)
        assert rep["exited"] == 0 and not rep["timeout"], rep

        d2 = daemon(policy(bad))
        pin = [r for r in d2.log_records() if r["type"] == "bpf_pin" and r["dir"].endswith("/exec")]
        assert pin and pin[0]["adopted"] is True and pin[0]["replaced_links"] >= 2, pin
        deadline = time.monotonic() + 10
        while len(programs("sg_exec")) != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(programs("sg_exec")) == 1, "the old programs were not taken over"
        assert len(programs("sg_connect4")) == 1
        assert run([bad, workdir / "m3"]).exec_errno == errno.EPERM
        d2.stop()
    finally:
        subprocess.run([str(CTL_BIN), "reset"], capture_output=True)
    # A clean stop takes the kernel enforcement with it.
    assert not os.path.exists(f"{PIN_ROOT}/exec")
    assert run([bad, workdir / "m4"]).returncode == 0


def test_reset_removes_what_a_killed_daemon_left(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "reset-denied", static=True)
    d = daemon(policy(bad))
    kill_9(d)
    assert run([bad, workdir / "m0"]).returncode == -signal.SIGKILL
    r = subprocess.run([str(CTL_BIN), "reset"], capture_output=True, text=True)
    assert r.returncode == 0, r
    assert f"removed {PIN_ROOT}/exec/link_exec" in r.stdout
    assert f"removed {PIN_ROOT}/egress/link_sg_connect4" in r.stdout
    assert not os.path.exists(PIN_ROOT)
    assert run([bad, workdir / "m1"]).returncode == 0
    assert tcp_connect("127.0.0.77", 9) == errno.ECONNREFUSED
    r = subprocess.run([str(CTL_BIN), "reset"], capture_output=True, text=True)
    assert "nothing was pinned" in r.stdout

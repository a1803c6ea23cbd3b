"""
Learn, then enforce, with a guardrail: the ways the daemon drops to monitor
mode by itself so a wrong policy or a crashing daemon cannot lock a host up.
- the policy's guard: more than max_denies denied execs within per_seconds,
  in the first for_seconds of enforcing;
- a crash loop: --crash-limit starts in a row without a clean stop;
- sysguard.mode=monitor on the kernel command line.
"""
import errno
import json
import os
import re
import signal
import subprocess
import time

from alert_receivers import Receiver
from conftest import CTL_BIN, Daemon, Policy, run


def guarded(bad, version="guard-1", **guard):
    g = ", ".join(f"{k}: {v}" for k, v in guard.items())
    return (f'version: "{version}"\nmode: enforce\ndefault: allow\n'
            f"guard: {{{g}}}\n"
            f'rules:\n  - {{name: no-bad, action: deny, path: "{bad}"}}\n')


def ready(d):
    return json.loads((d.state_dir / "ready").read_text())


def wait_ready(d, pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = ready(d)
            if pred(r):
                return r
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"ready never matched; last: {(d.state_dir / 'ready').read_text()}")


def test_too_many_denies_right_after_enforcing_drop_to_monitor(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "guard-bad")
    hook = Receiver()
    d = daemon(guarded(bad, max_denies=3, per_seconds=60, for_seconds=600),
               extra=["--alert-enabled", "--alert-url", hook.url()])
    assert d.ready["mode"] == "enforce" and d.ready["guard_tripped"] is False
    for i in range(4):
        assert run([bad, workdir / f"m{i}"]).exec_errno == errno.EPERM
    rec = d.wait_for(lambda r: r["type"] == "guard_tripped", what="guard_tripped")[0]
    assert rec["severity"] == "critical"
    assert rec["denies"] == 4 and rec["max_denies"] == 3 and rec["per_s"] == 60
    assert rec["line"] == 4 and rec["mode"] == "monitor"
    # Alerted too, next to the deny alerts.
    deadline = time.monotonic() + 15
    while not any("monitor mode (policy guard)" in json.dumps(b) for b in hook.bodies()):
        assert time.monotonic() < deadline, hook.bodies()
        time.sleep(0.1)
    hook.close()
    r = wait_ready(d, lambda r: r["mode"] == "monitor")
    assert r["guard_tripped"] is True
    # What an operator sees first.
    st = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "status"],
                        capture_output=True, text=True, timeout=20)
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in st.stdout.splitlines()
                if re.search(r"\S\s{2,}\S", line))
    assert st.returncode == 0 and rows.get("mode") == "monitor", st.stdout
    assert rows.get("guard tripped") == "yes", st.stdout
    # Monitor mode: the same program runs now, and is recorded as a would-be deny.
    assert run([bad, workdir / "after"]).returncode == 0
    assert (workdir / "after").exists()

    # A reload is a new chance: enforcing again, with the guard armed again.
    d.reload(guarded(bad, version="guard-2", max_denies=3))
    r = wait_ready(d, lambda r: r["policy_version"] == "guard-2")
    assert r["mode"] == "enforce" and r["guard_tripped"] is False
    assert run([bad, workdir / "again"]).exec_errno == errno.EPERM


def test_denies_below_the_limit_or_after_the_guard_period_keep_enforcing(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "guard-bad2")
    d = daemon(guarded(bad, max_denies=3, per_seconds=60, for_seconds=2))
    for i in range(3):
        assert run([bad, workdir / f"m{i}"]).exec_errno == errno.EPERM
    d.wait_for(lambda r: r["type"] == "guard" and "passed" in r.get("state", ""),
               what="guard passed", timeout=10)
    for i in range(5):
        assert run([bad, workdir / f"n{i}"]).exec_errno == errno.EPERM
    time.sleep(0.3)
    assert not d.records_for(type="guard_tripped")
    assert ready(d)["mode"] == "enforce"


def test_a_bad_guard_is_a_policy_error_with_its_line(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "guard-bad3")
    d = daemon(guarded(bad, max_denies=0))
    err = d.wait_for(lambda r: r["type"] == "policy_error", what="policy_error")[0]
    assert err["line"] == 4 and "max_denies must be 1 to 100000" in err["error"]


def crash(d):
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    # A killed daemon leaves its programs pinned and enforcing: take them away.
    subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "reset"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


def test_a_crash_loop_starts_in_monitor_mode_until_a_clean_run(tools, workdir):
    bad = tools.make_bin(workdir, "crash-bad")
    policy = Policy([{"name": "no-bad", "action": "deny", "path": bad}])
    d = Daemon(workdir / "crashy", policy, extra=["--crash-limit", "2"])
    try:
        for _ in range(2):
            d.start()
            assert d.ready["mode"] == "enforce" and "recovery" not in d.ready
            crash(d)
        d.start()
        assert d.ready["mode"] == "monitor" and d.ready["recovery"] == "crash_loop"
        rec = d.wait_for(lambda r: r["type"] == "recovery_mode", what="recovery_mode")[0]
        assert rec["reason"] == "crash_loop" and rec["severity"] == "critical"
        assert run([bad, workdir / "ran"]).returncode == 0
        # This run stops cleanly: the next one enforces.
        assert d.stop() == 0
        d.start()
        assert d.ready["mode"] == "enforce" and "recovery" not in d.ready
        assert run([bad, workdir / "ran2"]).exec_errno == errno.EPERM
    finally:
        d.stop()


def test_kernel_command_line_switch_starts_in_monitor_mode(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "boot-bad")
    fake = workdir / "cmdline"
    fake.write_text("BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro sysguard.mode=monitor quiet\n")
    # conftest put this session in a mount namespace of its own: the host's
    # /proc/cmdline is untouched, the daemon (a child) reads the fake one.
    subprocess.run(["mount", "--bind", str(fake), "/proc/cmdline"], check=True)
    try:
        d = daemon(Policy([{"name": "no-bad", "action": "deny", "path": bad}]))
        assert d.ready["mode"] == "monitor" and d.ready["recovery"] == "kernel_command_line"
        rec = d.wait_for(lambda r: r["type"] == "recovery_mode", what="recovery_mode")[0]
        assert rec["reason"] == "kernel_command_line"
        assert run([bad, workdir / "ran"]).returncode == 0
        d.stop()
    finally:
        subprocess.run(["umount", "/proc/cmdline"], check=True)
    # A look-alike parameter is not the switch.
    fake.write_text("quiet nosysguard.mode=monitor sysguard.mode=monitorx\n")
    subprocess.run(["mount", "--bind", str(fake), "/proc/cmdline"], check=True)
    try:
        d2 = daemon(Policy([{"name": "no-bad", "action": "deny", "path": bad}]))
        assert d2.ready["mode"] == "enforce" and "recovery" not in d2.ready
    finally:
        d2.stop()
        subprocess.run(["umount", "/proc/cmdline"], check=True)

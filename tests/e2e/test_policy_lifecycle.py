# SPDX-License-Identifier: Apache-2.0
"""POL-3 (hot reload) and POL-4 (failure defaults)."""
import errno
import json
import os
import re


from conftest import Policy, run, sha256_of


def broken_policy(exe):
    """A policy that denies exe, with a typo'd key on its last line; returns (text, line, col)."""
    text = (
        'version: "e2e-broken"\n'
        "mode: enforce\n"
        "default: allow\n"
        "rules:\n"
        f'  - {{name: deny-it, action: deny, path: "{exe}"}}\n'
        f'  - {{name: typo, action: deny, pathh: "{exe}"}}\n'
    )
    line = 6
    col = text.splitlines()[line - 1].index("pathh") + 1
    return text, line, col


def assert_names_location(d, line, col):
    err = d.stderr()
    loc = f"{d.policy_path}:{line}:{col}"
    assert loc in err, f"stderr does not name {loc}:\n{err}"
    assert err.count(loc) == 1, f"stderr names {loc} more than once:\n{err}"
    recs = d.log_records()
    pe = [r for r in recs if r["type"] == "policy_error"]
    assert pe, "no policy_error record"
    assert (pe[0]["path"], pe[0]["line"], pe[0]["column"]) == (str(d.policy_path), line, col)
    assert pe[0]["severity"] == "critical"
    assert "pathh" in pe[0]["error"]


def test_invalid_policy_fails_open_without_strict(tools, workdir, daemon):
    exe = tools.make_bin(workdir, "would-be-denied")
    text, line, col = broken_policy(exe)
    d = daemon(text)
    assert d.ready["mode"] == "monitor"
    assert d.ready["policy_version"] == "failsafe-open"
    assert_names_location(d, line, col)
    fs = [r for r in d.log_records() if r["type"] == "policy_failsafe"]
    assert len(fs) == 1 and fs[0]["severity"] == "warning" and "open" in fs[0]["behaviour"]
    marker = workdir / "m"
    ran = run([exe, marker])
    assert ran.returncode == 0 and marker.exists(), ran
    rec = d.wait_exec(exe=exe, pid=ran.pid)[0]
    assert rec["decision"] == "allow" and rec["policy_version"] == "failsafe-open"


def test_invalid_policy_fails_closed_with_strict(tools, workdir, daemon):
    """
    Fail closed: EVERY exec on the host is denied while this daemon runs.
    Nothing may be exec'd here between start and stop but the one probe.
    """
    text, line, col = broken_policy("/usr/bin/true")
    probe_err = None
    d = daemon(text, strict=True)
    try:
        try:
            pid = os.posix_spawn("/bin/true", ["/bin/true"], {})
            os.waitpid(pid, 0)
        except OSError as e:
            probe_err = e.errno
    finally:
        rc = d.stop()
    assert rc == 0
    assert probe_err == errno.EPERM, f"/bin/true was not refused with EPERM (got {probe_err})"
    assert d.ready["mode"] == "enforce"
    assert d.ready["policy_version"] == "failsafe-closed"
    assert "fanotify" in d.ready["backends"]
    assert_names_location(d, line, col)
    recs = d.log_records()
    fs = [r for r in recs if r["type"] == "policy_failsafe"]
    assert len(fs) == 1 and fs[0]["severity"] == "critical" and "closed" in fs[0]["behaviour"]
    true_exe = os.path.realpath("/bin/true")
    denied = [r for r in recs if r["type"] == "exec" and r["process"]["exe"] == true_exe
              and r["parent"]["pid"] == os.getpid()]
    assert denied, "no record of the refused probe"
    r = denied[0]
    assert r["decision"] == "deny" and r["rule"] is None and r["default_action"] is True
    assert r["enforced_by"] == "fanotify" and r["policy_version"] == "failsafe-closed"


def test_sighup_reload_denies_newly_listed_binary(tools, workdir, daemon):
    exe = tools.make_bin(workdir, "reloaded", tag="reload-target")
    other = tools.make_bin(workdir, "other", tag="reload-other")
    v1 = Policy([{"name": "old", "action": "deny", "path": other}], version="e2e-reload-1")
    d = daemon(v1)
    ran = run([exe, workdir / "m1"])
    assert ran.returncode == 0 and (workdir / "m1").exists()
    d.wait_exec(exe=exe, pid=ran.pid)  # allowed once: fanotify may now cache the inode

    v2 = Policy([{"name": "new-hash", "action": "deny", "sha256": sha256_of(exe)}],
                version="e2e-reload-2")
    d.reload(v2)
    rel = d.wait_for(lambda r: r["type"] == "policy_reload", what="policy_reload")[0]
    assert rel["old_policy_version"] == "e2e-reload-1"
    assert rel["new_policy_version"] == "e2e-reload-2"
    assert rel["policy_version"] == "e2e-reload-2"
    marker = workdir / "m2"
    ran = run([exe, marker])
    assert ran.exec_errno == errno.EPERM, ran
    assert not marker.exists()
    rec = d.wait_exec(exe=exe, decision="deny")[0]
    assert rec["rule"]["name"] == "new-hash"
    assert rec["rule"]["line"] == v2.rule_line["new-hash"]
    assert rec["policy_version"] == "e2e-reload-2"
    # The old rule is gone.
    ran = run([other, workdir / "m3"])
    assert ran.returncode == 0 and (workdir / "m3").exists(), ran
    assert d.wait_exec(exe=other, pid=ran.pid)[0]["decision"] == "allow"


def test_sighup_with_invalid_policy_keeps_the_running_one(tools, workdir, daemon):
    exe = tools.make_bin(workdir, "still-denied")
    pol = Policy([{"name": "keep", "action": "deny", "path": exe}], version="e2e-keep")
    d = daemon(pol)
    text, line, col = broken_policy(exe)
    d.reload(text.replace("e2e-broken", "e2e-never"))
    d.wait_for(lambda r: r["type"] == "policy_error", what="policy_error")
    assert re.search(re.escape(f"{d.policy_path}:{line}:{col}"), d.stderr())
    marker = workdir / "m"
    ran = run([exe, marker])
    assert ran.exec_errno == errno.EPERM and not marker.exists(), ran
    rec = d.wait_exec(exe=exe, decision="deny")[0]
    assert rec["policy_version"] == "e2e-keep" and rec["rule"]["name"] == "keep"
    assert d.running()
    assert not [r for r in d.log_records() if r["type"] == "policy_reload"]


def test_sighup_from_monitor_to_enforce_blocks_before_exec(tools, workdir, daemon):
    """The documented path (trial in monitor, then enforce) must get every backend."""
    exe = tools.make_bin(workdir, "soon-denied", tag="mon-to-enf", static=True)
    rule = [{"name": "h", "action": "deny", "sha256": sha256_of(exe)}]
    d = daemon(Policy(rule, mode="monitor", version="e2e-mon"))
    d.reload(Policy(rule, mode="enforce", version="e2e-enf"))
    d.wait_for(lambda r: r["type"] == "policy_reload", what="policy_reload")
    marker = workdir / "m"
    ran = run([exe, marker])
    assert not marker.exists(), f"hash-denied binary ran after the switch to enforce: {ran}"
    assert ran.exec_errno == errno.EPERM, ran
    ready = json.loads((d.state_dir / "ready").read_text())
    assert (ready["mode"], ready["policy_version"]) == ("enforce", "e2e-enf")
    assert "fanotify" in ready["backends"]


def test_sighup_from_enforce_to_monitor_stops_blocking(tools, workdir, daemon):
    """Break-glass by reload (POL-5): monitor never blocks, and says so."""
    exe = tools.make_bin(workdir, "break-glass", tag="enf-to-mon")
    rule = [{"name": "h", "action": "deny", "sha256": sha256_of(exe)}]
    d = daemon(Policy(rule, mode="enforce", version="e2e-enf"))
    assert run([exe, workdir / "m1"]).exec_errno == errno.EPERM
    d.reload(Policy(rule, mode="monitor", version="e2e-mon"))
    d.wait_for(lambda r: r["type"] == "policy_reload", what="policy_reload")
    marker = workdir / "m2"
    ran = run([exe, marker])
    assert ran.returncode == 0 and marker.exists(), f"monitor mode blocked: {ran}"
    rec = d.wait_exec(exe=exe, pid=ran.pid)[0]
    assert (rec["mode"], rec["severity"], rec["enforced_by"]) == ("monitor", "warning", None)

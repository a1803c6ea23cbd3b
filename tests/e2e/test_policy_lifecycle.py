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


def test_policy_file_change_reloads_without_sighup(tools, workdir, daemon):
    """POL-3: replacing the policy file (as editors and ConfigMap volumes do) reloads it."""
    exe = tools.make_bin(workdir, "watched", tag="watch-target")
    d = daemon(Policy([], version="e2e-watch-1"))
    ran = run([exe, workdir / "m1"])
    assert ran.returncode == 0
    d.write_policy(Policy([{"name": "now-denied", "action": "deny", "path": exe}],
                          version="e2e-watch-2"))
    rel = d.wait_for(lambda r: r["type"] == "policy_reload", what="policy_reload")[0]
    assert (rel["old_policy_version"], rel["new_policy_version"]) == ("e2e-watch-1", "e2e-watch-2")
    ran = run([exe, workdir / "m2"])
    assert ran.exec_errno == errno.EPERM, ran
    assert not (workdir / "m2").exists()


def test_two_hundred_reloads_never_let_a_denied_binary_run(tools, workdir, daemon):
    """POL-3: no gap in enforcement while the policy is swapped, 200 times."""
    import threading

    bad = tools.make_bin(workdir, "always-denied", tag="reload-storm")
    digest = sha256_of(bad)
    policies = [Policy([{"name": "by-path", "action": "deny", "path": bad}], version="storm-a"),
                Policy([{"name": "by-hash", "action": "deny", "sha256": digest}],
                       version="storm-b")]
    d = daemon(policies[0])
    stop = threading.Event()
    outcomes = []

    def exec_loop():
        n = 0
        while not stop.is_set():
            marker = workdir / f"ran-{n}"
            ran = run([bad, marker])
            outcomes.append((ran, marker.exists()))
            n += 1

    t = threading.Thread(target=exec_loop)
    t.start()
    try:
        for i in range(1, 201):
            d.reload(policies[i % 2])
            d.wait_for(lambda r: r["type"] == "policy_reload", count=i, what=f"reload {i}")
    finally:
        stop.set()
        t.join()
    assert len(outcomes) > 50, f"only {len(outcomes)} execs during the reloads"
    ran = [(r, m) for r, m in outcomes if m or r.returncode == 0]
    assert not ran, f"the denied binary ran {len(ran)} times: {ran[:3]}"
    assert not list(workdir.glob("ran-*"))


def test_cli_reload(tools, workdir, daemon):
    """POL-3: `sysguardctl reload` reloads the running daemon's policy and shows its status."""
    import subprocess
    from conftest import CTL_BIN

    d = daemon(Policy([], version="e2e-cli-1"))
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "reload", "-o", "json"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r
    assert json.loads(r.stdout)["policy_version"] == "e2e-cli-1"
    rel = d.wait_for(lambda r: r["type"] == "policy_reload", what="policy_reload")[0]
    assert rel["new_policy_version"] == "e2e-cli-1"
    # A broken policy is refused, and the CLI says the daemon kept the old one.
    (d.policy_path).write_text("version: [\n")
    d.wait_for(lambda r: r["type"] == "policy_error", what="policy_error")
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "reload"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1 and "kept its policy" in r.stderr, r
    d.stop()
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "reload"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 3 and "no running sysguardd" in r.stderr, r     # 3: no daemon


def test_break_glass_switches_to_monitor_and_back(tools, workdir, daemon):
    """POL-5: an audited switch to monitor mode that works even when the policy file is broken."""
    import subprocess
    from conftest import CTL_BIN

    bad = tools.make_bin(workdir, "glass-denied", tag="glass")
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "path": bad}], version="e2e-glass"))

    def ctl(*args):
        return subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), *args],
                              capture_output=True, text=True, timeout=20)

    assert run([bad, workdir / "m0"]).exec_errno == errno.EPERM
    d.policy_path.write_text("version: [\n")		# the operator's way out must not need it
    r = ctl("break-glass", "on", "--reason", "INC-42: \"quoted\"\nnewline", "-o", "json")
    assert r.returncode == 0, r
    assert json.loads(r.stdout)["mode"] == "monitor" and json.loads(r.stdout)["break_glass"]
    rec = d.wait_for(lambda r: r["type"] == "break_glass", what="break_glass on")[0]
    assert (rec["state"], rec["severity"], rec["by_uid"]) == ("on", "critical", 0)
    assert rec["reason"] == "INC-42: \"quoted\"\nnewline"
    ran = run([bad, workdir / "m1"])
    assert ran.returncode == 0 and (workdir / "m1").exists(), ran
    assert d.wait_exec(exe=bad, pid=ran.pid)[0]["severity"] == "warning"

    r = ctl("break-glass", "off", "--output=json")
    assert r.returncode == 0 and json.loads(r.stdout)["mode"] == "enforce", r
    d.wait_for(lambda r: r["type"] == "break_glass" and r["state"] == "off", what="off")
    assert run([bad, workdir / "m2"]).exec_errno == errno.EPERM
    assert ctl("break-glass", "on").returncode == 2		# a reason is required

# SPDX-License-Identifier: Apache-2.0
"""EXEC-2/EXEC-3/EXEC-4 with the default backends (fanotify in front, bpf_kill behind)."""
import errno
import os
import subprocess
import time

import pytest

from checks import validate_records
from conftest import Policy, run, sha256_of


def assert_fanotify_denied(d, exe, policy, rule_name, kind, ran, marker):
    """Denied before the exec: EPERM, no marker, an exec deny record and its mitigation."""
    assert ran.exec_errno == errno.EPERM, f"expected EPERM from execve, got {ran}"
    assert not os.path.exists(marker), "the denied binary ran (its marker exists)"
    rec = d.wait_exec(exe=exe, decision="deny")[0]
    assert rec["severity"] == "critical"
    assert rec["mode"] == "enforce"
    assert rec["enforced_by"] == "fanotify"
    assert rec["sensor"] == "fanotify"
    assert rec["default_action"] is False
    assert rec["rule"]["name"] == rule_name
    assert rec["rule"]["kind"] == kind
    assert rec["rule"]["line"] == policy.rule_line[rule_name]
    assert rec["policy_version"] == policy.version
    assert rec["parent"]["pid"] == os.getpid()
    st = os.stat(exe)
    assert (rec["file"]["dev"], rec["file"]["ino"]) == (st.st_dev, st.st_ino)
    mit = d.wait_for(lambda r: r["type"] == "mitigation" and r["decision_event_id"] == rec["event_id"],
                     what="mitigation for the denial")[0]
    assert mit["backend"] == "fanotify"
    assert mit["action"] == "deny_exec"
    assert mit["result"] == "ok"
    assert mit["severity"] == "info"
    return rec


def test_allowed_binary_runs_and_is_logged(tools, workdir, daemon):
    other = tools.make_bin(workdir, "other")
    ok = tools.make_bin(workdir, "allowed")
    marker = workdir / "allowed.marker"
    d = daemon(Policy([{"name": "deny-other", "action": "deny", "path": other}]))
    assert d.ready["mode"] == "enforce"
    assert d.ready["policy_version"] == "e2e-1"

    ran = run([ok, marker])
    assert ran.returncode == 0, ran
    assert marker.read_text().strip() == str(ran.pid), "marker not written by the allowed binary"

    rec = d.wait_exec(exe=ok, pid=ran.pid)[0]
    assert rec["decision"] == "allow"
    assert rec["severity"] == "info"
    assert rec["mode"] == "enforce"
    assert rec["rule"] is None and rec["default_action"] is True
    assert rec["enforced_by"] is None
    assert rec["sensor"] == "exec_tracepoint"
    p = rec["process"]
    assert p["ppid"] == os.getpid()
    assert (p["uid"], p["gid"]) == (os.getuid(), os.getgid())
    assert p["exe"] == ok
    assert p["filename"] == ok
    assert p["args"] == [ok, str(marker)]
    assert p["comm"] == "allowed"
    assert rec["parent"] == {"pid": os.getpid(), "exe": os.readlink("/proc/self/exe")}
    st = os.stat(ok)
    assert (rec["file"]["dev"], rec["file"]["ino"]) == (st.st_dev, st.st_ino)
    assert rec["file"]["fileless"] is False and rec["file"]["loader"] is False
    assert d.mitigations_for(rec) == []
    assert rec["node_id"] == "e2e-node"


def test_denied_by_path(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "denied-by-path")
    ok = tools.make_bin(workdir, "denied-by-path-not")
    pol = Policy([{"name": "by-path", "action": "deny", "path": bad}])
    d = daemon(pol)
    marker = workdir / "bad.marker"
    assert_fanotify_denied(d, bad, pol, "by-path", "path", run([bad, marker]), marker)
    ran = run([ok, workdir / "ok.marker"])
    assert ran.returncode == 0 and (workdir / "ok.marker").exists()


def test_denied_by_glob(tools, workdir, daemon):
    deep = workdir / "x" / "a" / "b"
    deep.mkdir(parents=True)
    bad_deep = tools.make_bin(deep, "bad-deep")
    bad_top = tools.make_bin(workdir / "x", "bad-top")  # "/**/" also stands for no directory
    good = tools.make_bin(deep, "good")
    pol = Policy([{"name": "by-glob", "action": "deny", "glob": f"{workdir}/x/**/bad*"}])
    d = daemon(pol)
    for bad in (bad_deep, bad_top):
        marker = workdir / (os.path.basename(bad) + ".marker")
        assert_fanotify_denied(d, bad, pol, "by-glob", "glob", run([bad, marker]), marker)
    ran = run([good, workdir / "good.marker"])
    assert ran.returncode == 0 and (workdir / "good.marker").exists()
    assert d.wait_exec(exe=good, pid=ran.pid)[0]["decision"] == "allow"


def test_denied_by_identity(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "denied-by-id", tag="same")
    twin = tools.make_bin(workdir, "same-content-other-inode", tag="same")
    pol = Policy([{"name": "by-id", "action": "deny", "identity": bad}])
    d = daemon(pol)
    marker = workdir / "bad.marker"
    assert_fanotify_denied(d, bad, pol, "by-id", "identity", run([bad, marker]), marker)
    # Identity is the inode, not the content: an identical copy is another file.
    ran = run([twin, workdir / "twin.marker"])
    assert ran.returncode == 0 and (workdir / "twin.marker").exists()


def test_denied_by_hash(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "denied-by-hash", tag="evil")
    other = tools.make_bin(workdir, "other-content", tag="benign")
    digest = sha256_of(bad)
    pol = Policy([{"name": "by-hash", "action": "deny", "sha256": digest}])
    d = daemon(pol)
    marker = workdir / "bad.marker"
    rec = assert_fanotify_denied(d, bad, pol, "by-hash", "sha256", run([bad, marker]), marker)
    assert rec["file"]["sha256"] == digest
    ran = run([other, workdir / "other.marker"])
    assert ran.returncode == 0 and (workdir / "other.marker").exists()
    assert d.wait_exec(exe=other, pid=ran.pid)[0]["file"]["sha256"] == sha256_of(other)


def test_rerun_is_decided_from_the_hash_cache(tools, workdir, daemon):
    """
    A program run again is not hashed again: the kernel's ctime at exec
    matches the cached entry. stat() between the runs sets I_CTIME_QUERIED
    in the inode's ctime (6.13+ multigrain timestamps), which must not read
    as a change. A real change must: the rewritten file is hashed again.
    """
    exe = tools.make_bin(workdir, "rerun", tag="first")
    other = tools.make_bin(workdir, "denied-elsewhere", tag="other")
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(other)}],
                      mode="monitor"))
    pids = []
    for _ in range(4):
        ran = run([exe, workdir / "m"])
        assert ran.returncode == 0, ran
        pids.append(ran.pid)
        os.stat(exe)
    for pid in pids:
        assert d.wait_exec(exe=exe, pid=pid)[0]["file"]["sha256"] == sha256_of(exe)

    def cache():
        return d.stats("hash_cache")

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and ((cache() or {}).get("hits", 0) < 3):
        time.sleep(0.2)
    c = cache()
    assert c and c["hits"] >= 3 and c["stale"] == 0, c

    with open(other, "rb") as src, open(exe, "r+b") as f:  # same inode, new content
        f.write(src.read())
        f.truncate()
    ran = run([exe, workdir / "m2"])
    rec = d.wait_exec(exe=exe, pid=ran.pid)[0]
    assert rec["file"]["sha256"] == sha256_of(other), rec
    assert rec["decision"] == "deny"


def test_parent_rule_denies_only_under_that_parent(tools, workdir, daemon):
    sh = tools.copy_of("/bin/dash", workdir / "sh-copy")
    parent = tools.copy_of(tools.sgexec, workdir / "parent-binary")
    pol = Policy([{"name": "sh-from-parent", "action": "deny", "path": sh,
                   "parent": {"path": parent}}])
    d = daemon(pol)

    def sh_cmd(marker):
        return ["-c", f": > {marker}"]

    # From the test's python: the parent does not match, the shell runs.
    m1 = workdir / "py1.marker"
    ran = run([sh, *sh_cmd(m1)])
    assert ran.returncode == 0 and m1.exists(), ran
    assert d.wait_exec(exe=sh, pid=ran.pid)[0]["decision"] == "allow"

    # From the parent binary: denied before it runs.
    m2 = workdir / "parent.marker"
    rep = tools.sgexec_run("path", sh, *sh_cmd(m2), exe=parent)
    assert rep["exec_errno"] == errno.EPERM, rep
    assert not m2.exists(), "the shell ran under the denied parent"
    rec = d.wait_exec(exe=sh, pid=rep["pid"], decision="deny")[0]
    assert rec["enforced_by"] == "fanotify"
    assert rec["rule"]["name"] == "sh-from-parent"
    assert rec["rule"]["line"] == pol.rule_line["sh-from-parent"]
    assert rec["parent"]["exe"] == parent
    assert rec["process"]["ppid"] == rec["parent"]["pid"] != os.getpid()

    # And from python again: an allow under another parent must not be cached for this one.
    m3 = workdir / "py2.marker"
    ran = run([sh, *sh_cmd(m3)])
    assert ran.returncode == 0 and m3.exists(), ran
    m4 = workdir / "parent2.marker"
    rep = tools.sgexec_run("path", sh, *sh_cmd(m4), exe=parent)
    assert rep["exec_errno"] == errno.EPERM and not m4.exists(), rep


def test_monitor_mode_logs_but_never_blocks(tools, workdir, daemon):
    by_id = tools.make_bin(workdir, "monitored-id")
    by_path = tools.make_bin(workdir, "monitored-path")
    pol = Policy([{"name": "mon-id", "action": "deny", "identity": by_id},
                  {"name": "mon-path", "action": "deny", "path": by_path}], mode="monitor")
    d = daemon(pol)
    assert d.ready["mode"] == "monitor"
    assert d.ready["backends"] == []
    for exe, rule in ((by_id, "mon-id"), (by_path, "mon-path")):
        marker = workdir / (os.path.basename(exe) + ".marker")
        ran = run([exe, marker])
        assert ran.returncode == 0, ran
        assert marker.exists(), "monitor mode blocked the binary"
        rec = d.wait_exec(exe=exe, pid=ran.pid)[0]
        assert rec["decision"] == "deny"
        assert rec["severity"] == "warning"
        assert rec["mode"] == "monitor"
        assert rec["enforced_by"] is None
        assert rec["rule"]["name"] == rule
        assert d.mitigations_for(rec) == []


def test_monitor_mode_reports_memfd_hash_match(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "memfd-mon", tag="memfd-mon")
    d = daemon(Policy([{"name": "h", "action": "deny", "sha256": sha256_of(bad)}], mode="monitor"))
    marker = workdir / "m"
    # It sleeps so that /proc/PID/exe is still there when the daemon hashes it.
    rep = tools.sgexec_run("memfd", bad, marker, "1")
    assert rep["exited"] == 0 and marker.exists(), rep
    rec = d.wait_exec(pid=rep["pid"])[0]
    assert (rec["decision"], rec["severity"], rec["enforced_by"]) == ("deny", "warning", None)
    assert rec["file"]["fileless"] is True and rec["rule"]["name"] == "h"


def test_monitor_mode_reports_loader_run_of_denied_binary(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "ld-mon")
    d = daemon(Policy([{"name": "p", "action": "deny", "path": bad}], mode="monitor"))
    marker = workdir / "m"
    ran = run([tools.loader, bad, marker])
    assert ran.returncode == 0 and marker.exists(), ran
    rec = d.wait_exec(pid=ran.pid)[0]
    assert (rec["decision"], rec["severity"]) == ("deny", "warning"), rec


def test_monitor_mode_loader_run_judged_after_the_process_exited(tools, workdir, daemon):
    """
    A zombie's /proc/PID/cmdline reads empty, which once passed for "the
    loader was asked to run nothing" (allow). The child is left unreaped
    until its record is in, so the daemon meets it as a zombie.
    """
    bad = tools.make_bin(workdir, "ld-zombie")
    d = daemon(Policy([{"name": "p", "action": "deny", "path": bad}], mode="monitor"))
    for i in range(5):
        marker = workdir / f"m{i}"
        p = subprocess.Popen([tools.loader, bad, marker], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            rec = d.wait_exec(pid=p.pid)[0]
        finally:
            p.wait()
        assert (rec["decision"], rec["severity"]) == ("deny", "warning"), rec
        assert rec["process"]["exe"] == bad


def test_monitor_mode_reports_fileless_exec_deny(tools, workdir, daemon):
    ok = tools.make_bin(workdir, "memfd-fileless-mon")
    d = daemon(Policy([], mode="monitor", fileless="deny"))
    marker = workdir / "m"
    rep = tools.sgexec_run("memfd", ok, marker, "1")
    assert rep["exited"] == 0 and marker.exists(), rep
    rec = d.wait_exec(pid=rep["pid"])[0]
    assert (rec["decision"], rec["severity"]) == ("deny", "warning"), rec
    assert rec.get("reason") == "fileless_exec"


def test_fanotify_denial_record_carries_the_cgroup_id(tools, workdir, daemon):
    """OPS-7: a denial seen by fanotify names the same cgroup as the exec tracepoint would."""
    bad = tools.make_bin(workdir, "cg-denied")
    ok = tools.make_bin(workdir, "cg-allowed")
    d = daemon(Policy([{"name": "p", "action": "deny", "path": bad}]))
    assert run([bad, workdir / "b"]).exec_errno == errno.EPERM
    ran = run([ok, workdir / "o"])
    deny = d.wait_exec(exe=bad, decision="deny")[0]
    allow = d.wait_exec(exe=ok, pid=ran.pid)[0]
    assert allow["process"]["cgroup_id"] > 0
    assert deny["process"]["cgroup_id"] == allow["process"]["cgroup_id"]


def test_every_record_is_valid_json_with_required_fields(tools, workdir, daemon):
    """One daemon run with allows, fanotify denials, an in-kernel hold and kill: every line checked."""
    ok = tools.make_bin(workdir, "ok")
    bad = tools.make_bin(workdir, "bad")
    bad_hash = tools.make_bin(workdir, "bad-hash", tag="evil-schema")
    pol = Policy([{"name": "p", "action": "deny", "path": bad},
                  {"name": "h", "action": "deny", "sha256": sha256_of(bad_hash)}])
    d = daemon(pol)
    ran_ok = run([ok, workdir / "ok.marker"])
    assert ran_ok.returncode == 0
    assert run([bad, workdir / "bad.marker"]).exec_errno == errno.EPERM
    rep = tools.sgexec_run("memfd", bad_hash, workdir / "memfd.marker")
    assert rep["signal"] == 9, rep
    ran_ld = run([tools.loader, bad, workdir / "ld.marker"])
    assert ran_ld.returncode == -9, ran_ld
    d.wait_exec(exe=ok, pid=ran_ok.pid)
    d.wait_exec(pid=rep["pid"], decision="deny")
    d.wait_exec(pid=ran_ld.pid, decision="deny")
    assert d.stop() == 0
    recs = d.log_records()
    errs = validate_records(recs, d.bad_lines, node_id="e2e-node")
    assert not errs, "\n".join(errs)
    types = {r["type"] for r in recs}
    assert {"daemon_start", "probe", "backend", "exec", "mitigation", "daemon_stop"} <= types
    assert recs[0]["type"] == "daemon_start" and recs[0]["event_id"] == "0000000000000001"
    assert recs[-1]["type"] == "daemon_stop"
    assert not (d.state_dir / "ready").exists(), "ready file left behind after exit"

# SPDX-License-Identifier: Apache-2.0
"""
EXEC-4 without fanotify (--disable-backend fanotify): the in-kernel kill at
exec (bpf_kill) or the in-kernel hold (SIGSTOP, then the daemon's verdict)
is what stops a denied binary, before it runs an instruction of its own.
"""
import os

from conftest import Policy, run, sha256_of

NO_FAN = {"disable": ("fanotify",)}


def assert_killed_in_kernel(d, exe, ran, marker, rule_name, kind):
    assert ran.exec_errno == 0 and ran.returncode == -9, f"expected death by SIGKILL: {ran}"
    assert not os.path.exists(marker), "the denied binary ran (its marker exists)"
    rec = d.wait_exec(exe=exe, pid=ran.pid, decision="deny")[0]
    assert rec["enforced_by"] == "bpf_kill"
    assert rec["sensor"] == "exec_tracepoint"
    assert rec["severity"] == "critical"
    assert rec["rule"]["name"] == rule_name and rec["rule"]["kind"] == kind
    mit = d.wait_for(lambda r: r["type"] == "mitigation" and r["decision_event_id"] == rec["event_id"],
                     what="bpf_kill mitigation")[0]
    assert (mit["backend"], mit["action"], mit["result"]) == ("bpf_kill", "kill_at_exec", "ok")
    return rec


def assert_held_and_killed(d, pid, marker, rule_name):
    assert not os.path.exists(marker), "the denied binary ran (its marker exists)"
    rec = d.wait_exec(pid=pid, decision="deny")[0]
    assert rec["enforced_by"] == "bpf_hold" and rec.get("held") is True
    assert rec["rule"]["name"] == rule_name
    mit = d.wait_for(lambda r: r["type"] == "mitigation" and r["decision_event_id"] == rec["event_id"],
                     what="kill of the held process")[0]
    assert (mit["backend"], mit["action"], mit["result"]) == ("pidfd_kill", "kill_held", "ok")
    return rec


def test_backends_without_fanotify(tools, workdir, daemon):
    d = daemon(Policy([]), **NO_FAN)
    assert d.ready["backends"] == ["bpf_kill", "pidfd_kill", "egress"]
    recs = d.log_records()
    fan = [r for r in recs if r["type"] == "backend" and r["backend"] == "fanotify"]
    assert fan and fan[0]["active"] is False and "disable" in fan[0]["detail"]


def test_identity_rule_killed_at_exec(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "id-denied", static=True)
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]), **NO_FAN)
    marker = workdir / "id.marker"
    assert_killed_in_kernel(d, bad, run([bad, marker]), marker, "by-id", "identity")
    # Hard link and rename are the same inode.
    hl = str(workdir / "hard-link")
    os.link(bad, hl)
    marker = workdir / "hl.marker"
    assert_killed_in_kernel(d, hl, run([hl, marker]), marker, "by-id", "identity")
    mv = str(workdir / "renamed")
    os.rename(bad, mv)
    marker = workdir / "mv.marker"
    assert_killed_in_kernel(d, mv, run([mv, marker]), marker, "by-id", "identity")


def test_path_rule_killed_at_exec(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "path-denied", static=True)
    link = workdir / "sym"
    os.symlink(bad, link)
    d = daemon(Policy([{"name": "by-path", "action": "deny", "path": bad}]), **NO_FAN)
    marker = workdir / "p.marker"
    assert_killed_in_kernel(d, bad, run([bad, marker]), marker, "by-path", "path")
    marker = workdir / "sym.marker"
    assert_killed_in_kernel(d, bad, run([link, marker]), marker, "by-path", "path")


def test_memfd_exec_held_and_killed(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "memfd-evil", tag="k-memfd-evil", static=True)
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]), **NO_FAN)
    marker = workdir / "memfd.marker"
    rep = tools.sgexec_run("memfd", bad, marker)
    assert rep["signal"] == 9 and not rep["timeout"], rep
    rec = assert_held_and_killed(d, rep["pid"], marker, "by-hash")
    assert rec["file"]["fileless"] is True


def test_deleted_file_exec_held_and_killed(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "deleted-evil", tag="k-deleted-evil", static=True)
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]), **NO_FAN)
    marker = workdir / "deleted.marker"
    rep = tools.sgexec_run("deleted", bad, marker)
    assert not os.path.exists(bad)
    assert rep["exec_errno"] == 0 and rep["signal"] == 9 and not rep["timeout"], rep
    rec = assert_held_and_killed(d, rep["pid"], marker, "by-hash")
    assert rec["file"]["fileless"] is True


def test_deleted_identity_denied_file_killed_at_exec(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "deleted-id", static=True)
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]), **NO_FAN)
    marker = workdir / "deleted.marker"
    rep = tools.sgexec_run("deleted", bad, marker)
    assert rep["exec_errno"] == 0 and rep["signal"] == 9, rep
    assert not marker.exists()
    rec = d.wait_exec(pid=rep["pid"], decision="deny")[0]
    assert rec["enforced_by"] == "bpf_kill" and rec["rule"]["name"] == "by-id"


def test_loader_run_held_and_killed(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "ld-denied")  # dynamic: ld.so can load it
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]), **NO_FAN)
    marker = workdir / "ld.marker"
    ran = run([tools.loader, bad, marker])
    assert ran.returncode == -9, ran
    rec = assert_held_and_killed(d, ran.pid, marker, "by-id")
    assert rec["file"]["loader"] is True


def test_fileless_deny_killed_at_exec(tools, workdir, daemon):
    ok = tools.make_bin(workdir, "harmless", static=True)
    d = daemon(Policy([], fileless="deny"), **NO_FAN)
    marker = workdir / "memfd.marker"
    rep = tools.sgexec_run("memfd", ok, marker)
    assert rep["signal"] == 9, rep
    assert not marker.exists()
    rec = d.wait_exec(pid=rep["pid"], decision="deny")[0]
    assert rec["enforced_by"] == "bpf_kill" and rec.get("reason") == "fileless_exec"


def test_hash_rule_without_fanotify_falls_back_to_pidfd_kill(tools, workdir, daemon):
    """Hash rules are not in the kernel: with fanotify off only the last resort is left."""
    bad = tools.make_bin(workdir, "hash-denied", tag="k-hash-evil")
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]), **NO_FAN)
    ran = run([bad, workdir / "h.marker", "30"], timeout=25)
    assert ran.returncode == -9, f"not killed: {ran}"
    rec = d.wait_exec(exe=bad, pid=ran.pid, decision="deny")[0]
    assert rec["enforced_by"] == "pidfd_kill"
    mit = d.wait_for(lambda r: r["type"] in ("mitigation", "action_error")
                     and r["decision_event_id"] == rec["event_id"])[0]
    assert (mit["type"], mit["backend"], mit["action"]) == ("mitigation", "pidfd_kill", "kill_after_exec")

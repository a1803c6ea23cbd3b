# SPDX-License-Identifier: Apache-2.0
"""EXEC-6: known bypasses, with the default backends (fanotify, bpf_kill, hold)."""
import errno
import os
import signal
import shutil
import subprocess

import pytest

from conftest import HELPERS_SRC, Policy, run, sha256_of


def assert_denied_before_exec(d, exe, ran, marker, rule_name=None, kind=None):
    assert ran.exec_errno == errno.EPERM, f"expected EPERM, got {ran}"
    assert not os.path.exists(marker), "the denied binary ran (its marker exists)"
    rec = d.wait_exec(exe=exe, decision="deny")[0]
    assert rec["enforced_by"] == "fanotify"
    if rule_name:
        assert rec["rule"]["name"] == rule_name and rec["rule"]["kind"] == kind
    return rec


def assert_held_and_killed(d, pid, marker, rule_name=None):
    """Stopped in the kernel at exec, then killed by the daemon: never ran."""
    assert not os.path.exists(marker), "the denied binary ran (its marker exists)"
    rec = d.wait_exec(pid=pid, decision="deny")[0]
    assert rec["enforced_by"] == "bpf_hold"
    assert rec.get("held") is True
    assert rec["severity"] == "critical"
    if rule_name:
        assert rec["rule"]["name"] == rule_name
    mit = d.wait_for(lambda r: r["type"] == "mitigation" and r["decision_event_id"] == rec["event_id"],
                     what="kill of the held process")[0]
    assert (mit["backend"], mit["action"], mit["result"]) == ("pidfd_kill", "kill_held", "ok")
    return rec


def test_symlink_to_path_denied_binary(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "real-denied")
    link = workdir / "innocent-link"
    os.symlink(bad, link)
    rel = workdir / "rel-link"
    os.symlink("real-denied", rel)
    d = daemon(Policy([{"name": "by-path", "action": "deny", "path": bad}]))
    for i, via in enumerate((link, rel)):
        marker = workdir / f"m{i}"
        rec = assert_denied_before_exec(d, bad, run([via, marker]), marker, "by-path", "path")
    assert rec["process"]["exe"] == bad  # the file, not the name used


def test_hard_link_to_identity_denied_binary(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "orig")
    (workdir / "elsewhere").mkdir()
    hl = workdir / "elsewhere" / "hardlink"
    os.link(bad, hl)
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]))
    marker = workdir / "hl.marker"
    assert_denied_before_exec(d, str(hl), run([hl, marker]), marker, "by-id", "identity")


def test_renamed_identity_denied_binary(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "to-be-renamed")
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]))
    (workdir / "moved").mkdir()
    renamed = str(workdir / "moved" / "harmless-name")
    os.rename(bad, renamed)  # mv after the policy was loaded
    marker = workdir / "mv.marker"
    assert_denied_before_exec(d, renamed, run([renamed, marker]), marker, "by-id", "identity")


def test_copy_caught_by_hash_rule(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "original", tag="copied-evil")
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    (workdir / "c").mkdir()
    copy = str(workdir / "c" / "copy-with-new-name")
    shutil.copy(bad, copy)
    marker = workdir / "copy.marker"
    rec = assert_denied_before_exec(d, copy, run([copy, marker]), marker, "by-hash", "sha256")
    assert rec["file"]["sha256"] == sha256_of(bad)


def test_dynamic_loader_running_a_denied_binary(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "denied-dyn")
    ok = tools.make_bin(workdir, "allowed-dyn")
    d = daemon(Policy([{"name": "by-path", "action": "deny", "path": bad}]))

    marker = workdir / "ld-abs.marker"
    ran = run([tools.loader, bad, marker])
    assert ran.returncode == -9, ran
    rec = assert_held_and_killed(d, ran.pid, marker, "by-path")
    assert rec["file"]["loader"] is True
    assert rec["process"]["exe"] == bad
    assert rec["process"]["args"][:2] == [tools.loader, bad]

    # Relative to the caller's cwd, and with loader options before the program.
    marker = workdir / "ld-rel.marker"
    ran = run([tools.loader, "--argv0", "x", "./denied-dyn", marker], cwd=workdir)
    assert ran.returncode == -9, ran
    assert_held_and_killed(d, ran.pid, marker, "by-path")

    # An allowed program through the loader is held, then resumed: it runs.
    marker = workdir / "ld-ok.marker"
    ran = run([tools.loader, ok, marker])
    assert ran.returncode == 0, ran
    assert marker.exists()
    rec = d.wait_exec(pid=ran.pid)[0]
    assert rec["decision"] == "allow" and rec.get("held") is True and rec["file"]["loader"] is True


def test_memfd_exec_of_hash_denied_binary(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "memfd-evil", tag="memfd-evil")
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    marker = workdir / "memfd.marker"
    rep = tools.sgexec_run("memfd", bad, marker)
    assert rep["exec_errno"] == 0 and rep["signal"] == 9 and not rep["timeout"], rep
    rec = assert_held_and_killed(d, rep["pid"], marker, "by-hash")
    assert rec["file"]["fileless"] is True
    assert rec["file"]["sha256"] == sha256_of(bad)


def test_memfd_exec_of_allowed_binary_is_resumed(tools, workdir, daemon):
    ok = tools.make_bin(workdir, "memfd-ok", tag="memfd-ok")
    bad = tools.make_bin(workdir, "unrelated", tag="unrelated")
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    marker = workdir / "memfd-ok.marker"
    rep = tools.sgexec_run("memfd", ok, marker)
    assert rep["exec_errno"] == 0 and rep["exited"] == 0, rep
    assert marker.exists()
    rec = d.wait_exec(pid=rep["pid"])[0]
    assert rec["decision"] == "allow" and rec.get("held") is True and rec["file"]["fileless"] is True


def test_exec_of_deleted_hash_denied_file(tools, workdir, daemon):
    src = tools.make_bin(workdir, "will-be-deleted", tag="deleted-evil")
    digest = sha256_of(src)
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": digest}]))
    marker = workdir / "deleted.marker"
    rep = tools.sgexec_run("deleted", src, marker)
    assert not os.path.exists(src), "helper did not unlink the file"
    assert not marker.exists(), f"the deleted denied file ran: {rep}"
    # On a filesystem fanotify watches, the exec is refused outright.
    assert rep["exec_errno"] == errno.EPERM, rep
    rec = d.wait_exec(pid=rep["pid"], decision="deny")[0]
    assert rec["file"]["fileless"] is True
    assert rec["rule"]["name"] == "by-hash"
    assert rec["process"]["exe"] == src


def test_fileless_exec_deny_kills_any_memfd_exec(tools, workdir, daemon):
    ok = tools.make_bin(workdir, "harmless", tag="harmless")
    d = daemon(Policy([], fileless="deny"))
    marker = workdir / "memfd.marker"
    rep = tools.sgexec_run("memfd", ok, marker)
    assert rep["signal"] == 9, rep
    assert not marker.exists(), "a memfd exec ran although fileless_exec is deny"
    rec = d.wait_exec(pid=rep["pid"], decision="deny")[0]
    assert rec["enforced_by"] == "bpf_kill"
    assert rec["rule"] is None and rec.get("reason") == "fileless_exec"
    assert rec["file"]["fileless"] is True
    mit = d.wait_for(lambda r: r["type"] == "mitigation" and r["decision_event_id"] == rec["event_id"])[0]
    assert (mit["backend"], mit["action"]) == ("bpf_kill", "kill_at_exec")
    # The same binary from its file is fine.
    ran = run([ok, workdir / "file.marker"])
    assert ran.returncode == 0 and (workdir / "file.marker").exists()


def test_overwriting_an_allowed_file_with_denied_content(tools, workdir, daemon):
    """An allowed exec may be cached (fanotify ignore mark); a content change must end that."""
    evil = tools.make_bin(workdir, "evil-src", tag="overwrite-evil")
    target = tools.make_bin(workdir, "target", tag="overwrite-ok")
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(evil)}]))
    ran = run([target, workdir / "m1"])
    assert ran.returncode == 0 and (workdir / "m1").exists()
    d.wait_exec(exe=target, pid=ran.pid)
    with open(target, "r+b") as f:
        f.truncate(0)
        f.write(open(evil, "rb").read())
    marker = workdir / "m2"
    assert_denied_before_exec(d, target, run([target, marker]), marker, "by-hash", "sha256")


def test_rename_of_allowed_binary_into_a_glob_rule(tools, workdir, daemon):
    (workdir / "g").mkdir()
    exe = tools.make_bin(workdir / "g", "fine-name", static=True)
    d = daemon(Policy([{"name": "by-glob", "action": "deny", "glob": f"{workdir}/g/bad-*"}]))
    ran = run([exe, workdir / "m1"])
    assert ran.returncode == 0 and (workdir / "m1").exists()
    d.wait_exec(exe=exe, pid=ran.pid)
    renamed = str(workdir / "g" / "bad-now")
    os.rename(exe, renamed)
    marker = workdir / "m2"
    ran = run([renamed, marker])
    assert not marker.exists(), f"glob-denied binary ran after a rename: {ran}"
    # The allow was cached on the inode; the kernel holds it under the new name.
    assert ran.exec_errno == errno.EPERM or ran.returncode == -signal.SIGKILL, ran
    rec = d.wait_exec(exe=renamed, decision="deny")[0]
    assert rec["enforced_by"] in ("fanotify", "bpf_hold"), rec
    assert rec["rule"]["name"] == "by-glob"


def test_hard_link_of_allowed_binary_at_a_denied_path(tools, workdir, daemon):
    exe = tools.make_bin(workdir, "allowed-first", static=True)
    denied = str(workdir / "denied-later")  # does not exist when the policy loads
    d = daemon(Policy([{"name": "by-path", "action": "deny", "path": denied}]))
    ran = run([exe, workdir / "m1"])
    assert ran.returncode == 0 and (workdir / "m1").exists()
    d.wait_exec(exe=exe, pid=ran.pid)
    os.link(exe, denied)
    marker = workdir / "m2"
    ran = run([denied, marker])
    assert not marker.exists(), f"path-denied binary ran through a hard link: {ran}"
    assert ran.exec_errno == errno.EPERM or ran.returncode == -signal.SIGKILL, ran
    rec = d.wait_exec(exe=denied, decision="deny")[0]
    assert rec["enforced_by"] in ("fanotify", "bpf_hold"), rec
    assert rec["rule"]["name"] == "by-path"


def test_script_with_a_denied_interpreter(tools, workdir, daemon):
    interp = tools.copy_of("/bin/dash", workdir / "interp")
    script = workdir / "script.sh"
    marker = workdir / "script.marker"
    script.write_text(f"#!{interp}\n: > {marker}\n")
    script.chmod(0o755)
    d = daemon(Policy([{"name": "no-interp", "action": "deny", "path": interp}]))
    ran = run([script])
    assert ran.exec_errno == errno.EPERM, ran
    assert not marker.exists()
    rec = d.wait_exec(exe=interp, decision="deny")[0]
    assert rec["rule"]["name"] == "no-interp"


def test_copied_dynamic_loader_running_a_denied_binary(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "denied-dyn")
    myld = tools.copy_of(tools.loader, workdir / "my-loader")
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]))
    marker = workdir / "copied-ld.marker"
    ran = run([myld, bad, marker])
    reported = [r for r in d.records_for(pid=ran.pid, type="exec") if r["decision"] == "deny"] \
        if ran.pid else []
    assert not marker.exists(), f"denied binary ran through a copied loader: {ran}; deny records: {reported}"


def test_static_pie_binary_is_not_mistaken_for_a_loader(workdir, tools, daemon):
    # A static-pie image is shaped like a dynamic loader, so the kernel holds it;
    # the daemon must see it is no loader (no DT_SONAME) and judge it, not its
    # argument. Here the argument is a denied program, which it only writes to.
    pie = str(workdir / "static-pie-marker")
    subprocess.run(["cc", "-O2", "-static-pie", "-o", pie, str(HELPERS_SRC / "marker.c")],
                   check=True)
    bad = tools.make_bin(workdir, "denied-prog")
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]))
    pids = []
    for _ in range(3):  # held the first time, remembered as no loader after
        ran = run([pie, bad])
        assert ran.returncode == 0, ran
        with open(bad) as f:
            assert f.read().strip() == str(ran.pid)
        pids.append(ran.pid)
        # stat() sets I_CTIME_QUERIED in i_ctime_nsec (6.13+ multigrain
        # timestamps): the file's ctime must still read as unchanged.
        os.stat(pie)
    recs = [d.wait_exec(exe=pie, pid=p, decision="allow")[0] for p in pids]
    assert all(r["file"]["loader"] is False for r in recs)
    assert [bool(r.get("held")) for r in recs] == [True, False, False], recs
    assert not [r for r in d.log_records() if r.get("type") == "exec" and r["decision"] == "deny"]

# SPDX-License-Identifier: Apache-2.0
"""
Attacks on the hold (SIGSTOP at exec for memfd, deleted-file and loader
execs): only the daemon may release a held process, and a denied process
leaves no descendant behind. Each test is the attack, as root and as an
unprivileged user (nobody).
"""
import os
import shutil
import time

import pytest

from conftest import NOBODY, Policy, sha256_of



@pytest.fixture
def open_dir(open_dir, tools):
    """The shared open directory, with its own copy of sgexec (nobody cannot reach the session's)."""
    sgexec = os.path.join(open_dir, "sgexec")
    shutil.copyfile(tools.sgexec, sgexec)
    os.chmod(sgexec, 0o755)
    return open_dir


def marker_in(directory, name):
    """A marker path the (possibly unprivileged) denied program would create."""
    return os.path.join(directory, name)


def assert_never_ran(d, rep, marker):
    assert not rep["timeout"], rep
    assert rep["signal"] == 9, f"the held process was not killed: {rep}"
    assert not os.path.exists(marker), "the denied program ran (its marker exists)"
    rec = d.wait_exec(pid=rep["pid"], decision="deny")[0]
    # The daemon's kill, or the gate's when the attacker resumed it first.
    assert rec.get("held") is True and rec["enforced_by"] in ("bpf_hold", "bpf_gate"), rec
    return rec


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_sigcont_loop_does_not_release_a_held_denied_memfd_exec(tools, open_dir, daemon, user):
    bad = tools.make_bin(open_dir, "memfd-evil", tag=f"sigcont-{user}", static=True)
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    marker = marker_in(open_dir, "sigcont.marker")
    rep = tools.sgexec_run("memfd", bad, marker, exe=os.path.join(open_dir, "sgexec"),
                           attack="sigcont", user=user)
    assert_never_ran(d, rep, marker)


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_ptracer_swallowing_the_stop_does_not_release_a_held_denied_memfd_exec(
        tools, open_dir, daemon, user):
    bad = tools.make_bin(open_dir, "memfd-evil", tag=f"ptrace-{user}", static=True)
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    marker = marker_in(open_dir, "ptrace.marker")
    rep = tools.sgexec_run("memfd", bad, marker, exe=os.path.join(open_dir, "sgexec"),
                           attack="ptrace", user=user)
    assert_never_ran(d, rep, marker)


def test_sigcont_loop_does_not_release_a_held_loader_run(tools, open_dir, daemon):
    bad = tools.make_bin(open_dir, "loader-evil", tag="ld-sigcont")
    d = daemon(Policy([{"name": "by-path", "action": "deny", "path": bad}]))
    marker = marker_in(open_dir, "ld-sigcont.marker")
    rep = tools.sgexec_run("path", tools.loader, bad, marker, exe=os.path.join(open_dir, "sgexec"),
                           attack="sigcont", user=NOBODY)
    assert_never_ran(d, rep, marker)


def test_allowed_held_exec_still_runs_under_a_sigcont_loop(tools, open_dir, daemon):
    """The gate must not kill what the daemon released: an allowed memfd exec runs."""
    ok = tools.make_bin(open_dir, "memfd-ok", tag="sigcont-ok")
    bad = tools.make_bin(open_dir, "unrelated", tag="sigcont-unrelated")
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    marker = marker_in(open_dir, "sigcont-ok.marker")
    rep = tools.sgexec_run("memfd", ok, marker, exe=os.path.join(open_dir, "sgexec"),
                           attack="sigcont", user=NOBODY)
    assert rep["exited"] == 0, rep
    assert os.path.exists(marker)
    rec = d.wait_exec(pid=rep["pid"])[0]
    assert rec["decision"] == "allow" and rec.get("held") is True


def test_denied_process_killed_after_exec_leaves_no_child(tools, open_dir, daemon):
    """
    Without fanotify a glob deny is carried out after the exec (pidfd): the
    program ran briefly and forked; its child must die with it.
    """
    forker = os.path.join(open_dir, "forker-evil")
    shutil.copyfile(tools.forker, forker)
    os.chmod(forker, 0o755)
    d = daemon(Policy([{"name": "by-glob", "action": "deny", "glob": f"{open_dir}/forker-*"}]),
               disable=("fanotify",))
    marker = marker_in(open_dir, "child.marker")
    rep = tools.sgexec_run("path", forker, marker, "2", "30", exe=os.path.join(open_dir, "sgexec"),
                           user=NOBODY)
    assert rep["signal"] == 9, rep
    rec = d.wait_exec(pid=rep["pid"], decision="deny")[0]
    assert rec["enforced_by"] == "pidfd_kill"
    time.sleep(3)
    assert not os.path.exists(marker), "the denied program's child survived and ran on"

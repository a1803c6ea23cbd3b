# SPDX-License-Identifier: Apache-2.0
"""
FILE-3 bypass attempts on self-defence: root puts another file at the path
of a file the daemon protects without touching the protected inode (a bind
mount over it) and makes the daemon reload. The daemon must keep loading
only what it protects: the attacker's file is refused and recorded, the
mount is undone, and `sysguardctl policy apply` still works.
"""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import CTL_BIN, Policy, run

EVIL = 'version: "evil"\nmode: monitor\ndefault: allow\nrules: []\n'


def mounted_at(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


@pytest.fixture
def overmount():
    """
    overmount(src, dst): mount --bind src over dst; every such mount is gone
    afterwards. Checked only with checked=True: a daemon defending itself may
    undo it in its once-a-second check before the test looks.
    """
    done = []

    def bind(src, dst, checked=False):
        subprocess.run(["mount", "--bind", str(src), str(dst)], check=True)
        done.append(dst)
        assert mounted_at(dst) or not checked

    yield bind
    for dst in done:
        while mounted_at(dst):
            subprocess.run(["umount", "-l", str(dst)], check=True)


def start_denying(tools, workdir, daemon, **kw):
    bad = tools.make_bin(workdir, "denied")
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "path": bad}], version="good-1"),
               self_defence=True, **kw)
    assert d.ready["self_defence"] is True
    return d, bad


def ready_version(d):
    return json.load(open(d.state_dir / "ready"))["policy_version"]


def assert_still_denied(d, workdir, bad, name):
    marker = workdir / f"{name}.marker"
    ran = run([bad, marker])
    assert not os.path.exists(marker), f"the denied binary ran after the attack: {ran}"
    d.wait_exec(exe=bad, decision="deny")


def refusals(d, kind):
    return [r for r in d.log_records() if r["type"] == "self_defence"
            and r["action"] == "foreign_file_refused" and r["file_kind"] == kind]


def wait_reload_handled(d, kind):
    """Until the daemon either reloaded (wrongly) or refused the foreign file."""
    d.wait_for(lambda r: (r["type"] == "policy_reload")
               or (r["type"] == "self_defence" and r["action"] == "foreign_file_refused"
                   and r["file_kind"] == kind),
               what="reload or refusal")
    time.sleep(0.3)


def test_bind_mount_over_policy_then_sighup_keeps_policy(tools, workdir, daemon, overmount):
    d, bad = start_denying(tools, workdir, daemon)
    evil = workdir / "evil.yaml"
    evil.write_text(EVIL)
    overmount(evil, d.policy_path)
    os.kill(d.pid, signal.SIGHUP)
    wait_reload_handled(d, "policy")
    assert ready_version(d) == "good-1", "the daemon loaded the file mounted over its policy"
    assert_still_denied(d, workdir, bad, "after-sighup")
    rec = refusals(d, "policy")[0]
    assert rec["severity"] == "critical"
    assert rec["path"] == str(d.policy_path)
    assert "mount" in rec["differs"]


def test_bind_mount_over_policy_then_watch_event_keeps_policy(tools, workdir, daemon, overmount):
    d, bad = start_denying(tools, workdir, daemon)
    evil = workdir / "evil.yaml"
    evil.write_text(EVIL)
    overmount(evil, d.policy_path)
    # The mount itself makes no inotify event; a ConfigMap-style "..data" does.
    (d.policy_path.parent / "..data").write_text("x")
    wait_reload_handled(d, "policy")
    assert ready_version(d) == "good-1", "the daemon loaded the file mounted over its policy"
    assert_still_denied(d, workdir, bad, "after-watch")
    assert refusals(d, "policy")


def test_bind_mount_over_policy_is_undone(tools, workdir, daemon, overmount):
    d, _ = start_denying(tools, workdir, daemon)
    evil = workdir / "evil.yaml"
    evil.write_text(EVIL)
    original = d.policy_path.read_bytes()
    overmount(evil, d.policy_path)
    os.kill(d.pid, signal.SIGHUP)
    rec = d.wait_for(lambda r: r["type"] == "self_defence" and r["action"] == "overmount_removed",
                     what="overmount removed")[0]
    assert rec["path"] == str(d.policy_path) and rec["severity"] == "critical"
    assert not mounted_at(d.policy_path)
    assert d.policy_path.read_bytes() == original
    assert evil.read_text() == EVIL, "the attacker's file is left as it was"


def test_bind_mount_over_config_is_not_read_on_reload(tools, workdir, daemon, overmount):
    conf = workdir / "sysguard.yaml"
    conf.write_text("strict: false\n")
    d, bad = start_denying(tools, workdir, daemon, extra=["--config", str(conf)])
    evil = workdir / "evil-conf.yaml"
    evil.write_text("self_defence: false\nmode: monitor\n")
    overmount(evil, conf)
    os.kill(d.pid, signal.SIGHUP)
    d.wait_for(lambda r: r["type"] == "self_defence" and r["action"] == "foreign_file_refused"
               and r["file_kind"] == "config", what="config refusal")
    time.sleep(0.3)
    assert json.load(open(d.state_dir / "ready"))["self_defence"] is True
    assert_still_denied(d, workdir, bad, "after-config")
    assert not mounted_at(conf)
    assert conf.read_text() == "strict: false\n"


def test_policy_apply_works_after_overmount_refused(tools, workdir, daemon, overmount):
    d, bad = start_denying(tools, workdir, daemon)
    evil = workdir / "evil.yaml"
    evil.write_text(EVIL)
    overmount(evil, d.policy_path)
    os.kill(d.pid, signal.SIGHUP)
    d.wait_for(lambda r: r["type"] == "self_defence" and r["action"] == "foreign_file_refused",
               what="refusal")
    new = workdir / "new.yaml"
    new.write_text(Policy([{"name": "deny-it", "action": "deny", "path": bad}],
                          version="good-2").text)
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "policy", "apply", str(new)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ready_version(d) == "good-2"
    assert d.policy_path.read_bytes() == new.read_bytes()
    assert evil.read_text() == EVIL, "the update went into the attacker's file"
    assert_still_denied(d, workdir, bad, "after-apply")


def test_bind_mount_over_policy_is_undone_without_reload(tools, workdir, daemon, overmount):
    d, _ = start_denying(tools, workdir, daemon)
    evil = workdir / "evil.yaml"
    evil.write_text(EVIL)
    overmount(evil, d.policy_path)
    rec = d.wait_for(lambda r: r["type"] == "self_defence" and r["action"] == "foreign_file_refused",
                     timeout=3, what="found by the once-a-second check")[0]
    assert rec["during"] == "check"
    d.wait_for(lambda r: r["type"] == "self_defence" and r["action"] == "overmount_removed",
               timeout=3, what="overmount removed")
    assert not mounted_at(d.policy_path)
    assert ready_version(d) == "good-1"


def test_mount_over_policy_directory_is_refused_and_undone(tools, workdir, daemon):
    d, bad = start_denying(tools, workdir, daemon)
    top = d.policy_path.parent
    # A directory of the attacker's, with its own policy.yaml, over the daemon's.
    other = workdir / "other"
    other.mkdir()
    (other / "policy.yaml").write_text(EVIL)
    subprocess.run(["mount", "--bind", str(other), str(top)], check=True)
    try:
        os.kill(d.pid, signal.SIGHUP)
        rec = d.wait_for(lambda r: r["type"] == "self_defence"
                         and r["action"] == "overmount_removed" and r["file_kind"] == "policy",
                         what="directory overmount removed")[0]
        assert rec["mountpoint"] == str(top)
        assert not mounted_at(top)
        time.sleep(0.3)
        assert ready_version(d) == "good-1"
        assert_still_denied(d, workdir, bad, "after-dir-mount")
    finally:
        while mounted_at(top):
            subprocess.run(["umount", "-l", str(top)], check=True)


def test_self_defence_off_leaves_mounts_alone(tools, workdir, daemon, overmount):
    # Kubernetes: the kubelet mounts the policy; without self-defence that is the operator's.
    d = daemon(Policy([], version="off-1"), self_defence=False)
    other = workdir / "mounted.yaml"
    other.write_text(Policy([], version="off-2").text)
    overmount(other, d.policy_path, checked=True)
    os.kill(d.pid, signal.SIGHUP)
    d.wait_for(lambda r: r["type"] == "policy_reload" and r["new_policy_version"] == "off-2",
               what="reload of the mounted file")
    time.sleep(1.5)
    assert mounted_at(d.policy_path)
    assert not [r for r in d.log_records() if r["type"] == "self_defence"]

# SPDX-License-Identifier: Apache-2.0
"""
FILE-1, protecting what does not exist yet (fanotify backend, this host):
a files: rule for an absent path (the /etc/ld.so.preload a dynamic-linker
rootkit creates) loads, and the file it names is undone as soon as it is
created; a directory rule with deny: [create] refuses every new entry, as
root and as an unprivileged user, and an entry that gets in anyway (the
flag cleared by root) is reported and removed. A directory under the
test's workdir stands in for /etc: the real /etc is never touched.
"""
import errno
import os
import subprocess
import time

import pytest

from test_files import errno_of, lsattr_immutable, policy


@pytest.fixture
def etc(workdir):
    d = workdir / "etc"
    d.mkdir()
    (d / "hosts").write_bytes(b"127.0.0.1 localhost\n")
    return d


def wait_gone(path, timeout=3.0):
    deadline = time.monotonic() + timeout
    while os.path.lexists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not os.path.lexists(path)


def undo_records(d, path):
    return [r for r in d.log_records() if r["type"] == "file_access"
            and r.get("undone") is not None and r["file"]["path"] == str(path)]


def protect_records(d, path):
    return [r for r in d.log_records() if r["type"] in ("file_protect", "file_protect_error")
            and (r.get("file", {}).get("path") == str(path) or r.get("path") == str(path))]


def test_rule_for_an_absent_path_loads_without_error(etc, daemon):
    target = etc / "ld.so.preload"
    d = daemon(policy(files=[{"name": "preload", "path": str(target),
                              "deny": ["write", "delete"]}]))
    recs = d.wait_for(lambda r: r["type"] == "file_protect" and r.get("absent") is True
                      and r["file"]["path"] == str(target), what="absent file_protect")
    assert recs[0]["action"] == "add" and recs[0]["watched_dir"] == str(etc)
    assert not [r for r in protect_records(d, target) if r["type"] == "file_protect_error"]


def test_created_absent_file_is_undone_and_recorded_with_the_process(etc, daemon):
    target = etc / "ld.so.preload"
    d = daemon(policy(files=[{"name": "preload", "path": str(target)}]))
    # The shell stays alive (sleep is its child) so its exe can be read.
    p = subprocess.Popen(["sh", "-c", f"echo /tmp/evil.so > {target}; sleep 3"])
    try:
        assert wait_gone(target), "the created ld.so.preload was not undone"
        rec = d.wait_for(lambda r: r["type"] == "file_access" and r.get("undone") is True
                         and r["file"]["path"] == str(target), what="undo record")[0]
    finally:
        p.kill()
        p.wait()
    assert rec["severity"] == "critical" and rec["blocked"] is False
    assert rec["action"] == "create" and rec["rule"]["name"] == "preload"
    assert rec["process"]["pid"] == p.pid
    assert os.path.basename(rec["process"]["exe"]) in ("sh", "dash", "bash", "busybox")


def test_absent_path_is_still_watched_after_an_undo(etc, daemon):
    target = etc / "ld.so.preload"
    d = daemon(policy(files=[{"name": "preload", "path": str(target)}]))
    for _ in range(3):
        target.write_bytes(b"/tmp/evil.so\n")
        assert wait_gone(target)
    tmp = etc / "staged"
    tmp.write_bytes(b"/tmp/evil.so\n")
    os.rename(tmp, target)
    assert wait_gone(target), "a rename onto the absent name was not undone"
    d.wait_for(lambda r: r["type"] == "file_access" and r.get("undone") is True
               and r["action"] == "moved_to" and r["file"]["path"] == str(target),
               what="moved_to undo")
    assert len(undo_records(d, target)) >= 4
    assert (etc / "hosts").exists(), "other names in the directory are left alone"


def test_absent_parent_is_watched_through_the_nearest_ancestor(etc, daemon):
    target = etc / "cron.d" / "evil"
    d = daemon(policy(files=[{"name": "cronjob", "path": str(target)}]))
    rec = d.wait_for(lambda r: r["type"] == "file_protect" and r.get("absent") is True
                     and r["file"]["path"] == str(target), what="absent file_protect")[0]
    assert rec["watched_dir"] == str(etc)
    subprocess.run(["sh", "-c", f"mkdir {etc}/cron.d && echo '* * * * * root sh' > {target}"],
                   check=True)
    assert wait_gone(target), "the file under a directory made after the rule was not undone"
    assert (etc / "cron.d").is_dir()


def test_create_in_protected_directory_is_refused_for_root(etc, workdir, daemon):
    d = daemon(policy(files=[{"name": "etc", "path": str(etc), "deny": ["create"]}]))
    rec = d.wait_for(lambda r: r["type"] == "file_protect" and r["action"] == "add"
                     and r["file"]["path"] == str(etc), what="dir file_protect")[0]
    assert rec["deny"] == ["create"] and rec["immutable"] is True
    assert {"create", "rename_into", "link_into", "unlink_in"} <= set(rec["refused"])
    r = subprocess.run(["touch", str(etc / "newjob")], capture_output=True)
    assert r.returncode != 0 and b"not permitted" in r.stderr
    outside = workdir / "outside"
    outside.write_bytes(b"x")
    assert errno_of(os.rename, outside, etc / "moved") == errno.EPERM
    assert errno_of(os.link, outside, etc / "linked") == errno.EPERM
    assert errno_of(os.symlink, outside, etc / "symlinked") == errno.EPERM
    assert errno_of(os.mkdir, etc / "subdir") == errno.EPERM
    assert sorted(os.listdir(etc)) == ["hosts"]
    d.stop()
    assert not lsattr_immutable(etc), "a clean stop lifts the flag"


def test_create_in_protected_directory_is_refused_for_an_unprivileged_user(etc, daemon):
    os.chmod(etc, 0o777)
    daemon(policy(files=[{"name": "etc", "path": str(etc), "deny": ["create"]}]))
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    r = subprocess.run(nobody + ["touch", str(etc / "newjob")], capture_output=True)
    assert r.returncode != 0 and b"not permitted" in r.stderr
    r = subprocess.run(nobody + ["ln", "-s", "/tmp", str(etc / "link")], capture_output=True)
    assert r.returncode != 0
    assert sorted(os.listdir(etc)) == ["hosts"]


def test_entry_that_gets_into_a_protected_directory_is_removed(etc, daemon):
    d = daemon(policy(files=[{"name": "etc", "path": str(etc), "deny": ["create"]}]))
    assert lsattr_immutable(etc)
    subprocess.run(["chattr", "-i", str(etc)], check=True)
    job = etc / "newjob"
    job.write_bytes(b"* * * * * root sh\n")
    assert wait_gone(job), "the entry that got in was not removed"
    rec = d.wait_for(lambda r: r["type"] == "file_access" and r.get("undone") is True
                     and r["file"]["path"] == str(job), what="undo record")[0]
    assert rec["severity"] == "critical" and rec["file"]["name"] == "newjob"
    assert rec["process"]["pid"] == os.getpid()
    deadline = time.monotonic() + 2
    while not lsattr_immutable(etc) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lsattr_immutable(etc), "the directory's flag was not put back"
    assert (etc / "hosts").exists()

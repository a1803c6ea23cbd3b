# SPDX-License-Identifier: Apache-2.0
"""
Attacks with filesystems fanotify has not marked: mounted in another mount
namespace (any user can, with unshare -Urm), or mounted again after an
unmount with the old anonymous device number. Every filesystem a process
can exec from is covered before its first exec: the kernel holds an exec
from a filesystem without our mark until the daemon has marked it and
decided.
"""
import os
import subprocess

import pytest

from conftest import NOBODY, as_user, Policy, sha256_of



def run_sh(script, user=None):
    return subprocess.run(as_user(["sh", "-c", script], user), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=30)


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_hash_denied_copy_on_a_tmpfs_of_another_namespace_never_runs(tools, open_dir, daemon, user):
    bad = tools.make_bin(open_dir, "evil", tag=f"ns-tmpfs-{user}", static=True)
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    marker = os.path.join(open_dir, "tmpfs.marker")
    r = run_sh(f"unshare -Urm sh -c 'mount -t tmpfs t /mnt && cp {bad} /mnt/x && "
               f"exec /mnt/x {marker}'", user=user)
    assert r.returncode != 0, r
    assert not os.path.exists(marker), "a hash-denied copy on a fresh tmpfs ran"
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                     and x.get("file", {}).get("sha256") == sha256_of(bad), what="deny")[0]
    assert rec.get("held") is True and rec["enforced_by"] == "bpf_hold"
    d.wait_for(lambda x: x.get("type") == "fanotify_mark" and x.get("action") == "marked_late",
               what="late fanotify mark")


def test_allowed_program_on_a_tmpfs_of_another_namespace_runs(tools, open_dir, daemon):
    ok = tools.make_bin(open_dir, "fine", tag="ns-tmpfs-ok", static=True)
    other = tools.make_bin(open_dir, "other", tag="ns-tmpfs-other")
    daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(other)}]))
    marker = os.path.join(open_dir, "ok.marker")
    r = run_sh(f"unshare -Urm sh -c 'mount -t tmpfs t /mnt && cp {ok} /mnt/x && "
               f"/mnt/x {marker} && /mnt/x {marker}.2'", user=NOBODY)
    assert r.returncode == 0, r
    assert os.path.exists(marker) and os.path.exists(marker + ".2")


def test_tmpfs_mounted_again_is_not_taken_as_marked(tools, open_dir, daemon):
    """Unmount and mount again: the new tmpfs reuses the anonymous device number."""
    bad = tools.make_bin(open_dir, "evil", tag="remount", static=True)
    mnt = os.path.join(open_dir, "mnt")
    os.mkdir(mnt)
    d = daemon(Policy([{"name": "by-hash", "action": "deny", "sha256": sha256_of(bad)}]))
    subprocess.run(["mount", "-t", "tmpfs", "first", mnt], check=True)
    try:
        # Let the daemon see (and mark) the first one.
        ran = run_sh(f"cp {bad} {mnt}/x && {mnt}/x {open_dir}/first.marker")
        assert not os.path.exists(f"{open_dir}/first.marker"), ran
    finally:
        subprocess.run(["umount", mnt], check=True)
    marker = os.path.join(open_dir, "again.marker")
    subprocess.run(["mount", "-t", "tmpfs", "second", mnt], check=True)
    try:
        r = run_sh(f"cp {bad} {mnt}/x && exec {mnt}/x {marker}")
    finally:
        subprocess.run(["umount", "-l", mnt])
    assert r.returncode != 0, r
    assert not os.path.exists(marker), "a hash-denied copy on a re-mounted tmpfs ran"
    d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
               and x.get("held") is True and x["process"]["args"][-1:] == [marker],
               what="the held deny on the second tmpfs")

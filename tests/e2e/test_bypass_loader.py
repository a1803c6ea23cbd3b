# SPDX-License-Identifier: Apache-2.0
"""
Attacks through the dynamic loader (`ld.so PROGRAM` maps PROGRAM itself,
out of sight of exec hooks): the program is resolved in the caller's world
(its root, cwd and mounts), and a loader is recognised by the program
headers it runs with, not by section headers it can do without.
"""
import os
import shutil
import struct
import subprocess

import pytest

from conftest import NOBODY, as_user, LOADER, Policy



def run(argv, user=None, cwd=None):
    return subprocess.run(as_user(argv, user), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=30, cwd=cwd)


def assert_killed_held(d, marker, path_part):
    assert not os.path.exists(marker), "the identity-denied program ran through the loader"
    rec = d.wait_for(lambda r: r.get("type") == "exec" and r.get("decision") == "deny"
                     and r.get("held") is True and (r.get("file") or {}).get("loader") is True,
                     what="held loader deny")[0]
    assert rec["enforced_by"] == "bpf_hold"
    return rec


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_loader_target_behind_a_bind_mount_of_another_namespace(tools, open_dir, daemon, user):
    src = os.path.join(open_dir, "src")
    os.mkdir(src)
    os.chmod(src, 0o777)
    bad = tools.make_bin(src, "evil", tag=f"ld-ns-{user}")
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]))
    marker = os.path.join(open_dir, "ns.marker")
    # /mnt/evil exists only in the attacker's namespace.
    r = run(["unshare", "-Urm", "sh", "-c",
             f"mount --bind {src} /mnt && exec {LOADER} /mnt/evil {marker}"], user=user)
    assert r.returncode != 0, r
    assert_killed_held(d, marker, "/mnt/evil")


def make_chroot(root):
    """A minimal chroot: the loader and libc, at their usual places."""
    libc = os.path.realpath("/lib/x86_64-linux-gnu/libc.so.6")
    for src, dst in ((LOADER, "lib64/ld-linux-x86-64.so.2"),
                     (libc, "lib/x86_64-linux-gnu/libc.so.6")):
        os.makedirs(os.path.join(root, os.path.dirname(dst)), exist_ok=True)
        shutil.copyfile(src, os.path.join(root, dst))
        os.chmod(os.path.join(root, dst), 0o755)


def test_loader_target_inside_a_chroot(tools, open_dir, daemon):
    root = os.path.join(open_dir, "jail")
    os.mkdir(root)
    make_chroot(root)
    bad = tools.make_bin(root, "evil", tag="ld-chroot")
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]))
    # /evil exists only inside the chroot: the daemon must not look for it in its own root.
    r = run(["chroot", root, "/lib64/ld-linux-x86-64.so.2", "/evil", "/chroot.marker"])
    assert r.returncode != 0, r
    assert_killed_held(d, os.path.join(root, "chroot.marker"), "/evil")


def strip_section_headers(path):
    """Zero e_shoff, e_shnum and e_shstrndx: the loader still runs without them."""
    with open(path, "r+b") as f:
        f.seek(0x28)
        f.write(struct.pack("<Q", 0))       # e_shoff
        f.seek(0x3c)
        f.write(struct.pack("<HH", 0, 0))   # e_shnum, e_shstrndx


def test_loader_copy_without_section_headers_is_still_a_loader(tools, open_dir, daemon):
    ldcopy = os.path.join(open_dir, "ldcopy")
    shutil.copyfile(LOADER, ldcopy)
    os.chmod(ldcopy, 0o755)
    strip_section_headers(ldcopy)
    ok = os.path.join(open_dir, "ok")
    tools.make_bin(open_dir, "ok", tag="ld-noshdr-ok")
    bad = tools.make_bin(open_dir, "evil", tag="ld-noshdr")
    # It is still a working loader...
    probe = os.path.join(open_dir, "works.marker")
    d = daemon(Policy([{"name": "by-id", "action": "deny", "identity": bad}]))
    r = run([ldcopy, ok, probe], user=NOBODY)
    assert r.returncode == 0 and os.path.exists(probe), r
    # ...and what it loads is judged.
    marker = os.path.join(open_dir, "noshdr.marker")
    r = run([ldcopy, bad, marker], user=NOBODY)
    assert r.returncode != 0, r
    assert_killed_held(d, marker, bad)

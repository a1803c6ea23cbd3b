# SPDX-License-Identifier: Apache-2.0
"""
The bypasses of the hardening work, tried from inside a container started by
a real runtime (podman with runc), as root and as nobody: copies, links,
fileless execs, the dynamic loader, undoing a hold, long paths, hostile
names, another mount namespace and a chroot made inside the container.
The program is denied by its content (sha256), so no name or place helps.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HELPERS_SRC, LOADER, Policy, sha256_of
from containers import make_rootfs, podman, unique  # noqa: F401 (podman: a fixture)

LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


@pytest.fixture
def image(tools, workdir, podman):
    """Payloads (static and dynamic: the loader needs one), a static sgexec, the
    dynamic loader and libc, and an allowed program as the control."""
    src = Path(workdir) / "src"
    src.mkdir()
    static = tools.make_bin(src, "payload", tag="ctr-bypass", static=True)
    dynamic = tools.make_bin(src, "payload-dyn", tag="ctr-bypass-dyn")
    allowed = tools.make_bin(src, "allowed", tag="ctr-allowed", static=True)
    sgexec = src / "sgexec"
    r = subprocess.run(["cc", "-O2", "-static", "-o", str(sgexec), str(HELPERS_SRC / "sgexec.c")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    root = make_rootfs(Path(workdir) / "root", {
        "/usr/bin/payload": static, "/usr/bin/payload-dyn": dynamic,
        "/usr/bin/allowed": allowed, "/usr/bin/sgexec": sgexec,
        LOADER: LOADER, LIBC: LIBC,
    })
    ref = podman.build(unique("bypass"), root)
    return ref, sha256_of(static), sha256_of(dynamic)


ATTACKS = {
    "copy": "cp /usr/bin/payload /tmp/q && /tmp/q /out/copy",
    # (nobody may not link root's files: protected_hardlinks) a link of its own copy
    "hardlink": "cp /usr/bin/payload /tmp/o && ln /tmp/o /tmp/h && /tmp/h /out/hardlink",
    "symlink": "ln -s /usr/bin/payload /tmp/s && /tmp/s /out/symlink",
    "memfd": "/usr/bin/sgexec memfd /usr/bin/payload /out/memfd",
    "deleted": "cp /usr/bin/payload /tmp/d && /usr/bin/sgexec deleted /tmp/d /out/deleted",
    "loader": f"{LOADER} /usr/bin/payload-dyn /out/loader",
    "sigcont": "/usr/bin/sgexec --sigcont path /usr/bin/payload /out/sigcont",
    "ptrace": "/usr/bin/sgexec --ptrace path /usr/bin/payload /out/ptrace",
    "hostile_name": "cp /usr/bin/payload '/tmp/a\nb c' && '/tmp/a\nb c' /out/hostile_name",
    # Deeper than PATH_MAX: reached by relative steps, as the kernel's walk must be whole.
    "long_path": "d=/tmp/deep; mkdir $d && cd $d && i=0; while [ $i -lt 40 ]; do "
                 "n=dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
                 "dddddddddddddddddddddddddddddddddddddddddddddddd; mkdir $n && cd $n; i=$((i+1)); done; "
                 "cp /usr/bin/payload ./p && ./p /out/long_path",
}


def run_attacks(podman, ref, out, user=None, extra=()):
    args = ["-v", f"{out}:/out"] + (["--user", f"{user}:{user}"] if user else []) + list(extra)
    results = {}
    for name, line in ATTACKS.items():
        r = podman.run(ref, "/bin/sh", "-c", line, extra=args)
        results[name] = (r.returncode, r.stdout, r.stderr)
    return results


@pytest.mark.parametrize("user", [None, 65534], ids=["root", "nobody"])
def test_bypasses_from_inside_a_container(tools, workdir, daemon, podman, image, user):
    ref, sha, sha_dyn = image
    out = Path(workdir) / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    # Each attack works: without a deny, every one of them runs the payload.
    results = run_attacks(podman, ref, out, user=user)
    ran = sorted(p.name for p in out.iterdir())
    assert ran == sorted(ATTACKS), {n: results[n] for n in ATTACKS if n not in ran}
    for p in out.iterdir():
        p.unlink()
    d = daemon(Policy([{"name": "payload", "action": "deny", "sha256": sha},
                       {"name": "payload-dyn", "action": "deny", "sha256": sha_dyn}]))
    results = run_attacks(podman, ref, out, user=user)
    ran = sorted(p.name for p in out.iterdir())
    assert ran == [], {n: results[n] for n in ran}
    # The control runs: the container and the mounts work.
    r = podman.run(ref, "/usr/bin/allowed", "/out/control", extra=["-v", f"{out}:/out"]
                   + (["--user", f"{user}:{user}"] if user else []))
    assert (out / "control").exists(), (r.stdout, r.stderr)
    denied = [x for x in d.log_records() if x.get("type") == "exec" and x.get("decision") == "deny"
              and x["process"].get("container", {}).get("verified")]
    assert len(denied) >= 8, denied
    assert {x["rule"]["name"] for x in denied if x.get("rule")} >= {"payload", "payload-dyn"}


def test_namespace_and_chroot_made_inside_a_container(tools, workdir, daemon, podman, image):
    """With the capabilities to make its own mounts, a container's process binds
    the payload elsewhere in a new mount namespace, or chroots to a copy."""
    ref, sha, _ = image
    out = Path(workdir) / "out"
    (out / "r").mkdir(parents=True)
    caps = ["--cap-add", "SYS_ADMIN", "--cap-add", "SYS_CHROOT", "--security-opt",
            "apparmor=unconfined"]
    lines = {
        "unshare": "unshare -m sh -c 'mkdir -p /tmp/m && mount --bind /usr/bin /tmp/m && "
                   "/tmp/m/payload /out/unshare'",
        "chroot": "cp /usr/bin/payload /out/r/p && chroot /out/r /p /ran-chroot",
        "tmpfs": "mkdir -p /tmp/t && mount -t tmpfs none /tmp/t && cp /usr/bin/payload /tmp/t/p && "
                 "/tmp/t/p /out/tmpfs",
    }
    # Without a deny each of them runs it.
    for name, line in lines.items():
        r = podman.run(ref, "/bin/sh", "-c", line, extra=["-v", f"{out}:/out"] + caps)
    assert sorted(p.name for p in out.iterdir() if p.name != "r") == ["tmpfs", "unshare"]
    assert (out / "r" / "ran-chroot").exists()
    for p in [out / "unshare", out / "tmpfs", out / "r" / "ran-chroot", out / "r" / "p"]:
        p.unlink()
    d = daemon(Policy([{"name": "payload", "action": "deny", "sha256": sha}]))
    for name, line in lines.items():
        r = podman.run(ref, "/bin/sh", "-c", line, extra=["-v", f"{out}:/out"] + caps)
    assert sorted(p.name for p in out.iterdir() if p.name != "r") == []
    assert not (out / "r" / "ran-chroot").exists()
    # Their copies did get made: the attack was real.
    assert (out / "r" / "p").exists()
    denied = [x for x in d.log_records() if x.get("type") == "exec" and x.get("decision") == "deny"]
    assert len(denied) >= 3, denied

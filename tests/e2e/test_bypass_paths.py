# SPDX-License-Identifier: Apache-2.0
"""
Attacks on path and glob rules: names another mount namespace makes up,
and paths too long to read whole. A path rule is decided on the host's name
for the file, and a name the daemon could not establish is never "no rule
matched" in enforce mode.
"""
import os
import subprocess

import pytest

from conftest import NOBODY, as_user, Policy



def sh(script, user=None, timeout=30):
    return subprocess.run(as_user(["sh", "-c", script], user), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)


def attacker_dir(tools, open_dir, name="tool"):
    d = os.path.join(open_dir, "attacker")
    os.mkdir(d)
    os.chmod(d, 0o777)
    tools.make_bin(d, name)
    return d


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_bind_mount_in_a_user_namespace_is_decided_on_the_host_path(tools, open_dir, daemon, user):
    """
    unshare -Urm, then bind the attacker's directory over another path: the
    program's name there is /mnt/tool, but the host's name is what the deny
    glob covers.
    """
    src = attacker_dir(tools, open_dir)
    d = daemon(Policy([{"name": "no-attacker", "action": "deny", "glob": f"{src}/**"}]))
    marker = os.path.join(open_dir, "bind.marker")
    r = sh(f"unshare -Urm sh -c 'mount --bind {src} /mnt && exec /mnt/tool {marker}'", user=user)
    assert r.returncode != 0 and "Operation not permitted" in r.stderr, r
    assert not os.path.exists(marker), "the glob-denied program ran under a made-up name"
    rec = d.wait_exec(exe=os.path.join(src, "tool"), decision="deny")[0]
    assert rec["rule"]["name"] == "no-attacker"


def test_bind_mount_over_an_allowed_path_does_not_inherit_its_allow(tools, open_dir, daemon):
    """The allow-list case: allowing a path does not allow whatever a namespace puts there."""
    src = attacker_dir(tools, open_dir)
    allowed = os.path.join(open_dir, "allowed")
    os.mkdir(allowed)
    os.chmod(allowed, 0o777)
    tools.make_bin(allowed, "tool")
    d = daemon(Policy([{"name": "allowed-dir", "action": "allow", "glob": f"{allowed}/*"},
                       {"name": "not-the-attacker", "action": "deny", "glob": f"{src}/**"}]))
    # The real allowed program runs...
    ok = os.path.join(open_dir, "ok.marker")
    r = sh(f"{allowed}/tool {ok}", user=NOBODY)
    assert r.returncode == 0 and os.path.exists(ok), r
    # ...the attacker's program bound over the allowed directory does not.
    marker = os.path.join(open_dir, "over.marker")
    r = sh(f"unshare -Urm sh -c 'mount --bind {src} {allowed} && exec {allowed}/tool {marker}'",
           user=NOBODY)
    assert r.returncode != 0, r
    assert not os.path.exists(marker), "a bind mount over an allowed path inherited its allow"
    d.wait_exec(exe=os.path.join(src, "tool"), decision="deny")


def deep_dir(root, total=5000):
    """A directory nested deeper than PATH_MAX, made through dir fds; returns its components."""
    comps = []
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    while sum(len(c) + 1 for c in comps) < total:
        c = "D" * 200
        os.mkdir(c, 0o777, dir_fd=fd)
        nfd = os.open(c, os.O_PATH | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
        comps.append(c)
    os.close(fd)
    return comps


def run_deep(root, comps, marker):
    """exec ./deep-tool from inside the deep directory (a shell cannot cd that deep)."""
    code = ("import os, sys\n"
            "fd = os.open(sys.argv[1], os.O_PATH | os.O_DIRECTORY)\n"
            "for c in sys.argv[3:]:\n"
            "    n = os.open(c, os.O_PATH | os.O_DIRECTORY, dir_fd=fd); os.close(fd); fd = n\n"
            "os.fchdir(fd)\n"
            "os.execv('./deep-tool', ['./deep-tool', sys.argv[2]])\n")
    return subprocess.run(["/usr/bin/python3", "-c", code, root, marker] + comps,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)


def put_marker_deep(tools, root, comps):
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    for c in comps:
        nfd = os.open(c, os.O_PATH | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nfd
    out = os.open("deep-tool", os.O_WRONLY | os.O_CREAT, 0o755, dir_fd=fd)
    os.write(out, tools.marker_bytes)
    os.close(out)
    os.close(fd)


@pytest.mark.parametrize("disable", [(), ("fanotify",)], ids=["fanotify", "kernel_hold"])
def test_path_longer_than_path_max_does_not_escape_a_glob(tools, open_dir, daemon, disable):
    deep_root = os.path.join(open_dir, "deep")
    os.mkdir(deep_root)
    comps = deep_dir(deep_root)
    put_marker_deep(tools, deep_root, comps)
    d = daemon(Policy([{"name": "nothing-from-here", "action": "deny", "glob": f"{open_dir}/**"}]),
               disable=disable)
    marker = os.path.join(open_dir, "deep.marker")
    r = run_deep(deep_root, comps, marker)
    assert r.returncode != 0, r
    assert not os.path.exists(marker), "a program too deep to name escaped the glob"
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                     and x.get("reason") == "path_unknown", what="path_unknown deny")[0]
    assert rec["severity"] == "critical"


def test_deep_path_runs_when_no_rule_is_by_name(tools, open_dir, daemon):
    """Fail closed only where a name could decide: identity-only policies do not care."""
    deep_root = os.path.join(open_dir, "deep")
    os.mkdir(deep_root)
    comps = deep_dir(deep_root)
    put_marker_deep(tools, deep_root, comps)
    other = tools.make_bin(open_dir, "other")
    daemon(Policy([{"name": "by-id", "action": "deny", "identity": other}]))
    marker = os.path.join(open_dir, "deep-ok.marker")
    r = run_deep(deep_root, comps, marker)
    assert r.returncode == 0 and os.path.exists(marker), r


def test_exec_from_another_namespace_on_overlayfs_is_named_on_the_host(tools, open_dir, daemon):
    """
    What a container runtime does: overlayfs mounted on the host, the
    process in a mount namespace of its own (a copy of that mount).
    overlayfs has no file handles: the name comes from the opener's mount
    table, mapped back to the host's mount. Allowed programs run; the glob
    still decides on the host's name.
    """
    layers = {n: os.path.join(open_dir, n) for n in ("lower", "upper", "work", "merged")}
    for p in layers.values():
        os.mkdir(p)
    tools.make_bin(layers["lower"], "tool", static=True)
    tools.make_bin(layers["lower"], "bad-tool", static=True)
    merged = layers["merged"]
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={layers['lower']},upperdir={layers['upper']},"
                    f"workdir={layers['work']}", merged], check=True)
    try:
        d = daemon(Policy([{"name": "no-bad", "action": "deny", "glob": f"{merged}/bad-*"}]))
        ok = os.path.join(open_dir, "overlay-ok.marker")
        r = subprocess.run(["unshare", "-m", f"{merged}/tool", ok], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0 and os.path.exists(ok), r
        bad = os.path.join(open_dir, "overlay-bad.marker")
        r = subprocess.run(["unshare", "-m", f"{merged}/bad-tool", bad], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode != 0 and not os.path.exists(bad), r
        rec = d.wait_exec(exe=f"{merged}/bad-tool", decision="deny")[0]
        assert rec["rule"]["name"] == "no-bad"
    finally:
        subprocess.run(["umount", "-l", merged])

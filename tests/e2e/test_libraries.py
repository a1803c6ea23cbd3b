"""
Shared objects under the libraries: rules. A denied library's code never
runs: its constructor is the first instruction it would run, and the
instruction fetch that faults its first page in is where the kernel kills
the process (path and identity rules, in the kernel), or holds it for the
daemon's verdict (sha256 and glob rules, allow-list mode). LD_PRELOAD,
dlopen, ld.so --preload and a memfd-backed library, as root and as nobody.
"""
import hashlib
import os
import subprocess

import pytest

from conftest import HELPERS_SRC, NOBODY, Policy, as_user

SRC = HELPERS_SRC / "ctor_marker.c"


def build_lib(path, tag):
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", f'-DSG_TAG="{tag}"', "-o", path, str(SRC)],
                   check=True, timeout=60)
    os.chmod(path, 0o755)
    return path


def policy(rules, libraries, **kw):
    p = Policy(rules, **kw)
    p.text += "libraries:\n" + "".join(
        "  - {" + ", ".join(f'{k}: "{v}"' for k, v in r.items()) + "}\n" for r in libraries)
    return p


def run(argv, marker, user=None, env=None):
    """argv as user, with env set for argv itself (not for setpriv on the way)."""
    sets = [f"{k}={v}" for k, v in dict(env or {}, SG_LIB_MARKER=marker).items()]
    r = subprocess.run(as_user(["/usr/bin/env"] + sets + list(argv), user),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    return r.returncode


DLOPEN = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"
MEMFD = ("import ctypes, os, sys; fd = os.memfd_create('lib'); "
         "os.write(fd, open(sys.argv[1], 'rb').read()); ctypes.CDLL(f'/proc/self/fd/{fd}')")


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_denied_library_constructor_never_runs(open_dir, daemon, user):
    by_path = build_lib(os.path.join(open_dir, "by-path.so"), "path")
    by_hash = build_lib(os.path.join(open_dir, "by-hash.so"), "hash")
    fine = build_lib(os.path.join(open_dir, "fine.so"), "fine")
    sha = hashlib.sha256(open(by_hash, "rb").read()).hexdigest()
    d = daemon(policy([], [{"name": "no-path", "action": "deny", "path": by_path},
                           {"name": "no-hash", "action": "deny", "sha256": sha}]))
    m = os.path.join(open_dir, f"m-{user}")

    assert run(["/usr/bin/true"], m + ".fine", user, {"LD_PRELOAD": fine}) == 0
    assert os.path.exists(m + ".fine")
    attempts = {
        "preload-path": (["/usr/bin/true"], {"LD_PRELOAD": by_path}),
        "preload-hash": (["/usr/bin/true"], {"LD_PRELOAD": by_hash}),
        "dlopen-path": (["/usr/bin/python3", "-c", DLOPEN, by_path], None),
        "dlopen-hash": (["/usr/bin/python3", "-c", DLOPEN, by_hash], None),
        "ld.so-preload": (["/lib64/ld-linux-x86-64.so.2", "--preload", by_path, "/usr/bin/true"],
                          None),
        "memfd-hash": (["/usr/bin/python3", "-c", MEMFD, by_hash], None),
    }
    for what, (argv, env) in attempts.items():
        rc = run(argv, f"{m}.{what}", user, env)
        assert rc == -9 and not os.path.exists(f"{m}.{what}"), (what, rc)
    recs = d.wait_exec(exe=by_path, decision="deny", count=3)
    assert all(r["action"] == "library" and r["enforced_by"] == "bpf_kill" for r in recs), recs
    assert {r["process"]["program"] for r in recs} >= {"/usr/bin/true"}, recs
    rec = d.wait_exec(exe=by_hash, decision="deny")[0]
    assert rec["enforced_by"] == "bpf_hold" and rec["rule"]["name"] == "no-hash", rec


def test_allow_list_of_libraries(open_dir, daemon):
    stray = build_lib(os.path.join(open_dir, "stray.so"), "stray")
    daemon(policy([{"name": "system", "action": "allow", "glob": "/usr/**"}],
                  [{"name": "system-libs", "action": "allow", "glob": "/usr/lib/**"}],
                  default="deny"))
    m = os.path.join(open_dir, "m")
    assert run(["/usr/bin/python3", "-c", "import json, ssl"], m + ".sys") == 0
    assert run(["/usr/bin/true"], m, None, {"LD_PRELOAD": stray}) == -9 and not os.path.exists(m)


def test_monitor_mode_reports_and_lets_it_run(open_dir, daemon):
    bad = build_lib(os.path.join(open_dir, "bad.so"), "bad")
    d = daemon(policy([], [{"name": "no-bad", "action": "deny", "path": bad}], mode="monitor"))
    m = os.path.join(open_dir, "m")
    assert run(["/usr/bin/true"], m, None, {"LD_PRELOAD": bad}) == 0 and os.path.exists(m)
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    assert rec["mode"] == "monitor" and rec["action"] == "library", rec


def test_without_library_rules_the_constructor_runs(open_dir, daemon):
    """The attack works when no rule stops it: what the tests above prevent."""
    bad = build_lib(os.path.join(open_dir, "bad.so"), "bad")
    daemon(Policy([{"name": "no-bad", "action": "deny", "path": bad}]))  # an exec rule only
    m = os.path.join(open_dir, "m")
    assert run(["/usr/bin/true"], m, None, {"LD_PRELOAD": bad}) == 0 and os.path.exists(m)

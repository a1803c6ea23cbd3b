"""
Interpreters that ask the kernel before they run a file: execveat(fd, "",
AT_EMPTY_PATH | AT_EXECVE_CHECK) (kernel 6.14+; this one is 6.18) runs the
exec checks on FILE without executing it. The policy's verdict is the
kernel's answer: a denied script is refused with EPERM, an allowed one
passes, by path, glob and sha256 alike.
"""
import hashlib
import subprocess

from conftest import Policy


def check(tools, path):
    r = subprocess.run([str(tools.execve_check), str(path)], capture_output=True, text=True,
                       timeout=20)
    return r.returncode, r.stdout.strip()


def script(directory, name, body):
    p = directory / name
    p.write_text(f"#!/bin/sh\n{body}\n")
    p.chmod(0o755)
    return p


def test_execve_check_gets_the_policys_verdict(tools, workdir, daemon):
    by_path = script(workdir, "by-path.sh", "echo path")
    by_hash = script(workdir, "by-hash.sh", "echo hash")
    (workdir / "globbed").mkdir()
    by_glob = script(workdir / "globbed", "g.sh", "echo glob")
    fine = script(workdir, "fine.sh", "echo fine")
    sha = hashlib.sha256(by_hash.read_bytes()).hexdigest()
    d = daemon(Policy([
        {"name": "no-path", "action": "deny", "path": by_path},
        {"name": "no-hash", "action": "deny", "sha256": sha},
        {"name": "no-glob", "action": "deny", "glob": f"{workdir}/globbed/*"},
    ]))
    assert check(tools, fine) == (0, "allowed")
    for p, rule in ((by_path, "no-path"), (by_hash, "no-hash"), (by_glob, "no-glob")):
        assert check(tools, p) == (1, "refused EPERM"), p
        rec = d.wait_exec(exe=str(p), decision="deny")[0]
        assert rec["rule"]["name"] == rule and rec["enforced_by"] == "fanotify", rec
    # A copy of the hash-denied script under another name is the same content.
    copy = workdir / "copy.sh"
    copy.write_bytes(by_hash.read_bytes())
    copy.chmod(0o755)
    assert check(tools, copy) == (1, "refused EPERM")


def test_execve_check_in_monitor_mode_refuses_nothing(tools, workdir, daemon):
    bad = script(workdir, "bad.sh", "echo bad")
    daemon(Policy([{"name": "no-bad", "action": "deny", "path": bad}], mode="monitor"))
    assert check(tools, bad) == (0, "allowed")

# SPDX-License-Identifier: Apache-2.0
"""
Refusals by the immutable flag leave a record (fanotify backend, this host).

A file whose rule denies write and delete carries FS_IMMUTABLE_FL, and the
kernel refuses rm, truncate, mv, ln and chmod of it before fanotify sees
anything. The refusal sensor (bpf/file_refusal.bpf.c) sees the EPERM at the
system call's exit; every attempt must produce a file_access record with
`blocked: true`, `backend: "immutable"`, the operation, the file and the
process (pid and executable) that tried. One behaviour per test, as root and
as an unprivileged user on a mode 666 file in a mode 777 directory (so only
the flag refuses).
"""
import os
import shutil
import subprocess

import pytest

from test_files import policy

NOBODY = 65534

# tool argv (target last, {} = the protected file), expected action(s), what changes if it went through
ATTACKS = {
    "rm": (["rm", "-f", "{}"], {"unlink"}),
    "truncate": (["truncate", "-s0", "{}"], {"open_write", "truncate"}),
    "mv": (["mv", "-f", "{}", "{}.moved"], {"rename"}),
    "ln": (["ln", "{}", "{}.link"], {"link"}),
    "chmod": (["chmod", "600", "{}"], {"chmod"}),
}


@pytest.fixture
def protected(workdir):
    # nobody must reach the file: every directory above it is searchable.
    d = workdir
    while str(d).startswith("/var/tmp/") and d != d.parent:
        os.chmod(d, os.stat(d).st_mode | 0o755)
        d = d.parent
    shared = workdir / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    path = shared / "guarded.conf"
    path.write_bytes(b"setting=1\n")
    os.chmod(path, 0o666)
    return path


def _attack(tool, path, user):
    argv = [a.replace("{}", str(path)) for a in ATTACKS[tool][0]]
    argv[0] = shutil.which(argv[0])
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + argv
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    _, err = p.communicate(timeout=20)
    return p, err


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
@pytest.mark.parametrize("tool", list(ATTACKS))
def test_refusal_by_the_immutable_flag_is_recorded(workdir, daemon, protected, tool, user):
    d = daemon(policy(files=[{"name": "guarded", "path": str(protected),
                              "deny": ["write", "delete"]}]),
               extra=("--record-immutable-refusals",))
    add = d.wait_for(lambda r: r["type"] == "file_protect" and r["action"] == "add"
                     and r["file"]["path"] == str(protected), what="file_protect add")[0]
    assert add["immutable"] is True, add
    before = os.stat(protected)
    p, err = _attack(tool, protected, user)
    # The kernel refused it: EPERM, nothing changed.
    assert p.returncode != 0, (tool, err)
    assert "Operation not permitted" in err, (tool, err)
    after = os.stat(protected)
    assert (after.st_ino, after.st_mode, after.st_size, after.st_nlink) == \
        (before.st_ino, before.st_mode, before.st_size, before.st_nlink)
    assert not os.path.exists(f"{protected}.moved")
    assert not os.path.exists(f"{protected}.link")
    exe = os.path.realpath(shutil.which(ATTACKS[tool][0][0]))

    # ...and the operator learns of it, with the process that tried.
    def mine(r):
        return (r["type"] == "file_access" and r.get("backend") == "immutable"
                and r["process"]["pid"] == p.pid)
    rec = d.wait_for(mine, what=f"file_access record for {tool} (pid {p.pid})")[0]
    assert rec["action"] in ATTACKS[tool][1], rec
    assert rec["blocked"] is True, rec
    assert rec["decision"] == "deny", rec
    assert rec["file"]["path"] == str(protected), rec
    assert rec["file"]["ino"] == before.st_ino, rec
    assert rec["process"]["exe"] == exe, rec
    assert rec["process"]["uid"] == user, rec
    assert rec["rule"]["name"] == "guarded", rec
    assert rec["errno"] == "EPERM", rec

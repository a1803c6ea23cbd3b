# SPDX-License-Identifier: Apache-2.0
"""
FILE-1..3 on this host's backend (fanotify FAN_OPEN_PERM inode marks plus
FS_IMMUTABLE_FL; BPF LSM is tested in the VM): protected files resist root,
through every name; the block list; integrity records with the right pid
and path; self-defence of the daemon's own files, undone within 1 s where
the kernel could not stop it.
"""
import errno
import json
import os
import subprocess
import time

import pytest

from conftest import CTL_BIN, DAEMON_BIN

HOSTILE = 'we"ird\nname\\\xff.conf'


def policy(files=(), integrity=(), mode="enforce", version="files-1"):
    lines = [f'version: "{version}"', f"mode: {mode}", "default: allow"]
    if files:
        lines.append("files:")
        for f in files:
            lines.append("  - {" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in f.items()) + "}")
    if integrity:
        lines.append("integrity:")
        for p in integrity:
            lines.append(f"  - path: {json.dumps(str(p))}")
    return "\n".join(lines) + "\n"


def errno_of(fn, *args):
    try:
        fn(*args)
        return 0
    except OSError as e:
        return e.errno


def write_file(path, data=b"x", flags=os.O_WRONLY | os.O_APPEND):
    fd = os.open(path, flags)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def lsattr_immutable(path):
    out = subprocess.run(["lsattr", "-d", str(path)], capture_output=True, text=True).stdout
    return out.split()[0][4] == "i" if out else False


def access_records(d, path, action=None, count=1):
    """The file_access records of path; waits for `count` (records are written by a queue)."""
    return d.wait_for(lambda r: r["type"] == "file_access" and r["file"]["path"] == str(path)
                      and (action is None or r["action"] == action), count=count,
                      what=f"file_access {action or ''} of {path}")


@pytest.fixture
def files(workdir):
    secret = workdir / "secret.txt"
    config = workdir / "app.conf"
    free = workdir / "free.txt"
    secret.write_bytes(b"top secret\n")
    config.write_bytes(b"setting=1\n")
    free.write_bytes(b"free\n")
    # Names made before the daemon starts: they reach the protected inode.
    os.link(config, workdir / "config-hardlink")
    os.symlink(config, workdir / "config-symlink")
    os.symlink(secret, workdir / "secret-symlink")
    return secret, config, free


def test_root_cannot_change_a_protected_file_by_any_name(workdir, daemon, files):
    secret, config, free = files
    d = daemon(policy(files=[{"name": "app-config", "path": str(config)},
                             {"name": "secret", "path": str(secret),
                              "deny": ["write", "delete", "read"]}]))
    before = read_file(config)
    EPERM = errno.EPERM
    assert errno_of(write_file, config) == EPERM
    assert errno_of(write_file, config, b"", os.O_WRONLY | os.O_TRUNC) == EPERM
    assert errno_of(os.truncate, config, 0) == EPERM
    assert errno_of(os.unlink, config) == EPERM
    assert errno_of(os.rename, config, workdir / "moved") == EPERM
    assert errno_of(os.replace, free, config) == EPERM, "replacing it by rename"
    assert errno_of(os.link, config, workdir / "new-hardlink") == EPERM
    assert errno_of(os.chmod, config, 0o777) == EPERM
    assert errno_of(write_file, workdir / "config-symlink") == EPERM
    assert errno_of(write_file, workdir / "config-hardlink") == EPERM
    assert read_file(config) == before, "reading is allowed where only writes are denied"
    assert read_file(workdir / "config-hardlink") == before
    # Reads denied: every name, every opener.
    assert errno_of(read_file, secret) == EPERM
    assert errno_of(read_file, workdir / "secret-symlink") == EPERM
    r = subprocess.run(["cat", str(secret)], capture_output=True)
    assert r.returncode != 0 and b"not permitted" in r.stderr
    # Unprotected files are untouched.
    write_file(free, b"more\n")
    assert read_file(free) == b"free\nmore\n"
    assert os.path.exists(config) and read_file(config) == before
    # Refused opens are on the record, with who did it.
    d.wait_for(lambda r: r["type"] == "file_access" and r["file"]["path"] == str(secret)
               and r["process"]["exe"].endswith("/cat"), what="cat's refused read")
    recs = access_records(d, secret, "open")
    assert any(r["process"]["pid"] == os.getpid() and r["blocked"] for r in recs)
    assert all(r["rule"]["name"] == "secret" and r["severity"] == "critical" for r in recs)
    # Writes stopped by the immutable flag fail in the kernel before fanotify
    # sees them: no record (docs/file-protection.md); the next test covers
    # the refused write-open that is recorded.
    added = [r for r in d.log_records() if r["type"] == "file_protect" and r["action"] == "add"]
    assert {r["file"]["path"] for r in added} >= {str(secret), str(config)}
    # A clean stop lifts the protection.
    d.stop()
    assert not lsattr_immutable(config)
    write_file(config, b"after\n")


def test_write_open_is_refused_even_without_the_immutable_flag(workdir, daemon, files):
    """Root with CAP_LINUX_IMMUTABLE clears the flag: the open is still refused, the flag returns."""
    _, config, _ = files
    d = daemon(policy(files=[{"name": "app-config", "path": str(config)}]))
    assert lsattr_immutable(config)
    subprocess.run(["chattr", "-i", str(config)], check=True)
    assert errno_of(write_file, config) == errno.EPERM
    assert errno_of(write_file, config, b"", os.O_RDWR) == errno.EPERM
    recs = access_records(d, config, "open_write")
    assert recs and recs[0]["intent"] == "write" and recs[0]["rule"]["source"] == "policy"
    assert recs[0]["process"]["pid"] == os.getpid() and recs[0]["blocked"] is True
    deadline = time.monotonic() + 1.5
    while not lsattr_immutable(config) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lsattr_immutable(config), "the flag was not put back within 1.5 s"
    # chattr sends no fanotify event: the once-a-second check finds it.
    rec = d.wait_for(lambda r: r["type"] == "file_protect" and r["action"] == "immutable_restored",
                     what="tamper record")[0]
    assert rec["file"]["path"] == str(config) and rec["severity"] == "critical"


def test_monitor_mode_records_and_blocks_nothing(workdir, daemon, files):
    _, config, _ = files
    d = daemon(policy(files=[{"name": "app-config", "path": str(config)}], mode="monitor"))
    assert not lsattr_immutable(config)
    write_file(config, b"changed\n")
    r = d.wait_for(lambda r: r["type"] == "file_access" and r["file"]["path"] == str(config),
                   what="would-deny record")[0]
    assert r["blocked"] is False and r["severity"] == "warning"
    assert r["process"]["pid"] == os.getpid()


def test_block_list_cli_adds_and_removes_with_records(workdir, daemon, files):
    _, _, free = files
    d = daemon(policy())
    ctl = [str(CTL_BIN), "--state-dir", str(d.state_dir)]
    r = subprocess.run(ctl + ["block", "add", str(free)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert errno_of(write_file, free) == errno.EPERM
    assert errno_of(os.unlink, free) == errno.EPERM
    listed = subprocess.run(ctl + ["block", "list"], capture_output=True, text=True, check=True)
    assert listed.stdout.splitlines() == [str(free)]
    rec = d.wait_for(lambda r: r["type"] == "file_protect" and r["action"] == "add"
                     and r["source"] == "blocklist", what="block add record")[0]
    assert rec["file"]["path"] == str(free)
    r = subprocess.run(ctl + ["block", "del", str(free)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    d.wait_for(lambda r: r["type"] == "file_protect" and r["action"] == "remove"
               and r["source"] == "blocklist", what="block del record")
    write_file(free, b"writable again\n")
    bad = subprocess.run(ctl + ["block", "add", str(workdir)], capture_output=True, text=True)
    assert bad.returncode != 0 and "regular files" in bad.stderr
    # The list outlives the daemon: a new one protects it again.
    subprocess.run(ctl + ["block", "add", str(free)], check=True, capture_output=True)
    d.stop()
    d2 = daemon(policy(), extra=["--blocklist", str(d.blocklist_path)])
    assert errno_of(write_file, free) == errno.EPERM
    d2.stop()


def test_integrity_records_carry_pid_and_path(workdir, daemon):
    watched = workdir / "etc"
    (watched / "sub").mkdir(parents=True)
    (watched / "old.conf").write_bytes(b"a\n")
    d = daemon(policy(integrity=[watched]))
    hostile = os.fsencode(str(watched / "sub")) + b"/" + HOSTILE.encode("utf-8", "surrogateescape")
    child = subprocess.run(["sh", "-c", 'echo x > "$1"; mv "$1" "$1.new"; rm "$2"; mkdir "$3"; '
                            'echo y > "$3/deep.conf"; echo $$',
                            "sh", hostile, str(watched / "old.conf"), str(watched / "later")],
                           capture_output=True, check=True)
    sh_pid = int(child.stdout.strip())
    write_file(watched / "sub" / "mine.conf", b"z", os.O_WRONLY | os.O_CREAT)

    def rec(action, path):
        return d.wait_for(lambda r: r["type"] == "file_integrity" and r["action"] == action
                          and r.get("path") == path, what=f"{action} {path!r}")[0]

    hostile_path = os.fsdecode(hostile)
    assert rec("create", hostile_path)["process"]["pid"] == sh_pid
    assert rec("write", hostile_path)["process"]["pid"] == sh_pid
    moved = rec("rename_from", hostile_path)
    assert moved["process"]["exe"].endswith("/mv") and moved["process"]["pid"] != sh_pid
    assert rec("rename_to", hostile_path + ".new")["process"]["pid"] == moved["process"]["pid"]
    # rm may be gone before its exe is read: its comm stays.
    assert rec("unlink", str(watched / "old.conf"))["process"]["comm"] in ("rm", "")
    assert rec("create", str(watched / "later"))["is_dir"] is True
    # A directory made after the start is watched too. deep.conf may be
    # written and closed before the daemon marks `later`: then the listing
    # after the mark reports it as `create`, and only later changes are events.
    deep = str(watched / "later" / "deep.conf")
    d.wait_for(lambda r: r["type"] == "file_integrity" and r.get("path") == deep
               and r["action"] in ("create", "close_write"), what=f"create {deep!r}")
    write_file(deep, b"again")
    d.wait_for(lambda r: r["type"] == "file_integrity" and r.get("path") == deep
               and r["action"] == "write" and r["process"]["pid"] == os.getpid(),
               what=f"our write {deep!r}")
    mine = rec("write", str(watched / "sub" / "mine.conf"))
    assert mine["process"]["pid"] == os.getpid()


def test_self_defence_blocks_and_undoes_tampering(workdir, daemon):
    d = daemon(policy(version="self-1"), self_defence=True)
    pol = d.policy_path
    original = read_file(pol)
    assert d.ready["self_defence"] is True
    assert lsattr_immutable(pol) and lsattr_immutable(DAEMON_BIN)
    assert errno_of(write_file, pol) == errno.EPERM
    assert errno_of(os.unlink, pol) == errno.EPERM
    assert errno_of(write_file, DAEMON_BIN) == errno.EPERM
    # What the kernel could not stop: the flag cleared by root, then a rename over it.
    subprocess.run(["chattr", "-i", str(pol)], check=True)
    tampered = workdir / "evil.yaml"
    tampered.write_bytes(b'version: "evil"\nmode: monitor\ndefault: allow\n')
    t0 = time.monotonic()
    os.replace(tampered, pol)
    while read_file(pol) != original and time.monotonic() - t0 < 1.0:
        time.sleep(0.02)
    assert read_file(pol) == original, "not restored within 1 s"
    rec = d.wait_for(lambda r: r["type"] == "self_defence" and r["action"] == "restored",
                     what="restore record")[0]
    assert rec["file_kind"] == "policy" and rec["severity"] == "critical"
    d.wait_for(lambda r: r["type"] == "file_integrity" and r["self_defence"]
               and r["process"]["pid"] == os.getpid(), what="who tampered")
    assert json.load(open(d.state_dir / "ready"))["policy_version"] == "self-1"
    # The daemon itself still updates its policy: sysguardctl hands it over.
    new = workdir / "new.yaml"
    new.write_text(policy(version="self-2"))
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "policy", "apply", str(new)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert read_file(pol) == new.read_bytes()
    assert json.load(open(d.state_dir / "ready"))["policy_version"] == "self-2"
    assert lsattr_immutable(pol)
    d.wait_for(lambda r: r["type"] == "policy_update" and r["result"] == "written",
               what="policy_update")
    # A broken one is refused and changes nothing.
    new.write_text("version: [\n")
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "policy", "apply", str(new)],
                       capture_output=True, text=True)
    assert r.returncode != 0
    d.wait_for(lambda r: r["type"] == "policy_update" and r["result"] == "refused",
               what="refused update")
    assert b"self-2" in read_file(pol)
    d.stop()
    assert not lsattr_immutable(pol) and not lsattr_immutable(DAEMON_BIN)


def test_killed_daemon_flags_are_cleared_by_reset(workdir, daemon, files):
    _, config, _ = files
    d = daemon(policy(files=[{"path": str(config)}]))
    assert lsattr_immutable(config)
    d.proc.kill()
    d.proc.wait()
    assert lsattr_immutable(config), "protection outlives a killed daemon"
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "reset"],
                       capture_output=True, text=True)
    assert "immutable flag" in r.stdout, r.stdout
    assert not lsattr_immutable(config)

# SPDX-License-Identifier: Apache-2.0
"""
FILE-4: observe-only file-open audit of the processes a policy's
file_audit: list selects, by executable (device + inode) or by cgroup (and
everything below it). Opens are seen at the exit of the open system calls;
one record per (process, file), again when the process opens the file with
an access it had not used before.

The opens are made by a tiny helper (fa-opener) whose copies are told apart
by inode: a copy named in the policy is selected, another copy is not.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from checks import validate_records
from conftest import Policy, _yaml_value

OPENER_C = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* fa-opener OP:PATH ... : r w rw p (O_PATH) d (directory) c (creat) o (open) a2 (openat2);
 * "wait" blocks until a byte arrives on stdin. */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *op = argv[i], *path = strchr(op, ':');
		int fd;

		if (!strcmp(op, "wait")) {
			char c;

			if (read(0, &c, 1) != 1)
				return 3;
			continue;
		}
		if (!path)
			return 2;
		*path++ = '\0';
		if (!strcmp(op, "r"))
			fd = open(path, O_RDONLY);
		else if (!strcmp(op, "w"))
			fd = open(path, O_WRONLY);
		else if (!strcmp(op, "rw"))
			fd = open(path, O_RDWR | O_APPEND);
		else if (!strcmp(op, "p"))
			fd = open(path, O_PATH);
		else if (!strcmp(op, "d"))
			fd = open(path, O_RDONLY | O_DIRECTORY);
		else if (!strcmp(op, "c"))
			fd = syscall(SYS_creat, path, 0644);
		else if (!strcmp(op, "o"))
			fd = syscall(SYS_open, path, O_RDONLY);
		else if (!strcmp(op, "a2")) {
			struct open_how how = { .flags = O_RDONLY };

			fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		} else
			return 2;
		if (fd < 0) {
			fprintf(stderr, "%s %s: %s\n", op, path, strerror(errno));
			return 1;
		}
		close(fd);
	}
	return 0;
}
"""

HOSTILE = b'ev"il\n{"type":"forged","severity":"info"}\\\xff\xfe\x01 name\xe2\x80\xa8.txt'


@pytest.fixture(scope="module")
def opener(tools):
    src = tools.root / "fa-opener.c"
    out = tools.root / "bin" / "fa-opener"
    if not out.exists():
        src.write_text(OPENER_C)
        r = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(out), str(src)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert r.returncode == 0, f"cannot build fa-opener:\n{r.stdout}"
    return out


def copy_opener(opener, directory, name):
    """A copy of the helper: its own inode, so selected (or not) on its own."""
    dst = os.path.join(directory, name)
    shutil.copyfile(opener, dst)
    os.chmod(dst, 0o755)
    return dst


def fa_policy(selectors, version="fa-1", rules=()):
    text = Policy(rules, version=version, mode="monitor").text
    if selectors:
        text += "file_audit:\n" + "".join(
            "  - {" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in s.items()) + "}\n"
            for s in selectors)
    return text


def run(exe, *ops, stdin=None):
    """Run the helper with ops (str or bytes); returns its pid once it exited 0."""
    p = subprocess.Popen([exe] + [os.fsencode(o) for o in ops], stdin=stdin or subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, f"{exe} {ops!r}: rc={p.returncode} {err!r}"
    return p.pid


def name_bytes(r):
    f = r["file"]
    return bytes.fromhex(f["name_hex"]) if "name_hex" in f else f["name"].encode()


def path_bytes(r):
    f = r["file"]
    return bytes.fromhex(f["path_hex"]) if "path_hex" in f else f["path"].encode()


def opens(d, name=None, pid=None):
    return [r for r in d.log_records() if r.get("type") == "file_open"
            and (name is None or name_bytes(r) == os.fsencode(name))
            and (pid is None or r["process"]["pid"] == pid)]


def wait_open(d, name, pid=None, count=1):
    name = os.fsencode(name)
    return d.wait_for(lambda r: r["type"] == "file_open" and name_bytes(r) == name
                      and (pid is None or r["process"]["pid"] == pid),
                      count=count, what=f"file_open of {name!r} pid={pid}")


def barrier(d, exe, directory, tag):
    """Open a fresh file with a selected exe and wait for its record: every
    record submitted before it has been written by then (one ring, FIFO)."""
    path = os.path.join(directory, f"barrier-{tag}")
    open(path, "w").close()
    pid = run(exe, f"r:{path}")
    wait_open(d, f"barrier-{tag}", pid=pid)


def wait_reload(d, version):
    d.wait_for(lambda r: r["type"] == "policy_reload" and r["new_policy_version"] == version,
               what=f"reload to {version}")
    d.ready = json.loads((d.state_dir / "ready").read_text())


def touch(directory, name):
    path = os.path.join(os.fsencode(directory), os.fsencode(name))
    with open(path, "wb") as f:
        f.write(b"x")
    return path


def cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return mnt
    pytest.skip("no cgroup2 mount")


def our_bpf(kind):
    """Names of loaded BPF programs (kind 'prog') or of programs behind links
    (kind 'link') that are the file audit's (sg_fa_*)."""
    if not shutil.which("bpftool"):
        pytest.skip("bpftool missing")
    progs = {p["id"]: p.get("name", "") for p in
             json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                                       text=True, check=True).stdout or "[]")}
    if kind == "prog":
        return sorted(n for n in progs.values() if n.startswith("sg_fa_"))
    links = json.loads(subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True,
                                      text=True, check=True).stdout or "[]")
    return sorted(progs.get(l.get("prog_id"), "") for l in links
                  if progs.get(l.get("prog_id"), "").startswith("sg_fa_"))


# ---------------------------------------------------------------------------


def test_selected_exe_records_hostile_basename_pid_and_access(workdir, daemon, opener):
    sel = copy_opener(opener, workdir, "opener-sel")
    d = daemon(fa_policy([{"name": "trace-opener", "exe": sel}]))
    assert "file_audit" in d.ready["backends"]
    hostile = touch(workdir, HOSTILE)
    files = {n: touch(workdir, n) for n in ("fa-w", "fa-rw", "fa-path", "fa-open", "fa-openat2")}
    sub = workdir / "fa-dir"
    sub.mkdir()
    created = os.path.join(workdir, "fa-creat")
    pid = run(sel, b"r:" + hostile, f"w:{files['fa-w'].decode()}", f"rw:{files['fa-rw'].decode()}",
              f"p:{files['fa-path'].decode()}", f"c:{created}", f"o:{files['fa-open'].decode()}",
              f"a2:{files['fa-openat2'].decode()}", f"d:{sub}")
    want = {HOSTILE: "read", b"fa-w": "write", b"fa-rw": "read_write", b"fa-path": "path",
            b"fa-creat": "write", b"fa-open": "read", b"fa-openat2": "read", b"fa-dir": "read"}
    recs = {}
    for name in want:
        recs[name] = wait_open(d, name, pid=pid)[0]
    for name, access in want.items():
        r = recs[name]
        path = os.path.join(os.fsencode(workdir), name)
        st = os.stat(path)
        assert r["access"] == access, (name, r)
        assert (r["decision"], r["severity"], r["action"]) == ("audit", "info", "open")
        assert r["policy_version"] == "fa-1"
        assert r["rule"]["name"] == "trace-opener" and r["rule"]["selector"] == "exe"
        assert r["rule"]["target"] == sel
        assert (r["file"]["dev"], r["file"]["ino"]) == (st.st_dev, st.st_ino)
        assert r["file"]["type"] == ("directory" if name == b"fa-dir" else "regular")
        assert path_bytes(r) == os.path.realpath(path), (name, r["file"])
        p = r["process"]
        assert p["pid"] == pid and p["tid"] == pid and p["ppid"] == os.getpid()
        assert p["comm"] == "opener-sel"
        assert p["exe"] in (sel, None)      # /proc/pid/exe may be gone when the record is written
        assert (p["exe_dev"], p["exe_ino"]) == (os.stat(sel).st_dev, os.stat(sel).st_ino)
        assert isinstance(p["cgroup_id"], int)
    assert "O_PATH" in recs[b"fa-path"]["flag_names"]
    assert "O_APPEND" in recs[b"fa-rw"]["flag_names"]
    assert "O_DIRECTORY" in recs[b"fa-dir"]["flag_names"]
    # The hostile name: exact bytes in name_hex, a valid one-line record, nothing forged.
    h = recs[HOSTILE]["file"]
    assert bytes.fromhex(h["name_hex"]) == HOSTILE
    assert h["name"] == HOSTILE.decode("utf-8", "replace")
    assert not [r for r in d.log_records() if r.get("type") == "forged"]
    assert d.bad_lines == []
    assert validate_records(d.log_records(), d.bad_lines, node_id=d.node_id) == []
    # The helper's own start-up opens (libc) are recorded too; this test process's are not.
    assert all(r["process"]["pid"] == pid for r in opens(d))


def test_same_file_twice_is_one_record_another_process_another(workdir, daemon, opener):
    sel = copy_opener(opener, workdir, "opener-sel")
    d = daemon(fa_policy([{"name": "trace-opener", "exe": sel}]))
    f = touch(workdir, "fa-twice").decode()
    pid1 = run(sel, f"r:{f}", f"r:{f}", f"r:{f}")
    pid2 = run(sel, f"r:{f}")
    # A new access by the same process is a new record; repeating it is not.
    pid3 = run(sel, f"r:{f}", f"rw:{f}", f"r:{f}", f"rw:{f}")
    barrier(d, sel, workdir, "twice")
    by_pid = {}
    for r in opens(d, "fa-twice"):
        by_pid.setdefault(r["process"]["pid"], []).append(r["access"])
    assert by_pid == {pid1: ["read"], pid2: ["read"], pid3: ["read", "read_write"]}, by_pid
    stats = json.loads((d.state_dir / "stats.json").read_text()) if (d.state_dir / "stats.json").exists() else {}
    deadline = time.monotonic() + 5
    while stats.get("file_audit", {}).get("deduplicated", 0) < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
        stats = json.loads((d.state_dir / "stats.json").read_text())
    fa = stats["file_audit"]
    assert fa["active"] is True and fa["selectors"] == 1
    assert fa["deduplicated"] >= 4 and fa["ringbuf_drops"] == 0 and fa["decode_errors"] == 0


def test_unselected_process_gives_no_record(workdir, daemon, opener):
    sel = copy_opener(opener, workdir, "opener-sel")
    other = copy_opener(opener, workdir, "opener-other")    # same bytes, another inode
    d = daemon(fa_policy([{"name": "trace-opener", "exe": sel}]))
    f = touch(workdir, "fa-unselected").decode()
    other_pid = run(other, f"r:{f}", f"w:{f}")
    with open(f, "rb"):
        pass                                                 # this test process: not selected
    barrier(d, sel, workdir, "unselected")
    assert opens(d, "fa-unselected") == []
    assert not [r for r in opens(d) if r["process"]["pid"] in (other_pid, os.getpid())]


def test_cgroup_selects_its_processes_and_those_below(workdir, daemon, opener):
    other = copy_opener(opener, workdir, "opener-other")
    base = os.path.join(cgroup2_mount(), f"sg-e2e-fa-{os.getpid()}")
    sub = os.path.join(base, "sub")
    os.makedirs(sub)
    try:
        d = daemon(fa_policy([{"name": "trace-cgroup", "cgroup": base}]))
        assert "file_audit" in d.ready["backends"]
        got = {}
        for cg, tag in ((base, "in"), (sub, "below")):
            f = touch(workdir, f"fa-cg-{tag}").decode()
            p = subprocess.Popen([other, "wait", f"r:{f}"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with open(os.path.join(cg, "cgroup.procs"), "w") as procs:
                procs.write(str(p.pid))
            p.communicate(b"x", timeout=20)
            assert p.returncode == 0
            r = wait_open(d, f"fa-cg-{tag}", pid=p.pid)[0]
            got[tag] = r
            assert r["rule"]["name"] == "trace-cgroup" and r["rule"]["selector"] == "cgroup"
            assert r["rule"]["target"] == base
            assert r["process"]["cgroup_id"] == os.stat(cg).st_ino
            assert r["access"] == "read"
        # The same program outside the cgroup is not selected.
        f = touch(workdir, "fa-cg-outside").decode()
        run(other, f"r:{f}")
        p = subprocess.Popen([other, "wait", f"r:{touch(workdir, 'fa-cg-barrier').decode()}"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with open(os.path.join(sub, "cgroup.procs"), "w") as procs:
            procs.write(str(p.pid))
        p.communicate(b"x", timeout=20)
        wait_open(d, "fa-cg-barrier", pid=p.pid)
        assert opens(d, "fa-cg-outside") == []
    finally:
        for cg in (sub, base):
            for _ in range(50):
                try:
                    os.rmdir(cg)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)     # the helper may still be leaving the cgroup


def test_reload_changes_the_selection_and_detaches_at_zero(workdir, daemon, opener):
    a = copy_opener(opener, workdir, "opener-a")
    b = copy_opener(opener, workdir, "opener-b")
    d = daemon(fa_policy([{"name": "first", "exe": a}], version="fa-v1"))
    f1 = touch(workdir, "fa-reload-1").decode()
    pid = run(a, f"r:{f1}")
    assert wait_open(d, "fa-reload-1", pid=pid)[0]["rule"]["name"] == "first"

    d.reload(fa_policy([{"name": "second", "exe": b}], version="fa-v2"))
    wait_reload(d, "fa-v2")
    assert "file_audit" in d.ready["backends"]
    f2 = touch(workdir, "fa-reload-2").decode()
    run(a, f"r:{f2}")
    pid_b = run(b, f"r:{f2}")
    rec = wait_open(d, "fa-reload-2", pid=pid_b)[0]
    assert rec["rule"]["name"] == "second" and rec["policy_version"] == "fa-v2"
    assert [r["process"]["pid"] for r in opens(d, "fa-reload-2")] == [pid_b]

    # No rule left: the tracepoints are detached (they would cost every open on the host).
    assert our_bpf("link")
    d.reload(fa_policy([], version="fa-v3"))
    wait_reload(d, "fa-v3")
    assert "file_audit" not in d.ready["backends"]
    assert our_bpf("link") == []
    d.wait_for(lambda r: r["type"] == "backend" and r["backend"] == "file_audit"
               and r["active"] is False and r["policy_version"] == "fa-v3", what="detach record")
    f3 = touch(workdir, "fa-reload-3").decode()
    run(b, f"r:{f3}")

    # And attached again when a rule comes back.
    d.reload(fa_policy([{"name": "third", "exe": a}], version="fa-v4"))
    wait_reload(d, "fa-v4")
    assert "file_audit" in d.ready["backends"] and our_bpf("link")
    pid = run(a, f"r:{f3}")
    assert wait_open(d, "fa-reload-3", pid=pid)[0]["rule"]["name"] == "third"
    assert len(opens(d, "fa-reload-3")) == 1


def test_reload_clears_dedup_only_when_the_selection_changes(workdir, daemon, opener):
    a = copy_opener(opener, workdir, "opener-a")
    b = copy_opener(opener, workdir, "opener-b")
    d = daemon(fa_policy([{"name": "keep", "exe": a}], version="fa-d1"))
    f = touch(workdir, "fa-dedup").decode()
    p = subprocess.Popen([a, f"r:{f}", "wait", f"r:{f}", "wait", f"r:{f}"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_open(d, "fa-dedup", pid=p.pid)
        # Same targets (only the version and the name differ): the table is kept.
        d.reload(fa_policy([{"name": "keep-renamed", "exe": a}], version="fa-d2"))
        wait_reload(d, "fa-d2")
        p.stdin.write(b"x")
        p.stdin.flush()
        barrier(d, a, workdir, "d2")
        assert len(opens(d, "fa-dedup", pid=p.pid)) == 1
        # Other targets: a new audit scope, the same open is reported again.
        d.reload(fa_policy([{"name": "keep", "exe": a}, {"name": "more", "exe": b}],
                           version="fa-d3"))
        wait_reload(d, "fa-d3")
        p.stdin.write(b"x")
        p.stdin.flush()
        recs = wait_open(d, "fa-dedup", pid=p.pid, count=2)
        assert recs[1]["policy_version"] == "fa-d3" and recs[1]["rule"]["name"] == "keep"
        rec = [r for r in d.log_records() if r["type"] == "bpf_map_update"
               and r.get("map") == "open_sel_exe+open_sel_cgroup"]
        # A reload may be applied twice (SIGHUP and the file watch): the first of each counts.
        first = {}
        for r in rec:
            first.setdefault(r["policy_version"], r["dedup_cleared"])
        assert first == {"fa-d1": True, "fa-d2": False, "fa-d3": True}
    finally:
        p.communicate(timeout=20)
    assert p.returncode == 0


def test_unresolvable_selectors_are_reported_and_skipped(workdir, daemon, opener):
    sel = copy_opener(opener, workdir, "opener-sel")
    cg2 = cgroup2_mount()
    d = daemon(fa_policy([
        {"name": "no-such-exe", "exe": "/nonexistent/sg-e2e/prog"},
        {"name": "not-a-cgroup", "cgroup": str(workdir)},
        {"name": "no-such-cgroup", "cgroup": os.path.join(cg2, "sg-e2e-no-such-cgroup")},
        {"name": "first-sel", "exe": sel},
        {"name": "same-sel", "exe": sel},
    ]))
    inactive = d.wait_for(lambda r: r["type"] == "file_audit_rule_inactive", count=4,
                          what="inactive rules")
    by = {r["rule"]: r for r in inactive}
    assert set(by) == {"no-such-exe", "not-a-cgroup", "no-such-cgroup", "same-sel"}
    assert all(r["severity"] == "warning" for r in inactive)
    assert "No such file" in by["no-such-exe"]["error"]
    assert by["no-such-exe"]["target"] == "/nonexistent/sg-e2e/prog"
    assert by["not-a-cgroup"]["selector"] == "cgroup" and "cgroup v2" in by["not-a-cgroup"]["error"]
    assert "No such file" in by["no-such-cgroup"]["error"]
    assert "first-sel" in by["same-sel"]["error"]
    assert d.running() and "file_audit" in d.ready["backends"]
    f = touch(workdir, "fa-still-works").decode()
    pid = run(sel, f"r:{f}")
    assert wait_open(d, "fa-still-works", pid=pid)[0]["rule"]["name"] == "first-sel"
    assert "no-such-exe" in d.stderr()


def test_no_file_audit_rules_load_nothing(workdir, daemon):
    d = daemon(fa_policy([]))
    assert "file_audit" not in d.ready["backends"]
    rec = d.wait_for(lambda r: r["type"] == "backend" and r["backend"] == "file_audit",
                     what="file_audit backend record")[0]
    assert rec["active"] is False and "no file_audit" in rec["detail"]
    assert our_bpf("prog") == []


def test_disable_backend_keeps_it_off_whatever_the_policy(workdir, daemon, opener):
    sel = copy_opener(opener, workdir, "opener-sel")
    d = daemon(fa_policy([{"name": "trace-opener", "exe": sel}]), disable=("file_audit",))
    assert "file_audit" not in d.ready["backends"]
    rec = d.wait_for(lambda r: r["type"] == "backend" and r["backend"] == "file_audit",
                     what="file_audit backend record")[0]
    assert rec["active"] is False and "--disable-backend" in rec["detail"]
    assert our_bpf("prog") == []
    run(sel, f"r:{touch(workdir, 'fa-disabled').decode()}")
    time.sleep(0.3)
    assert opens(d) == []

# SPDX-License-Identifier: Apache-2.0
"""
Attacks on integrity monitoring of directory trees (FILE-2): directories
that arrive in a watched tree without the daemon seeing each of them made
(`mkdir -p`, a directory moved in from outside). One behaviour per test,
cited by docs/file-protection.md.

Entries found by listing a directory just marked are reported as `create`
when the directory was created in the tree, and as `moved_in` when it was
moved in (they came with it, or were made in it before its mark existed).
"""
import os
import subprocess

from test_files import HOSTILE, policy, write_file


def integrity(d, path, actions, pid=None):
    """The first file_integrity record for `path` with an action in `actions`."""
    def pred(r):
        return (r["type"] == "file_integrity" and r.get("path") == str(path)
                and r["action"] in actions
                and (pid is None or r["process"]["pid"] == pid))
    return d.wait_for(pred, what=f"{sorted(actions)} {str(path)!r}")[0]


def test_mkdir_p_inner_directories_are_watched(workdir, daemon):
    """`mkdir -p W/a/b/c && echo x > W/a/b/c/f`: b and c, made before a's event was read, are watched."""
    watched = workdir / "w"
    watched.mkdir()
    d = daemon(policy(integrity=[watched]))
    deep = watched / "a" / "b" / "c"
    subprocess.run(["sh", "-c", 'mkdir -p "$1" && echo x > "$1/f"', "sh", str(deep)], check=True)
    integrity(d, deep / "f", {"create", "write", "close_write"})
    # c carries a mark now: a later change below it is an event of its own.
    integrity(d, deep, {"create"})
    write_file(deep / "f", b"again")
    integrity(d, deep / "f", {"write"}, pid=os.getpid())


def test_directory_moved_in_is_watched(workdir, daemon):
    """`mv outside W/`: a file made in the moved directory and one in its subdirectory are reported."""
    watched = workdir / "w"
    watched.mkdir()
    outside = workdir / "outside"
    (outside / "sub").mkdir(parents=True)
    d = daemon(policy(integrity=[watched]))
    subprocess.run(["mv", str(outside), str(watched)], check=True)
    moved = watched / "outside"
    integrity(d, moved, {"rename_to"})
    # The subdirectory is reported once its mark is in place.
    assert integrity(d, moved / "sub", {"moved_in"})["is_dir"] is True
    write_file(moved / "new.conf", b"x", os.O_WRONLY | os.O_CREAT)
    write_file(moved / "sub" / "deeper.conf", b"y", os.O_WRONLY | os.O_CREAT)
    integrity(d, moved / "new.conf", {"create"}, pid=os.getpid())
    integrity(d, moved / "sub" / "deeper.conf", {"create"}, pid=os.getpid())


def test_tree_moved_in_reports_files_already_inside(workdir, daemon):
    """A tree moved in with files in it: each file is reported `moved_in`, with the mover's pid."""
    watched = workdir / "w"
    watched.mkdir()
    outside = workdir / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "top.conf").write_bytes(b"1\n")
    (outside / "sub" / "inner.conf").write_bytes(b"2\n")
    d = daemon(policy(integrity=[watched]))
    mv = subprocess.Popen(["mv", str(outside), str(watched)])
    assert mv.wait() == 0
    moved = watched / "outside"
    top = integrity(d, moved / "top.conf", {"moved_in"})
    inner = integrity(d, moved / "sub" / "inner.conf", {"moved_in"})
    assert top["is_dir"] is False and inner["is_dir"] is False
    assert top["process"]["pid"] == mv.pid and inner["process"]["pid"] == mv.pid


def test_hostile_name_in_moved_tree_is_one_json_record(workdir, daemon):
    """A directory named with a newline, a quote and invalid UTF-8 inside a moved tree: one valid record each."""
    watched = workdir / "w"
    watched.mkdir()
    outside = workdir / "outside"
    outside.mkdir()
    hostile = os.fsencode(str(outside)) + b"/" + HOSTILE.encode("utf-8", "surrogateescape")
    os.mkdir(hostile)
    with open(hostile + b"/inside.conf", "wb") as f:
        f.write(b"z\n")
    d = daemon(policy(integrity=[watched]))
    subprocess.run(["mv", str(outside), str(watched)], check=True)
    moved_dir = os.fsdecode(os.fsencode(str(watched / "outside")) + b"/"
                            + HOSTILE.encode("utf-8", "surrogateescape"))
    assert integrity(d, moved_dir, {"moved_in"})["is_dir"] is True
    integrity(d, moved_dir + "/inside.conf", {"moved_in"})
    # Later changes in it carry the same name, and no line of the log broke.
    write_file(os.fsencode(moved_dir) + b"/later.conf", b"w", os.O_WRONLY | os.O_CREAT)
    integrity(d, moved_dir + "/later.conf", {"create"}, pid=os.getpid())
    assert d.bad_lines == []


def test_tree_past_depth_limit_is_recorded(workdir, daemon):
    """A tree deeper than the walk's 64 levels moved in: the limit is a file_integrity_error record."""
    watched = workdir / "w"
    watched.mkdir()
    outside = workdir / "outside"
    deep = outside.joinpath(*["d"] * 70)
    deep.mkdir(parents=True)
    d = daemon(policy(integrity=[watched]))
    subprocess.run(["mv", str(outside), str(watched)], check=True)
    rec = d.wait_for(lambda r: r["type"] == "file_integrity_error"
                     and "depth limit" in r.get("step", ""), what="depth limit record")[0]
    assert rec["path"].startswith(str(watched / "outside") + "/")
    # What is within the limit is walked and reported.
    integrity(d, watched.joinpath("outside", *["d"] * 64), {"moved_in"})

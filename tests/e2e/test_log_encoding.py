# SPDX-License-Identifier: Apache-2.0
"""LOG-1: hostile file names can neither break nor forge a record."""
import errno
import os

from checks import validate_records
from conftest import Policy, record_exe_bytes, run

HOSTILE = b'bad\xff\xfe"\n\\name'


def test_hostile_file_names(tools, workdir, daemon):
    hdir = os.fsencode(workdir) + b"/h\xc3"  # the directory too is not UTF-8
    os.mkdir(hdir)
    bad = tools.make_bin(hdir, b"deny-" + HOSTILE)
    ok = tools.make_bin(hdir, b"allow-" + HOSTILE + b"\xe2\x80\xa8}{")
    runner = hdir + b"/runner-" + HOSTILE
    tools.copy_of(tools.sgexec, os.fsdecode(runner))
    st = os.stat(bad)
    pol = Policy([{"name": "hostile", "action": "deny",
                   "identity": {"dev": st.st_dev, "ino": st.st_ino}}])
    d = daemon(pol)

    ran_bad = run([bad, workdir / "bad.marker"])
    assert ran_bad.exec_errno == errno.EPERM, ran_bad
    assert not (workdir / "bad.marker").exists()
    ran_ok = run([ok, workdir / "ok.marker"])
    assert ran_ok.returncode == 0 and (workdir / "ok.marker").exists(), ran_ok
    rep = tools.sgexec_run("path", ok, workdir / "ok2.marker", exe=runner)
    assert rep["exited"] == 0 and (workdir / "ok2.marker").exists(), rep
    d.wait_exec(exe=bad, decision="deny")
    d.wait_exec(exe=ok, count=2)
    d.wait_exec(exe=runner)
    assert d.stop() == 0  # every record is written: count exactly

    raw = d.log_path.read_bytes()
    lines = raw.split(b"\n")
    assert lines[-1] == b"", "log does not end with a newline"
    recs = d.log_records()
    assert not d.bad_lines, f"invalid JSON lines: {d.bad_lines[:3]}"
    assert len(recs) == len(lines) - 1
    assert int(recs[-1]["event_id"], 16) == len(recs), "a line was split or forged"
    raw.decode("utf-8")  # LOG-1: the file is valid UTF-8 as a whole
    errs = validate_records(recs, node_id="e2e-node")
    assert not errs, "\n".join(errs)

    def about(exe, where="process"):
        return [r for r in recs if record_exe_bytes(r, where) == exe]

    deny = about(bad)
    assert sorted(r["type"] for r in deny) == ["exec", "mitigation"], deny
    ex = next(r for r in deny if r["type"] == "exec")
    assert ex["decision"] == "deny" and ex["rule"]["name"] == "hostile"
    assert bytes.fromhex(ex["process"]["exe_hex"]) == bad
    assert ex["process"]["exe"] == bad.decode("utf-8", "replace")

    allow = about(ok)
    assert [r["type"] for r in allow] == ["exec", "exec"], allow
    for r in allow:
        p = r["process"]
        assert r["decision"] == "allow"
        assert bytes.fromhex(p["exe_hex"]) == ok
        assert bytes.fromhex(p["filename_hex"]) == ok
        assert p["args"][0] == ok.decode("utf-8", "replace")
        base = ok.rsplit(b"/", 1)[1][:15]  # the kernel's comm: basename, 15 bytes
        assert (bytes.fromhex(p["comm_hex"]) if "comm_hex" in p else p["comm"].encode()) == base
    assert "\\u2028" in raw.decode() and "\u2028" not in raw.decode(), "U+2028 not escaped"

    assert len(about(runner)) == 1
    child = about(runner, where="parent")
    assert len(child) == 1 and record_exe_bytes(child[0]) == ok
    assert bytes.fromhex(child[0]["parent"]["exe_hex"]) == runner

# SPDX-License-Identifier: Apache-2.0
"""Audit destinations that stop reading must not stall enforcement (availability)."""
import errno
import json
import os
import time

from conftest import Policy, run


def _stats(d):
    try:
        return json.loads((d.state_dir / "stats.json").read_text())
    except (OSError, ValueError):
        return {}


def test_unread_stdout_never_stalls_execs(tools, workdir, daemon):
    """
    --stdout into a pipe nobody reads (a stalled log shipper, a paused
    `kubectl logs`): the pipe fills after a few dozen records. Execs must
    still be answered promptly, allowed ones run and a denied one is still
    denied; the file still gets every record.
    """
    ok = tools.make_bin(workdir, "allowed")
    bad = tools.make_bin(workdir, "denied")
    rd, wr = os.pipe()
    try:
        d = daemon(Policy([{"name": "deny-bad", "action": "deny", "path": bad}]),
                   extra=["--stdout"], stdout=wr)
        os.close(wr)
        wr = -1
        marker = workdir / "allowed.marker"
        t0 = time.monotonic()
        for _ in range(200):
            ran = run([ok, marker], timeout=10)
            assert ran.returncode == 0, ran
        # A binary not seen before needs a fanotify permission answer.
        fresh = tools.make_bin(workdir, "fresh")
        ran = run([fresh, workdir / "fresh.marker"], timeout=10)
        assert ran.returncode == 0, ran
        denied = run([bad, workdir / "denied.marker"], timeout=10)
        elapsed = time.monotonic() - t0
        assert denied.exec_errno == errno.EPERM, denied
        assert not (workdir / "denied.marker").exists()
        assert elapsed < 30, f"202 execs took {elapsed:.1f}s with stdout stalled"

        d.wait_exec(exe=bad, decision="deny")
        # The stdout queue holds what the pipe did not take; the file got everything.
        deadline = time.monotonic() + 10
        while not _stats(d).get("audit", {}).get("stdout", {}).get("queued_bytes"):
            assert time.monotonic() < deadline, f"stdout not stalled in stats.json: {_stats(d)}"
            time.sleep(0.1)
        s = _stats(d)["audit"]
        assert s["file"]["dropped"] == 0 and s["file"]["write_errors"] == 0
        assert s["stdout"]["written"] < s["file"]["written"]
        # A full queue drops whole lines, and says so in the file.
        if s["stdout"]["dropped"]:
            d.wait_for(lambda r: r["type"] == "audit_dropped" and r["sink"] == "stdout",
                       what="audit_dropped for stdout")
        # Stopping does not hang on the stalled pipe either.
        t1 = time.monotonic()
        assert d.stop() == 0
        assert time.monotonic() - t1 < 8
        assert not d.bad_lines
    finally:
        if wr >= 0:
            os.close(wr)
        os.close(rd)

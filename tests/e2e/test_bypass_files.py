# SPDX-License-Identifier: Apache-2.0
"""
Attacks on file rules and integrity monitoring on this host's backend
(fanotify): one behaviour per test, cited by the bypass table in
docs/file-protection.md.
"""
import errno
import os

import pytest

from test_files import access_records, errno_of, policy


@pytest.fixture
def target(workdir):
    path = workdir / "write-only.conf"
    path.write_bytes(b"setting=1\n")
    os.chmod(path, 0o644)
    return path


def _setattr_attacks(path):
    """chmod, utimes, truncate(): each returns 0 (done) or the errno that refused it."""
    return {
        "chmod": errno_of(os.chmod, path, 0o666),
        "utimes": errno_of(os.utime, path, (1, 1)),
        "truncate": errno_of(os.truncate, path, 0),
    }


def test_write_only_rule_never_claims_setattr_blocked(workdir, daemon, target):
    """
    `deny: [write]` without `delete` sets no immutable flag on fanotify, so
    chmod/utimes/truncate() reach the file. Either they are refused, or no
    record says they were: the rule's file_protect record names them as not
    refused, and the only blocked claims are for opens that really failed.
    """
    d = daemon(policy(files=[{"name": "wo", "path": str(target), "deny": ["write"]}]))
    add = d.wait_for(lambda r: r["type"] == "file_protect" and r["action"] == "add"
                     and r["file"]["path"] == str(target), what="file_protect add")[0]
    before = os.stat(target)
    results = _setattr_attacks(target)
    after = os.stat(target)
    went_through = [op for op, e in results.items() if e == 0]
    for op, e in results.items():
        assert e in (0, errno.EPERM), f"{op}: unexpected errno {e}"
    if went_through:
        assert add["severity"] == "warning", add
        assert set(went_through) <= set(add.get("not_refused", [])), add
        assert not add["immutable"]
    else:
        assert "not_refused" not in add
    changed = {"chmod": after.st_mode != before.st_mode,
               "utimes": after.st_mtime != before.st_mtime,
               "truncate": after.st_size != before.st_size}
    for op in results:
        assert changed[op] == (results[op] == 0), (op, results, changed)

    # An open for writing is refused, and that refusal is what is claimed.
    assert errno_of(os.open, target, os.O_WRONLY) == errno.EPERM
    d.wait_for(lambda r: r["type"] == "file_access" and r["file"]["path"] == str(target),
               what="file_access for the write open")
    for r in access_records(d, target):
        assert r["action"] == "open_write", r
        assert r["blocked"] is True


def test_setuid_on_watched_file_is_named(workdir, daemon):
    """`chmod u+s` on a watched file: the integrity record gives old and new mode and setuid_added."""
    tool = workdir / "tool"
    tool.write_bytes(b"#!/bin/sh\n")
    os.chmod(tool, 0o755)
    d = daemon(policy(integrity=[tool]))
    os.chmod(tool, 0o4755)
    recs = d.wait_for(lambda r: r["type"] == "file_integrity" and r["action"] == "attrib"
                      and r["path"] == str(tool) and r.get("setuid_added") is True,
                      what="attrib record with setuid_added")
    rec = recs[0]
    assert rec["mode"] == {"old": "0755", "new": "4755"}, rec
    assert rec["setgid_added"] is False
    assert rec["file_caps"] is False
    assert rec["process"]["pid"] == os.getpid()

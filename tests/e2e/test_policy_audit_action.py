# SPDX-License-Identifier: Apache-2.0
"""action: audit in an enforcing policy: the program runs, a would-be deny is recorded, a deny still blocks."""
import errno
import os

import pytest

from checks import validate_records
from conftest import Policy, run


def audited_and_denied(tools, workdir, daemon, disable=()):
    trial = tools.make_bin(workdir, "trial")
    trial_id = tools.make_bin(workdir, "trial-id")
    banned = tools.make_bin(workdir, "banned")
    policy = Policy([
        # Path and identity rules are the kind the kernel enforces alone when they deny.
        {"name": "try-trial", "action": "audit", "path": trial},
        {"name": "try-trial-id", "action": "audit", "identity": trial_id},
        {"name": "no-banned", "action": "deny", "path": banned},
    ])
    d = daemon(policy, disable=disable)
    assert d.ready["mode"] == "enforce"

    for exe, rule in ((trial, "try-trial"), (trial_id, "try-trial-id")):
        marker = workdir / (os.path.basename(exe) + ".marker")
        ran = run([exe, marker])
        assert ran.returncode == 0, f"an audit rule blocked {exe}: {ran}"
        assert marker.read_text().strip() == str(ran.pid)
        rec = d.wait_exec(exe=exe, pid=ran.pid)[0]
        assert rec["decision"] == "audit"
        assert rec["would_deny"] is True
        assert rec["rule"]["name"] == rule
        assert rec["rule"]["line"] == policy.rule_line[rule]
        assert rec["severity"] == "warning"
        assert rec["enforced_by"] is None
        assert not d.mitigations_for(rec), "an audited exec was acted on"
        # Not cached as an allow: every run is recorded again.
        ran2 = run([exe, marker])
        assert ran2.returncode == 0
        d.wait_exec(exe=exe, pid=ran2.pid, decision="audit")

    marker = workdir / "banned.marker"
    ran = run([banned, marker])
    assert not marker.exists(), f"the denied binary ran: {ran}"
    rec = d.wait_exec(exe=banned, decision="deny")[0]
    assert rec["rule"]["name"] == "no-banned"
    assert "would_deny" not in rec
    return d


def test_audit_rule_runs_and_deny_still_blocks(tools, workdir, daemon):
    d = audited_and_denied(tools, workdir, daemon)
    validate_records(d.log_records())


def test_audit_rule_is_not_a_kernel_deny(tools, workdir, daemon):
    """Without fanotify, path and identity denies go to the kernel's deny set: audit rules must not."""
    d = audited_and_denied(tools, workdir, daemon, disable=("fanotify",))
    maps = [r for r in d.log_records() if r.get("type") == "bpf_map_update" and r.get("map") == "deny_inodes"]
    assert maps and maps[-1]["entries"] == 1, maps

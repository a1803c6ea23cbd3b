# SPDX-License-Identifier: Apache-2.0
"""LOG-1/LOG-2 over the whole session: every line of every daemon's log (runs last)."""
import json

import pytest

from checks import validate_records
from conftest import SESSION_LOGS, SESSION_NODE_IDS


def test_every_log_line_of_the_session_is_valid():
    if not SESSION_LOGS:
        pytest.skip("no daemon ran in this session")
    problems = []
    total = 0
    # A test may restart a daemon on the same log (a crash loop): each path once.
    for path in dict.fromkeys(SESSION_LOGS):
        if not path.exists():
            continue
        raw = path.read_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"{path}: not UTF-8: {e}")
        lines = raw.split(b"\n")
        if lines[-1] != b"":
            problems.append(f"{path}: last line not terminated")
        recs, bad = [], []
        for line in lines[:-1]:
            try:
                r = json.loads(line)
                if not isinstance(r, dict):
                    raise ValueError("not an object")
                recs.append(r)
            except ValueError as e:
                bad.append((line, str(e)))
        total += len(recs)
        # One log may hold several runs, each starting at event 1 with its daemon_start.
        runs = [[]]
        for r in recs:
            if r.get("type") == "daemon_start" and runs[-1]:
                runs.append([])
            runs[-1].append(r)
        for i, run_recs in enumerate(runs):
            # A log logrotate moved away: the new file starts where the daemon reopened it.
            first = run_recs[0] if run_recs else {}
            start = (int(first["event_id"], 16) if i == 0 and first.get("type") == "audit_log_reopened"
                     else 1)
            problems += [f"{path} (run {i + 1}): {e}"
                         for e in validate_records(run_recs, bad if i == 0 else (),
                                                   node_id=SESSION_NODE_IDS.get(path, "e2e-node"),
                                                   start_id=start)]
    assert total > 0
    assert not problems, "\n".join(problems[:50])

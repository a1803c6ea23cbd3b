# SPDX-License-Identifier: Apache-2.0
"""
`sysguardctl fleet events` end to end (docs/fleet.md, "Reading the
records back"): a real nats-server with JetStream on 127.0.0.1
(tests/e2e/nats_bus.py) and the real daemon publishing to it, run twice in
sequence under two node ids (one daemon per host at a time), so the stream
holds two nodes' records, some of them denied execs.

Checked against the daemons' own audit logs: --node gives exactly that
node's records and --type only that type; a durable consumer stopped after
K records resumes with the K+1th (none twice, none lost); --follow prints a
denied exec made after it started within a few seconds and exits 0 on
SIGTERM; bad arguments exit 2, a bus that is not there exits 1.
"""
import errno
import json
import os
import selectors
import signal
import subprocess
import time

import pytest

from conftest import CTL_BIN, Policy, record_exe_bytes, run
from nats_bus import NatsBus

NODE_A = "e2e-fa"
NODE_B = "e2e.fb"	# a dot: the subject token is e2e_fb, as the daemon makes it
DENIED_A = 3
DENIED_B = 2


def ctl(*args, timeout=60):
    return subprocess.run([str(CTL_BIN), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def events(bus, *args):
    r = ctl("fleet", "events", "--url", bus.url(), *args)
    assert r.returncode == 0, r
    return [json.loads(line) for line in r.stdout.splitlines()]


def wait_delivered(d, timeout=30):
    """Until every record of the run so far is acknowledged by JetStream."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = json.loads((d.state_dir / "stats.json").read_text())["fleet"]
            if s["connected"] and s["queued"] == 0 and s["spooled"] == 0:
                return s
        except (OSError, ValueError, KeyError):
            pass
        assert time.monotonic() < deadline, f"fleet export never settled:\n{d.stderr()[-2000:]}"
        time.sleep(0.1)


@pytest.fixture
def bus(workdir):
    d = workdir / "bus"
    d.mkdir()
    b = NatsBus(d, 1).start()
    yield b
    b.close()


@pytest.fixture
def denied_bin(tools, workdir):
    return tools.make_bin(workdir, "fleet-denied")


def node_policy(denied):
    return Policy([{"name": "no-denied", "action": "deny", "path": denied}])


def run_node(daemon, bus, denied, node, n_denied, workdir):
    """One daemon run as `node`: n_denied denied execs; its log once all is in the stream."""
    d = daemon(node_policy(denied), node_id=node, extra=["--fleet-url", bus.url()])
    for i in range(n_denied):
        assert run([denied, workdir / f"m-{node}-{i}"]).exec_errno == errno.EPERM
    d.wait_exec(exe=denied, decision="deny", count=n_denied)
    wait_delivered(d)
    d.stop()
    return d.log_records()


@pytest.fixture
def two_nodes(daemon, bus, denied_bin, workdir):
    a = run_node(daemon, bus, denied_bin, NODE_A, DENIED_A, workdir)
    b = run_node(daemon, bus, denied_bin, NODE_B, DENIED_B, workdir)
    return a, b


def ids(recs):
    return [(r["node_id"], r["event_id"]) for r in recs]


def test_node_filter_gives_exactly_that_nodes_records(bus, two_nodes):
    a, b = two_nodes
    assert ids(events(bus, "--node", NODE_A)) == ids(a)
    # The node id as given: the command makes it a token the way the daemon did.
    assert ids(events(bus, "--node", NODE_B)) == ids(b)
    assert ids(events(bus)) == ids(a) + ids(b)
    # The text columns: time, node (as its subject token), type, decision, executable.
    r = ctl("fleet", "events", "--url", bus.url(), "--node", NODE_B, "-o", "text")
    assert r.returncode == 0, r
    rows = [line.split() for line in r.stdout.splitlines()]
    assert len(rows) == len(b) and {row[1] for row in rows} == {"e2e_fb"}, r.stdout
    assert [row[2] for row in rows] == [rec["type"] for rec in b], r.stdout


def test_type_filter_gives_only_that_type(bus, two_nodes):
    a, b = two_nodes
    got = events(bus, "--type", "exec")
    assert got and all(r["type"] == "exec" for r in got)
    assert ids(got) == ids([r for r in a + b if r["type"] == "exec"])
    denied = [r for r in events(bus, "--node", NODE_B, "--type", "exec") if r["decision"] == "deny"]
    assert len(denied) == DENIED_B


def test_durable_consumer_resumes_after_the_last_record_printed(bus, two_nodes):
    a, b = two_nodes
    want = ids(a) + ids(b)
    k = 3
    assert len(want) > 2 * k
    first = events(bus, "--durable", "e2e-resume", "--max", k)
    second = events(bus, "--durable", "e2e-resume", "--max", k)
    rest = events(bus, "--durable", "e2e-resume")
    assert ids(first) == want[:k]
    assert ids(second) == want[k:2 * k]
    assert ids(rest) == want[2 * k:]
    assert events(bus, "--durable", "e2e-resume") == []
    # Another name is another reader: from the first record.
    assert ids(events(bus, "--durable", "e2e-other")) == want


def follow_until(proc, pred, timeout):
    """The first record proc prints for which pred holds, within timeout seconds."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        *lines, buf = buf.split(b"\n")
        for line in lines:
            rec = json.loads(line)
            if pred(rec):
                return rec
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            raise AssertionError(f"no such record within {timeout}s")
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            raise AssertionError(f"fleet events exited: {proc.poll()} {proc.stderr.read()!r}")
        buf += chunk


def test_follow_prints_a_new_deny_within_seconds_and_exits_0_on_sigterm(daemon, bus, denied_bin,
                                                                        workdir):
    d = daemon(node_policy(denied_bin), node_id=NODE_A, extra=["--fleet-url", bus.url()])
    wait_delivered(d)
    p = subprocess.Popen([str(CTL_BIN), "fleet", "events", "--url", bus.url(), "--follow",
                          "--node", NODE_A, "--type", "exec", "--durable", "e2e-follow"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)	# the consumer is there and waiting: what follows is new to it
        assert p.poll() is None, p.stderr.read()
        t0 = time.monotonic()
        r = run([denied_bin, workdir / "m-follow"])
        assert r.exec_errno == errno.EPERM
        denied = os.fsencode(denied_bin)
        # The host's other execs of this run come too (the consumer starts at the stream's start).
        rec = follow_until(p, lambda x: x["decision"] == "deny" and record_exe_bytes(x) == denied,
                           5.0)
        took = time.monotonic() - t0
        print(f"followed deny printed {took * 1000:.0f} ms after the exec")
        assert rec["type"] == "exec" and rec["node_id"] == NODE_A
        p.send_signal(signal.SIGTERM)
        assert p.wait(5) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_bad_arguments_exit_2_and_no_bus_exits_1(bus):
    for args in (["--durable", "a.b"], ["-o", "xml"], ["--max", "0"], ["--stream", "x y"], ["x"]):
        r = ctl("fleet", "events", "--url", bus.url(), *args)
        assert r.returncode == 2 and r.stderr, (args, r)
    assert ctl("fleet", "events").returncode == 2
    r = ctl("fleet", "events", "--url", "nats://127.0.0.1:1")
    assert r.returncode == 1 and "cannot reach the bus" in r.stderr, r
    r = ctl("fleet", "events", "--url", bus.url(), "--stream", "NO_SUCH")
    assert r.returncode == 1 and "no such stream" in r.stderr, r

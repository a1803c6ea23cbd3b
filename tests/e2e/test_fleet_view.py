# SPDX-License-Identifier: Apache-2.0
"""
`sysguardctl fleet view` end to end (docs/fleet.md, "The fleet over
time"): a real nats-server with JetStream on 127.0.0.1, the real daemon run
twice in sequence under two node ids. Node A runs a signed bundle of its
group (version shown, converged) and makes N denied execs: the view shows N
denies in the current interval while it is live; once it stopped and its
status entry expired it is shown silent, still with its N denies (its last
sample, written at the stop). Node B, a plain policy and no group bundle,
shows version 0, not converged, live, with its own denies.
"""
import errno
import json
import subprocess
import time

import pytest

from conftest import CTL_BIN, Policy, run
from nats_bus import NatsBus

GROUP = "e2e-view"
NODE_A = "e2e-va"
NODE_B = "e2e-vb"
DENIED_A = 3
DENIED_B = 2
TTL_S = 3


def ctl(*args, timeout=60):
    return subprocess.run([str(CTL_BIN), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def view(bus, *args):
    r = ctl("fleet", "view", "--url", bus.url(), "-o", "json", "--step", "1m", *args)
    assert r.returncode == 0, r
    return {n["node_id"]: n for n in json.loads(r.stdout)["nodes"]}


def wait_view(bus, pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        nodes = view(bus)
        if pred(nodes):
            return nodes
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}: {nodes}"
        time.sleep(0.2)


def denies(node):
    return sum(i["denies"] or 0 for i in node["intervals"])


@pytest.fixture
def bus(workdir):
    d = workdir / "bus"
    d.mkdir()
    b = NatsBus(d, 1).start()
    yield b
    b.close()


def signed_bundle(workdir, policy):
    assert ctl("policy", "keygen", workdir / "ops").returncode == 0
    src = workdir / "p1.yaml"
    src.write_text(policy.text)
    out = workdir / "b1.bundle"
    r = ctl("policy", "sign", "--key", workdir / "ops.key", "--version", 1, src, "-o", out)
    assert r.returncode == 0, r
    return out, workdir / "ops.pub"


def test_view_shows_denies_versions_and_a_silent_node(tools, workdir, daemon, bus):
    denied = tools.make_bin(workdir, "fleet-view-denied")
    policy = Policy([{"name": "no-denied", "action": "deny", "path": denied}], version="v-1")
    bundle, pub = signed_bundle(workdir, policy)
    r = ctl("fleet", "publish", "--url", bus.url(), "--group", GROUP, bundle)
    assert r.returncode == 0, r

    a = daemon(bundle.read_bytes(), strict=True, node_id=NODE_A,
               extra=["--trusted-key", str(pub), "--bundle-state", str(workdir / "bundle-version"),
                      "--fleet-url", bus.url(), "--fleet-group", GROUP,
                      "--fleet-status-ttl", str(TTL_S)])
    for i in range(DENIED_A):
        assert run([denied, workdir / f"ma{i}"]).exec_errno == errno.EPERM
    a.wait_exec(exe=denied, decision="deny", count=DENIED_A)
    nodes = wait_view(bus, lambda n: NODE_A in n and n[NODE_A]["denies_total"] == DENIED_A, 10,
                      "node A's denies in its status entry")
    na = nodes[NODE_A]
    assert na["live"] and na["group"] == GROUP
    assert na["policy_version"] == 1 and na["group_version"] == 1 and na["converged"]
    # All of them in the newest interval (the run began in it), none before the first sample.
    assert na["intervals"][-1]["denies"] == DENIED_A, na
    assert denies(na) == DENIED_A, na
    assert na["intervals"][0]["denies"] is None, na

    a.stop()
    b = daemon(policy, node_id=NODE_B, extra=["--fleet-url", bus.url(),
                                              "--fleet-status-ttl", str(TTL_S)])
    for i in range(DENIED_B):
        assert run([denied, workdir / f"mb{i}"]).exec_errno == errno.EPERM
    b.wait_exec(exe=denied, decision="deny", count=DENIED_B)
    nodes = wait_view(bus, lambda n: NODE_B in n and n[NODE_B]["denies_total"] == DENIED_B
                      and NODE_A in n and not n[NODE_A]["live"], TTL_S + 10,
                      "node A silent (status expired), node B's denies")
    na, nb = nodes[NODE_A], nodes[NODE_B]
    assert denies(na) == DENIED_A and na["policy_version"] == 1, na
    assert nb["live"] and nb["group"] == "default" and nb["policy_version"] == 0, nb
    assert not nb["converged"] and denies(nb) == DENIED_B, nb

    table = ctl("fleet", "view", "--url", bus.url(), "--step", "1m")
    assert table.returncode == 0, table
    print(table.stdout)
    rows = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:]}
    assert rows[NODE_A][4] == "silent" and rows[NODE_A][-1] == str(DENIED_A), table.stdout
    assert rows[NODE_A][2:4] == ["1", "yes"], table.stdout
    assert rows[NODE_B][2:5] == ["0", "NO", "live"], table.stdout
    assert rows[NODE_B][-1] == str(DENIED_B), table.stdout
    assert table.stdout.splitlines()[0].split()[-6:] == ["-6m", "-5m", "-4m", "-3m", "-2m", "-1m"]


def test_a_restarted_node_adds_both_runs_denies(tools, workdir, daemon, bus):
    denied = tools.make_bin(workdir, "fleet-view-restart")
    policy = Policy([{"name": "no-denied", "action": "deny", "path": denied}])
    flags = ["--fleet-url", bus.url(), "--fleet-status-ttl", str(TTL_S)]
    for run_no, n in enumerate((2, 1)):
        d = daemon(policy, node_id=NODE_A, extra=flags)
        for i in range(n):
            assert run([denied, workdir / f"m{run_no}-{i}"]).exec_errno == errno.EPERM
        d.wait_exec(exe=denied, decision="deny", count=n)
        wait_view(bus, lambda nodes: nodes.get(NODE_A, {}).get("denies_total") == n, 10,
                  f"run {run_no}'s {n} denies")
        if run_no == 0:
            d.stop()
    # The second run's counter began at 0 again: the view adds the two runs.
    na = view(bus)[NODE_A]
    assert na["live"] and na["denies_total"] == 1 and denies(na) == 3, na


def test_view_bad_arguments_exit_2_and_no_bus_exits_1(bus):
    for args in (["--step", "0"], ["--step", "10x"], ["--intervals", "0"], ["--intervals", "49"],
                 ["-o", "xml"], ["x"]):
        r = ctl("fleet", "view", "--url", bus.url(), *args)
        assert r.returncode == 2 and r.stderr, (args, r)
    r = ctl("fleet", "view", "--url", "nats://127.0.0.1:1")
    assert r.returncode == 1 and "cannot reach the bus" in r.stderr, r
    # A bus no node wrote to yet: an empty view, and why.
    r = ctl("fleet", "view", "--url", bus.url(), "-o", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["nodes"] == [], r
    assert "no bucket SYSGUARD_STATUS_HISTORY" in r.stderr, r

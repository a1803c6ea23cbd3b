# SPDX-License-Identifier: Apache-2.0
"""
Policy from the bus and fleet status (docs/fleet.md). A real JetStream
nats-server on 127.0.0.1 (tests/e2e/nats_bus.py), the real daemon with
trusted keys and --fleet-group: a bundle put into the policy bucket with
`sysguardctl fleet publish` is in force within 2 s and enforced; one signed
by another key, a tampered one and a rollback are each refused with a
record, the running policy kept; `sysguardctl fleet status` shows the node
converged, then not once its group's bundle moved on, and the node's entry
expires after the daemon stops.
"""
import errno
import json
import time
import urllib.request

import pytest

from conftest import DaemonError, Policy, bundle, ctl, run
from nats_bus import NatsBus

GROUP = "e2e-g1"
TTL_S = 3


@pytest.fixture
def bus(workdir):
    d = workdir / "bus"
    d.mkdir()
    b = NatsBus(d, 1).start()
    yield b
    b.close()


def ready(d):
    return json.loads((d.state_dir / "ready").read_text())


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def fleet_status(bus):
    r = ctl("fleet", "status", "--url", bus.url(), "--json", check=False)
    assert r.returncode in (0, 1), r
    return r.returncode, {n["node_id"]: n for n in json.loads(r.stdout)}


def publish(bus, f):
    return ctl("fleet", "publish", "--url", bus.url(), "--group", GROUP, f)


def start(daemon, workdir, bus, pub, first):
    extra = ["--trusted-key", str(pub), "--bundle-state", str(workdir / "bundle-version"),
             "--fleet-url", bus.url(), "--fleet-group", GROUP, "--fleet-status-ttl", str(TTL_S)]
    return daemon(first.read_bytes(), strict=True, extra=extra)


def subjects_on(bus):
    """The subjects the server has subscriptions on (its monitoring port's /subsz)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{bus.http_ports[0]}/subsz?subs=1",
                                timeout=5) as r:
        return {sub["subject"] for sub in json.load(r).get("subscriptions_list") or []}


def test_policy_from_the_bus_needs_trusted_keys(workdir, daemon, bus):
    with pytest.raises(DaemonError) as e:
        daemon(Policy().text, extra=["--fleet-url", bus.url(), "--fleet-group", GROUP])
    assert "needs --trusted-key" in str(e.value)


def test_publish_refuses_what_is_not_a_signed_bundle(workdir, bus):
    plain = workdir / "plain.yaml"
    plain.write_text(Policy().text)
    r = ctl("fleet", "publish", "--url", bus.url(), "--group", GROUP, plain, check=False)
    assert r.returncode == 1 and "not a signed policy bundle" in r.stderr, r


def test_bus_bundle_in_force_bad_ones_refused_status_converges_and_expires(tools, workdir, daemon,
                                                                           bus, keys):
    key, pub, other = keys
    x = tools.make_bin(workdir, "fleet-x")
    y = tools.make_bin(workdir, "fleet-y")
    v1 = bundle(workdir, key, 1, Policy([{"name": "no-x", "action": "deny", "path": x}],
                                        version="f-1"))
    v2 = bundle(workdir, key, 2, Policy([{"name": "no-y", "action": "deny", "path": y}],
                                        version="f-2"))
    d = start(daemon, workdir, bus, pub, v1)
    assert d.ready["bundle"]["version"] == 1
    assert run([y, workdir / "m"]).returncode == 0
    # The node hears of puts to its group's key (and reads it at once) rather than waiting
    # for its next read: its subscription to the key's own subject is on the server.
    wait_until(lambda: f"$KV.SYSGUARD_POLICY.policy.{GROUP}" in subjects_on(bus), 5.0,
               "the node's subscription to its policy key")

    t0 = time.monotonic()
    publish(bus, v2)
    wait_until(lambda: ready(d)["bundle"]["version"] == 2, 2.0, "bundle 2 in force")
    took = time.monotonic() - t0
    print(f"bus bundle in force after {took * 1000:.0f} ms")
    assert ready(d)["policy_version"] == "f-2"
    assert run([y, workdir / "m"]).exec_errno == errno.EPERM
    assert run([x, workdir / "mx"]).returncode == 0

    rc, nodes = wait_until(lambda: (lambda s: s if s[1].get(d.node_id, {}).get("policy_version") == 2
                                    else None)(fleet_status(bus)), 2 * TTL_S, "status of version 2")
    assert rc == 0 and nodes[d.node_id]["converged"] is True and nodes[d.node_id]["group"] == GROUP
    table = ctl("fleet", "status", "--url", bus.url()).stdout
    assert d.node_id in table and "yes" in table

    forged = bundle(workdir, other, 3, Policy([], version="forged"), "other")
    good = bundle(workdir, key, 4, Policy([], version="f-4"), "t").read_bytes()
    tampered = workdir / "tampered.bundle"
    tampered.write_bytes(good.replace(b"f-4", b"f-X", 1))
    assert tampered.read_bytes() != good
    for f, status in ((forged, "unknown key"), (tampered, "bad signature"), (v1, "rollback")):
        publish(bus, f)
        rej = d.wait_for(lambda r, s=status: r["type"] == "policy_bundle_rejected" and
                         r["status"] == s, what=status)[0]
        assert rej["severity"] == "critical" and rej["error"], rej
        assert ready(d)["policy_version"] == "f-2" and ready(d)["bundle"]["version"] == 2
        assert run([y, workdir / "m"]).exec_errno == errno.EPERM
    refused = [r for r in d.log_records() if r["type"] == "policy_update" and r["result"] == "refused"]
    assert len(refused) >= 3
    assert (workdir / "bundle-version").read_text().strip() == "2"

    # The group's bundle is now the rollback: the node (still at 2) is not converged.
    rc, nodes = fleet_status(bus)
    assert rc == 1 and nodes[d.node_id]["converged"] is False
    assert "NO" in ctl("fleet", "status", "--url", bus.url(), check=False).stdout

    v5 = bundle(workdir, key, 5, Policy([{"name": "no-x", "action": "deny", "path": x}],
                                        version="f-5"))
    publish(bus, v5)
    wait_until(lambda: ready(d)["bundle"]["version"] == 5, 2.0, "bundle 5 in force")
    assert run([x, workdir / "mx"]).exec_errno == errno.EPERM
    wait_until(lambda: fleet_status(bus)[0] == 0, 2 * TTL_S, "converged on 5")

    d.stop()
    t0 = time.monotonic()
    wait_until(lambda: d.node_id not in fleet_status(bus)[1], 4 * TTL_S + 5, "the entry expired")
    print(f"status entry gone {time.monotonic() - t0:.1f} s after the stop (TTL {TTL_S} s)")

# SPDX-License-Identifier: Apache-2.0
"""
Events to JetStream end to end (SPEC FLEET-1, docs/fleet.md): a real
sysguardd publishes its audit records to real nats-server processes with
JetStream (tests/e2e/nats_bus.py), started by the test on 127.0.0.1; the
stream is read back with tests/e2e/helpers/fleet_reader (libnats).

Many records fast: file-open audit selects tests/e2e/helpers/fleet_burst,
which creates new files, one file_open record each (an exec costs ~2.5 ms,
an open a few microseconds).

What is checked, against the daemon's own audit log: every record of the
node reaches the stream exactly once (by event id and by Nats-Msg-Id) and in
the log's order, through a cluster server killed mid-burst, through the
whole bus down for FLEET_OUTAGE_S seconds (default 60), and through a
daemon killed with SIGKILL while records wait in its spool; with a tiny
spool the counters add up (submitted = delivered + dropped + queued +
spooled), the drops are counted as spool_full and no deny is among them.
"""
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import CTL_BIN, REPO, Policy
from nats_bus import NatsBus, Reader

STREAM = "SYSGUARD_EVENTS"
NODE = "e2e-node"
BURST = int(os.environ.get("FLEET_BURST", "100000"))
OUTAGE_S = float(os.environ.get("FLEET_OUTAGE_S", "60"))
HELPERS = Path(__file__).resolve().parent / "helpers"


@pytest.fixture(scope="module")
def fleet_bins(tools):
    r = subprocess.run(["make", "-s", "-C", str(REPO), "fleet-reader"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    burst = tools.root / "bin" / "fleet_burst"
    r = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(burst), str(HELPERS / "fleet_burst.c")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return REPO / "build" / "tests" / "fleet_reader", burst


@pytest.fixture
def buses(workdir):
    made = []

    def make(size, name="bus", conf=None):
        d = workdir / name
        d.mkdir()
        b = NatsBus(d, size, conf)
        made.append(b)
        return b.start()

    yield make
    for b in made:
        b.close()


def burst_policy(burst_bin, rules=()):
    return Policy(rules).text + f"file_audit:\n  - name: burst\n    exe: {json.dumps(str(burst_bin))}\n"


def fleet_flags(bus, *extra):
    return ["--fleet-url", bus.url(), *[str(x) for x in extra]]


def stats(d):
    try:
        return json.loads((d.state_dir / "stats.json").read_text()).get("fleet")
    except (OSError, ValueError):
        return None


def check_sum(s):
    assert s["submitted"] == s["delivered"] + s["dropped"] + s["queued"] + s["spooled"], s
    assert s["dropped"] == sum(s["dropped_by"].values()), s


def wait_stats(d, pred, timeout=60.0, what=""):
    deadline = time.monotonic() + timeout
    while True:
        s = stats(d)
        if s is not None:
            check_sum(s)
            if pred(s):
                return s
        if time.monotonic() > deadline or not d.running():
            raise AssertionError(f"fleet stats never {what}: last {s}\nstderr:\n{d.stderr()[-3000:]}")
        time.sleep(0.2)


def settled(s):
    return s["queued"] == 0 and s["spooled"] == 0 and s["connected"]


def run_burst(burst_bin, directory, prefix, count, rate=0):
    directory.mkdir(exist_ok=True)
    r = subprocess.run([str(burst_bin), str(directory), prefix, str(count), str(rate)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    n, secs = r.stdout.split()
    return int(n), float(secs)


def log_ids(d):
    """Event ids of the log's records, in log order."""
    return [r["event_id"] for r in d.log_records()]


def node_messages(reader, node=NODE):
    return [m for m in reader.messages() if m[1].startswith(f"sysguard.{node}.")]


def stored_ahead(have, log):
    """How many of have (stream order) were stored ahead of a record before them in log."""
    where = {eid: i for i, eid in enumerate(log)}
    ahead, lowest = 0, len(log)
    for eid in reversed(have):
        ahead += where[eid] > lowest
        lowest = min(lowest, where[eid])
    return ahead


def assert_exactly_once_in_order(msgs, runs, late_acks=0):
    """
    runs: (settled, log) for each daemon run, oldest first: the event ids the
    run had handed over for good (delivered, spooled or dropped) and its whole
    log read after the stream. The node's messages are a prefix of each log
    holding at least the settled records, each once, in log order, run after
    run. (Records of the log after the settled ones may still be on their way,
    or, after a SIGKILL, lost with the in-memory queue; never one in between.)
    The one exception the daemon allows (docs/fleet.md, "Order"): a message
    JetStream stored while an earlier one of its batch failed, which the
    daemon counted in late_acks; no more records than that may be out of order.
    """
    ids = [m[2] for m in msgs]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} duplicate message ids"
    for seq, subject, msg_id, rec in msgs:
        node, run, eid = msg_id.rsplit(".", 2)
        assert (node, eid) == (NODE, rec["event_id"]), (msg_id, rec)
        assert subject == f"sysguard.{NODE}.{rec['type']}", (subject, rec)
    got = [(m[2].rsplit(".", 2)[1], m[3]["event_id"]) for m in msgs]
    run_order = []
    for run, _ in got:
        if not run_order or run_order[-1] != run:
            assert run not in run_order, "runs interleaved in the stream"
            run_order.append(run)
    assert len(run_order) == len(runs), (run_order, [len(r[1]) for r in runs])
    ahead = 0
    for run_id, (settled, log) in zip(run_order, runs):
        have = [eid for run, eid in got if run == run_id]
        missing = set(settled) - set(have)
        assert not missing, f"{len(missing)} record(s) of run {run_id} never arrived (of {len(settled)})"
        assert set(have) == set(log[:len(have)]), "records in the stream that are not in the log, or a gap"
        ahead += stored_ahead(have, log)
    assert ahead <= late_acks, (f"{ahead} record(s) out of order in the stream, "
                                f"{late_acks} counted as stored late by the daemon")


def settled_ids(d, s):
    """The log's first records the snapshot s counts as handed over (the log is in submission order)."""
    return log_ids(d)[:s["submitted"] - s["queued"] - s.get("recovered", 0)]


def wait_stream_has(reader, want_ids, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        msgs = node_messages(reader)
        have = {m[3]["event_id"] for m in msgs}
        if set(want_ids) <= have or time.monotonic() > deadline:
            return msgs
        time.sleep(0.5)


def sigkill(d):
    """SIGKILL, then put the kernel back as a clean stop would (BPF-5: pins stay)."""
    os.kill(d.pid, signal.SIGKILL)
    d.proc.wait()
    subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "reset"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)


# --------------------------------------------------------------------------

def test_no_export_without_the_url(fleet_bins, workdir, daemon):
    d = daemon(Policy())
    time.sleep(1.2)
    assert stats(d) is None
    assert not (d.state_dir / "fleet-spool").exists()


def test_burst_through_a_killed_server_arrives_once_in_order(fleet_bins, workdir, buses, daemon):
    """
    A 3-server cluster, a stream with 3 replicas; BURST records while the
    server the daemon is connected to is killed and restarted: every record
    arrives once, in order, and the counters say so.
    """
    reader_bin, burst_bin = fleet_bins
    bus = buses(3)
    reader = Reader(reader_bin, bus.url(), STREAM)
    reader.make_stream(3)
    # Room in memory for the whole burst: on two busy cores the worker can fall behind the
    # burst for a few seconds, and what this test is about is the killed server, not the queue.
    d = daemon(burst_policy(burst_bin), extra=fleet_flags(bus, "--fleet-replicas", 3,
                                                          "--fleet-queue", BURST + 50000))
    wait_stats(d, lambda s: s["connected"], what="connected")
    result = {}
    t = threading.Thread(target=lambda: result.update(
        n=run_burst(burst_bin, workdir / "files", "f", BURST, rate=10000)))
    t0 = time.monotonic()
    t.start()
    time.sleep(1.5)
    victim = bus.connected_to()
    assert victim is not None, "the daemon is connected to no server"
    bus.kill(victim)
    time.sleep(2)
    bus.restart(victim)
    t.join()
    n, secs = result["n"]
    # The kernel's ring buffer may drop a few file_open events of a burst (counted there, and
    # checked below): what the export is asked to carry is what the log got.
    s = wait_stats(d, lambda s: settled(s) and s["submitted"] >= BURST * 0.99, timeout=120,
                   what="settled")
    took = time.monotonic() - t0
    records = d.log_records()
    opens = [r for r in records if r.get("type") == "file_open" and r.get("rule", {}).get("name") == "burst"]
    done = settled_ids(d, s)
    msgs = wait_stream_has(reader, done)
    log = log_ids(d)
    print(f"\nfleet burst: {n} files in {secs:.1f}s, {len(opens)} file_open records, "
          f"{len(done)} records settled, {len(msgs)} in the stream, settled {took:.1f}s after "
          f"the burst began; stats {s}")
    assert len(opens) >= BURST * 0.99, f"only {len(opens)} file_open records for {BURST} files"
    assert s["dropped"] == 0, s
    assert_exactly_once_in_order(msgs, [(done, log)], s["late_acks"])


def test_whole_bus_down_then_the_spool_replays_everything(fleet_bins, workdir, buses, daemon):
    """
    The whole cluster stops for OUTAGE_S seconds while records keep coming:
    the daemon runs on, spools, and once the bus is back every record arrives
    once and in order, those of the outage after those before it.
    """
    reader_bin, burst_bin = fleet_bins
    bus = buses(3)
    reader = Reader(reader_bin, bus.url(), STREAM)
    reader.make_stream(3)
    d = daemon(burst_policy(burst_bin), extra=fleet_flags(bus, "--fleet-replicas", 3))
    wait_stats(d, lambda s: s["connected"], what="connected")
    # Paced, as in the SIGKILL test: at full speed on two busy cores the kernel's ring buffer
    # lost 7% of the outage's file_open events in CI (counted there); this test is of the spool.
    run_burst(burst_bin, workdir / "files", "a", 5000, rate=4000)
    wait_stats(d, settled, what="settled before the outage")
    down_at = time.monotonic()
    for i in range(3):
        bus.stop(i)
    wait_stats(d, lambda s: not s["connected"], timeout=20, what="disconnected")
    run_burst(burst_bin, workdir / "files", "b", 20000, rate=4000)
    s = wait_stats(d, lambda s: s["queued"] == 0 and s["spooled"] >= 20000 * 0.99, timeout=60,
                   what="spooling the outage's records")
    assert d.running()
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
    s = stats(d)
    assert not s["connected"] and s["spooled"] >= 20000 * 0.99 and s["spool_bytes"] > 0, s
    spooled = s["spooled"]
    up_at = time.monotonic()
    bus.start()
    s = wait_stats(d, settled, timeout=120, what="settled after the outage")
    replay_s = time.monotonic() - up_at
    back = time.monotonic() - down_at
    ids = settled_ids(d, s)
    msgs = wait_stream_has(reader, ids)
    print(f"\nfleet outage: bus down {back:.0f}s, {spooled} records spooled, replayed within "
          f"{replay_s:.1f}s of the restart (servers' start included); {len(ids)} records settled, "
          f"{len(msgs)} in the stream; stats {s}")
    assert s["dropped"] == 0 and s["replayed"] >= spooled, s
    assert s["disconnects"] >= 1, s
    assert_exactly_once_in_order(msgs, [(ids, log_ids(d))], s["late_acks"])


def test_tiny_spool_counts_its_drops_and_keeps_the_denies(fleet_bins, tools, workdir, buses, daemon):
    """
    With the bus away and a 64 KiB spool, a flood of file_open records fills
    it: the overflow is counted as spool_full, never silently; denies made
    after the flood still fit (the last quarter is theirs) and all arrive
    once the bus is back; submitted = delivered + dropped + queued + spooled
    throughout, and every record of the log is in the stream or among the
    drops.
    """
    reader_bin, burst_bin = fleet_bins
    bus = buses(1)
    reader = Reader(reader_bin, bus.url(), STREAM)
    bad = [tools.make_bin(workdir, f"denied{i}") for i in range(10)]
    rules = [{"name": f"deny-{i}", "action": "deny", "path": p} for i, p in enumerate(bad)]
    d = daemon(burst_policy(burst_bin, rules),
               extra=fleet_flags(bus, "--fleet-spool-max-bytes", "64K"))
    wait_stats(d, lambda s: s["connected"], what="connected")
    bus.stop(0)
    wait_stats(d, lambda s: not s["connected"], timeout=20, what="disconnected")
    run_burst(burst_bin, workdir / "files", "f", 2000)
    wait_stats(d, lambda s: s["queued"] == 0 and s["dropped_by"]["spool_full"] > 0, timeout=30,
               what="dropping for a full spool")
    for p in bad:
        try:
            pid = os.posix_spawn(p, [p], os.environ)
        except PermissionError:
            continue
        os.waitpid(pid, 0)
        raise AssertionError(f"{p} ran: it should have been denied")
    denies = d.wait_for(lambda r: r.get("type") == "exec" and r.get("decision") == "deny"
                        and r["process"]["exe"] in bad, count=len(bad), what="denies")
    s = wait_stats(d, lambda s: s["queued"] == 0, timeout=20, what="queue empty")
    dropped = s["dropped"]
    bus.start()
    s = wait_stats(d, settled, timeout=60, what="settled")
    ids = settled_ids(d, s)
    msgs = node_messages(reader)
    have = {m[3]["event_id"] for m in msgs}
    lost = [e for e in ids if e not in have]
    print(f"\nfleet tiny spool: {len(ids)} records settled, {len(lost)} not in the stream; stats {s}")
    assert all(r["event_id"] in have for r in denies), "a deny was dropped"
    # Other programs on the machine still made records while the bus was away.
    assert s["dropped"] == s["dropped_by"]["spool_full"] >= dropped > 0, s
    assert len(lost) == s["dropped"], (len(lost), s)
    stream_ids = [m[2] for m in msgs]
    assert len(stream_ids) == len(set(stream_ids)), "duplicates in the stream"
    order = [m[3]["event_id"] for m in msgs]
    assert order == sorted(order), "records out of order in the stream"


def test_records_the_bus_refuses_as_too_large_are_dropped_not_retried(fleet_bins, workdir, buses,
                                                                     daemon):
    """
    A server whose max_payload is smaller than a file_open record: those are
    counted as too_large and the rest goes on (nothing waits behind them).
    """
    reader_bin, burst_bin = fleet_bins
    bus = buses(1, conf="max_payload: 400\n")
    d = daemon(burst_policy(burst_bin), extra=fleet_flags(bus))
    wait_stats(d, lambda s: s["connected"], what="connected")
    run_burst(burst_bin, workdir / "files", "a-rather-long-file-name-" + "x" * 200 + "-", 300)
    s = wait_stats(d, lambda s: settled(s) and s["dropped_by"]["too_large"] >= 300, timeout=30,
                   what="dropping the large records")
    assert s["delivered"] + s["dropped"] == s["submitted"], s
    assert s["dropped"] == s["dropped_by"]["too_large"], s


def test_spool_survives_a_sigkill_and_replays_after_the_restart(fleet_bins, workdir, buses, daemon):
    """
    The bus is away, records wait in the spool, the daemon is killed with
    SIGKILL. The next daemon (same spool) finds them (recovered), and once
    the bus is back publishes them before its own, each once, in order.
    """
    reader_bin, burst_bin = fleet_bins
    bus = buses(1)
    reader = Reader(reader_bin, bus.url(), STREAM)
    spool = workdir / "spool"
    flags = fleet_flags(bus, "--fleet-spool-dir", spool)
    d1 = daemon(burst_policy(burst_bin), extra=flags)
    wait_stats(d1, lambda s: s["connected"], what="connected")
    bus.stop(0)
    wait_stats(d1, lambda s: not s["connected"], timeout=20, what="disconnected")
    # Paced: the test is of the spool, not of the kernel's ring buffer under a flood (a
    # full-speed burst on two busy cores lost 6% of its file_open events there, counted).
    run_burst(burst_bin, workdir / "files", "a", 5000, rate=2000)
    s1 = wait_stats(d1, lambda s: s["queued"] == 0 and s["spooled"] >= 5000, timeout=30,
                    what="spooled")
    settled1 = settled_ids(d1, s1)
    sigkill(d1)
    run1 = log_ids(d1)
    d2 = daemon(burst_policy(burst_bin), extra=flags)
    s2 = wait_stats(d2, lambda s: s["recovered"] > 0, timeout=20, what="recovered")
    assert s2["recovered"] >= s1["spooled"], (s1, s2)
    run_burst(burst_bin, workdir / "files", "b", 1000, rate=2000)
    bus.start()
    s2 = wait_stats(d2, lambda s: settled(s) and s["replayed"] >= s["recovered"], timeout=60,
                    what="replayed")
    settled2 = settled_ids(d2, s2)
    msgs = wait_stream_has(reader, settled1 + settled2)
    print(f"\nfleet sigkill: run 1 {len(run1)} records ({s1['delivered']} delivered before the bus "
          f"went, {s2['recovered']} recovered from its spool), run 2 {len(settled2)} settled; "
          f"{len(msgs)} in the stream")
    assert s2["dropped"] == 0, s2
    assert_exactly_once_in_order(msgs, [(settled1, run1), (settled2, log_ids(d2))],
                                 s1["late_acks"] + s2["late_acks"])

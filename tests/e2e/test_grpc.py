# SPDX-License-Identifier: Apache-2.0
"""
The node's gRPC service (docs/grpc.md), with a real client: Python grpcio and
the code protoc generates from the shipped proto/sysguard/v1/sysguard.proto.
Streams of live denies with filters, a start from an earlier record, the
token and client certificates refused or taken, a stream that outlives a
policy reload, and a clean end when the daemon stops.
"""
import errno
import json
import os
import subprocess
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import DaemonError, Policy, free_port, run
from siem_receiver import SiemCA
from test_container import Cgroups, cgroup2_mount, run_in_cgroup

grpc = pytest.importorskip("grpc")

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-grpc-token-0123456789"


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """The client code, generated here from the shipped .proto as a user would."""
    out = tmp_path_factory.mktemp("grpc-client")
    subprocess.run(["protoc", "-I", str(ROOT / "proto"), f"--python_out={out}",
                    f"--grpc_python_out={out}",
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
                    str(ROOT / "proto/sysguard/v1/sysguard.proto")], check=True)
    sys.path.insert(0, str(out))
    from sysguard.v1 import sysguard_pb2, sysguard_pb2_grpc
    yield sysguard_pb2, sysguard_pb2_grpc
    sys.path.remove(str(out))


class Stream:
    """GetEvents read on a thread of its own; events as they came, and how it ended."""

    def __init__(self, stub, request, metadata):
        self.call = stub.GetEvents(request, metadata=metadata)
        self.events = []
        self.error = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        # Headers come as soon as the service took the stream: from then on it is live.
        self.call.initial_metadata()

    def _read(self):
        try:
            for ev in self.call:
                with self.lock:
                    self.events.append(ev)
        except grpc.RpcError as e:
            self.error = e

    def wait(self, pred, timeout=15, what="event"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                hit = [e for e in self.events if pred(e)]
            if hit:
                return hit[0]
            if self.error is not None:
                raise AssertionError(f"stream ended while waiting for {what}: {self.error}")
            time.sleep(0.05)
        raise AssertionError(f"no {what} on the stream within {timeout}s; got "
                             f"{[(e.type, e.decision) for e in self.events][-20:]}")

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def close(self):
        self.call.cancel()
        self.thread.join(5)


def md(token=TOKEN):
    return [("authorization", f"Bearer {token}")] if token is not None else []


def exe_of(ev):
    return json.loads(ev.json).get("process", {}).get("exe", "")


@pytest.fixture
def node(tools, workdir, daemon, pb):
    tok = workdir / "token"
    tok.write_text(TOKEN + "\n")
    bad = tools.make_bin(workdir, "grpc-denied")
    good = tools.make_bin(workdir, "grpc-allowed")
    pol = Policy([{"name": "no-grpc-bad", "action": "deny", "path": bad}])
    # The default, <state-dir>/grpc.sock, is longer than a socket path may be under pytest's tmp.
    sock = Path(tempfile.mkdtemp(prefix="sg-grpc-")) / "grpc.sock"
    d = daemon(pol, extra=["--grpc-token-file", str(tok), "--grpc-buffer", "64",
                           "--grpc-socket", str(sock)])
    chan = grpc.insecure_channel(f"unix:{sock}")
    stub = pb[1].EventsStub(chan)
    yield d, stub, bad, good, sock
    chan.close()
    shutil.rmtree(sock.parent, ignore_errors=True)


def test_every_call_needs_the_token(node, pb):
    d, stub, _, _, sock = node
    assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
    for token in (None, "wrong", TOKEN[:-1], TOKEN + "x"):
        with pytest.raises(grpc.RpcError) as e:
            stub.GetStatus(pb[0].GetStatusRequest(), metadata=md(token))
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED, token
        with pytest.raises(grpc.RpcError) as e:
            for _ in stub.GetEvents(pb[0].GetEventsRequest(), metadata=md(token)):
                pass
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED, token
    st = stub.GetStatus(pb[0].GetStatusRequest(), metadata=md())
    assert st.node_id == d.node_id and st.mode == "enforce" and st.policy_version == "e2e-1"
    assert "fanotify" in st.backends
    assert json.loads(st.status_json)["pid"] == d.pid
    assert st.last_event_id > 0 and st.events_in_memory > 0


def test_live_denies_with_filters(node, pb):
    d, stub, bad, good, _ = node
    denies = Stream(stub, pb[0].GetEventsRequest(types=["exec"], decisions=["deny"]), md())
    everything = Stream(stub, pb[0].GetEventsRequest(), md())
    critical = Stream(stub, pb[0].GetEventsRequest(min_severity="critical"), md())
    try:
        assert run([good, d.dir / "m"]).returncode == 0
        assert run([bad, d.dir / "m"]).exec_errno == errno.EPERM
        ev = denies.wait(lambda e: exe_of(e) == bad, what="the deny")
        assert ev.type == "exec" and ev.decision == "deny" and ev.node_id == d.node_id
        rec = json.loads(ev.json)
        assert int(rec["event_id"], 16) == ev.event_id and rec["ts"] == ev.ts
        # The unfiltered stream has the allowed exec too; the filtered one never does.
        everything.wait(lambda e: exe_of(e) == good and e.decision == "allow", what="the allow")
        everything.wait(lambda e: exe_of(e) == bad, what="the deny, unfiltered")
        assert all(e.type == "exec" and e.decision == "deny" for e in denies.snapshot())
        sev = everything.wait(lambda e: exe_of(e) == bad).severity
        if sev != "critical":
            assert not any(exe_of(e) == bad for e in critical.snapshot())
        assert all(e.severity == "critical" for e in critical.snapshot())
    finally:
        for s in (denies, everything, critical):
            s.close()


def test_container_filter_takes_that_containers_records_only(node, pb):
    d, stub, bad, good, _ = node
    root = cgroup2_mount()
    if root is None:
        pytest.skip("no cgroup2 mount")
    ids = ["c0ffee" + "0123456789abcdef" * 3 + "a1b2c3d4e5", "beef00" + "fedcba9876543210" * 3 + "0a0b0c0d0e"]
    cg = Cgroups(root)
    streams = [Stream(stub, pb[0].GetEventsRequest(container_id=ids[0][:12]), md()),
               Stream(stub, pb[0].GetEventsRequest(container_id=ids[1]), md())]
    try:
        pids = []
        for cid in ids:
            leaf = cg.make(f"system.slice/docker-{cid}.scope")
            rc, err, pid = run_in_cgroup(leaf, [bad, d.dir / "m"])
            assert err == errno.EPERM
            pids.append(pid)
        for s, cid, pid in zip(streams, ids, pids):
            ev = s.wait(lambda e: exe_of(e) == bad, what=f"the deny in {cid[:12]}")
            assert ev.container_id == cid and ev.decision == "deny"
        # The host's exec and the other container's are on neither stream.
        assert run([bad, d.dir / "m"]).exec_errno == errno.EPERM
        d.wait_exec(exe=bad, count=3)
        time.sleep(0.5)
        for s, cid in zip(streams, ids):
            assert {e.container_id for e in s.snapshot()} == {cid}
    finally:
        for s in streams:
            s.close()
        cg.remove()


def test_bad_filters_are_refused_with_a_reason(node, pb):
    _, stub, _, _, _ = node
    for req, word in ((pb[0].GetEventsRequest(min_severity="loud"), "min_severity"),
                      (pb[0].GetEventsRequest(container_id="abc"), "container_id")):
        with pytest.raises(grpc.RpcError) as e:
            for _ in stub.GetEvents(req, metadata=md()):
                pass
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and word in e.value.details()


def test_start_from_an_earlier_record_or_out_of_range(node, pb):
    d, stub, bad, good, _ = node
    for _ in range(3):
        assert run([bad, d.dir / "m"]).exec_errno == errno.EPERM
    recs = d.wait_exec(exe=bad, count=3)
    first = int(recs[0]["event_id"], 16)
    s = Stream(stub, pb[0].GetEventsRequest(since_event_id=first, types=["exec"]), md())
    try:
        ev = s.wait(lambda e: exe_of(e) == bad, what="a record from memory")
        assert ev.event_id > first
        # The records after `first` come one by one: the first may be read before the last is.
        want = {int(r["event_id"], 16) for r in recs[1:]}
        s.wait(lambda e: e.event_id == max(want), what="the last record from memory")
        got = [e.event_id for e in s.snapshot() if exe_of(e) == bad]
        assert set(got) >= want
        assert len(got) == len(set(got))
    finally:
        s.close()
    # 64 records in memory (--grpc-buffer): make the first leave, then ask for it.
    for _ in range(70):
        run([good, d.dir / "m"])
    d.wait_exec(exe=good, count=70)
    with pytest.raises(grpc.RpcError) as e:
        for _ in stub.GetEvents(pb[0].GetEventsRequest(since_event_id=first), metadata=md()):
            pass
    assert e.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert "no longer in memory" in e.value.details()


def test_a_stream_outlives_a_reload_and_ends_cleanly_with_the_daemon(node, pb, tools, workdir):
    d, stub, bad, good, sock = node
    s = Stream(stub, pb[0].GetEventsRequest(), md())
    try:
        other = tools.make_bin(workdir, "grpc-denied-after-reload")
        d.reload(Policy([{"name": "no-grpc-bad", "action": "deny", "path": bad},
                         {"name": "no-other", "action": "deny", "path": other}], version="e2e-2"))
        s.wait(lambda e: e.type == "policy_reload", what="the reload's record")
        d.wait_for(lambda r: r.get("type") == "policy_reload")
        assert run([other, d.dir / "m"]).exec_errno == errno.EPERM
        ev = s.wait(lambda e: exe_of(e) == other and e.decision == "deny", what="a deny after the reload")
        assert json.loads(ev.json)["policy_version"] == "e2e-2"
        st = stub.GetStatus(pb[0].GetStatusRequest(), metadata=md())
        assert st.policy_version == "e2e-2"
        assert s.error is None
        d.stop()
        s.thread.join(10)
        assert s.error is not None and s.error.code() == grpc.StatusCode.UNAVAILABLE
        assert not sock.exists()
    finally:
        s.close()


def test_tcp_with_client_certificates(tools, workdir, daemon, pb):
    ca = SiemCA(workdir / "ca")
    other_ca = SiemCA(workdir / "other-ca", name="not-ours")
    cert, key = ca.issue("node", san="IP:127.0.0.1")
    client_cert, client_key = ca.issue("operator", client=True)
    stranger_cert, stranger_key = other_ca.issue("stranger", client=True)
    port = free_port()
    d = daemon(Policy(), extra=["--grpc-address", f"127.0.0.1:{port}", "--grpc-tls-cert", str(cert),
                                "--grpc-tls-key", str(key), "--grpc-tls-client-ca", str(ca.cert)])
    # TCP only (no token): no Unix socket is served.
    assert not d.state_dir.joinpath("grpc.sock").exists()

    def status(cert_key, root=ca.cert):
        creds = grpc.ssl_channel_credentials(
            root_certificates=Path(root).read_bytes(),
            private_key=Path(cert_key[1]).read_bytes() if cert_key else None,
            certificate_chain=Path(cert_key[0]).read_bytes() if cert_key else None)
        with grpc.secure_channel(f"127.0.0.1:{port}", creds) as chan:
            return pb[1].EventsStub(chan).GetStatus(pb[0].GetStatusRequest(), timeout=10)

    assert status((client_cert, client_key)).node_id == d.node_id
    for who in (None, (stranger_cert, stranger_key)):
        with pytest.raises(grpc.RpcError) as e:
            status(who)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE, who
    # A plain-text client gets nothing either.
    with grpc.insecure_channel(f"127.0.0.1:{port}") as chan:
        with pytest.raises(grpc.RpcError):
            pb[1].EventsStub(chan).GetStatus(pb[0].GetStatusRequest(), timeout=5)


@pytest.mark.parametrize("extra, says", [
    (["--grpc-address", "127.0.0.1:1"], "always TLS"),
    (["--grpc-socket", "/tmp/x.sock"], "need --grpc-token-file"),
    (["--grpc-socket", "/tmp/x.sock", "--grpc-address", "127.0.0.1:1", "--grpc-tls-cert", "c",
      "--grpc-tls-key", "k", "--grpc-tls-client-ca", "ca"], "socket needs a token"),
    (["--grpc-tls-cert", "c", "--grpc-token-file", "TOKEN"], "need --grpc-address"),
    (["--grpc-buffer", "0", "--grpc-token-file", "TOKEN"], "grpc buffer"),
    (["--grpc-token-file", "SHORT"], "at least 16"),
    (["--grpc-buffer", "10"], "need --grpc-token-file"),
    (["--grpc-token-file", "TOKEN", "--grpc-socket", "/tmp/" + "x" * 120], "longer than 107"),
])
def test_bad_settings_stop_the_start_with_a_reason(tools, workdir, daemon, extra, says):
    (workdir / "TOKEN").write_text(TOKEN)
    (workdir / "SHORT").write_text("short")
    extra = [str(workdir / a) if a in ("TOKEN", "SHORT") else a for a in extra]
    with pytest.raises(DaemonError) as e:
        daemon(Policy(), extra=extra)
    assert says in str(e.value)

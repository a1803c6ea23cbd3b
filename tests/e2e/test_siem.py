# SPDX-License-Identifier: Apache-2.0
"""
SIEM export end to end (SPEC OPS-4, docs/siem.md): a real sysguardd sends
its audit records as RFC 5424 syslog (RFC 6587 octet counting) to a real
rsyslog this test starts on 127.0.0.1 (tests/e2e/siem_receiver.py), over
TCP and over TLS (rsyslog's gtls driver, certificates from a CA the test
makes with openssl).

What is checked: a deny record arrives byte for byte as the daemon wrote it
to its audit log, hostile file name included, under the header rsyslog
parses as RFC 5424; TLS verifies the receiver (a wrong CA or name delivers
nothing, is counted and logged once); the daemon rides out an rsyslog
restart on the same port; with a tiny queue and no receiver every record is
either delivered or counted as dropped.

Other processes on the machine exec things too, so the audit log holds
records this test did not cause. Accounting therefore uses the exporter's
order: records leave the queue in audit-log order, so with a stats snapshot
(submitted, sent, dropped, queue_depth) the first submitted - queue_depth
lines of the audit log are settled, and exactly `sent` of them reach the
receiver and `dropped` never do.
"""
import http.client
import json
import os
import shutil
import signal
import tempfile
import time

import pytest

from conftest import DaemonError, Policy
from conftest import free_port
from siem_receiver import Rsyslog, SiemCA

SEVERITY = {"info": 6, "warning": 4, "critical": 2}
FACILITY = {"authpriv": 10, "local0": 16, "local3": 19}
TOKEN = "e2e-siem-token-0123456789abcdef"
# Quotes, a newline, a backslash, a ']' (which ends an SD element) and invalid UTF-8.
HOSTILE = b'evil "quote\nnew]line\\back\xff\xfe'


@pytest.fixture
def receivers():
    made = []

    def make(*args, **kw):
        r = Rsyslog(*args, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def siem_flags(port, transport="tcp", *extra):
    return ["--siem-enabled", "--siem-transport", transport, "--siem-address", f"127.0.0.1:{port}",
            *[str(x) for x in extra]]


def spawn_denied(path):
    try:
        pid = os.posix_spawn(path, [path], os.environ)
    except PermissionError:
        return
    os.waitpid(pid, 0)
    raise AssertionError(f"{path!r} ran: it should have been denied")


def stats(d):
    try:
        return json.loads((d.state_dir / "stats.json").read_text()).get("siem")
    except (OSError, ValueError):
        return None


def wait_stats(d, pred, timeout=20.0, what=""):
    deadline = time.monotonic() + timeout
    while True:
        s = stats(d)
        if s is not None and pred(s):
            assert s["submitted"] == s["sent"] + s["dropped"] + s["queue_depth"], s
            return s
        if time.monotonic() > deadline or not d.running():
            raise AssertionError(f"siem stats never {what}: last {s}\nstderr:\n{d.stderr()[-3000:]}")
        time.sleep(0.1)


def audit_lines(d):
    """The audit log's lines (bytes, no '\\n'), in order, with their event ids."""
    out = []
    for raw in d.log_path.read_bytes().split(b"\n")[:-1]:
        out.append((json.loads(raw)["event_id"], raw))
    return out


def siem_lines(d):
    return [l for l in d.stderr().splitlines() if "siem:" in l]


def threads(pid, name):
    found = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                if f.read().strip() == name:
                    found.append(t)
        except OSError:
            pass
    return found


def expected_message(d, line, facility="authpriv"):
    """The syslog message the daemon must send for an audit line."""
    rec = json.loads(line)
    pri = FACILITY[facility] * 8 + SEVERITY[rec["severity"]]
    ts = rec["ts"][:26] + "Z"          # RFC 3339, microseconds, UTC
    return (f'<{pri}>1 {ts} {d.node_id} sysguard {d.pid} {rec["type"]} '
            f'[sysguard@32473 event_id="{rec["event_id"]}"] ').encode() + line


def assert_arrived_intact(d, rs, eid, line, facility="authpriv"):
    """The message for eid came through rsyslog exactly as expected, and parsed as RFC 5424."""
    rec = json.loads(line)
    raw = [m for m in rs.raw_messages() if f'event_id="{eid}"'.encode() in m]
    assert raw, f"record {eid} not received"
    assert all(m == expected_message(d, line, facility) for m in raw), (raw, line)
    parsed = [m for m in rs.messages(d.pid) if m["event_id"] == eid]
    assert parsed
    m = parsed[0]
    assert m["pri"] == FACILITY[facility] * 8 + SEVERITY[rec["severity"]]
    assert m["ts"].startswith(rec["ts"][:26]) and m["ts"][26:] in ("Z", "+00:00"), m["ts"]
    assert (m["host"], m["app"], m["procid"], m["msgid"]) == (d.node_id, "sysguard", str(d.pid),
                                                             rec["type"])
    assert m["msg"] == line
    assert json.loads(m["msg"]) == rec


def check_accounts(d, rs, timeout=20.0):
    """
    Every settled record (see the module doc) was delivered or counted as
    dropped, and the counts match: delivered == sent, missing == dropped.
    Returns the snapshot.
    """
    s = stats(d)
    assert s["submitted"] == s["sent"] + s["dropped"] + s["queue_depth"], s
    lines = audit_lines(d)
    settled = [eid for eid, _ in lines[:s["submitted"] - s["queue_depth"]]]
    assert len(settled) == s["sent"] + s["dropped"], (len(settled), s)
    deadline = time.monotonic() + timeout
    while True:
        got = rs.event_ids(d.pid)
        delivered = [e for e in settled if e in got]
        if len(delivered) >= s["sent"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(delivered) == s["sent"], (len(delivered), s)
    assert len(settled) - len(delivered) == s["dropped"], (len(settled), len(delivered), s)
    return s


def api_get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 200, (path, r.status, body)
    return body


# --------------------------------------------------------------------------

def test_no_exporter_without_the_flag(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "denied")
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "path": bad}]))
    spawn_denied(bad)
    d.wait_exec(exe=bad, decision="deny")
    assert threads(d.pid, "sg-siem") == []
    time.sleep(1.2)
    assert stats(d) is None
    assert siem_lines(d) == []


def test_deny_record_arrives_intact_over_tcp(tools, workdir, receivers, daemon, request):
    """
    A hostile file name is denied; its record reaches rsyslog exactly as the
    audit log has it, framed so no byte of it can end or forge a message;
    every settled record arrives; the counters reach /stats and /metrics and
    the API's event feed still gets every record too.
    """
    rs = receivers(workdir / "rsyslog").start()
    bad = tools.make_bin(workdir, HOSTILE)
    tok = workdir / "token"
    tok.write_text(TOKEN + "\n")
    api_port = free_port()
    sock_dir = tempfile.mkdtemp(prefix="sg-siem-")    # the work dir is too deep for a socket path
    request.addfinalizer(lambda: shutil.rmtree(sock_dir, ignore_errors=True))
    d = daemon(Policy([{"name": "deny-evil", "action": "deny", "glob": f"{workdir}/evil*"}]),
               extra=siem_flags(rs.port, "tcp", "--siem-facility", "local3",
                                "--api-token-file", tok, "--api-port", api_port,
                                "--api-socket", f"{sock_dir}/api.sock"))
    assert len(threads(d.pid, "sg-siem")) == 1
    spawn_denied(bad)
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    assert bytes.fromhex(rec["process"]["exe_hex"]) == bad
    eid = rec["event_id"]
    rs.wait_event_ids(d.pid, {eid})
    line = dict(audit_lines(d))[eid]
    assert b'\\"quote\\nnew]line\\\\back' in line, line
    assert_arrived_intact(d, rs, eid, line, facility="local3")
    # The first record of the run (daemon_start) is exported too.
    first_eid, first_line = audit_lines(d)[0]
    assert json.loads(first_line)["type"] == "daemon_start"
    rs.wait_event_ids(d.pid, {first_eid})
    assert_arrived_intact(d, rs, first_eid, first_line, facility="local3")

    s = wait_stats(d, lambda s: s["sent"] >= 2 and s["connected"], what="sent")
    s = check_accounts(d, rs)
    assert s["dropped"] == 0 and s["errors"] == 0 and s["reconnects"] == 0, s
    api_stats = json.loads(api_get(api_port, "/stats"))
    assert set(api_stats["siem"]) == {"connected", "submitted", "sent", "dropped", "resent",
                                      "reconnects", "errors", "queue_depth"}
    metrics = dict(l.rsplit(" ", 1) for l in api_get(api_port, "/metrics").decode().splitlines()
                   if l and not l.startswith("#"))
    assert int(metrics["sysguard_siem_sent_total"]) >= 2
    assert metrics["sysguard_siem_connected"] == "1"
    assert int(metrics["sysguard_siem_dropped_total"]) == 0
    events = json.loads(api_get(api_port, "/events"))
    assert any(e["event_id"] == eid for e in events)
    assert siem_lines(d) == [f"sysguardd: siem: connected to tcp://127.0.0.1:{rs.port}"]


def test_tls_delivers_with_the_right_ca(tools, workdir, receivers, daemon):
    """TLS against the gtls listener, verified by the CA file for IP 127.0.0.1; flags."""
    ca = SiemCA(workdir / "ca")
    cert, key = ca.issue("siem-e2e", san="IP:127.0.0.1,DNS:siem.e2e.test")
    rs = receivers(workdir / "rsyslog", tls=(ca.cert, cert, key)).start()
    bad = tools.make_bin(workdir, "denied-tls")
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "path": bad}]),
               extra=siem_flags(rs.port, "tls", "--siem-ca-file", ca.cert))
    spawn_denied(bad)
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    rs.wait_event_ids(d.pid, {rec["event_id"]})
    assert_arrived_intact(d, rs, rec["event_id"], dict(audit_lines(d))[rec["event_id"]])
    wait_stats(d, lambda s: s["sent"] >= 1 and s["connected"], what="sent over TLS")
    s = check_accounts(d, rs)
    assert s["dropped"] == 0 and s["errors"] == 0, s
    assert siem_lines(d) == [f"sysguardd: siem: connected to tls://127.0.0.1:{rs.port}"]


def test_mutual_tls_by_name_from_the_config_file(tools, workdir, receivers, daemon):
    """rsyslog demands a client certificate; the server is verified by DNS name; --config keys."""
    ca = SiemCA(workdir / "ca")
    cert, key = ca.issue("siem-e2e", san="DNS:siem.e2e.test")
    ccert, ckey = ca.issue("sysguard-client", san="DNS:sysguard-client.e2e.test", client=True)
    rs = receivers(workdir / "rsyslog", tls=(ca.cert, cert, key), client_auth=True).start()
    bad = tools.make_bin(workdir, "denied-mtls")
    conf = workdir / "sysguard.yaml"
    conf.write_text("siem:\n"
                    "  enabled: true\n"
                    f"  address: \"127.0.0.1:{rs.port}\"\n"
                    "  transport: tls\n"
                    f"  ca_file: {json.dumps(str(ca.cert))}\n"
                    "  server_name: siem.e2e.test\n"
                    f"  cert_file: {json.dumps(str(ccert))}\n"
                    f"  key_file: {json.dumps(str(ckey))}\n"
                    "  queue: 1000\n"
                    "  facility: local0\n")
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "path": bad}]),
               extra=["--config", str(conf)])
    spawn_denied(bad)
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    rs.wait_event_ids(d.pid, {rec["event_id"]})
    assert_arrived_intact(d, rs, rec["event_id"], dict(audit_lines(d))[rec["event_id"]],
                          facility="local0")
    s = wait_stats(d, lambda s: s["sent"] >= 1, what="sent over mutual TLS")
    assert s["errors"] == 0, s


@pytest.mark.parametrize("case", ["wrong-ca", "wrong-name"])
def test_tls_refuses_an_unverified_receiver(tools, workdir, receivers, daemon, case):
    """Nothing is delivered, the failure is counted, logged once, and enforcement goes on."""
    ca = SiemCA(workdir / "ca")
    cert, key = ca.issue("siem-e2e", san="IP:127.0.0.1")
    rs = receivers(workdir / "rsyslog", tls=(ca.cert, cert, key)).start()
    if case == "wrong-ca":
        other = SiemCA(workdir / "other-ca", name="not-the-receivers-ca")
        extra = ["--siem-ca-file", other.cert]
    else:
        extra = ["--siem-ca-file", ca.cert, "--siem-server-name", "siem.elsewhere.test"]
    bad = tools.make_bin(workdir, "denied-unverified")
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "path": bad}]),
               extra=siem_flags(rs.port, "tls", *extra))
    spawn_denied(bad)
    d.wait_exec(exe=bad, decision="deny")
    s = wait_stats(d, lambda s: s["errors"] >= 3, what="errors >= 3")
    assert s["sent"] == 0 and not s["connected"], s
    assert rs.messages(d.pid) == []
    lines = siem_lines(d)
    assert len(lines) == 1, lines
    assert f"cannot connect to tls://127.0.0.1:{rs.port}: TLS: the server certificate does not verify" \
        in lines[0], lines
    spawn_denied(bad)
    assert d.running()


def test_daemon_rides_out_an_rsyslog_restart(tools, workdir, receivers, daemon):
    """
    rsyslog is killed (SIGKILL) and started again on the same port: the
    daemon keeps enforcing, queues what happens meanwhile, reconnects with
    backoff and delivers it, and says so on stderr once per burst.
    """
    rs = receivers(workdir / "rsyslog").start()
    bins = {k: tools.make_bin(workdir, f"denied-{k}") for k in ("before", "during", "after")}
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "glob": f"{workdir}/denied-*"}]),
               extra=siem_flags(rs.port, "tcp"))

    spawn_denied(bins["before"])
    before = d.wait_exec(exe=bins["before"], decision="deny")[0]["event_id"]
    rs.wait_event_ids(d.pid, {before})

    rs.kill(signal.SIGKILL)
    wait_stats(d, lambda s: not s["connected"] and s["errors"] >= 1, what="disconnected")
    for _ in range(3):
        spawn_denied(bins["during"])
    during = {r["event_id"] for r in d.wait_exec(exe=bins["during"], decision="deny", count=3)}
    time.sleep(1.5)     # a few reconnect attempts fail meanwhile
    assert d.running()
    s = wait_stats(d, lambda s: s["queue_depth"] >= 3, what="queued while rsyslog is down")
    assert not s["connected"], s

    rs.start()
    spawn_denied(bins["after"])
    after = d.wait_exec(exe=bins["after"], decision="deny")[0]["event_id"]
    rs.wait_event_ids(d.pid, during | {after}, timeout=20)
    lines = dict(audit_lines(d))
    for eid in during | {after}:
        assert_arrived_intact(d, rs, eid, lines[eid])
    s = wait_stats(d, lambda s: s["connected"] and s["reconnects"] >= 1, what="reconnected")
    assert s["dropped"] == 0, s
    assert d.running()
    logged = siem_lines(d)
    assert len(logged) == 3, logged
    assert f"connection to tcp://127.0.0.1:{rs.port} lost" in logged[1], logged
    assert f"connected to tcp://127.0.0.1:{rs.port} after" in logged[2], logged


def test_tiny_queue_without_receiver_counts_every_loss(tools, workdir, receivers, daemon):
    """
    No receiver at first and a queue of 4: records pile up and the oldest
    are dropped, counted and said; once rsyslog is up, every settled record
    was either delivered or counted as dropped.
    """
    port = free_port()
    bins = [tools.make_bin(workdir, f"denied-{i}") for i in range(12)]
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "glob": f"{workdir}/denied-*"}]),
               extra=siem_flags(port, "tcp", "--siem-queue", "4"))
    for b in bins:
        spawn_denied(b)
    for b in bins:
        d.wait_exec(exe=b, decision="deny")
    s = wait_stats(d, lambda s: s["dropped"] >= len(bins), what="dropping")
    assert s["sent"] == 0 and not s["connected"] and s["queue_depth"] <= 4, s
    assert d.running()

    rs = receivers(workdir / "rsyslog", port=port).start()
    s = wait_stats(d, lambda s: s["connected"] and s["sent"] >= 1, what="connected")
    # Delivery goes on: a deny after rsyslog came up arrives.
    spawn_denied(bins[0])
    last = d.wait_exec(exe=bins[0], decision="deny", count=2)[-1]["event_id"]
    rs.wait_event_ids(d.pid, {last})
    s = check_accounts(d, rs)
    assert s["dropped"] >= len(bins), s
    print(f"\nsiem with queue 4, no receiver: {s}")
    logged = siem_lines(d)
    assert any("cannot connect to" in l for l in logged[:1]), logged
    assert any("records dropped (queue of 4 full" in l for l in logged), logged
    assert any(f"connected to tcp://127.0.0.1:{port} after" in l for l in logged), logged


@pytest.mark.parametrize("flags,message", [
    (["--siem-enabled"], "no receiver is set"),
    (["--siem-enabled", "--siem-address", "127.0.0.1:99999"], "the port must be 1-65535"),
    (["--siem-enabled", "--siem-address", "::1:514"], "[addr]:port"),
    (["--siem-enabled", "--siem-address", "127.0.0.1:514", "--siem-transport", "udp"],
     "transport must be tcp or tls"),
    (["--siem-enabled", "--siem-address", "127.0.0.1:514", "--siem-facility", "local9"],
     "facility must be one of"),
    (["--siem-enabled", "--siem-address", "127.0.0.1:514", "--siem-queue", "0"], "queue must be"),
    (["--siem-enabled", "--siem-address", "127.0.0.1:514", "--siem-ca-file", "/nonexistent.pem"],
     "cannot read CA file /nonexistent.pem"),
    (["--siem-enabled", "--siem-address", "127.0.0.1:514", "--siem-transport", "tcp",
      "--siem-server-name", "x"], "only to transport tls"),
    (["--siem-enabled", "--siem-address", "127.0.0.1:514", "--siem-cert-file", "/etc/passwd"],
     "both cert_file and key_file"),
])
def test_bad_settings_stop_the_start(tools, workdir, daemon, flags, message):
    with pytest.raises(DaemonError) as e:
        daemon(Policy(), extra=flags)
    assert message in str(e.value), str(e.value)
    assert "exited with 2" in str(e.value)


def test_unknown_config_key_stops_the_start(tools, workdir, daemon):
    conf = workdir / "sysguard.yaml"
    conf.write_text("siem:\n  enabled: true\n  adress: \"127.0.0.1:514\"\n")
    with pytest.raises(DaemonError) as e:
        daemon(Policy(), extra=["--config", str(conf)])
    assert "siem.adress" in str(e.value), str(e.value)

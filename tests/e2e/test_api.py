# SPDX-License-Identifier: Apache-2.0
"""OPS-2: the monitoring API on a Unix socket and 127.0.0.1, behind a bearer token."""
import errno
import http.client
import json
import os
import socket
import threading
import time

import pytest

from conftest import Policy, free_port, run

TOKEN = "e2e-token-0123456789abcdef"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


@pytest.fixture
def api_daemon(tools, workdir, daemon):
    tok = workdir / "token"
    tok.write_text(TOKEN + "\n")
    port = free_port()
    bad = tools.make_bin(workdir, "api-denied")
    d = daemon(Policy([{"name": "no-api-bad", "action": "deny", "path": bad}]),
               extra=["--api-token-file", str(tok), "--api-port", str(port)])
    return d, port, bad


def get(conn, path, token=TOKEN, headers=None):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    return r.status, r.getheader("Content-Type"), r.read()


def test_every_endpoint_needs_the_token(api_daemon):
    d, port, _ = api_daemon
    sock = d.state_dir / "api.sock"
    assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
    for conn in (UnixHTTPConnection(str(sock)), http.client.HTTPConnection("127.0.0.1", port)):
        for path in ("/health", "/status", "/stats", "/metrics", "/events"):
            for token in (None, "wrong", TOKEN[:-1], TOKEN + "x"):
                status, _, body = get(conn, path, token)
                assert status == 401, (path, token, body)
        assert get(conn, "/health")[0] == 200
        assert get(conn, "/nope")[0] == 404


def test_status_stats_metrics_and_events(api_daemon):
    d, port, bad = api_daemon
    conn = http.client.HTTPConnection("127.0.0.1", port)
    status, ctype, body = get(conn, "/status")
    st = json.loads(body)
    assert status == 200 and ctype == "application/json"
    assert st["mode"] == "enforce" and st["policy_version"] == "e2e-1"
    assert "fanotify" in st["backends"] and st["uptime_s"] >= 0
    assert run([bad, d.dir / "m"]).exec_errno == errno.EPERM
    deadline = time.monotonic() + 10
    while True:
        stats = json.loads(get(conn, "/stats")[2])
        if stats["fanotify"]["denied"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert stats["fanotify"]["denied"] >= 1
    status, ctype, body = get(conn, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    metrics = dict(line.rsplit(" ", 1) for line in body.decode().splitlines()
                   if not line.startswith("#"))
    assert int(metrics['sysguard_fanotify_events_total{result="deny"}']) >= 1
    assert int(metrics['sysguard_exec_decisions_total{decision="deny",mode="enforce"}']) >= 1
    assert 'sysguard_kernel_events_total{event="exec"}' in metrics
    assert "# TYPE sysguard_exec_decisions_total counter" in body.decode()
    events = json.loads(get(conn, "/events")[2])
    assert any(e["type"] == "exec" and e["decision"] == "deny" and e["process"]["exe"] == bad
               for e in events)
    assert all(isinstance(e["event_id"], str) for e in events)


def test_live_event_stream(api_daemon):
    d, port, bad = api_daemon
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/events", headers={"Authorization": f"Bearer {TOKEN}",
                                            "Accept": "text/event-stream"})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    got = []

    def reader():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = r.fp.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                ev = json.loads(line[6:])
                got.append(ev)
                if ev.get("type") == "exec" and ev.get("decision") == "deny":
                    return

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.3)
    assert run([bad, d.dir / "m"]).exec_errno == errno.EPERM
    t.join(15)
    conn.close()
    assert any(e.get("type") == "exec" and e.get("decision") == "deny" for e in got), got


def test_sysguardctl_uses_the_api(api_daemon):
    import subprocess
    from conftest import CTL_BIN

    d, port, bad = api_daemon
    tok = d.dir.parent / "token"
    base = [str(CTL_BIN), "--state-dir", str(d.state_dir)]
    r = subprocess.run(base + ["status", "-o", "json", "--token-file", str(tok)], capture_output=True, text=True)
    assert r.returncode == 0 and "uptime_s" in json.loads(r.stdout), r      # from the API
    r = subprocess.run(base + ["status", "-o", "json"], capture_output=True, text=True)
    assert r.returncode == 0 and "uptime_s" not in json.loads(r.stdout), r  # the ready file
    r = subprocess.run(base + ["stats", "--output=json", "--token-file", str(tok)], capture_output=True, text=True)
    assert "decisions" in json.loads(r.stdout)
    r = subprocess.run(base + ["events"], capture_output=True, text=True)
    assert r.returncode == 2 and "--token-file" in r.stderr      # a usage error
    bad_tok = d.dir.parent / "wrong-token"
    bad_tok.write_text("not-the-token-at-all\n")
    r = subprocess.run(base + ["stats", "--token-file", str(bad_tok)], capture_output=True, text=True)
    assert r.returncode == 1 and "refused" in r.stderr, r

    p = subprocess.Popen(base + ["events", "--follow", "-o", "json", "--token-file", str(tok)],
                         stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        assert run([bad, d.dir / "m"]).exec_errno == errno.EPERM
        deadline = time.monotonic() + 10
        seen = None
        while time.monotonic() < deadline and seen is None:
            ev = json.loads(p.stdout.readline())
            if ev["type"] == "exec" and ev["decision"] == "deny":
                seen = ev
        assert seen and seen["process"]["exe"] == bad
    finally:
        p.kill()
        p.wait()
    r = subprocess.run(base + ["events", "-o", "json", "--token-file", str(tok)],
                       capture_output=True, text=True)
    assert any(e["type"] == "exec" for e in json.loads(r.stdout))

# SPDX-License-Identifier: Apache-2.0
"""
The metrics listener (--metrics-address): /metrics that `promtool check
metrics` accepts without a warning, behind a bearer token or TLS, refused
off loopback with neither; and a real Prometheus server scraping it with
its token file and answering a PromQL query with the daemon's deny count.
"""
import errno
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import Daemon, DaemonError, Policy, free_port, run

TOKEN = "metrics-token-0123456789abcdef"
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
needs_prom = pytest.mark.skipif(not PROMTOOL or not PROMETHEUS,
                                reason="apt-get install prometheus (scripts/apt-packages.txt)")


def get(conn, path, token=TOKEN):
    h = {"Authorization": f"Bearer {token}"} if token is not None else {}
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    return r.status, r.getheader("Content-Type"), r.read()


def samples(text):
    """{'name{labels}': value} of the sample lines."""
    return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1])
            for l in text.splitlines() if l and not l.startswith("#")}


def stats(d):
    return json.loads((d.state_dir / "stats.json").read_text())


def wait(pred, timeout=15, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def deny_one(tools, workdir, d, bad):
    assert run([bad, d.dir / "m"]).exec_errno == errno.EPERM
    wait(lambda: stats(d)["decisions"]["denied"] >= 1, what="the deny in stats.json")


@pytest.fixture
def metrics_daemon(tools, workdir, daemon):
    tok = workdir / "metrics.token"
    tok.write_text(TOKEN + "\n")
    port = free_port()
    bad = tools.make_bin(workdir, "metrics-denied")
    d = daemon(Policy([{"name": "no-metrics-bad", "action": "deny", "path": bad}]),
               extra=["--metrics-address", f"127.0.0.1:{port}", "--metrics-token-file", str(tok)])
    return d, port, bad, tok


@needs_prom
def test_metrics_pass_promtool_and_match_stats(tools, workdir, metrics_daemon):
    d, port, bad, _ = metrics_daemon
    deny_one(tools, workdir, d, bad)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for token in (None, "wrong", TOKEN[:-1], TOKEN + "x"):
        assert get(conn, "/metrics", token)[0] == 401
    # Only /metrics: the API's other endpoints are not on this listener.
    for path in ("/stats", "/status", "/events", "/health", "/"):
        assert get(conn, path)[0] == 404, path

    def scraped():
        status, ctype, body = get(conn, "/metrics")
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
        m = samples(body.decode())
        return (body, m) if m.get('sysguard_exec_decisions_total{decision="deny",mode="enforce"}') else None

    body, m = wait(scraped, what="the deny in /metrics")
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    assert r.returncode == 0 and r.stdout == b"", r.stdout.decode() + "\n" + body.decode()
    st = stats(d)
    assert m['sysguard_exec_decisions_total{decision="deny",mode="enforce"}'] == st["decisions"]["denied"]
    assert m['sysguard_fanotify_events_total{result="deny"}'] >= 1
    assert m['sysguard_build_info{version="%s"}' % d.ready["version"]] == 1
    assert m['sysguard_policy_info{version="e2e-1",mode="enforce"}'] == 1
    assert m['sysguard_backend_active{backend="fanotify"}'] == 1
    assert 'sysguard_ringbuf_dropped_total{ring="exec"}' in m
    assert m['sysguard_audit_records_total{sink="file"}'] >= 1
    assert "sysguard_uptime_seconds" in m


def make_cert(workdir):
    cert, key = workdir / "metrics.crt", workdir / "metrics.key"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=sysguard-metrics-test",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return cert, key


def test_tls_listener_serves_https_only(tools, workdir, daemon):
    cert, key = make_cert(workdir)
    port = free_port()
    d = daemon(Policy([]), extra=["--metrics-address", f"127.0.0.1:{port}",
                                  "--metrics-tls-cert", str(cert), "--metrics-tls-key", str(key)])
    ctx = ssl.create_default_context(cafile=str(cert))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)

    def scraped():
        status, _, body = get(conn, "/metrics", token=None)
        return body if status == 200 else None

    body = wait(scraped, what="/metrics over HTTPS")
    assert b"# TYPE sysguard_exec_decisions_total counter" in body
    # A client that does not trust the certificate gets no answer, nor does plain HTTP.
    with pytest.raises(ssl.SSLError):
        get(http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(),
                                        timeout=10), "/metrics", token=None)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        status, _, _ = get(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/metrics", None)
        assert status != 200
        raise ConnectionError("plain HTTP got an HTTP answer")
    d.stop()


@pytest.mark.parametrize("extra, says", [
    (["--metrics-address", "0.0.0.0:{port}"], "reachable from other hosts"),
    (["--metrics-address", "[::]:{port}"], "reachable from other hosts"),
    (["--metrics-token-file", "{tok}"], "need --metrics-address"),
    (["--metrics-address", "127.0.0.1:{port}", "--metrics-tls-cert", "{tok}"], "both"),
    (["--metrics-address", "127.0.0.1"], "no port"),
    (["--metrics-address", "127.0.0.1:{port}", "--metrics-token-file", "{short}"], "at least 16"),
])
def test_refuses_to_start_unprotected_or_misconfigured(tools, workdir, extra, says):
    tok, short = workdir / "tok", workdir / "short"
    tok.write_text(TOKEN)
    short.write_text("short\n")
    port = free_port()
    argv = [a.format(port=port, tok=tok, short=short) for a in extra]
    d = Daemon(workdir / "daemon", Policy([]), extra=argv)
    with pytest.raises(DaemonError):
        d.start()
    d.stop()
    assert d.proc.returncode == 2, d.stderr()
    assert says in d.stderr(), d.stderr()


def test_open_address_with_a_token_is_served(tools, workdir, daemon):
    tok = workdir / "tok"
    tok.write_text(TOKEN)
    port = free_port()
    daemon(Policy([]), extra=["--metrics-address", f"0.0.0.0:{port}", "--metrics-token-file", str(tok)])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    assert get(conn, "/metrics", None)[0] == 401
    wait(lambda: get(conn, "/metrics")[0] == 200, what="/metrics")


def prom_query(port, q):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    r = conn.getresponse()
    body = json.loads(r.read())
    assert r.status == 200 and body["status"] == "success", body
    return body["data"]["result"]


@needs_prom
def test_real_prometheus_scrapes_the_deny_count(tools, workdir, metrics_daemon):
    d, port, bad, tok = metrics_daemon
    prom_port = free_port()
    data = workdir / "prometheus-data"
    data.mkdir()
    cfg = workdir / "prometheus.yml"
    cfg.write_text(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sysguard
    authorization:
      credentials_file: {tok}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
""")
    r = subprocess.run([PROMTOOL, "check", "config", str(cfg)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    log = open(workdir / "prometheus.log", "wb")
    prom = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={data}",
                             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deny_one(tools, workdir, d, bad)
        denied = stats(d)["decisions"]["denied"]
        assert denied >= 1

        def scraped():
            assert prom.poll() is None, (workdir / "prometheus.log").read_text()
            try:
                res = prom_query(prom_port, 'sysguard_exec_decisions_total{decision="deny"}')
            except (OSError, http.client.HTTPException, ValueError):
                return None
            return res if res and float(res[0]["value"][1]) >= denied else None

        res = wait(scraped, timeout=60, what="Prometheus to scrape the deny")
        assert len(res) == 1, res
        assert res[0]["metric"]["mode"] == "enforce" and res[0]["metric"]["job"] == "sysguard"
        assert float(res[0]["value"][1]) == stats(d)["decisions"]["denied"] == denied
        # The target is healthy: scraped with the token, no error.
        up = prom_query(prom_port, 'up{job="sysguard"}')
        assert up and up[0]["value"][1] == "1", up
    finally:
        prom.send_signal(signal.SIGTERM)
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        log.close()


@pytest.mark.parametrize("listener", ["api", "metrics"])
def test_sigterm_still_stops_cleanly_with_http_listeners(tools, workdir, daemon, listener, request):
    """
    libmicrohttpd's threads must not take the daemon's signals: a SIGTERM one
    of them took killed the daemon outright, leaving its programs pinned.
    """
    tok = workdir / "tok"
    tok.write_text(TOKEN)
    port = free_port()
    sock_dir = tempfile.mkdtemp(prefix="sg-metrics-")    # the work dir is too deep for a socket path
    request.addfinalizer(lambda: shutil.rmtree(sock_dir, ignore_errors=True))
    extra = (["--api-token-file", str(tok), "--api-port", str(port),
              "--api-socket", f"{sock_dir}/api.sock"] if listener == "api" else
             ["--metrics-address", f"127.0.0.1:{port}", "--metrics-token-file", str(tok)])
    d = daemon(Policy([]), extra=extra)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    wait(lambda: get(conn, "/metrics")[0] == 200, what="/metrics")
    assert d.stop() == 0, d.stderr()
    assert d.log_records()[-1]["type"] == "daemon_stop"

# SPDX-License-Identifier: Apache-2.0
"""
The Helm chart's daemon, started for real: the chart rendered with the API
and the metrics listener on, its pod's volumes made in the work directory
as the kubelet would mount them (tests/deploy/chart_pod.py), sysguardd run
as root with the rendered arguments and settings file. Then the pod's own
startup, readiness and liveness probe commands pass against it, the metrics
port answers Prometheus with the token from the chart's Secret (and refuses
a request without it), and once the daemon has stopped the probes fail.
"""
import http.client
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import CTL_BIN, DAEMON_BIN, E2E_TAG, WORK_PARENT, Daemon, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
from chart_pod import kubelet_start, pod_of, render  # noqa: E402

API_TOKEN = "e2e-api-token-0123456789"
METRICS_TOKEN = "e2e-metrics-token-0123456789"


@pytest.fixture
def pod_root():
    """Short, for the API's socket path (at most 107 bytes); tagged as the suite's own."""
    root = Path(tempfile.mkdtemp(prefix=E2E_TAG + "pod-", dir=WORK_PARENT))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def chart_daemon(workdir, root, values):
    docs = render(values)
    argv, moved = kubelet_start(docs, [], root)
    d = Daemon(workdir / "unused", "", node_id="unused")
    d.argv = [str(DAEMON_BIN)] + argv
    d.state_dir = root / "run/sysguard"
    d.log_path = root / "var/log/sysguard/audit.log"
    _, _, c = pod_of(docs)
    return d, c, moved


def probe(c, name, moved, state_dir):
    cmd = [moved(a) for a in c[name]["exec"]["command"]]
    assert cmd[0] == "/usr/sbin/sysguardctl"
    # The image's sysguardctl is build/sysguardctl; the pod's state directory moved too.
    return subprocess.run([str(CTL_BIN), "--state-dir", str(state_dir)] + cmd[1:],
                          capture_output=True, text=True, timeout=30)


def scrape(port, token):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body


def test_chart_daemon_passes_its_probes_and_serves_metrics(workdir, pod_root):
    mport = free_port()
    values = {"api": {"enabled": True, "token": API_TOKEN, "port": free_port()},
              "metrics": {"enabled": True, "host": "127.0.0.1", "port": mport,
                          "token": METRICS_TOKEN},
              "serviceMonitor": {"enabled": True}}
    d, c, moved = chart_daemon(workdir, pod_root, values)
    assert "--token-file" in c["readinessProbe"]["exec"]["command"]
    d.start()
    try:
        assert (d.state_dir / "api.sock").exists()
        for name in ("startupProbe", "readinessProbe", "livenessProbe"):
            r = probe(c, name, moved, d.state_dir)
            assert r.returncode == 0, (name, r.stderr)
            assert f'"pid":{d.pid}' in r.stdout.replace(" ", ""), r.stdout
        status, body = scrape(mport, METRICS_TOKEN)
        assert status == 200 and "sysguard_" in body
        assert scrape(mport, None)[0] == 401
        assert scrape(mport, API_TOKEN)[0] == 401, "the metrics token is not the API's"
    finally:
        assert d.stop() == 0, d.stderr()
    for name in ("readinessProbe", "livenessProbe"):
        r = probe(c, name, moved, d.state_dir)
        assert r.returncode != 0, (name, r.stdout)


def test_chart_daemon_with_defaults_passes_its_probes(workdir, pod_root):
    d, c, moved = chart_daemon(workdir, pod_root, {})
    assert "--token-file" not in c["readinessProbe"]["exec"]["command"]
    d.start()
    try:
        assert d.ready["mode"] == "monitor"
        for name in ("startupProbe", "readinessProbe", "livenessProbe"):
            r = probe(c, name, moved, d.state_dir)
            assert r.returncode == 0, (name, r.stderr)
    finally:
        assert d.stop() == 0, d.stderr()
    r = probe(c, "livenessProbe", moved, d.state_dir)
    assert r.returncode == 3, r.stderr

# SPDX-License-Identifier: Apache-2.0
"""OPS-3: the read-only web dashboard, in a real headless Chromium.

The browser part is tests/e2e/dashboard/check.mjs (playwright-core driving
Debian's chromium): without a token and with a wrong one the page shows no
data and every data endpoint answers 401; with the token a denied exec shows
up live in the feed (hostile file names shown as text), the trend charts
draw it, and a screenshot is saved (its path is printed). Node packages come
from package-lock.json (npm ci); chromium, node and npm from
scripts/setup.sh, run here when one is missing.
"""
import errno
import http.client
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import REPO, Policy, run
from test_api import UnixHTTPConnection, free_port

TOKEN = "dashboard-e2e-token-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHECK = REPO / "tests" / "e2e" / "dashboard" / "check.mjs"
VENDORED = REPO / "src" / "report" / "dashboard" / "vendor" / "chart.umd.min.js"
DATA_PATHS = ("/health", "/status", "/stats", "/metrics", "/events", "/events?follow=1")
ASSETS = {
    "/dashboard/": "text/html; charset=utf-8",
    "/dashboard/app.js": "text/javascript; charset=utf-8",
    "/dashboard/app.css": "text/css; charset=utf-8",
    "/dashboard/chart.umd.min.js": "text/javascript; charset=utf-8",
    "/dashboard/favicon.svg": "image/svg+xml",
}
# Names a hostile user could give a program: quotes, markup, a newline, an
# entity, and bytes that are not UTF-8.
HOSTILE = "evil\"'<img src=x onerror=\"window.__pwned=1\">\n&amp;<script>"
NOT_UTF8 = b"bad-\xff\xfe-name"


def _locked_versions():
    lock = json.loads((REPO / "package-lock.json").read_text())
    return {k[len("node_modules/"):]: v["version"] for k, v in lock["packages"].items()
            if k.startswith("node_modules/") and "/node_modules/" not in k[len("node_modules/"):]}


def _installed(name):
    try:
        return json.loads((REPO / "node_modules" / name / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="module")
def browser_tools():
    """node and chromium present (scripts/setup.sh otherwise), node_modules as locked (npm ci otherwise)."""
    if not (shutil.which("node") and shutil.which("npm") and os.access(CHROMIUM, os.X_OK)):
        r = subprocess.run([str(REPO / "scripts" / "setup.sh")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=1200)
        assert r.returncode == 0, "scripts/setup.sh failed:\n" + r.stdout[-3000:]
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm and os.access(CHROMIUM, os.X_OK), "node, npm or chromium still missing"
    if any(_installed(n) != v for n, v in _locked_versions().items()):
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=REPO,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        assert r.returncode == 0, "npm ci failed:\n" + r.stdout[-3000:]
    return node


@pytest.fixture
def dash_daemon(tools, workdir, daemon):
    tok = workdir / "token"
    tok.write_text(TOKEN + "\n")
    port = free_port()
    denied = workdir / "denied"
    denied.mkdir()
    bins = [tools.make_bin(denied, HOSTILE), tools.make_bin(denied, NOT_UTF8)]
    d = daemon(Policy([{"name": "no-dashboard-bad", "action": "deny", "glob": f"{denied}/*"}]),
               extra=["--api-token-file", str(tok), "--api-port", str(port)])
    return d, port, bins


def fetch(conn, path, token=None, method="GET"):
    h = {"Authorization": f"Bearer {token}"} if token is not None else {}
    conn.request(method, path, headers=h)
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def test_vendored_chart_js_is_the_locked_package(browser_tools):
    """The embedded Chart.js is byte for byte the one package-lock.json pins (npm run vendor)."""
    shipped = REPO / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
    assert VENDORED.read_bytes() == shipped.read_bytes(), "run `npm ci && npm run vendor`"


def test_files_public_data_not(dash_daemon):
    d, port, _ = dash_daemon
    for conn in (http.client.HTTPConnection("127.0.0.1", port),
                 UnixHTTPConnection(str(d.state_dir / "api.sock"))):
        for path, ctype in ASSETS.items():
            status, h, body = fetch(conn, path)
            assert status == 200 and h["content-type"] == ctype, (path, status, h)
            assert h["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in h["content-security-policy"]
            assert "script-src 'self';" in h["content-security-policy"]
            assert "unsafe" not in h["content-security-policy"]
            assert h["x-frame-options"] == "DENY" and h["referrer-policy"] == "no-referrer"
        assert fetch(conn, "/dashboard/chart.umd.min.js")[2] == VENDORED.read_bytes()
        for path in ("/", "/dashboard"):
            status, h, _ = fetch(conn, path)
            assert status == 302 and h["location"] == "/dashboard/", (path, status)
        for path in DATA_PATHS:
            for token in (None, "wrong", TOKEN[:-1], TOKEN + "x", ""):
                status, h, body = fetch(conn, path, token)
                assert status == 401, (path, token, status, body)
                assert b"event_id" not in body and b"policy_version" not in body
        status, h, _ = fetch(conn, "/status", TOKEN)
        assert status == 200 and h["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        # Read-only, and nothing else is served without the token.
        assert fetch(conn, "/dashboard/", method="POST")[0] == 405
        for path in ("/dashboard/index.html", "/dashboard/../status", "/dashboard/vendor/chart.umd.min.js",
                     "/dashboard/app.js.map", "/favicon.ico"):
            assert fetch(conn, path)[0] == 401, path
            assert fetch(conn, path, TOKEN)[0] == 404, path
        conn.close()


def test_dashboard_in_chromium(browser_tools, dash_daemon, workdir, capsys):
    d, port, bins = dash_daemon
    shot = workdir / "dashboard.png"
    expect = [{"exe": b if isinstance(b, str) else b.decode("utf-8", "replace"),
               "hex": None if isinstance(b, str) else b.hex()} for b in bins]
    env = dict(os.environ, DASH_BASE=f"http://127.0.0.1:{port}", DASH_TOKEN=TOKEN,
               DASH_SHOT=str(shot), DASH_EXPECT=json.dumps(expect), CHROMIUM=CHROMIUM)
    p = subprocess.Popen([browser_tools, str(CHECK)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        msgs = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            msgs.append(json.loads(line))
            if msgs[-1]["step"] == "ready":
                # The page is live: now the denied execs, which must appear without a reload.
                for b in bins:
                    assert run([b]).exec_errno == errno.EPERM, b
                for b in bins:
                    d.wait_exec(exe=b, decision="deny")
            elif msgs[-1]["step"] == "done":
                break
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = p.stderr.read()
    assert rc == 0, f"check.mjs failed ({rc}):\n{err[-5000:]}"
    done = msgs[-1]
    assert done["step"] == "done", msgs
    assert set(done["noToken"].values()) == {401}
    assert {r["status"] for r in done["wrong"]} == {401}
    assert len(done["rows"]) == 2 and done["chart"]["trendTotal"] >= 2
    assert shot.stat().st_size > 10000
    # The work directory goes at the end of the session (unless SYSGUARD_E2E_KEEP): keep a copy.
    kept = REPO / "build" / "e2e" / "dashboard.png"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, kept)
    with capsys.disabled():
        print(f"\ndashboard screenshot: {shot} (copy: {kept})")

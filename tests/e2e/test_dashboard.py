# SPDX-License-Identifier: Apache-2.0
"""OPS-3: the read-only web dashboard, in a real headless Chromium.

The browser part is tests/e2e/dashboard/check.mjs (playwright-core driving
Debian's chromium): without a token and with a wrong one the page shows no
data and every data endpoint answers 401; with the token a denied exec shows
up live in the feed (hostile file names shown as text), the trend charts
draw it, an egress connect and a file read the policy refuse show up in
their panels, the Shield's drops per CIDR rise as packets from a denied
CIDR arrive, and a screenshot is saved (its path is printed).

For the Shield the daemon runs in a network namespace of the test's own
(tests/e2e/test_shield.py's Net: two namespaces joined by a veth pair,
private addresses only) and so does the browser, which reaches the API on
that namespace's loopback. Node packages come from package-lock.json (npm
ci); chromium, node and npm from scripts/setup.sh, run here when one is
missing.
"""
import errno
import http.client
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import REPO, Daemon, Policy, run, tcp_connect
from conftest import free_port
from test_api import UnixHTTPConnection
from test_shield import BAD_V4, BAD_V6, PIN_DIR, Net

TOKEN = "dashboard-e2e-token-0123456789abcdef"
CHROMIUM = "/usr/bin/chromium"
CHECK = REPO / "tests" / "e2e" / "dashboard" / "check.mjs"
VENDORED = REPO / "src" / "report" / "dashboard" / "vendor" / "chart.umd.min.js"
DATA_PATHS = ("/health", "/status", "/stats", "/metrics", "/events", "/events?follow=1")
ASSETS = {
    "/dashboard/": "text/html; charset=utf-8",
    "/dashboard/app.js": "text/javascript; charset=utf-8",
    "/dashboard/shield.js": "text/javascript; charset=utf-8",
    "/dashboard/denies.js": "text/javascript; charset=utf-8",
    "/dashboard/app.css": "text/css; charset=utf-8",
    "/dashboard/chart.umd.min.js": "text/javascript; charset=utf-8",
    "/dashboard/favicon.svg": "image/svg+xml",
}
# Names a hostile user could give a program: quotes, markup, a newline, an
# entity, and bytes that are not UTF-8.
HOSTILE = "evil\"'<img src=x onerror=\"window.__pwned=1\">\n&amp;<script>"
NOT_UTF8 = b"bad-\xff\xfe-name"
# What the egress rule refuses: loopback, where nothing listens.
EGRESS_IP, EGRESS_PORT = "127.0.0.77", 9
# The Shield's deny list, and the packets the test sends from inside it:
# a first batch, then more once the page shows the first.
SHIELD_V4, SHIELD_V6 = "10.203.0.4/30", "fd00:5347::4/126"
FIRST = {BAD_V4: 120, BAD_V6: 40}
MORE = {BAD_V4: 80}


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


def board_policy(denied, secret):
    """Exec, egress and files rules: one refusal of each kind for the page to show."""
    text = Policy([{"name": "no-dashboard-bad", "action": "deny", "glob": f"{denied}/*"}]).text
    return text + (
        "egress:\n"
        f"  - {{name: no-dashboard-egress, action: deny, cidr: \"{EGRESS_IP}/32\", port: {EGRESS_PORT}}}\n"
        "files:\n"
        f"  - {{name: dashboard-secret, path: {json.dumps(str(secret))}, deny: [read]}}\n")


@pytest.fixture
def board(tools, workdir):
    """A daemon with every panel's source: deny rules, and a Shield on a veth pair of our own."""
    tok = workdir / "token"
    tok.write_text(TOKEN + "\n")
    denied = workdir / "denied"
    denied.mkdir()
    bins = [tools.make_bin(denied, HOSTILE), tools.make_bin(denied, NOT_UTF8)]
    secret = workdir / "secret.txt"
    secret.write_text("not for you\n")
    deny = workdir / "shield-deny.txt"
    deny.write_text(f"{SHIELD_V4}\n{SHIELD_V6}\n")
    net = Net(f"{os.getpid() % 100000}")
    net.down()          # leftovers of an interrupted run (our names and pins only)
    d = None
    try:
        net.up()
        cfg = workdir / "sysguard.yaml"
        cfg.write_text(f"shield:\n  interfaces: {net.dev_b}\n  generic: true\n  list: {deny}\n")
        port = free_port()
        d = Daemon(workdir / "daemon", board_policy(denied, secret),
                   extra=["--api-token-file", str(tok), "--api-port", str(port), "--config", str(cfg)])
        # The daemon sees the test's interfaces only; its API listens on that namespace's loopback.
        d.argv = net.in_ns(net.b, *d.argv)
        d.start()
        yield d, net, port, bins, secret
    finally:
        if d:
            d.stop()
        net.down()
    assert not os.path.exists(PIN_DIR)


def refuse_everything(d, net, bins, secret):
    """What the page must show: two denied execs, a refused connect, a refused read, Shield drops."""
    for b in bins:
        assert run([b]).exec_errno == errno.EPERM, b
    assert tcp_connect(EGRESS_IP, EGRESS_PORT) == errno.EPERM
    try:
        secret.read_bytes()
        raise AssertionError(f"{secret} was readable")
    except PermissionError:
        pass
    assert net.send(FIRST) == {src: 0 for src in FIRST}
    for b in bins:
        d.wait_exec(exe=b, decision="deny")
    d.wait_for(lambda r: r["type"] == "network" and r["blocked"]
               and r["destination"]["ip"] == EGRESS_IP, what="refused connect")
    d.wait_for(lambda r: r["type"] == "file_access" and r["file"]["path"] == str(secret)
               and r["blocked"], what="refused read")


def test_dashboard_in_chromium(browser_tools, board, workdir, capsys):
    d, net, port, bins, secret = board
    shot = workdir / "dashboard.png"
    expect = [{"exe": b if isinstance(b, str) else b.decode("utf-8", "replace"),
               "hex": None if isinstance(b, str) else b.hex()} for b in bins]
    panels = {
        "egress": {"dest": f"{EGRESS_IP}:{EGRESS_PORT}/tcp", "rule": "no-dashboard-egress",
                   "exe": os.path.realpath(sys.executable), "pid": os.getpid()},
        "file": {"path": str(secret), "rule": "dashboard-secret", "pid": os.getpid()},
        "shield": {"first": {SHIELD_V4: FIRST[BAD_V4], SHIELD_V6: FIRST[BAD_V6]},
                   "more": {SHIELD_V4: MORE[BAD_V4]}},
    }
    env = dict(os.environ, DASH_BASE=f"http://127.0.0.1:{port}", DASH_TOKEN=TOKEN,
               DASH_SHOT=str(shot), DASH_EXPECT=json.dumps(expect), DASH_PANELS=json.dumps(panels),
               CHROMIUM=CHROMIUM)
    # The browser in the daemon's namespace: 127.0.0.1 there is the daemon's API.
    p = subprocess.Popen(net.in_ns(net.b, browser_tools, CHECK), cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        msgs = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            msgs.append(json.loads(line))
            if msgs[-1]["step"] == "ready":
                # The page is live: now the refusals, which must appear without a reload.
                refuse_everything(d, net, bins, secret)
            elif msgs[-1]["step"] == "shield":
                # The page shows the first drops: more, and the count must rise.
                assert net.send(MORE) == {src: 0 for src in MORE}
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
    sh = done["panels"]["shield"]
    want = {SHIELD_V4: FIRST[BAD_V4] + MORE[BAD_V4], SHIELD_V6: FIRST[BAD_V6]}
    assert {c: r["dropped"] for c, r in sh["rows"].items()} == want, sh
    assert sh["order"] == [SHIELD_V4, SHIELD_V6], sh       # most drops first
    assert sh["rose"][SHIELD_V4][1] == sh["rose"][SHIELD_V4][0] + MORE[BAD_V4], sh
    assert sh["total"] == sum(want.values()) and sh["cidrs"] == 2, sh
    assert shot.stat().st_size > 10000
    # The work directory goes at the end of the session (unless SYSGUARD_E2E_KEEP): keep a copy.
    kept = REPO / "build" / "e2e" / "dashboard.png"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, kept)
    with capsys.disabled():
        print(f"\ndashboard screenshot: {shot} (copy: {kept})")

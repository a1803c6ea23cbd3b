# SPDX-License-Identifier: Apache-2.0
"""
Least privilege on the bus (docs/fleet.md, "Credentials and TLS"). A real
nats-server on 127.0.0.1 (tests/e2e/nats_bus.py) runs the shipped example
deploy/nats/nats-server.conf, with a throwaway CA and server certificate
made here with openssl and the node's user block printed by
deploy/nats/node-user.sh: TLS for every client, an admin user, and node
e2e-node (group default) that may publish only sysguard.e2e-node.>, read
only policy.default and write only its own status entry.

- The daemon, over verified TLS with the node's password, publishes its
  records to the stream the admin made (it may not make one), takes a bundle
  from policy.default, and keeps its status entry.
- Attacks, each refused by the server: the node's credentials publishing
  another node's records, reading another group's policy, writing another
  node's status entry. A wrong password, a server certificate of another CA
  and a plain nats:// URL to the TLS server are refused too: the daemon keeps
  running, spools, and says why in stats.json's last_error. With mutual
  TLS, a client without a certificate is refused and one with it publishes;
  with an nkey instead of a password the node publishes and keeps its entry.
- Bad credential or TLS files stop the start with the file's name.
"""
import base64
import ctypes
import json
import os
import re
import subprocess
import time

import pytest

from conftest import REPO, DaemonError, Policy, bundle, ctl, run
from nats_bus import NatsBus, Reader

NODE = "e2e-node"
GROUP = "default"
STREAM = "SYSGUARD_EVENTS"
ADMIN = "sysguard-admin"
ADMIN_PW = "admin-e2e-secret"
NODE_PW = "node-e2e-secret"
TTL_S = 3
EXAMPLE = REPO / "deploy" / "nats" / "nats-server.conf"
NODE_USER = REPO / "deploy" / "nats" / "node-user.sh"


@pytest.fixture(scope="module")
def reader_bin(tools):
    r = subprocess.run(["make", "-s", "-C", str(REPO), "fleet-reader"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return REPO / "build" / "tests" / "fleet_reader"


def openssl(*args):
    r = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", d / f"{name}.key", "-out", d / f"{name}.pem")


def make_cert(d, name, ca, cn="127.0.0.1"):
    """A certificate for 127.0.0.1 and localhost, signed by ca."""
    ext = d / f"{name}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
            "-keyout", d / f"{name}.key", "-out", d / f"{name}.csr")
    openssl("x509", "-req", "-in", d / f"{name}.csr", "-CA", d / f"{ca}.pem", "-CAkey",
            d / f"{ca}.key", "-CAcreateserial", "-days", "2", "-extfile", ext,
            "-out", d / f"{name}.pem")


@pytest.fixture
def pki(workdir):
    """ca.pem, server.pem/key and client.pem/key signed by it; rogue.pem/key by another CA."""
    d = workdir / "pki"
    d.mkdir()
    make_ca(d, "ca")
    make_cert(d, "server", "ca")
    make_cert(d, "client", "ca", cn=NODE)
    make_ca(d, "other-ca")
    make_cert(d, "rogue", "other-ca")
    return d


def secret(workdir, name, text):
    f = workdir / name
    f.write_text(text + "\n")
    f.chmod(0o600)
    return f


def crc16(data):
    """CRC-16/XMODEM, the checksum at the end of an nkey."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def nkey_text(raw):
    return base64.b32encode(raw + crc16(raw).to_bytes(2, "little")).decode().rstrip("=")


def make_user_nkey():
    """(seed "SU...", public key "U..."): a user nkey, its ed25519 key pair from libsodium."""
    sodium = ctypes.CDLL("libsodium.so.23")
    assert sodium.sodium_init() >= 0
    seed, pk, sk = os.urandom(32), ctypes.create_string_buffer(32), ctypes.create_string_buffer(64)
    assert sodium.crypto_sign_seed_keypair(pk, sk, seed) == 0
    seed_prefix, user_prefix = 18 << 3, 20 << 3
    return (nkey_text(bytes([seed_prefix | user_prefix >> 5, (user_prefix & 31) << 3]) + seed),
            nkey_text(bytes([user_prefix]) + pk.raw))


def server_conf(pki, cert, mutual=False, nkey=None):
    """
    The shipped example, with this test's files, passwords and node; mutual:
    verify: true; nkey: the node's public key instead of its user and password.
    """
    text = EXAMPLE.read_text()
    # NatsBus gives -js and -sd: a store_dir of the file's own is a duplicate to nats-server.
    text = re.sub(r"\njetstream \{.*?\n\}\n", "\n", text, flags=re.S)
    text = text.replace("/etc/nats/tls/server.pem", str(pki / f"{cert}.pem"))
    text = text.replace("/etc/nats/tls/server.key", str(pki / f"{cert}.key"))
    if mutual:
        text = text.replace('# ca_file: "/etc/nats/tls/ca.pem"', f'ca_file: "{pki / "ca.pem"}"')
        text = text.replace("# verify: true", "verify: true")
    head, rest = text.split("    # BEGIN nodes", 1)
    tail = rest.split("    # END nodes", 1)[1]
    block = subprocess.run([str(NODE_USER), NODE, GROUP], capture_output=True, text=True,
                           check=True, env={"NODE_PASSWORD": NODE_PW, "PATH": "/usr/bin:/bin"})
    head = head.replace('"REPLACE_WITH_BCRYPT_HASH"', json.dumps(ADMIN_PW), 1)
    node = block.stdout
    if nkey:
        node = node.replace(f'user: "{NODE}"\n', f'nkey: "{nkey}"\n')
        node = re.sub(r'\n\s*password: "[^"]*"', "", node)
    return head + node + tail


def start_bus(workdir, pki, cert="server", name="bus", mutual=False, nkey=None):
    d = workdir / name
    d.mkdir()
    # The config's listen gives way to NatsBus's -a/-p.
    return NatsBus(d, 1, server_conf(pki, cert, mutual, nkey), scheme="tls").start()


@pytest.fixture
def bus(workdir, pki):
    b = start_bus(workdir, pki)
    yield b
    b.close()


def as_admin(reader_bin, bus, ca):
    return Reader(reader_bin, bus.url(), STREAM,
                  {"FLEET_USER": ADMIN, "FLEET_PASSWORD": ADMIN_PW, "FLEET_TLS_CA": str(ca)})


def as_node(reader_bin, bus, ca):
    return Reader(reader_bin, bus.url(), STREAM,
                  {"FLEET_USER": NODE, "FLEET_PASSWORD": NODE_PW, "FLEET_TLS_CA": str(ca),
                   "FLEET_INBOX": f"_INBOX.{NODE}"})


def admin_setup(bus, ca, workdir):
    """What the admin makes before the nodes start: the stream and both buckets."""
    r = ctl("fleet", "setup", "--url", bus.url(), "--tls-ca", ca, "--user", ADMIN,
            "--password-file", secret(workdir, "admin.pw", ADMIN_PW), "--status-ttl", TTL_S)
    assert "stream SYSGUARD_EVENTS: made" in r.stdout and "bucket SYSGUARD_STATUS: made" in r.stdout, r


def node_args(bus, pki, password_file, url=None):
    return ["--fleet-url", url or bus.url(), "--fleet-tls-ca", str(pki / "ca.pem"),
            "--fleet-user", NODE, "--fleet-password-file", str(password_file),
            "--fleet-status-ttl", str(TTL_S)]


def stats(d):
    try:
        return json.loads((d.state_dir / "stats.json").read_text()).get("fleet")
    except (OSError, ValueError):
        return None


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


def wait_stats(d, pred, timeout, what):
    return wait_until(lambda: (lambda s: s if s and pred(s) else None)(stats(d)), timeout,
                      f"fleet stats {what}; last {stats(d)}\nstderr:\n{d.stderr()[-2000:]}")


def admin_ctl(bus, pki, admin_pw, *args, check=True):
    return ctl("fleet", *args, "--url", bus.url(), "--tls-ca", pki / "ca.pem", "--user", ADMIN,
               "--password-file", admin_pw, check=check)


def test_node_over_tls_with_its_credentials_publishes_and_takes_its_groups_policy(
        tools, workdir, daemon, bus, pki, keys, reader_bin):
    key, pub, _ = keys
    admin = as_admin(reader_bin, bus, pki / "ca.pem")
    admin_setup(bus, pki / "ca.pem", workdir)
    admin_pw = secret(workdir, "admin.pw", ADMIN_PW)
    x = tools.make_bin(workdir, "auth-x")
    y = tools.make_bin(workdir, "auth-y")
    v1 = bundle(workdir, key, 1, Policy([], version="a-1"))
    v2 = bundle(workdir, key, 2, Policy([{"name": "no-y", "action": "deny", "path": y}],
                                        version="a-2"))
    extra = node_args(bus, pki, secret(workdir, "node.pw", NODE_PW)) + [
        "--fleet-group", GROUP, "--trusted-key", str(pub),
        "--bundle-state", str(workdir / "bundle-version")]
    d = daemon(v1.read_bytes(), strict=True, extra=extra)
    assert run([x, workdir / "m"]).returncode == 0
    d.wait_exec(exe=x)
    wait_stats(d, lambda s: s["connected"] and s["delivered"] > 0 and s["spooled"] == 0
               and s["queued"] == 0, 20, "all delivered")

    msgs = admin.messages()
    assert msgs and all(subject.startswith(f"sysguard.{NODE}.") for _, subject, _, _ in msgs)
    assert any(r["type"] == "exec" and r.get("process", {}).get("exe") == str(x)
               for _, _, _, r in msgs), [r["type"] for _, _, _, r in msgs]

    admin_ctl(bus, pki, admin_pw, "publish", "--group", GROUP, v2)
    wait_until(lambda: json.loads((d.state_dir / "ready").read_text())["bundle"]["version"] == 2,
               3.0, "bundle 2 from policy.default in force")
    assert run([y, workdir / "m"]).exec_errno != 0

    def converged():
        r = admin_ctl(bus, pki, admin_pw, "status", "--json", check=False)
        nodes = {n["node_id"]: n for n in json.loads(r.stdout or "[]")}
        return nodes.get(NODE, {}).get("converged")
    wait_until(converged, 2 * TTL_S + 2, "the node's status entry converged on 2")
    # Its samples for `fleet view` too, in the bucket the admin made.
    rc, out = admin.do("kv-get", "SYSGUARD_STATUS_HISTORY", f"node.{NODE}")
    assert rc == 0 and f'"node_id":"{NODE}"' in out, out
    assert "Permissions Violation" not in bus.log(0), bus.log(0)[-2000:]


def test_node_cannot_publish_another_nodes_records(workdir, bus, pki, reader_bin):
    admin_setup(bus, pki / "ca.pem", workdir)
    node = as_node(reader_bin, bus, pki / "ca.pem")
    rc, out = node.do("pub", f"sysguard.{NODE}.exec", "{}")
    assert rc == 0, out
    rc, out = node.do("pub", "sysguard.web-2.exec", '{"forged":true}')
    assert rc == 3 and "Permissions Violation" in out and "sysguard.web-2.exec" in out, out
    subjects = [s for _, s, _, _ in as_admin(reader_bin, bus, pki / "ca.pem").messages()]
    assert "sysguard.web-2.exec" not in subjects


def test_node_cannot_read_another_groups_policy(workdir, bus, pki, reader_bin):
    admin = as_admin(reader_bin, bus, pki / "ca.pem")
    admin_setup(bus, pki / "ca.pem", workdir)
    for key, value in ((f"policy.{GROUP}", "mine"), ("policy.edge", "edge-secret")):
        rc, out = admin.do("kv-put", "SYSGUARD_POLICY", key, value)
        assert rc == 0, out
    node = as_node(reader_bin, bus, pki / "ca.pem")
    rc, out = node.do("kv-get", "SYSGUARD_POLICY", f"policy.{GROUP}")
    assert rc == 0 and "mine" in out, out
    for mode in ("kv-get", "kv-watch"):
        rc, out = node.do(mode, "SYSGUARD_POLICY", "policy.edge")
        assert rc == 3 and "edge-secret" not in out, (mode, out)
    assert "Publish Violation" in bus.log(0) and "policy.edge" in bus.log(0)


def test_node_cannot_write_another_nodes_status(workdir, bus, pki, reader_bin):
    admin = as_admin(reader_bin, bus, pki / "ca.pem")
    admin_setup(bus, pki / "ca.pem", workdir)
    node = as_node(reader_bin, bus, pki / "ca.pem")
    rc, out = node.do("kv-put", "SYSGUARD_STATUS", f"node.{NODE}", "{}")
    assert rc == 0, out
    rc, out = node.do("kv-put", "SYSGUARD_STATUS", "node.web-2", '{"forged":true}')
    assert rc == 3, out
    rc, out = admin.do("kv-get", "SYSGUARD_STATUS", "node.web-2")
    assert rc == 3 and "forged" not in out, out


def test_mutual_tls_node_with_its_certificate_publishes(tools, workdir, daemon, pki, reader_bin):
    bus = start_bus(workdir, pki, name="mtls-bus", mutual=True)
    try:
        admin_pw = secret(workdir, "admin.pw", ADMIN_PW)
        r = admin_ctl(bus, pki, admin_pw, "status", check=False)
        assert r.returncode == 1 and "cannot reach the bus" in r.stderr, r
        r = admin_ctl(bus, pki, admin_pw, "status", "--tls-cert", pki / "client.pem",
                      "--tls-key", pki / "client.key", check=False)
        assert "cannot reach the bus" not in r.stderr, r
        r = admin_ctl(bus, pki, admin_pw, "publish", "--group", GROUP, "--tls-cert",
                      pki / "client.pem", "/nonexistent.bundle", check=False)
        assert r.returncode == 2 and "needs its key" in r.stderr, r
        # As the admin (the reader has no client certificate to make the stream
        # with): this daemon makes the stream and the status bucket itself.
        extra = ["--fleet-url", bus.url(), "--fleet-tls-ca", str(pki / "ca.pem"),
                 "--fleet-tls-cert", str(pki / "client.pem"), "--fleet-tls-key",
                 str(pki / "client.key"), "--fleet-user", ADMIN, "--fleet-password-file",
                 str(admin_pw), "--fleet-status-ttl", str(TTL_S)]
        d = daemon(Policy([]).text, extra=extra)
        x = tools.make_bin(workdir, "auth-m")
        assert run([x, workdir / "m"]).returncode == 0
        d.wait_exec(exe=x)
        wait_stats(d, lambda s: s["connected"] and s["delivered"] > 0 and s["spooled"] == 0
                   and s["queued"] == 0, 20, "all delivered over mutual TLS")
    finally:
        bus.close()


def test_node_with_an_nkey_publishes_and_keeps_its_status(tools, workdir, daemon, pki,
                                                          reader_bin):
    seed, public = make_user_nkey()
    bus = start_bus(workdir, pki, name="nkey-bus", nkey=public)
    try:
        admin_setup(bus, pki / "ca.pem", workdir)
        seed_file = secret(workdir, "node.nk", f"{seed}\n{public}")
        d = daemon(Policy([]).text, extra=[
            "--fleet-url", bus.url(), "--fleet-tls-ca", str(pki / "ca.pem"),
            "--fleet-nkey-seed", str(seed_file), "--fleet-status-ttl", str(TTL_S)])
        x = tools.make_bin(workdir, "auth-n")
        assert run([x, workdir / "m"]).returncode == 0
        d.wait_exec(exe=x)
        wait_stats(d, lambda s: s["connected"] and s["delivered"] > 0 and s["spooled"] == 0
                   and s["queued"] == 0, 20, "all delivered with the nkey")
        msgs = as_admin(reader_bin, bus, pki / "ca.pem").messages()
        assert msgs and all(subject.startswith(f"sysguard.{NODE}.") for _, subject, _, _ in msgs)
        admin = as_admin(reader_bin, bus, pki / "ca.pem")
        wait_until(lambda: admin.do("kv-get", "SYSGUARD_STATUS", f"node.{NODE}")[0] == 0, 2 * TTL_S,
                   "the node's status entry written with the nkey")
        assert "Permissions Violation" not in bus.log(0), bus.log(0)[-2000:]
    finally:
        bus.close()


def refused_daemon(daemon, reader_bin, bus, admin_ca, extra, tools, workdir):
    """A daemon the bus refuses: it runs, spools what it records, delivers nothing."""
    d = daemon(Policy([]).text, extra=extra)
    x = tools.make_bin(workdir, "auth-r")
    assert run([x, workdir / "m"]).returncode == 0
    d.wait_exec(exe=x)
    s = wait_stats(d, lambda s: s["last_error"] and s["spooled"] > 0, 15, "refused and spooling")
    assert not s["connected"] and s["delivered"] == 0, s
    assert d.running()
    msgs = as_admin(reader_bin, bus, admin_ca).messages()
    assert not any(subject.startswith(f"sysguard.{NODE}.") for _, subject, _, _ in msgs)
    return s


def test_wrong_password_is_refused_and_the_daemon_spools(tools, workdir, daemon, bus, pki,
                                                         reader_bin):
    admin_setup(bus, pki / "ca.pem", workdir)
    extra = node_args(bus, pki, secret(workdir, "wrong.pw", "not-the-password"))
    s = refused_daemon(daemon, reader_bin, bus, pki / "ca.pem", extra, tools, workdir)
    assert "authorization" in s["last_error"].lower(), s


def test_server_certificate_of_another_ca_is_refused(tools, workdir, daemon, pki, reader_bin):
    rogue = start_bus(workdir, pki, cert="rogue", name="rogue-bus")
    try:
        admin_setup(rogue, pki / "other-ca.pem", workdir)
        extra = node_args(rogue, pki, secret(workdir, "node.pw", NODE_PW))
        s = refused_daemon(daemon, reader_bin, rogue, pki / "other-ca.pem", extra, tools, workdir)
        assert "certificate" in s["last_error"] or "SSL" in s["last_error"], s
    finally:
        rogue.close()


def test_plain_nats_url_to_a_tls_server_fails(tools, workdir, daemon, bus, pki, reader_bin):
    admin_setup(bus, pki / "ca.pem", workdir)
    plain = bus.url().replace("tls://", "nats://")
    r = ctl("fleet", "status", "--url", plain, "--user", ADMIN, "--password-file",
            secret(workdir, "admin.pw", ADMIN_PW), check=False)
    assert r.returncode == 1 and "cannot reach the bus" in r.stderr and "SSL" in r.stderr, r
    extra = ["--fleet-url", plain, "--fleet-user", NODE, "--fleet-password-file",
             str(secret(workdir, "node.pw", NODE_PW))]
    s = refused_daemon(daemon, reader_bin, bus, pki / "ca.pem", extra, tools, workdir)
    assert "SSL" in s["last_error"] or "TLS" in s["last_error"], s


@pytest.mark.parametrize("setting, text, says", [
    ("--fleet-password-file", None, "fleet password file"),
    ("--fleet-creds", "not a creds file", "is not a NATS .creds file"),
    ("--fleet-tls-ca", "not a certificate", "fleet: "),
    ("--fleet-nkey-seed", "SUAJUSTASEED", "public key"),
], ids=["missing-password-file", "not-creds", "bad-ca", "seed-without-public-key"])
def test_bad_credential_or_tls_file_stops_the_start(workdir, daemon, setting, text, says):
    f = workdir / "file"
    if text is not None:
        f.write_text(text + "\n")
    extra = ["--fleet-url", "tls://127.0.0.1:1", setting, str(f)]
    if setting == "--fleet-password-file":
        extra += ["--fleet-user", NODE]
    with pytest.raises(DaemonError) as e:
        daemon(Policy([]).text, extra=extra)
    assert says in str(e.value) and (text is None or str(f) in str(e.value)), str(e.value)

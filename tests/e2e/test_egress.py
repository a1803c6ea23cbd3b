# SPDX-License-Identifier: Apache-2.0
"""
NET-1: egress policy through cgroup/connect4|6 and sendmsg4|6 at the cgroup2
root. Loopback only: the destinations are 127.0.0.0/8 and ::1 addresses on
which nothing listens, so an allowed connect is refused by the kernel
(ECONNREFUSED) and a denied one fails with EPERM before any packet.
"""
import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import tcp_connect


def policy(rules, mode="enforce", version="egress-1"):
    lines = [f'version: "{version}"', f"mode: {mode}", "default: allow", "egress:"]
    for r in rules:
        lines.append("  - {" + ", ".join(f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {v}"
                                         for k, v in r.items()) + "}")
    return "\n".join(lines) + "\n"


def sendto(addr, port, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        s.sendto(b"sysguard-e2e", (addr, port))
        return 0
    except OSError as e:
        return e.errno
    finally:
        s.close()


def net_records(d, pred=lambda r: True, count=1):
    return d.wait_for(lambda r: r["type"] == "network" and pred(r), count=count,
                      what="network record")


def test_denies_connect_and_sendto_for_v4_and_v6(workdir, daemon):
    d = daemon(policy([
        {"name": "no-tcp-77", "action": "deny", "cidr": "127.0.0.77/32", "port": 9},
        {"name": "no-udp-78", "action": "deny", "cidr": "127.0.0.78/32", "protocol": "udp"},
        {"name": "no-v6", "action": "deny", "cidr": "::1/128", "port": "9990-9999"},
    ]))
    assert "egress" in d.ready["backends"]
    assert tcp_connect("127.0.0.77", 9) == errno.EPERM
    assert tcp_connect("127.0.0.77", 10) == errno.ECONNREFUSED       # other port: allowed
    assert sendto("127.0.0.78", 53) == errno.EPERM                  # unconnected UDP
    assert tcp_connect("127.0.0.78", 53) == errno.ECONNREFUSED       # TCP: rule is udp only
    assert tcp_connect("::1", 9995, socket.AF_INET6) == errno.EPERM
    assert sendto("::1", 9990, socket.AF_INET6) == errno.EPERM
    assert tcp_connect("::1", 9989, socket.AF_INET6) == errno.ECONNREFUSED
    recs = net_records(d, lambda r: r["blocked"], count=4)
    seen = {(r["rule"]["name"], r["action"], r["destination"]["ip"], r["destination"]["port"],
             r["destination"]["protocol"]) for r in recs}
    assert seen == {("no-tcp-77", "connect", "127.0.0.77", 9, "tcp"),
                    ("no-udp-78", "sendmsg", "127.0.0.78", 53, "udp"),
                    ("no-v6", "connect", "::1", 9995, "tcp"),
                    ("no-v6", "sendmsg", "::1", 9990, "udp")}, recs
    for r in recs:
        assert r["severity"] == "critical" and r["decision"] == "deny"
        assert r["process"]["pid"] == os.getpid()
        assert r["process"]["exe"] == os.path.realpath(sys.executable)
        assert r["policy_version"] == "egress-1"
    # Only matches are recorded: nothing for the allowed calls.
    time.sleep(0.3)
    assert len([r for r in d.log_records() if r["type"] == "network"]) == 4


def test_longest_prefix_decides_and_audit_never_blocks(workdir, daemon):
    d = daemon(policy([
        {"name": "audit-loopback", "action": "audit", "cidr": "127.0.0.0/8"},
        {"name": "deny-80-83", "action": "deny", "cidr": "127.0.0.80/30", "port": 9},
    ]))
    assert tcp_connect("127.0.0.81", 9) == errno.EPERM
    assert tcp_connect("127.0.0.81", 10) == errno.ECONNREFUSED   # inside /30, other port: /8 audits
    assert tcp_connect("127.0.0.90", 9) == errno.ECONNREFUSED    # outside /30
    recs = net_records(d, count=3)
    by = {(r["destination"]["ip"], r["destination"]["port"]): r for r in recs}
    assert by[("127.0.0.81", 9)]["rule"]["name"] == "deny-80-83"
    assert by[("127.0.0.81", 10)]["rule"]["name"] == "audit-loopback"
    assert by[("127.0.0.81", 10)]["severity"] == "info"
    assert by[("127.0.0.90", 9)]["decision"] == "audit"
    assert not by[("127.0.0.90", 9)]["blocked"]


def test_rule_scoped_to_one_executable(workdir, daemon):
    py = shutil.which("python3", path="/usr/bin")
    copy = workdir / "py-copy"
    shutil.copy2(os.path.realpath(py), copy)
    d = daemon(policy([{"name": "only-the-copy", "action": "deny", "cidr": "127.0.0.79/32",
                        "exe": str(copy)}]))
    script = ("import socket,sys\ns=socket.socket()\n"
              "try:\n s.connect(('127.0.0.79', 9))\nexcept OSError as e:\n sys.exit(e.errno)\n")
    assert subprocess.run([str(copy), "-c", script]).returncode == errno.EPERM
    assert subprocess.run([py, "-c", script]).returncode == errno.ECONNREFUSED
    assert tcp_connect("127.0.0.79", 9) == errno.ECONNREFUSED
    rec = net_records(d)[0]
    assert rec["process"]["exe"] == str(copy) and rec["blocked"]


def test_monitor_mode_reports_without_blocking(workdir, daemon):
    d = daemon(policy([{"name": "no-77", "action": "deny", "cidr": "127.0.0.77/32"}],
                      mode="monitor"))
    assert tcp_connect("127.0.0.77", 9) == errno.ECONNREFUSED
    rec = net_records(d)[0]
    assert (rec["decision"], rec["blocked"], rec["severity"], rec["mode"]) == \
        ("deny", False, "warning", "monitor")


def test_reload_swaps_the_rules(workdir, daemon):
    d = daemon(policy([{"name": "old", "action": "deny", "cidr": "127.0.0.71/32"}],
                      version="egress-old"))
    assert tcp_connect("127.0.0.71", 9) == errno.EPERM
    d.reload(policy([{"name": "new", "action": "deny", "cidr": "127.0.0.72/32"}],
                    version="egress-new"))
    d.wait_for(lambda r: r["type"] == "policy_reload", what="policy_reload")
    assert tcp_connect("127.0.0.71", 9) == errno.ECONNREFUSED
    assert tcp_connect("127.0.0.72", 9) == errno.EPERM
    rec = net_records(d, lambda r: r["rule"]["name"] == "new")[0]
    assert rec["policy_version"] == "egress-new"
    # LOG-3: each change of the kernel tables is on the record.
    maps = [r for r in d.log_records()
            if r["type"] == "bpf_map_update" and r["map"].startswith("egress")]
    assert len(maps) >= 2 and maps[-1]["entries"] == 1 and maps[-1]["result"] == "ok", maps


def test_stopped_daemon_leaves_no_egress_rule(workdir, daemon):
    d = daemon(policy([{"name": "no-77", "action": "deny", "cidr": "127.0.0.77/32"}]))
    assert tcp_connect("127.0.0.77", 9) == errno.EPERM
    d.stop()
    assert tcp_connect("127.0.0.77", 9) == errno.ECONNREFUSED


@pytest.mark.parametrize("bad, says", [
    ({"name": "x", "action": "deny", "cidr": "127.0.0.300/32"}, "cidr"),
    ({"name": "x", "action": "deny", "cidr": "127.0.0.1/33"}, "cidr"),
    ({"name": "x", "action": "deny", "cidr": "127.0.0.1/32", "port": "70000"}, "port"),
    ({"name": "x", "action": "deny", "cidr": "127.0.0.1/32", "port": "9-8"}, "port"),
    ({"name": "x", "action": "block", "cidr": "127.0.0.1/32"}, "action"),
    ({"name": "x", "cidr": "127.0.0.1/32"}, "action"),
    ({"name": "x", "action": "deny"}, "cidr"),
    ({"name": "x", "action": "deny", "cidr": "127.0.0.1/32", "protocol": "icmp"}, "protocol"),
])
def test_malformed_egress_rule_is_refused_with_its_line(workdir, daemon, bad, says):
    d = daemon(policy([bad]))
    assert d.ready["policy_version"] == "failsafe-open"
    pe = [r for r in d.log_records() if r["type"] == "policy_error"][0]
    assert pe["line"] == 5 and says in pe["error"], pe


# Allow rules. A deny of 0.0.0.0/0 or ::/0 at the cgroup2 root would cut off
# every process on the machine, so these policies are scoped with `exe:` to a
# copy of python that only these tests run.
CONNECT_ALL = """
import json, socket, sys
out = []
for a in sys.argv[1:]:
    host, port = a.rsplit(",", 1)
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(2)
    try:
        s.connect((host, int(port)))
        out.append(0)
    except OSError as e:
        out.append(e.errno)
    finally:
        s.close()
print(json.dumps(out))
"""


def scoped_python(workdir):
    copy = workdir / "py-scoped"
    shutil.copy2(os.path.realpath(shutil.which("python3", path="/usr/bin")), copy)
    return copy


def connect_as(exe, *dests):
    """errno of a TCP connect to each (host, port), from exe; 0 when it connected."""
    r = subprocess.run([str(exe), "-c", CONNECT_ALL] + [f"{h},{p}" for h, p in dests],
                       stdout=subprocess.PIPE, text=True, timeout=30, check=True)
    return json.loads(r.stdout)


def test_allow_list_over_deny_all_v4(workdir, daemon):
    exe = scoped_python(workdir)
    d = daemon(policy([
        {"name": "deny-all-v4", "action": "deny", "cidr": "0.0.0.0/0", "exe": str(exe)},
        {"name": "only-8080", "action": "allow", "cidr": "127.0.0.1/32", "port": 8080,
         "protocol": "tcp", "exe": str(exe)},
    ]))
    allowed, other_port, other_host = connect_as(exe, ("127.0.0.1", 8080), ("127.0.0.1", 8081),
                                                 ("127.0.0.9", 8080))
    assert allowed != errno.EPERM                 # refused or connected: the kernel's answer
    assert (other_port, other_host) == (errno.EPERM, errno.EPERM)
    assert tcp_connect("127.0.0.9", 8080) == errno.ECONNREFUSED   # other programs: no rule
    rec = net_records(d, lambda r: r["decision"] == "allow")[0]
    assert (rec["rule"]["name"], rec["blocked"], rec["severity"]) == ("only-8080", False, "info")
    assert (rec["destination"]["ip"], rec["destination"]["port"]) == ("127.0.0.1", 8080)
    assert rec["process"]["exe"] == str(exe)
    denied = net_records(d, lambda r: r["blocked"], count=2)
    assert {r["rule"]["name"] for r in denied} == {"deny-all-v4"}


def test_allow_list_over_deny_all_v6(workdir, daemon):
    exe = scoped_python(workdir)
    d = daemon(policy([
        {"name": "deny-all-v6", "action": "deny", "cidr": "::/0", "exe": str(exe)},
        {"name": "only-8080-v6", "action": "allow", "cidr": "::1/128", "port": 8080,
         "exe": str(exe)},
    ]))
    allowed, other_port = connect_as(exe, ("::1", 8080), ("::1", 8081))
    assert allowed != errno.EPERM and other_port == errno.EPERM
    rec = net_records(d, lambda r: r["decision"] == "allow")[0]
    assert (rec["rule"]["name"], rec["destination"]["ip"], rec["blocked"]) == \
        ("only-8080-v6", "::1", False)
    assert net_records(d, lambda r: r["blocked"])[0]["rule"]["name"] == "deny-all-v6"


def test_longer_allow_prefix_wins_over_shorter_deny(workdir, daemon):
    exe = scoped_python(workdir)
    daemon(policy([
        {"name": "deny-loopback", "action": "deny", "cidr": "127.0.0.0/8", "exe": str(exe)},
        {"name": "allow-64-127", "action": "allow", "cidr": "127.0.0.64/26", "exe": str(exe)},
    ]))
    assert connect_as(exe, ("127.0.0.70", 9), ("127.0.0.5", 9)) == [errno.ECONNREFUSED,
                                                                     errno.EPERM]


def test_longer_deny_prefix_wins_over_shorter_allow(workdir, daemon):
    exe = scoped_python(workdir)
    # The deny is written first and the allow after it: file order does not
    # matter across prefixes, the longest one decides.
    d = daemon(policy([
        {"name": "deny-70", "action": "deny", "cidr": "127.0.0.70/32", "exe": str(exe)},
        {"name": "allow-64-127", "action": "allow", "cidr": "127.0.0.64/26", "exe": str(exe)},
        {"name": "deny-all-v4", "action": "deny", "cidr": "0.0.0.0/0", "exe": str(exe)},
    ]))
    assert connect_as(exe, ("127.0.0.70", 9), ("127.0.0.71", 9)) == [errno.EPERM,
                                                                     errno.ECONNREFUSED]
    assert net_records(d, lambda r: r["blocked"])[0]["rule"]["name"] == "deny-70"

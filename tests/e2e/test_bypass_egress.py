# SPDX-License-Identifier: Apache-2.0
"""
NET-1 bypass attempts: an AF_INET6 socket aimed at an IPv4-mapped address
(::ffff:a.b.c.d) is handed to IPv4 by the kernel after only the IPv6 hook
ran, so the IPv4 rules must decide it. Loopback only, nothing listens: an
allowed call ends in ECONNREFUSED (or is sent), a denied one in EPERM.
"""
import errno
import socket
import subprocess
import sys

from conftest import tcp_connect
from test_egress import connect_as, net_records, policy, scoped_python


def udp_sendto(addr, port, use_sendmsg=False):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        if use_sendmsg:
            s.sendmsg([b"sysguard-e2e"], [], 0, (addr, port))
        else:
            s.sendto(b"sysguard-e2e", (addr, port))
        return 0
    except OSError as e:
        return e.errno
    finally:
        s.close()


DENY_2 = {"name": "no-127-0-0-2", "action": "deny", "cidr": "127.0.0.2/32", "port": 9}


def assert_denied_as_ipv4(d, op, proto, ip="127.0.0.2", port=9, rule="no-127-0-0-2"):
    rec = net_records(d, lambda r: r["blocked"])[0]
    assert (rec["rule"]["name"], rec["action"], rec["destination"]["protocol"]) == \
        (rule, op, proto), rec
    assert rec["destination"]["ip"] == ip, rec
    assert rec["destination"]["ipv6"] == "::ffff:" + ip, rec
    assert (rec["destination"]["port"], rec["decision"]) == (port, "deny"), rec


def test_v4_mapped_tcp_connect_is_denied_by_ipv4_rule(workdir, daemon):
    d = daemon(policy([DENY_2]))
    assert tcp_connect("::ffff:127.0.0.2", 9, socket.AF_INET6) == errno.EPERM
    assert_denied_as_ipv4(d, "connect", "tcp")


def test_v4_mapped_tcp_connect_to_other_port_is_let_through(workdir, daemon):
    daemon(policy([DENY_2]))
    assert tcp_connect("::ffff:127.0.0.2", 10, socket.AF_INET6) == errno.ECONNREFUSED


def test_v4_mapped_udp_sendto_is_denied_by_ipv4_rule(workdir, daemon):
    d = daemon(policy([DENY_2]))
    assert udp_sendto("::ffff:127.0.0.2", 9) == errno.EPERM
    assert_denied_as_ipv4(d, "sendmsg", "udp")


def test_v4_mapped_udp_sendmsg_is_denied_by_ipv4_rule(workdir, daemon):
    d = daemon(policy([DENY_2]))
    assert udp_sendto("::ffff:127.0.0.2", 9, use_sendmsg=True) == errno.EPERM
    assert_denied_as_ipv4(d, "sendmsg", "udp")


def test_v4_mapped_udp_connect_is_denied_by_ipv4_rule(workdir, daemon):
    d = daemon(policy([DENY_2]))
    assert tcp_connect("::ffff:127.0.0.2", 9, socket.AF_INET6, socket.SOCK_DGRAM) == errno.EPERM
    assert_denied_as_ipv4(d, "connect", "udp")


def test_v4_mapped_connect_by_unprivileged_user_is_denied(workdir, daemon):
    d = daemon(policy([DENY_2]))
    script = ("import socket,sys\ns=socket.socket(socket.AF_INET6)\n"
              "try:\n s.connect(('::ffff:127.0.0.2', 9))\nexcept OSError as e:\n sys.exit(e.errno)\n")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        sys.executable, "-c", script], timeout=20)
    assert r.returncode == errno.EPERM
    rec = net_records(d, lambda r: r["blocked"])[0]
    assert rec["process"]["uid"] == 65534 and rec["destination"]["ip"] == "127.0.0.2", rec


def test_v4_mapped_rule_applies_to_plain_ipv4(workdir, daemon):
    # A rule written as ::ffff:a.b.c.d is an IPv4 rule: both spellings are denied.
    d = daemon(policy([{"name": "mapped-rule", "action": "deny", "cidr": "::ffff:127.0.0.3/128"}]))
    assert tcp_connect("127.0.0.3", 9) == errno.EPERM
    assert tcp_connect("::ffff:127.0.0.3", 9, socket.AF_INET6) == errno.EPERM
    recs = net_records(d, lambda r: r["blocked"], count=2)
    assert {r["destination"]["ip"] for r in recs} == {"127.0.0.3"}, recs


def test_v4_mapped_destination_follows_ipv4_allow_list(workdir, daemon):
    # Only the IPv4 rules decide ::ffff:a.b.c.d: the v4 allow lets it through
    # although ::/0 is denied, and the v4 deny-all refuses the rest.
    exe = scoped_python(workdir)
    d = daemon(policy([
        {"name": "deny-all-v4", "action": "deny", "cidr": "0.0.0.0/0", "exe": str(exe)},
        {"name": "deny-all-v6", "action": "deny", "cidr": "::/0", "exe": str(exe)},
        {"name": "only-8080", "action": "allow", "cidr": "127.0.0.1/32", "port": 8080,
         "exe": str(exe)},
    ]))
    allowed, other_port = connect_as(exe, ("::ffff:127.0.0.1", 8080), ("::ffff:127.0.0.1", 8081))
    assert allowed != errno.EPERM and other_port == errno.EPERM
    rec = net_records(d, lambda r: r["blocked"])[0]
    assert (rec["rule"]["name"], rec["destination"]["ipv6"]) == ("deny-all-v4", "::ffff:127.0.0.1")
    rec = net_records(d, lambda r: r["decision"] == "allow")[0]
    assert (rec["rule"]["name"], rec["destination"]["ip"]) == ("only-8080", "127.0.0.1")

# SPDX-License-Identifier: Apache-2.0
"""
UDP traffic for the Shield tests, run inside a network namespace (nsenter).

  recv PORT STOPFILE          count datagrams per source address (IPv4 and
                              IPv6) until STOPFILE exists; print JSON
  send SRC DST PORT COUNT     send COUNT datagrams from SRC, paced so that
                              no queue on the path overflows; print JSON
"""
import json
import os
import select
import socket
import sys
import time


def recv(port, stopfile):
    socks = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind((addr, port))
        s.setblocking(False)
        socks.append(s)
    counts = {}
    print("ready", flush=True)
    drain_until = None
    while True:
        r, _, _ = select.select(socks, [], [], 0.05)
        for s in r:
            while True:
                try:
                    _, src = s.recvfrom(2048)
                except BlockingIOError:
                    break
                counts[src[0]] = counts.get(src[0], 0) + 1
        if drain_until is None and os.path.exists(stopfile):
            drain_until = time.monotonic() + 0.5
        if drain_until is not None and time.monotonic() > drain_until:
            break
    print(json.dumps(counts), flush=True)


def send(src, dst, port, count):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    sent = errors = 0
    for i in range(count):
        try:
            s.sendto(b"sg-shield-%d" % i, (dst, port))
            sent += 1
        except OSError:
            errors += 1
        if i % 32 == 31:
            time.sleep(0.001)
    print(json.dumps({"sent": sent, "errors": errors}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(int(sys.argv[2]), sys.argv[3])
    else:
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))

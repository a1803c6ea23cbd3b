# SPDX-License-Identifier: Apache-2.0
"""
Webhook receivers for the alert tests, on 127.0.0.1, started by the test.

Receiver(https=False)   an HTTP server that records every POST (path,
                        headers, JSON body) and answers 200; `hang(seconds)`
                        makes the requests that arrive next wait that long
                        before answering, `delay` holds every answer that
                        many seconds, `status` changes the answer.
Receiver(https=True, tls=SelfSigned(dir))
                        the same over TLS with a certificate made by openssl
                        for IP 127.0.0.1; pass tls.cert as the CA bundle.
DeadEndpoint()          a bound port nobody listens on: connections are refused.
"""
import http.server
import json
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path


class SelfSigned:
    """A throwaway self-signed certificate for 127.0.0.1 (subjectAltName IP)."""

    def __init__(self, directory):
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.cert = d / "cert.pem"
        self.key = d / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", str(self.key), "-out", str(self.cert),
                        "-subj", "/CN=sysguard-e2e-receiver",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        rcv = self.server.receiver
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        arrived = time.monotonic()
        with rcv.cond:
            rcv.arrivals += 1
            hang_until = max(rcv.hang_until, arrived + rcv.delay)
            rcv.cond.notify_all()
        # A hanging endpoint: accept the request, say nothing until the hang ends.
        while time.monotonic() < hang_until and not rcv.closing:
            time.sleep(0.05)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with rcv.cond:
            rcv.requests.append({"path": self.path, "headers": dict(self.headers), "raw": raw,
                                 "body": body, "arrived": arrived, "answered": time.monotonic()})
            status = rcv.status
            rcv.cond.notify_all()
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that refuses our certificate is what some tests want: no traceback."""


class Receiver:
    def __init__(self, https=False, tls=None):
        self.cond = threading.Condition()
        self.requests = []
        self.arrivals = 0
        self.status = 200
        self.hang_until = 0.0
        self.delay = 0.0
        self.closing = False
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.receiver = self
        if https:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(tls.cert), str(tls.key))
            # Handshake in the handler thread: a client that fails it must not stall accept().
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.scheme = "https" if https else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def hang(self, seconds):
        """Requests arriving from now on get no answer for `seconds`."""
        with self.cond:
            self.hang_until = time.monotonic() + seconds

    def bodies(self):
        with self.cond:
            return [r["body"] for r in self.requests]

    def count(self):
        with self.cond:
            return len(self.requests)

    def wait_arrivals(self, n, timeout=15.0):
        """Wait until n requests have arrived (answered or not)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.arrivals < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: {self.arrivals} of {n} requests arrived")
                self.cond.wait(left)

    def wait_requests(self, n, timeout=15.0):
        """Wait until n requests have been answered; returns them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: {len(self.requests)} of {n} requests answered")
                self.cond.wait(left)
            return list(self.requests)

    def close(self):
        self.closing = True
        self.server.shutdown()
        self.server.server_close()


class DeadEndpoint:
    """A loopback port that is bound but not listening: connect() is refused."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.sock.close()

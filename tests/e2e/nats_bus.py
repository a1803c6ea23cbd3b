# SPDX-License-Identifier: Apache-2.0
"""
Real NATS servers with JetStream for test_fleet_events.py, on 127.0.0.1 only.

NatsBus(dir, size, conf=None, scheme="nats")
                     `size` nats-server processes (-js, file store under
                     dir), clustered (--cluster_name, --routes) when size > 1;
                     conf: text of a config file they all read (-c), e.g.
                     a tls block and users; scheme: of the URLs url() gives.
                     start() / stop(i) (SIGTERM) / kill(i) (SIGKILL) /
                     restart(i) on the same ports and store; url() lists the
                     client ports the way --fleet-url takes them;
                     connected_to() says which server has the daemon's
                     connection (its monitoring port's /connz).
Reader(bin, url, stream, env=None)
                     the stream read back with tests/e2e/helpers/fleet_reader
                     (there is no NATS client for Python here): messages()
                     -> [(seq, subject, msg_id, record dict)], in stream order;
                     env: who connects (FLEET_USER, FLEET_PASSWORD,
                     FLEET_TLS_CA, FLEET_INBOX); do(mode, *args) runs one of
                     the reader's other modes (pub, kv-get, kv-put, ...).
"""
import json
import os
import signal
import subprocess
import time
import urllib.request

from conftest import free_port

NATS_SERVER = "/usr/sbin/nats-server"


class NatsBus:
    def __init__(self, directory, size=3, conf=None, scheme="nats"):
        self.dir = directory
        self.scheme = scheme
        self.conf = None
        if conf:
            self.conf = directory / "server.conf"
            self.conf.write_text(conf)
        self.ports = [free_port() for _ in range(size)]
        self.cluster_ports = [free_port() for _ in range(size)]
        self.http_ports = [free_port() for _ in range(size)]
        self.procs = [None] * size

    def url(self, only=None):
        idx = range(len(self.ports)) if only is None else only
        return ",".join(f"{self.scheme}://127.0.0.1:{self.ports[i]}" for i in idx)

    def _argv(self, i):
        argv = [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.ports[i]),
                "-m", str(self.http_ports[i]), "-n", f"e2e-{i}",
                "-sd", str(self.dir / f"store{i}")]
        if self.conf:
            argv += ["-c", str(self.conf)]
        if len(self.ports) > 1:
            routes = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(self.cluster_ports)
                              if j != i)
            argv += ["--cluster_name", "e2e", "--cluster", f"nats://127.0.0.1:{self.cluster_ports[i]}",
                     "--routes", routes]
        return argv

    def _spawn(self, i):
        log = open(self.dir / f"server{i}.log", "ab")
        self.procs[i] = subprocess.Popen(self._argv(i), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        log.close()

    # After the whole cluster was down, a replicated stream needs a leader election and a
    # catch-up before /healthz says so; on two busy cores that took over 20 s once.
    def _wait_up(self, i, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[i].poll() is not None:
                raise AssertionError(f"nats-server {i} exited: {self.log(i)[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http_ports[i]}/healthz",
                                            timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"nats-server {i} not healthy: {self.log(i)[-2000:]}")

    def start(self, which=None):
        idx = list(range(len(self.ports))) if which is None else list(which)
        for i in idx:
            self._spawn(i)
        for i in idx:
            self._wait_up(i)
        return self

    def restart(self, i):
        self.start([i])

    def _signal(self, i, sig):
        p = self.procs[i]
        if p is None or p.poll() is not None:
            return
        p.send_signal(sig)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def stop(self, i):
        self._signal(i, signal.SIGTERM)

    def kill(self, i):
        self._signal(i, signal.SIGKILL)

    def close(self):
        for i in range(len(self.procs)):
            self.kill(i)

    def log(self, i):
        try:
            return (self.dir / f"server{i}.log").read_text(errors="replace")
        except OSError:
            return ""

    def connected_to(self, name="sysguardd"):
        """Index of the server holding a client connection named `name`, or None."""
        for i, port in enumerate(self.http_ports):
            if self.procs[i] is None or self.procs[i].poll() is not None:
                continue
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/connz", timeout=2) as r:
                    conns = json.load(r).get("connections") or []
            except OSError:
                continue
            if any(c.get("name") == name for c in conns):
                return i
        return None


class Reader:
    def __init__(self, binary, url, stream, env=None):
        self.bin = str(binary)
        self.url = url
        self.stream = stream
        self.env = {**os.environ, **(env or {})}

    def do(self, *args):
        """One of the reader's modes; (exit status, what it printed)."""
        r = subprocess.run([self.bin, self.url, "-", *map(str, args)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=60, env=self.env)
        return r.returncode, r.stdout

    def make_stream(self, replicas, timeout=30):
        """Make the stream (retried while the cluster elects its JetStream leader)."""
        deadline = time.monotonic() + timeout
        while True:
            r = subprocess.run([self.bin, self.url, self.stream, "make", str(replicas)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60,
                               env=self.env)
            if r.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"cannot make the stream: {r.stderr}")
            time.sleep(0.5)

    def messages(self):
        r = subprocess.run([self.bin, self.url, self.stream], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120, env=self.env)
        assert r.returncode == 0, r.stderr.decode(errors="replace")
        out = []
        for line in r.stdout.split(b"\n"):
            if not line:
                continue
            seq, subject, msg_id, data = line.split(b"\t", 3)
            out.append((int(seq), subject.decode(), msg_id.decode(), json.loads(data)))
        return out

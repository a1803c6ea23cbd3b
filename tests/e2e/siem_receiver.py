# SPDX-License-Identifier: Apache-2.0
"""
A real rsyslog as the SIEM receiver for test_siem.py, on 127.0.0.1 only.

SiemCA(dir)              a throwaway CA made with openssl; issue(name, ...)
                        signs a server or client certificate with
                        subjectAltName entries.
Rsyslog(dir, port=..., tls=None | (ca, cert, key), client_auth=False)
                        rsyslogd in the foreground (`rsyslogd -n -f CONF -i
                        PIDFILE`) with its own config and work directory:
                        imtcp (plain, or TLS through the gtls driver) on the
                        port, every message written twice, as rsyslog parsed
                        it (RFC 5424 fields) and as it came (rawmsg).
                        start() / kill() / restart on the same port;
                        messages() parses what arrived.
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from conftest import free_port

RSYSLOGD = "/usr/sbin/rsyslogd"

# <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, as the "parsed" template writes it.
PARSED_RE = re.compile(rb'^<(\d+)>1 (\S+) (\S+) (\S+) (\S+) (\S+) '
                       rb'(-|\[sysguard@32473 event_id="([0-9a-f]{16})"\]) (.*)$')


def listening(port):
    """True when something listens on 127.0.0.1:port (from /proc/net/tcp, without connecting)."""
    want = f"0100007F:{port:04X}"
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1] == want and parts[3] == "0A":
                    return True
    except OSError:
        pass
    return False


class SiemCA:
    """A CA for one test; certificates it issues are valid for a day."""

    def __init__(self, directory, name="sysguard-e2e-ca"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        self._run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                  "-keyout", self.key, "-out", self.cert, "-subj", f"/CN={name}",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    @staticmethod
    def _run(*args):
        subprocess.run(["openssl"] + [str(a) for a in args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def issue(self, name, san="IP:127.0.0.1", client=False):
        """(cert, key) paths for CN=name with the given subjectAltName."""
        key = self.dir / f"{name}.key"
        csr = self.dir / f"{name}.csr"
        cert = self.dir / f"{name}.pem"
        ext = self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\n"
                       f"extendedKeyUsage={'clientAuth' if client else 'serverAuth'}\n")
        self._run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                  "-subj", f"/CN={name}")
        self._run("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                  "-CAcreateserial", "-days", "1", "-out", cert, "-extfile", ext)
        return cert, key


class Rsyslog:
    def __init__(self, directory, port=None, tls=None, client_auth=False):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "work").mkdir(exist_ok=True)
        self.port = port or free_port()
        self.tls = tls
        self.client_auth = client_auth
        self.conf = self.dir / "rsyslog.conf"
        self.pidfile = self.dir / "rsyslogd.pid"
        self.parsed = self.dir / "parsed.log"
        self.raw = self.dir / "raw.log"
        self.stderr_path = self.dir / "rsyslogd.stderr"
        self.proc = None
        self.conf.write_text(self._config())

    def _config(self):
        g = [f'workDirectory="{self.dir / "work"}"', 'maxMessageSize="256k"']
        mod = 'module(load="imtcp"'
        if self.tls:
            ca, cert, key = self.tls
            g += ['defaultNetstreamDriver="gtls"', f'defaultNetstreamDriverCAFile="{ca}"',
                  f'defaultNetstreamDriverCertFile="{cert}"',
                  f'defaultNetstreamDriverKeyFile="{key}"']
            auth = "x509/certvalid" if self.client_auth else "anon"
            mod += f' streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="{auth}"'
        mod += ")"
        return "\n".join([
            "global(" + " ".join(g) + ")",
            mod,
            'template(name="parsed" type="string" string="<%PRI%>1 %TIMESTAMP:::date-rfc3339% '
            '%HOSTNAME% %APP-NAME% %PROCID% %MSGID% %STRUCTURED-DATA% %msg%\\n")',
            'template(name="raw" type="string" string="%rawmsg%\\n")',
            f'input(type="imtcp" address="127.0.0.1" port="{self.port}" ruleset="siem")',
            'ruleset(name="siem") {',
            f'  action(type="omfile" file="{self.parsed}" template="parsed")',
            f'  action(type="omfile" file="{self.raw}" template="raw")',
            "}",
            "",
        ])

    def start(self, timeout=15):
        assert not self.running(), "rsyslogd already running"
        if not os.path.exists(RSYSLOGD):
            raise AssertionError(f"{RSYSLOGD} is missing: scripts/setup.sh installs rsyslog and "
                                 "rsyslog-gnutls (scripts/apt-packages.txt)")
        self.pidfile.unlink(missing_ok=True)
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", str(self.conf), "-i", str(self.pidfile)],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if self.proc.poll() is not None:
                raise AssertionError(f"rsyslogd exited with {self.proc.returncode}:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"rsyslogd not listening on {self.port}:\n{self.stderr()}")
            time.sleep(0.05)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Stop our rsyslogd (by its pid) and wait until its port is free."""
        if self.running():
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        deadline = time.monotonic() + 10
        while listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def _lines(self, path):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        return data.split(b"\n")[:-1]     # a last line without '\n' is still being written

    def messages(self, procid=None):
        """Parsed messages: dicts of pri, ts, host, app, procid, msgid, sd, event_id, msg (bytes)."""
        out = []
        for line in self._lines(self.parsed):
            m = PARSED_RE.match(line)
            assert m, f"rsyslog did not see an RFC 5424 message: {line!r}"
            rec = dict(pri=int(m[1]), ts=m[2].decode(), host=m[3].decode(), app=m[4].decode(),
                       procid=m[5].decode(), msgid=m[6].decode(), sd=m[7].decode(),
                       event_id=m[8].decode() if m[8] else None, msg=m[9])
            if procid is None or rec["procid"] == str(procid):
                out.append(rec)
        return out

    def raw_messages(self):
        """Each message exactly as rsyslog received it (the frame's content)."""
        return self._lines(self.raw)

    def event_ids(self, procid):
        return {m["event_id"] for m in self.messages(procid)}

    def wait_event_ids(self, procid, want, timeout=20.0):
        """Wait until every event id in `want` arrived from daemon pid `procid`."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.event_ids(procid)
            missing = set(want) - got
            if not missing:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(missing)} records never reached rsyslog: "
                                     f"{sorted(missing)[:10]}\nrsyslogd stderr:\n{self.stderr()}")
            time.sleep(0.1)

    def close(self):
        self.kill(signal.SIGTERM)

# SPDX-License-Identifier: Apache-2.0
"""
deploy/logrotate/sysguard: logrotate reads it as meant (logrotate -d, no
rotation), and its postrotate script signals the daemon named in the pid
file and never a process that took over a stale pid. Rotation with the real
daemon: tests/e2e/test_logrotate.py.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "deploy" / "logrotate" / "sysguard"
PIDFILE = "/run/sysguard/sysguardd.pid"

# Stands in for the daemon (named sysguardd, SIGUSR1 blocked as the daemon's
# signalfd loop does), or for another program that got a stale pid.
FAKE_DAEMON = r"""
import ctypes, signal, sys, time
if sys.argv[1] == "takes":
    ctypes.CDLL(None).prctl(15, b"sysguardd", 0, 0, 0)  # PR_SET_NAME
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
print("up", flush=True)
if sys.argv[1] == "takes":
    # Polled, as the daemon's signalfd is: sigwait() would unblock it while waiting.
    while signal.SIGUSR1 not in signal.sigpending():
        time.sleep(0.01)
    print("usr1", flush=True)
else:
    time.sleep(60)
"""


def logrotate():
    tool = shutil.which("logrotate") or ("/usr/sbin/logrotate" if os.path.exists("/usr/sbin/logrotate") else None)
    if not tool:
        pytest.skip("logrotate not installed (apt-get install logrotate)")
    return tool


def test_logrotate_reads_the_file_as_meant(tmp_path):
    r = subprocess.run([logrotate(), "-d", "-s", str(tmp_path / "status"), str(CONF)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode == 0, r.stdout
    assert "error" not in r.stdout.lower(), r.stdout
    assert "rotating pattern: /var/log/sysguard/audit.log  after 1 days (14 rotations)" in r.stdout
    assert f"log files >= {100 * 1024 * 1024} are rotated earlier" in r.stdout
    words = {line.split()[0] for line in CONF.read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")}
    assert {"compress", "delaycompress", "postrotate", "endscript"} <= words


def postrotate_script(pidfile):
    text = CONF.read_text()
    body = re.search(r"^\s*postrotate\n(.*?)^\s*endscript", text, re.S | re.M).group(1)
    assert PIDFILE in body
    return body.replace(PIDFILE, str(pidfile))


def run_postrotate_against(tmp_path, kind):
    fake = subprocess.Popen([sys.executable, "-c", FAKE_DAEMON, kind], stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout.readline() == "up\n"
        pidfile = tmp_path / "sysguardd.pid"
        pidfile.write_text("%d\n" % fake.pid)
        r = subprocess.run(["sh", "-e", "-c", postrotate_script(pidfile)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        assert r.returncode == 0, r.stdout
        return fake
    except BaseException:
        fake.kill()
        fake.wait()
        raise


def test_postrotate_sends_sigusr1_to_a_daemon_that_takes_it(tmp_path):
    fake = run_postrotate_against(tmp_path, "takes")
    try:
        fake.wait(timeout=10)
        assert fake.stdout.read() == "usr1\n"
    finally:
        fake.kill()
        fake.wait()


def test_postrotate_never_signals_a_process_that_took_a_stale_pid(tmp_path):
    fake = run_postrotate_against(tmp_path, "other")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            fake.wait(timeout=1)
        assert fake.poll() is None, "SIGUSR1 was sent to a process that is not sysguardd"
    finally:
        fake.kill()
        fake.wait()

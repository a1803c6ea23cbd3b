"""
The audit log under the real logrotate, with the logrotate file the package
ships: the daemon reopens its log on SIGUSR1, and across rotations made
while execs are being recorded no record is lost, repeated or split.
"""
import gzip
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import Daemon, Policy, REPO

SHIPPED = REPO / "deploy" / "logrotate" / "sysguard"


def logrotate_config(d, workdir):
    """The shipped file with the test's log and state directory in place of the real ones."""
    text = SHIPPED.read_text()
    assert "/var/log/sysguard/audit.log" in text and "/run/sysguard/sysguardd.pid" in text
    text = text.replace("/var/log/sysguard/audit.log", str(d.log_path))
    text = text.replace("/run/sysguard/sysguardd.pid", str(d.state_dir / "sysguardd.pid"))
    conf = workdir / "logrotate.conf"
    conf.write_text(text)
    return conf


def read_records(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    assert not data or data.endswith(b"\n"), f"{path} ends in a partial line"
    return [json.loads(line) for line in data.split(b"\n") if line]


def rotated_files(log):
    """The log and its rotations, oldest first (audit.log.N[.gz] ... audit.log.1, audit.log)."""
    def number(p):
        return int(p.name[len(log.name) + 1:].split(".")[0])
    old = [p for p in log.parent.iterdir() if p.name.startswith(log.name + ".")]
    return sorted(old, key=number, reverse=True) + [log]


def test_pidfile_names_the_daemon_and_goes_at_stop(daemon):
    d = daemon(Policy(mode="monitor"))
    pidfile = d.state_dir / "sysguardd.pid"
    assert pidfile.read_text() == f"{d.pid}\n"
    d.stop()
    assert not pidfile.exists()


def test_logrotate_with_sigusr1_loses_and_splits_nothing(daemon, workdir):
    d = daemon(Policy(mode="monitor"))
    conf = logrotate_config(d, workdir)
    state = workdir / "logrotate.state"
    stop = threading.Event()
    execs = []

    def exec_loop():
        while not stop.is_set():
            p = subprocess.run(["/bin/true"])
            execs.append(p.returncode)

    t = threading.Thread(target=exec_loop)
    t.start()
    rotations = 4
    try:
        for _ in range(rotations):
            time.sleep(0.5)
            # -f: rotate now, whatever "daily" says; the shipped postrotate signals the daemon.
            r = subprocess.run(["logrotate", "-f", "-s", str(state), str(conf)],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
    finally:
        stop.set()
        t.join()
    time.sleep(0.5)
    assert d.running()
    d.stop()

    files = rotated_files(d.log_path)
    assert len(files) == rotations + 1, [f.name for f in files]
    # delaycompress: the newest rotation stays plain, the older ones are compressed.
    assert files[-2].suffix != ".gz" and all(f.suffix == ".gz" for f in files[:-2])
    ids, reopened = [], 0
    for i, f in enumerate(files):
        recs = read_records(f)
        assert recs, f"{f.name} is empty"
        if i > 0:
            # A new file starts with the daemon's own word that it reopened it.
            assert recs[0]["type"] == "audit_log_reopened", recs[0]
            reopened += 1
        ids += [int(r["event_id"], 16) if isinstance(r["event_id"], str) else r["event_id"]
                for r in recs]
    assert reopened == rotations
    # Every record of the run, once each, in order, across all the files.
    assert ids == list(range(ids[0], ids[0] + len(ids))), "a record was lost or repeated"
    all_recs = [r for f in files for r in read_records(f)]
    true_execs = [r for r in all_recs if r["type"] == "exec"
                  and r.get("process", {}).get("exe") == os.path.realpath("/bin/true")]
    assert len(execs) > 20
    assert len(true_execs) == len(execs), (len(true_execs), len(execs))


def test_a_missing_log_directory_is_created(workdir):
    """Without systemd's LogsDirectory= (make install, a container) the daemon makes it."""
    d = Daemon(workdir / "d", Policy(mode="monitor"))
    d.log_path = workdir / "new-log-dir" / "audit.log"
    d.argv[d.argv.index("--log") + 1] = str(d.log_path)
    try:
        d.start()
        assert d.log_path.exists()
        assert (d.log_path.parent.stat().st_mode & 0o777) == 0o700
        assert any(r["type"] == "daemon_start" for r in d.log_records())
    finally:
        d.stop()

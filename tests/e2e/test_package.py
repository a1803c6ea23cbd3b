# SPDX-License-Identifier: Apache-2.0
"""
The Debian package (make deb): its contents, and a real install on this
machine. The installed daemon is started from the installed paths with the
installed settings file and made to enforce; then `dpkg --purge` must leave
nothing behind: no file of the package, no immutable flag (self-defence sets
one on the binary, the settings and the policy), no bpffs pin, no daemon.
Purge is tried after a clean stop, with the daemon still running (prerm
stops it) and after SIGKILL (prerm's sysguardctl reset cleans up).

What this host had in /etc/sysguard, /var/lib/sysguard, /var/log/sysguard
and /run/sysguard is moved aside for the test and put back after it, and
the package is always purged at the end: the other tests use build/.
"""
import errno
import glob
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, Policy, _pid_gone, run, sysguardd_pids

PKG = "sysguard"
BIN = "/usr/sbin/sysguardd"
CTL = "/usr/sbin/sysguardctl"
CONF = "/etc/sysguard/sysguard.yaml"
READY = Path("/run/sysguard/ready")
AUDIT_LOG = Path("/var/log/sysguard/audit.log")
HOST_DIRS = ("/etc/sysguard", "/var/lib/sysguard", "/var/log/sysguard", "/run/sysguard")
MUST_SHIP = {
    BIN, CTL, CONF, "/etc/sysguard/policy.yaml", "/etc/logrotate.d/sysguard",
    "/lib/systemd/system/sysguardd.service",
    "/usr/share/man/man8/sysguardd.8.gz", "/usr/share/man/man5/sysguard-policy.5.gz",
    "/usr/share/doc/sysguard/README.md", "/usr/share/doc/sysguard/deployment.md",
    "/usr/share/doc/sysguard/copyright",
}
CONFFILES = {CONF, "/etc/sysguard/policy.yaml", "/etc/logrotate.d/sysguard"}


def sh(argv, timeout=300, check=True):
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if check:
        assert r.returncode == 0, f"{argv}: rc={r.returncode}\n{r.stdout[-4000:]}"
    return r


def dpkg(*args, check=True):
    """dpkg, waiting while apt or dpkg run elsewhere on the machine hold its lock."""
    deadline = time.monotonic() + 300
    while True:
        r = sh(["dpkg", *args], check=False)
        if "lock" not in r.stdout or r.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(3)
    if check:
        assert r.returncode == 0, f"dpkg {' '.join(args)}: rc={r.returncode}\n{r.stdout[-4000:]}"
    return r


def package_state():
    r = sh(["dpkg-query", "-W", "-f=${Status}", PKG], check=False)
    return r.stdout.strip() if r.returncode == 0 else ""


def immutable_under(*roots):
    """Paths carrying the immutable flag (lsattr) in these directories."""
    found = set()
    for root in roots:
        if not os.path.exists(root):
            continue
        r = sh(["lsattr", "-R", "-a", root] if os.path.isdir(root) else ["lsattr", root], check=False)
        for line in r.stdout.splitlines():
            m = re.match(r"^(\S+)\s+(/.*)$", line)
            if m and "i" in m.group(1):
                found.add(m.group(2))
    return found


def daemons_of_the_package():
    out = []
    for pid, _ in sysguardd_pids():
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe.startswith(BIN):
            out.append(pid)
    return out


@pytest.fixture(scope="module")
def deb(tools):
    """build/sysguard_VERSION_ARCH.deb, built for this run (tools: the e2e lock, a fresh build)."""
    version = (REPO / "VERSION").read_text().strip()
    arch = sh(["dpkg", "--print-architecture"]).stdout.strip()
    path = REPO / "build" / f"sysguard_{version}_{arch}.deb"
    if path.exists():
        path.unlink()
    sh(["make", "-C", str(REPO), "-s", "deb"], timeout=900)
    assert path.is_file()
    return path


@pytest.fixture
def host(tools, workdir):
    """This machine, without the package and without SysGuard's directories; put back afterwards."""
    if sysguardd_pids():
        pytest.skip("another sysguardd runs on this machine; installing the package would disturb it")
    if package_state():
        dpkg("--purge", PKG)  # left by an interrupted run
    saved = []
    for d in HOST_DIRS:
        if os.path.lexists(d):
            aside = f"{d}.e2e-saved-{os.getpid()}"
            os.rename(d, aside)
            saved.append((d, aside))
    before = immutable_under("/usr/sbin")
    try:
        yield before
    finally:
        for pid in daemons_of_the_package():
            os.kill(pid, signal.SIGTERM)
            _pid_gone(pid, 10)
        if package_state():
            dpkg("--purge", PKG, check=False)
        for d, aside in saved:
            if not os.path.lexists(d):
                os.rename(aside, d)


def test_package_has_every_file_and_its_dependencies(deb):
    listing = sh(["dpkg-deb", "-c", str(deb)]).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    missing = MUST_SHIP - files
    assert not missing, f"not in the package: {sorted(missing)}"
    man = [f for f in files if f.startswith("/usr/share/man/") and not f.endswith("/")]
    assert man and all(f.endswith(".gz") for f in man), man
    for line in listing.splitlines():
        if line.split()[-1].lstrip(".") in (BIN, CTL):
            assert line.startswith("-rwxr-xr-x root/root"), line
    info = sh(["dpkg-deb", "-I", str(deb)]).stdout
    for script in ("postinst", "prerm", "postrm", "conffiles"):
        assert re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*?\s+{script}\b", info, re.M), info
    ctl = sh(["dpkg-deb", "-f", str(deb), "Package", "Version", "Depends"]).stdout
    assert f"Version: {(REPO / 'VERSION').read_text().strip()}" in ctl
    depends = {d.split()[0] for d in ctl.split("Depends:", 1)[1].replace("\n", " ").split(",")}
    # Every library the daemon links comes from a package it depends on.
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        sh(["readelf", "-d", str(REPO / "build" / "sysguardd")]).stdout)
    for soname in needed:
        owners = {line.split(":")[0] for line in
                  sh(["dpkg", "-S", f"*/{soname}"], check=False).stdout.splitlines()}
        assert owners & depends, f"{soname} (from {owners}) missing from Depends: {sorted(depends)}"
    extract = deb.parent / "deb-control"
    sh(["rm", "-rf", str(extract)])
    sh(["dpkg-deb", "-e", str(deb), str(extract)])
    assert set((extract / "conffiles").read_text().split()) == CONFFILES


def start_installed_daemon(tools, workdir):
    """The installed daemon, its installed settings, and an enforcing policy denying one program."""
    denied = tools.make_bin(workdir, "pkg-denied")
    allowed = tools.make_bin(workdir, "pkg-allowed")
    policy = workdir / "policy.yaml"
    policy.write_text(Policy([{"name": "pkg-deny", "action": "deny", "path": denied}],
                             version="e2e-pkg-1").text)
    stderr = open(workdir / "stderr.txt", "wb")
    proc = subprocess.Popen([BIN, "--config", CONF, "--policy", str(policy), "--node-id", "e2e-pkg"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, (f"{BIN} exited with {proc.returncode}:\n"
                                     + (workdir / "stderr.txt").read_text(errors="replace"))
        try:
            if json.loads(READY.read_text()).get("pid") == proc.pid:
                break
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, "installed daemon not ready after 30 s"
        time.sleep(0.05)
    return proc, policy, denied, allowed


@pytest.mark.parametrize("stop", ["sigterm", "left_running", "sigkill"])
def test_installed_package_enforces_and_purge_leaves_nothing(deb, host, tools, workdir, stop):
    immutable_before = host
    r = dpkg("-i", str(deb))  # fails on an unmet dependency
    assert "systemd is not running" in r.stdout or os.path.isdir("/run/systemd/system"), r.stdout
    assert package_state() == "install ok installed"
    shipped = [p for p in sh(["dpkg", "-L", PKG]).stdout.split() if p.startswith("/")]
    assert MUST_SHIP <= set(shipped)
    for d in ("/var/log/sysguard", "/var/lib/sysguard"):
        assert os.stat(d).st_mode & 0o777 == 0o700, d

    proc, policy, denied, allowed = start_installed_daemon(tools, workdir)
    try:
        assert run([allowed, workdir / "allowed.ran"]).returncode == 0
        assert (workdir / "allowed.ran").exists()
        ran = run([denied, workdir / "denied.ran"])
        assert ran.exec_errno == errno.EPERM, f"the installed daemon did not refuse {denied}: {ran}"
        assert not (workdir / "denied.ran").exists()
        # Its records go where the installed settings say.
        deadline = time.monotonic() + 10
        while not any(f'"{denied}"' in line and '"decision":"deny"' in line
                      for line in AUDIT_LOG.read_text(errors="replace").splitlines()):
            assert time.monotonic() < deadline, f"no deny record in {AUDIT_LOG}"
            time.sleep(0.05)
        # Self-defence protects what purge must then clean up.
        assert {BIN, CONF, str(policy)} <= immutable_under(BIN, CONF, str(policy))
        assert glob.glob("/sys/fs/bpf/sysguard*"), "the daemon pinned nothing"

        if stop == "sigterm":
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        elif stop == "sigkill":
            proc.kill()
            proc.wait(timeout=30)
            assert immutable_under(BIN), "a killed daemon leaves its flags: nothing to test"
        dpkg("--purge", PKG)
        if stop == "left_running":
            assert proc.wait(timeout=5) == 0, "prerm did not stop the daemon cleanly"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert package_state() == ""
    left = [p for p in shipped if os.path.lexists(p) and not os.path.isdir(p)]
    assert not left, f"files of the package left after purge: {left}"
    for d in HOST_DIRS + ("/usr/share/doc/sysguard",):
        assert not os.path.lexists(d), f"{d} left after purge"
    assert not immutable_under("/usr/sbin") - immutable_before, "immutable flag left in /usr/sbin"
    assert not immutable_under(str(policy)), f"immutable flag left on the policy {policy}"
    assert not glob.glob("/sys/fs/bpf/sysguard*"), glob.glob("/sys/fs/bpf/sysguard*")
    assert not daemons_of_the_package(), "a sysguardd of the package still runs"

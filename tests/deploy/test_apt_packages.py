# SPDX-License-Identifier: Apache-2.0
"""
scripts/apt-packages-run.txt is all that building and running the daemon
needs (scripts/run-daemon.sh installs only it); scripts/apt-packages.txt adds
what the tests need. Checked against the Makefile and dpkg's file lists.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN_LIST = REPO / "scripts" / "apt-packages-run.txt"
TEST_LIST = REPO / "scripts" / "apt-packages.txt"


def packages(path):
    out = []
    for line in path.read_text().splitlines():
        word = line.split("#", 1)[0].strip()
        if word:
            out.append(word)
    return out


def makefile_libs():
    m = re.search(r"^LIBS\s*:=(.*)$", (REPO / "Makefile").read_text(), re.M)
    return re.findall(r"-l(\S+)", m.group(1))


def test_lists_do_not_overlap():
    run, test = packages(RUN_LIST), packages(TEST_LIST)
    assert len(set(run)) == len(run) and len(set(test)) == len(test)
    assert not set(run) & set(test)


def test_run_daemon_installs_only_the_run_list():
    text = (REPO / "scripts" / "run-daemon.sh").read_text()
    assert re.search(r"^scripts/setup\.sh run$", text, re.M)
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert "apt-packages-run.txt" in setup and "apt-packages.txt" in setup
    assert re.search(r'^scripts/setup\.sh$', (REPO / "scripts" / "test.sh").read_text(), re.M)


def test_run_list_has_the_build_tools():
    run = set(packages(RUN_LIST))
    # make; cc and the BPF compiler; skeletons; the .deb's Depends.
    assert {"make", "gcc", "clang", "bpftool", "dpkg-dev"} <= run


def test_run_list_has_a_dev_package_for_every_linked_library():
    if not shutil.which("dpkg"):
        pytest.skip("needs dpkg")
    run = set(packages(RUN_LIST))
    libs = makefile_libs()
    assert "bpf" in libs and "yaml" in libs
    for lib in libs:
        if lib in ("pthread",):
            continue  # part of libc
        r = subprocess.run(["dpkg", "-S", f"/usr/lib/*/lib{lib}.so"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        owners = {line.split(":")[0] for line in r.stdout.splitlines()}
        assert owners, f"-l{lib}: no installed package has lib{lib}.so (install the run list)"
        assert owners & run, f"-l{lib} comes from {owners}, not in {RUN_LIST.name}"

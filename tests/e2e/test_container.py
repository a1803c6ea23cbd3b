# SPDX-License-Identifier: Apache-2.0
"""
OPS-7: exec records carry the container id, runtime and pod UID named by the
cgroup path, marked unverified: no runtime's state vouches for them (real
containers are in test_containers_enforce.py).
"""
import errno
import os
import subprocess
import time
import uuid

import pytest

from checks import validate_records
from conftest import Policy, run

CONTAINER_ID = "5e6f" + "0123456789abcdef" * 3 + "a1b2c3d4e5f6"
DOCKER_ID = "d0c4e5" + "fedcba9876543210" * 3 + "0011223344"


def cgroup2_mount():
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return fields[1]
    return None


class Cgroups:
    """cgroup v2 directories made for one test, removed leaf first at teardown."""

    def __init__(self, root):
        self.root = root
        self.made = []

    def make(self, rel):
        path = self.root
        for part in rel.strip("/").split("/"):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                os.mkdir(path)
                self.made.append(path)
        return path

    def remove(self):
        for path in reversed(self.made):
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY:
                        raise
                    time.sleep(0.1)  # a child just exited: its cgroup empties shortly


@pytest.fixture
def cgroups():
    root = cgroup2_mount()
    if root is None:
        pytest.skip("no cgroup2 mount")
    cg = Cgroups(root)
    yield cg
    cg.remove()


def run_in_cgroup(cgroup_dir, argv):
    """Exec argv in a child moved into cgroup_dir before the exec; returns (rc, errno, pid)."""
    procs = os.path.join(cgroup_dir, "cgroup.procs")

    def enter():
        with open(procs, "w") as f:
            f.write("0")

    argv = [os.fspath(a) for a in argv]
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, preexec_fn=enter)
    except OSError as e:
        return None, e.errno, None
    return p.wait(20), 0, p.pid


def test_exec_in_kubelet_systemd_cgroup_carries_container_and_pod(tools, workdir, daemon, cgroups):
    pod = str(uuid.uuid4())
    leaf = cgroups.make("kubepods.slice/kubepods-besteffort.slice/"
                        f"kubepods-besteffort-pod{pod.replace('-', '_')}.slice/"
                        f"cri-containerd-{CONTAINER_ID}.scope")
    exe = tools.make_bin(workdir, "in-pod")
    marker = workdir / "in-pod.marker"
    d = daemon(Policy([]))

    rc, err, pid = run_in_cgroup(leaf, [exe, marker])
    assert (rc, err) == (0, 0)
    rec = d.wait_exec(exe=exe, pid=pid)[0]
    assert rec["decision"] == "allow"
    assert rec["process"]["cgroup_id"] == os.stat(leaf).st_ino
    # Named by a cgroup path alone, which anyone who may make cgroups chooses: a label.
    assert rec["process"]["container"] == {"id": CONTAINER_ID, "runtime": "containerd",
                                           "pod_uid": pod, "verified": False}
    assert validate_records(d.log_records(), node_id=d.node_id) == []


def test_denied_exec_in_docker_cgroup_carries_container(tools, workdir, daemon, cgroups):
    leaf = cgroups.make(f"system.slice/docker-{DOCKER_ID}.scope")
    bad = tools.make_bin(workdir, "denied-in-container")
    marker = workdir / "denied.marker"
    d = daemon(Policy([{"name": "deny-it", "action": "deny", "path": bad}]))

    rc, err, pid = run_in_cgroup(leaf, [bad, marker])
    assert err == errno.EPERM, (rc, err)
    assert not marker.exists()
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    assert rec["sensor"] == "fanotify"
    assert rec["process"]["cgroup_id"] == os.stat(leaf).st_ino
    assert rec["process"]["container"] == {"id": DOCKER_ID, "runtime": "docker", "verified": False}


def test_host_exec_has_no_container(tools, workdir, daemon):
    exe = tools.make_bin(workdir, "on-host")
    d = daemon(Policy([]))

    ran = run([exe, workdir / "on-host.marker"])
    assert ran.returncode == 0, ran
    rec = d.wait_exec(exe=exe, pid=ran.pid)[0]
    assert "container" not in rec["process"]

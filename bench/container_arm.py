# SPDX-License-Identifier: Apache-2.0
"""
The exec and open loops run inside a podman (runc) container, for modes
written MODE@container: the baseline slot and the daemon slot of each pair
both run in it, so the ratio is the container's overhead, to be compared
with the host's ratio of the same mode in the same run. The exec'd program
is the image's own copy (on the container's overlay root, as workloads
exec); the loop programs and the loader come read-only from the host.
No registry: the image is imported from a directory made here.
"""
import os
import shutil
import subprocess
import tarfile
import uuid

PODMAN = "/usr/bin/podman"
RUNC = "/usr/sbin/runc"
TARGET_IN_IMAGE = "/bench/tiny"


class BenchContainer:
    def __init__(self, args, workroot):
        self.args = args
        self.dir = os.path.join(workroot, "container")
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "containers.conf")
        with open(conf, "w") as f:
            # runc (crun refuses the hybrid cgroup layout) and rlimits podman may set here.
            f.write('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                    f'[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n'
                    f'events_logger = "file"\n[engine.runtimes]\nrunc = ["{RUNC}"]\n')
        self.env = dict(os.environ, CONTAINERS_CONF=conf)
        tag = uuid.uuid4().hex[:8]
        self.image = f"localhost/sysguard-bench-{tag}:1"
        self.name = f"sysguard-bench-{tag}"
        self.started = False

    def _podman(self, *argv, check=True):
        return subprocess.run([PODMAN, *argv], env=self.env, check=check, timeout=120,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def start(self):
        if self.started:
            return
        root = os.path.join(self.dir, "root")
        for d in ("bench", "bin", "tmp", "proc", "sys", "dev", "etc"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        shutil.copy2(os.path.join(self.args.bin_dir, "tiny"), os.path.join(root, "bench", "tiny"))
        shutil.copy2("/bin/busybox", os.path.join(root, "bin", "sleep"))
        tar = os.path.join(self.dir, "image.tar")
        with tarfile.open(tar, "w") as t:
            for e in sorted(os.listdir(root)):
                t.add(os.path.join(root, e), arcname=e)
        self._podman("import", tar, self.image)
        ro = []
        for d in (self.args.bin_dir, "/lib64", "/lib/x86_64-linux-gnu"):
            ro += ["-v", f"{d}:{d}:ro"]
        self._podman("run", "-d", "--name", self.name, "--network", "none",
                     *ro, "-v", f"{self.args.open_dir}:{self.args.open_dir}",
                     self.image, "/bin/sleep", "100000")
        self.started = True

    def wrap(self):
        return [PODMAN, "exec", self.name]

    def stop(self):
        if not self.started:
            return
        self._podman("rm", "-f", "-t", "0", self.name, check=False)
        self._podman("rmi", "-f", self.image, check=False)
        self.started = False

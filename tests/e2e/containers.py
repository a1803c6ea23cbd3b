# SPDX-License-Identifier: Apache-2.0
"""
Real container runtimes for the e2e tests: podman (with runc) and a
containerd the test starts itself (driven with ctr). No image registry is
reachable, so images are built here from a root filesystem the test makes:
busybox (static, from Debian's busybox-static) plus whatever files a test
adds. Everything a test creates carries its own unique name and is removed
at teardown.

Measured on these machines: crun refuses the hybrid cgroup layout, and
podman's default rlimits cannot be raised here, so podman runs with runc
and a containers.conf of our own (CONTAINERS_CONF) giving both.
"""
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

import pytest

BUSYBOX = "/bin/busybox"
BUSYBOX_APPLETS = ("sh", "ls", "cat", "cp", "chmod", "echo", "sleep", "true", "mkdir",
                   "rm", "mv", "ln", "wget", "nc", "env", "id", "stat", "unshare", "mount",
                   "chroot", "seq")
RUNC = "/usr/sbin/runc"
CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
PODMAN = "/usr/bin/podman"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def make_rootfs(root, extra=None):
    """A minimal image tree in `root`: busybox and its applets in /bin, plus
    extra {path_in_image: source_path_or_bytes} (mode 0755)."""
    root = Path(root)
    for d in ("bin", "usr/bin", "etc", "tmp", "proc", "sys", "dev", "run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, root / "bin/busybox")
    for a in BUSYBOX_APPLETS:
        link = root / "bin" / a
        if not link.exists():
            link.symlink_to("busybox")
    (root / "etc/passwd").write_text("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\nnogroup:x:65534:\n")
    for dest, src in (extra or {}).items():
        target = root / dest.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(src, bytes):
            target.write_bytes(src)
        else:
            shutil.copy2(src, target)
        os.chmod(target, 0o755)
    return root


def tar_rootfs(root, tar_path):
    with tarfile.open(tar_path, "w") as t:
        for entry in sorted(Path(root).iterdir()):
            t.add(entry, arcname=entry.name)
    return tar_path


def _run(argv, env=None, timeout=120, check=True, **kw):
    p = subprocess.run(argv, env=env, timeout=timeout, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


class Podman:
    """podman as root with runc, rlimits it can set here, cgroupfs."""

    def __init__(self, workdir):
        self.dir = Path(workdir) / "podman"
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "containers.conf"
        conf.write_text(
            "[containers]\n"
            'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
            "[engine]\n"
            f'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            "[engine.runtimes]\n"
            f'runc = ["{RUNC}"]\n')
        self.env = dict(os.environ, CONTAINERS_CONF=str(conf))
        self.images = []
        self.containers = []

    def __call__(self, *args, check=True, timeout=120):
        return _run([PODMAN, *map(str, args)], env=self.env, check=check, timeout=timeout)

    def build(self, name, root):
        """Import `root` as image `name` (localhost/NAME:1); returns its full name."""
        ref = f"localhost/{name}:1"
        tar = tar_rootfs(root, self.dir / f"{name}.tar")
        self("import", tar, ref)
        self.images.append(ref)
        return ref

    def image_digest(self, ref):
        return self("image", "inspect", "--format", "{{.Digest}}", ref).stdout.strip()

    def run(self, image, *cmd, name=None, detach=False, labels=None, annotations=None,
            extra=(), check=False, timeout=60):
        name = name or unique("sg")
        argv = ["run", "--name", name, "--network", "none"]
        argv += ["-d"] if detach else ["--rm"]
        for k, v in (labels or {}).items():
            argv += ["--label", f"{k}={v}"]
        for k, v in (annotations or {}).items():
            argv += ["--annotation", f"{k}={v}"]
        argv += list(extra)
        argv += [image, *cmd]
        if detach:
            self.containers.append(name)
        return self(*argv, check=check, timeout=timeout)

    def exec(self, name, *cmd, check=False, timeout=60):
        return self("exec", name, *cmd, check=check, timeout=timeout)

    def container_id(self, name):
        return self("inspect", "--format", "{{.Id}}", name).stdout.strip()

    def cleanup(self):
        for c in self.containers:
            self("rm", "-f", "-t", "0", c, check=False)
        for i in self.images:
            self("rmi", "-f", i, check=False)


class Containerd:
    """A containerd of the test's own (root, state and socket in workdir),
    driven with ctr in one namespace. Images come from `podman save`."""

    def __init__(self, workdir, namespace="sgtest"):
        # Its sockets' paths must fit a sockaddr_un: a short directory of its own.
        self.dir = Path(tempfile.mkdtemp(prefix="sgctrd-", dir="/tmp"))
        self.sock = self.dir / "containerd.sock"
        self.ns = namespace
        self.state = self.dir / "state"
        conf = self.dir / "config.toml"
        conf.write_text(
            "version = 2\n"
            f'root = "{self.dir / "root"}"\n'
            f'state = "{self.state}"\n'
            f'[grpc]\n  address = "{self.sock}"\n'
            f'[ttrpc]\n  address = "{self.dir / "containerd.sock.ttrpc"}"\n'
            '[debug]\n  level = "warn"\n'
            # The CRI plugin wants a CNI set-up we do not have; ctr needs none of it.
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n')
        self.log = open(self.dir / "containerd.log", "wb")
        self.proc = subprocess.Popen([CONTAINERD, "--config", str(conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited {self.proc.returncode}: "
                                   f"{(self.dir / 'containerd.log').read_text()[-2000:]}")
            if self.sock.exists() and self.ctr("version", check=False).returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("containerd did not answer in 20 s")
            time.sleep(0.1)
        self.tasks = []

    def ctr(self, *args, check=True, timeout=120):
        return _run([CTR, "-a", str(self.sock), "-n", self.ns, *map(str, args)],
                    check=check, timeout=timeout)

    def import_from(self, podman, ref):
        """Move podman's image `ref` into this containerd (OCI archive)."""
        archive = self.dir / (ref.replace("/", "_").replace(":", "_") + ".oci")
        podman("save", "--format", "oci-archive", "-o", archive, ref)
        self.ctr("image", "import", "--base-name", ref.rsplit(":", 1)[0], archive)
        return ref

    def run(self, image, *cmd, name=None, detach=False, labels=None, annotations=None,
            check=False, timeout=60):
        name = name or unique("sg")
        argv = ["run", "--runtime", "io.containerd.runc.v2"]
        if detach:
            argv.append("-d")
        else:
            argv.append("--rm")
        for k, v in (labels or {}).items():
            argv += ["--label", f"{k}={v}"]
        for k, v in (annotations or {}).items():
            argv += ["--annotation", f"{k}={v}"]
        argv += [image, name, *cmd]
        if detach:
            self.tasks.append(name)
        return self.ctr(*argv, check=check, timeout=timeout)

    def exec(self, name, *cmd, check=False, timeout=60):
        return self.ctr("task", "exec", "--exec-id", unique("x"), name, *cmd, check=check,
                        timeout=timeout)

    def cleanup(self):
        for t in self.tasks:
            self.ctr("task", "kill", "-s", "KILL", t, check=False)
            time.sleep(0.2)
            self.ctr("task", "rm", "-f", t, check=False)
            self.ctr("container", "rm", t, check=False)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        # Its snapshots are mounts under root; the shim's bundles under state.
        subprocess.run(["umount", "-R", str(self.dir / "root")], stderr=subprocess.DEVNULL)
        subprocess.run(["umount", "-R", str(self.state)], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


# Fixtures for the container tests (imported by name into their modules).
@pytest.fixture
def podman(workdir):
    p = Podman(workdir)
    yield p
    p.cleanup()


@pytest.fixture
def containerd(workdir):
    c = Containerd(workdir)
    yield c
    c.cleanup()

# SPDX-License-Identifier: Apache-2.0
"""
The daemon as the DaemonSet runs it: the image scripts/build-image.sh builds
(from the .deb, no registry), started with the pod template the Helm chart
renders (tests/deploy/helm_render.py), from inside that container enforcing
on the host's processes and on another container's.

How the pod is run: podman 4.3 (this machine's) `kube play` drops hostPID
(the container gets a PID namespace of its own, checked when this was
written), and hostPID is what the daemon stands on. So the rendered pod
template is translated into `podman run` flags by pod_run_argv() below, field
by field from the template (hostPID, securityContext, capabilities, args
with $(VAR) expansion, env with the Downward API, hostPath/configMap/emptyDir
volumes with their propagation); a field it does not know fails the test
rather than being dropped. Only the network is podman's own choice
(--network none: the daemon needs none here).

The "host": the e2e suite runs in a private mount namespace of its own
(conftest.py), so the host the daemon must see is this pytest process's
mount namespace, not PID 1's. The template's `--host-mount-ns /proc/1/ns/mnt`
is overridden with /proc/<pytest pid>/ns/mnt, which hostPID makes visible
in the container. Everything else is the chart's, except values the test
sets at render time: the policy (the ConfigMap), the log directory (a
hostPath under the test's directory) and the image.

One daemon at a time: the conftest lock covers this session, and the pod is
removed at teardown whatever happened (podman rm -f, then sysguardctl reset
for pins a killed daemon would leave).
"""
import base64
import errno
import glob
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import (CTL_BIN, E2E_TAG, REPO, SESSION_LOGS, SESSION_NODE_IDS, Policy, run,
                      sysguardd_pids)
from containers import make_rootfs, podman, unique  # noqa: F401 (podman: a fixture)

sys.path.insert(0, str(REPO / "tests" / "deploy"))
from helm_render import render_chart  # noqa: E402

CHART = REPO / "deploy" / "helm" / "sysguard"
VERSION = (REPO / "VERSION").read_text().strip()
PIN_GLOB = "/sys/fs/bpf/sysguard*"
READY_TIMEOUT = 30


# --------------------------------------------------------------------------
# From the rendered chart to a podman command line
# --------------------------------------------------------------------------

def pod_template(values):
    docs = []
    for text in render_chart(CHART, values=values).values():
        docs += [d for d in yaml.safe_load_all(text) if d]
    (ds,) = [d for d in docs if d["kind"] == "DaemonSet"]
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap"]
    secrets = [d for d in docs if d["kind"] == "Secret"]
    return ds["spec"]["template"], cm, secrets


def write_configmap(cm, directory, mode=0o644):
    """The kubelet's layout of a ConfigMap (or Secret) volume: files behind ..data, swapped atomically."""
    stamp = directory / "..2026_01_01_00_00_00.000000001"
    stamp.mkdir(parents=True)
    data = dict(cm.get("data") or {})
    if cm["kind"] == "Secret":
        data = {k: base64.b64decode(v).decode() for k, v in data.items()}
        data.update(cm.get("stringData") or {})
    for name, text in data.items():
        (stamp / name).write_text(text)
        os.chmod(stamp / name, mode)
        (directory / name).symlink_to(f"..data/{name}")
    (directory / "..data").symlink_to(stamp.name)
    return directory


def expand(arg, env):
    """Kubernetes' $(VAR) in args: from the container's env; $$ escapes."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), arg)


# Pod fields the translation reads; anything else in the template fails the test.
POD_FIELDS = {"serviceAccountName", "automountServiceAccountToken", "hostPID", "priorityClassName",
              "terminationGracePeriodSeconds", "tolerations", "containers", "volumes"}
# Scheduling and cluster-only fields: no meaning for one podman container.
POD_IGNORED = {"serviceAccountName", "automountServiceAccountToken", "priorityClassName",
               "tolerations"}
CONTAINER_FIELDS = {"name", "image", "imagePullPolicy", "args", "env", "securityContext",
                    "readinessProbe", "startupProbe", "livenessProbe", "resources", "volumeMounts"}
PROPAGATION = {"None": "rprivate", "HostToContainer": "rslave", "Bidirectional": "rshared"}


def pod_run_argv(template, *, name, node_name, configmaps, override_args, secrets=None):
    """
    (podman run argv, readiness command) for the template's one container.
    configmaps: {configMap name: directory holding its files}; override_args:
    {option: value} replacing the value after an option of the template.
    """
    spec = template["spec"]
    assert set(spec) <= POD_FIELDS, f"pod fields not translated: {set(spec) - POD_FIELDS}"
    (c,) = spec["containers"]
    assert set(c) <= CONTAINER_FIELDS, f"container fields not translated: {set(c) - CONTAINER_FIELDS}"
    argv = ["run", "-d", "--name", name, "--network", "none",
            "--label", f"io.kubernetes.pod.name={name}",
            "--stop-timeout", str(spec.get("terminationGracePeriodSeconds", 30))]
    if spec.get("hostPID"):
        argv += ["--pid", "host"]
    argv += ["--pull", {"Never": "never", "IfNotPresent": "missing",
                        "Always": "always"}[c.get("imagePullPolicy", "IfNotPresent")]]
    # resources: requests and limits are the scheduler's and the kubelet's; not translated.

    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            ref = e["valueFrom"]["fieldRef"]["fieldPath"]
            assert ref == "spec.nodeName", f"Downward API field {ref} not translated"
            env[e["name"]] = node_name
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]

    sc = c.get("securityContext", {})
    assert set(sc) <= {"runAsUser", "runAsGroup", "privileged", "readOnlyRootFilesystem",
                       "capabilities", "seccompProfile", "appArmorProfile",
                       "allowPrivilegeEscalation"}, sc
    if "runAsUser" in sc:
        argv += ["--user", f"{sc['runAsUser']}:{sc.get('runAsGroup', sc['runAsUser'])}"]
    if sc.get("privileged"):
        argv.append("--privileged")
    if sc.get("readOnlyRootFilesystem"):
        # Kubernetes adds no tmpfs of its own to a read-only root.
        argv += ["--read-only", "--read-only-tmpfs=false"]
    caps = sc.get("capabilities", {})
    for cap in caps.get("drop", []):
        argv += ["--cap-drop", cap]
    for cap in caps.get("add", []):
        argv += ["--cap-add", cap]
    seccomp = sc.get("seccompProfile", {}).get("type", "RuntimeDefault")
    assert seccomp in ("RuntimeDefault", "Unconfined"), seccomp
    if seccomp == "Unconfined":
        argv += ["--security-opt", "seccomp=unconfined"]
    # appArmorProfile: this kernel has no AppArmor (lsm list); podman applies none.
    if sc.get("allowPrivilegeEscalation") is False:
        argv += ["--security-opt", "no-new-privileges"]

    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        v = volumes[m["name"]]
        assert "subPath" not in m
        ro = m.get("readOnly", False)
        prop = PROPAGATION[m.get("mountPropagation", "None")]
        if "hostPath" in v:
            hp = v["hostPath"]
            if hp.get("type") == "DirectoryOrCreate":
                os.makedirs(hp["path"], exist_ok=True)
            else:
                assert hp.get("type") == "Directory" and os.path.isdir(hp["path"]), hp
            argv += ["--volume", f"{hp['path']}:{m['mountPath']}:{'ro,' if ro else ''}{prop}"]
        elif "configMap" in v:
            src = configmaps[v["configMap"]["name"]]
            argv += ["--volume", f"{src}:{m['mountPath']}:ro"]
        elif "secret" in v:
            src = (secrets or {})[v["secret"]["secretName"]]
            argv += ["--volume", f"{src}:{m['mountPath']}:ro"]
        elif "emptyDir" in v:
            assert v["emptyDir"].get("medium") in (None, "", "Memory"), v
            argv += ["--mount", f"type=tmpfs,destination={m['mountPath']},tmpfs-mode=0755"]
        else:
            raise AssertionError(f"volume kind not translated: {v}")

    args = [expand(a, env) for a in c.get("args", [])]
    for opt, value in override_args.items():
        assert opt in args, f"the chart passes no {opt}"
        args[args.index(opt) + 1] = value
    argv += [c["image"], *args]
    probe = c["readinessProbe"]["exec"]["command"]
    # The kubelet runs the startup and liveness probes the same way: one command for all.
    for other in ("startupProbe", "livenessProbe"):
        if other in c:
            assert c[other]["exec"]["command"] == probe, (other, c[other])
    return argv, probe


# --------------------------------------------------------------------------
# The pod
# --------------------------------------------------------------------------

class InPodDaemon:
    """The daemon container; its audit log read from the hostPath log directory."""

    def __init__(self, podman, argv, probe, log_dir):
        self.podman, self.argv, self.probe = podman, argv, probe
        self.name = argv[argv.index("--name") + 1]
        self.log_path = Path(log_dir) / "audit.log"
        self._off, self._buf, self.records = 0, b"", []

    def start(self):
        self.podman(*self.argv)
        SESSION_LOGS.append(self.log_path)
        SESSION_NODE_IDS[self.log_path] = self.argv[self.argv.index("--node-id") + 1]
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            # The chart's readinessProbe, run where the kubelet runs it: in the container.
            probe = self.podman("exec", self.name, *self.probe, check=False)
            if probe.returncode == 0:
                return self
            if self.state()["Status"] != "running" or time.monotonic() > deadline:
                raise AssertionError(f"in-pod daemon not ready: {self.state()}\nprobe: "
                                     f"{probe.stdout}{probe.stderr}\n{self.logs()}")
            time.sleep(0.2)

    def state(self):
        r = self.podman("inspect", "--format", "{{json .State}}", self.name, check=False)
        return json.loads(r.stdout) if r.returncode == 0 else {"Status": "gone"}

    def logs(self):
        """Its stderr: the records it also writes to stdout are in the log."""
        r = self.podman("logs", self.name, check=False)
        lines = (r.stdout + r.stderr).splitlines()
        return "\n".join(x for x in lines if not x.startswith("{"))[-4000:]

    def ready(self):
        """<state-dir>/ready as the pod sees it (an emptyDir in the pod only)."""
        r = self.podman("exec", self.name, "/bin/sh", "-c",
                        'read -r l < /run/sysguard/ready && echo "$l"')
        return json.loads(r.stdout)

    def host_pid(self):
        return int(self.state()["Pid"])

    def stop(self):
        """SIGTERM with the pod's grace period, as the kubelet does; the exit code."""
        self.podman("stop", self.name, timeout=60)
        return self.state()["ExitCode"]

    def read(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._off)
                chunk = f.read()
        except FileNotFoundError:
            return self.records
        self._off += len(chunk)
        *lines, self._buf = (self._buf + chunk).split(b"\n")
        self.records += [json.loads(x) for x in lines if x.strip()]
        return self.records

    def wait_for(self, pred, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            hits = [r for r in self.read() if pred(r)]
            if hits:
                return hits
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching record in {self.log_path}; "
                                     f"daemon: {self.state()}\n{self.logs()}")
            time.sleep(0.05)


@pytest.fixture
def image(tools, podman):
    """The DaemonSet image, under a name of the test's own (removed after it), not
    the default localhost/sysguard:VERSION someone may have built on purpose."""
    ref = f"localhost/{unique('sysguard-e2e')}:{VERSION}"
    r = subprocess.run([str(REPO / "scripts" / "build-image.sh"), ref], env=podman.env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == ref
    podman.images.append(ref)
    cfg = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", ref).stdout)
    assert cfg["Entrypoint"] == ["/usr/sbin/sysguardd"] and cfg["User"] == "0:0", cfg
    return ref


@pytest.fixture
def in_pod(podman, image, workdir):
    """Factory: in_pod(policy_text) -> a ready InPodDaemon; always removed at teardown."""
    started = []

    def start(policy_text, tweak=None, ready=True):
        log_dir = workdir / "node" / "var-log-sysguard"
        repo, tag = image.rsplit(":", 1)
        template, cm, secrets = pod_template({"policy": policy_text, "logDir": str(log_dir),
                                     "image": {"repository": repo, "tag": tag,
                                               "pullPolicy": "Never"}})
        if tweak:
            tweak(template)
        cm_dir = write_configmap(cm, workdir / "configmap" / cm["metadata"]["name"])
        secret_dirs = {}
        for sec in secrets:
            vol = [v for v in template["spec"]["volumes"]
                   if v.get("secret", {}).get("secretName") == sec["metadata"]["name"]]
            mode = vol[0]["secret"].get("defaultMode", 0o644) if vol else 0o644
            secret_dirs[sec["metadata"]["name"]] = write_configmap(
                sec, workdir / "secret" / sec["metadata"]["name"], mode)
        name = unique("sysguard-pod")
        argv, probe = pod_run_argv(
            template, name=name,
            # In argv (--node-id $(NODE_NAME)): conftest recognises a leftover by it.
            node_name=E2E_TAG + "node",
            configmaps={cm["metadata"]["name"]: cm_dir}, secrets=secret_dirs,
            override_args={"--host-mount-ns": f"/proc/{os.getpid()}/ns/mnt"})
        d = InPodDaemon(podman, argv, probe, log_dir)
        started.append(d)
        if not ready:
            podman(*argv)
            return d
        return d.start()

    yield start
    for d in started:
        if d.state()["Status"] != "gone":
            podman("rm", "-f", "-t", "0", d.name, check=False)
            # A killed daemon leaves its programs pinned and enforcing.
            subprocess.run([str(CTL_BIN), "--state-dir", str(workdir / "reset-state"), "reset"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------

def test_kube_play_here_drops_host_pid(podman, image, workdir):
    """Why the test translates the template instead of `podman kube play`: proven, not assumed."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": unique("sgprobe")},
           "spec": {"hostPID": True, "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": image,
                                    "command": ["/bin/sh", "-c", "read c < /proc/1/comm; echo $c"]}]}}
    f = workdir / "probe-pod.yaml"
    f.write_text(yaml.safe_dump(pod))
    try:
        podman("kube", "play", "--network", "none", f)
        cname = pod["metadata"]["name"] + "-c"
        deadline = time.monotonic() + 20
        while podman("inspect", "--format", "{{.State.Status}}", cname).stdout.strip() != "exited":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        mode = podman("inspect", "--format", "{{.HostConfig.PidMode}}", cname).stdout.strip()
        pid1 = podman("logs", cname).stdout.strip()
    finally:
        podman("kube", "down", f, check=False)
    with open("/proc/1/comm") as c:
        host_pid1 = c.read().strip()
    if mode == "host" and pid1 == host_pid1:
        pytest.fail("this podman's kube play keeps hostPID now: run the pod with it instead")
    assert pid1 == "sh", (mode, pid1)


def test_in_pod_daemon_enforces_on_host_and_containers(tools, workdir, podman, in_pod):
    # Programs on the host (this test's mount namespace), none of them visible in the image.
    host_dir = workdir / "host-bin"
    host_dir.mkdir()
    denied = Path(tools.make_bin(host_dir, "denied-on-host", tag="pod-host-denied"))
    allowed = Path(tools.make_bin(host_dir, "allowed-on-host", tag="pod-host-allowed"))
    # Another container, started by the same podman: its files are in its own root.
    src = workdir / "img-src"
    src.mkdir()
    root = make_rootfs(workdir / "img-root", {
        "/usr/bin/payload": tools.make_bin(src, "payload", tag="pod-payload", static=True),
        "/usr/bin/allowed": tools.make_bin(src, "allowed", tag="pod-allowed", static=True)})
    img = podman.build(unique("podpeer"), root)
    out = workdir / "out"
    out.mkdir()
    out.chmod(0o777)

    policy = Policy([
        {"name": "host-denied", "action": "deny", "path": str(denied)},
        {"name": "peer-payload", "action": "deny", "path": "/usr/bin/payload", "container": {}},
    ], version="in-pod-1").text
    d = in_pod(policy)
    ready = d.ready()
    daemon_pid, pod_pid = ready["pid"], d.host_pid()
    assert [pid for pid, _ in sysguardd_pids()] == [daemon_pid], (sysguardd_pids(), ready)
    # The daemon works in the mount namespace it was told (here: this test's), not its
    # image's; the container's first process, its parent, stays in the pod, so that
    # exec probes and `kubectl exec` run in the pod and not on the host.
    here = os.stat("/proc/self/ns/mnt").st_ino
    assert os.stat(f"/proc/{daemon_pid}/ns/mnt").st_ino == here
    assert os.stat(f"/proc/{pod_pid}/ns/mnt").st_ino != here
    with open(f"/proc/{daemon_pid}/stat") as f:
        assert int(f.read().rsplit(")", 1)[1].split()[1]) == pod_pid
    start = d.wait_for(lambda r: r.get("type") == "daemon_start")[0]
    assert start["node_id"] == E2E_TAG + "node"

    # (a) A host process: refused with EPERM, recorded with its host path.
    r = run([denied, out / "host-denied"])
    assert r.exec_errno == errno.EPERM, r
    assert not (out / "host-denied").exists()
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                     and (x.get("rule") or {}).get("name") == "host-denied")[0]
    assert rec["process"]["exe"] == str(denied)
    assert "container" not in rec["process"] or not rec["process"]["container"]

    # (c) Allowed ones run, on the host and in the other container.
    r = run([allowed, out / "host-allowed"])
    assert r.returncode == 0 and (out / "host-allowed").exists(), r

    # (b) A denied program inside another container: refused, named by its container.
    peer = unique("peer")
    r = podman.run(img, "/usr/bin/payload", "/out/peer-denied", name=peer,
                   extra=["-v", f"{out}:/out"], labels={"team": "pod-test"})
    assert not (out / "peer-denied").exists(), (r.stdout, r.stderr)
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                     and (x.get("rule") or {}).get("name") == "peer-payload")[0]
    c = rec["process"]["container"]
    assert c["runtime"] == "podman" and c["verified"] is True, c
    assert c["name"] == peer and c["image"] == img, c
    assert rec["process"]["container_exe"] == "/usr/bin/payload"
    assert rec["process"]["exe"].endswith("/merged/usr/bin/payload"), rec["process"]["exe"]
    r = podman.run(img, "/usr/bin/allowed", "/out/peer-allowed", extra=["-v", f"{out}:/out"])
    assert (out / "peer-allowed").exists(), (r.stdout, r.stderr)

    # The ready file is in the pod (the chart's readinessProbe saw it) and names the pod's paths.
    assert ready["policy_path"] == d.argv[d.argv.index("--policy") + 1]
    assert ready["policy_path"].startswith("/etc/sysguard/")
    assert ready["mode"] == "enforce"

    # (d) A clean stop: exit 0, its stop on record, no pin left behind.
    assert glob_pins(), "the daemon pinned nothing"
    assert d.stop() == 0, d.logs()
    assert "daemon_stop" in [r.get("type") for r in d.read()[-5:]], d.read()[-5:]
    assert not glob_pins(), glob_pins()
    assert not sysguardd_pids()


def glob_pins():
    return glob.glob(PIN_GLOB)


def test_in_pod_policy_update_through_the_configmap(tools, workdir, podman, in_pod):
    """The kubelet's ConfigMap update (a new ..data swapped in) reaches the daemon in the host
    namespace: its watch and re-read go through the pod's files."""
    host_dir = workdir / "host-bin"
    host_dir.mkdir()
    later = Path(tools.make_bin(host_dir, "denied-later", tag="pod-later"))
    d = in_pod(Policy([], version="in-pod-a").text)
    out = workdir / "out"
    out.mkdir()
    r = run([later, out / "before"])
    assert r.returncode == 0, r
    cm_dir = next((workdir / "configmap").iterdir())
    stamp = cm_dir / "..2026_01_01_00_00_01.000000002"
    stamp.mkdir()
    (stamp / "policy.yaml").write_text(
        Policy([{"name": "later", "action": "deny", "path": str(later)}], version="in-pod-b").text)
    tmp = cm_dir / "..data_tmp"
    tmp.symlink_to(stamp.name)
    os.replace(tmp, cm_dir / "..data")
    d.wait_for(lambda x: x.get("type") == "policy_reload" and x.get("new_policy_version") == "in-pod-b")
    deadline = time.monotonic() + 10
    while True:
        r = run([later, out / "after"])
        if r.exec_errno == errno.EPERM or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.exec_errno == errno.EPERM, r
    assert d.stop() == 0, d.logs()
    assert not glob_pins()



def test_without_sys_chroot_the_daemon_says_what_is_missing(podman, in_pod):
    """setns(CLONE_NEWNS) needs CAP_SYS_CHROOT as well as CAP_SYS_ADMIN: why the chart adds it."""
    def drop_chroot(template):
        caps = template["spec"]["containers"][0]["securityContext"]["capabilities"]["add"]
        caps.remove("SYS_CHROOT")

    d = in_pod(Policy([], version="in-pod-nochroot").text, tweak=drop_chroot, ready=False)
    deadline = time.monotonic() + 30
    while d.state()["Status"] == "running":
        assert time.monotonic() < deadline, d.logs()
        time.sleep(0.1)
    assert d.state()["ExitCode"] == 2, d.logs()
    assert "cannot join the mount namespace" in d.logs() and "CAP_SYS_CHROOT" in d.logs()
    assert not sysguardd_pids() and not glob_pins()


def test_host_mount_ns_refuses_self_defence(tools, workdir):
    """Self-defence keeps files by their path, which would be the host's: refused before
    anything starts (the chart passes --self-defence off)."""
    from conftest import DAEMON_BIN
    r = subprocess.run([str(DAEMON_BIN), "--host-mount-ns", "/proc/1/ns/mnt", "--log", "-",
                        "--policy", str(workdir / "none.yaml"),
                        "--state-dir", str(workdir / "state")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
    assert r.returncode == 2 and "--self-defence off" in r.stderr, r
    assert not (workdir / "state").exists()

# SPDX-License-Identifier: Apache-2.0
"""
OPS-1/OPS-5 deployment files: the systemd unit, the Dockerfile, the
Kubernetes DaemonSet and the Helm chart. No cluster is needed: the chart is
rendered by helm_render.py, the objects are checked against the Kubernetes
OpenAPI schemas of the kubernetes-models npm package (when node and npm are
there) and against what the daemon relies on.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helm_render import render_chart

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "sysguard"
STATIC = DEPLOY / "k8s" / "daemonset.yaml"
UNIT = DEPLOY / "systemd" / "sysguardd.service"
REFERENCE_CONFIG = DEPLOY / "sysguard.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
NPM_DIR = REPO / "build" / "deploy-npm"
HERE = Path(__file__).resolve().parent

# The capabilities the daemon needs, and what for (docs/deployment.md).
CAPS = {"BPF", "PERFMON", "SYS_ADMIN", "KILL", "SYS_PTRACE", "DAC_READ_SEARCH", "NET_ADMIN",
        "LINUX_IMMUTABLE"}
# In a pod the daemon also joins the host's mount namespace (--host-mount-ns):
# setns(CLONE_NEWNS) asks for CAP_SYS_CHROOT on top of CAP_SYS_ADMIN.
POD_CAPS = CAPS | {"SYS_CHROOT"}


def docs_of(text):
    return [d for d in yaml.safe_load_all(text) if d]


def rendered(**values):
    out = []
    for text in render_chart(CHART, values=values).values():
        out += docs_of(text)
    return out


def by_kind(docs, kind):
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def daemon_container(docs):
    ds = by_kind(docs, "DaemonSet")
    (c,) = ds["spec"]["template"]["spec"]["containers"]
    return ds, ds["spec"]["template"]["spec"], c


def daemon_flags():
    """Long options sysguardd accepts, from its source (no build needed)."""
    src = (REPO / "src" / "daemon" / "options.c").read_text()
    return set(re.findall(r'\{\s*"([a-z][a-z-]+)"\s*,\s*(?:no|required|optional)_argument', src))


@pytest.fixture(params=["chart", "static"])
def objects(request):
    return rendered() if request.param == "chart" else docs_of(STATIC.read_text())


# --------------------------------------------------------------------------
# Kubernetes
# --------------------------------------------------------------------------

def test_static_manifest_is_the_chart_with_default_values():
    kind = lambda d: d["kind"]  # noqa: E731
    assert sorted(docs_of(STATIC.read_text()), key=kind) == sorted(rendered(), key=kind)


def test_objects_have_kinds_and_the_release_namespace(objects):
    kinds = sorted(d["kind"] for d in objects)
    assert kinds == ["ConfigMap", "DaemonSet", "Secret", "ServiceAccount"]
    for d in objects:
        assert d["apiVersion"] == ("apps/v1" if d["kind"] == "DaemonSet" else "v1")
        assert d["metadata"]["namespace"] == "sysguard"
    # The chart makes no Namespace: it installs into the release's (helm -n).
    assert not (CHART / "templates" / "namespace.yaml").exists()
    assert "namespace" not in yaml.safe_load((CHART / "values.yaml").read_text())


def test_every_object_goes_to_the_release_namespace():
    docs = []
    for text in render_chart(CHART, namespace="security-agents").values():
        docs += docs_of(text)
    assert docs and {d["metadata"]["namespace"] for d in docs} == {"security-agents"}


def test_daemonset_sees_host_processes_with_only_the_needed_capabilities(objects):
    ds, spec, c = daemon_container(objects)
    assert spec["hostPID"] is True
    assert spec.get("hostNetwork", False) is False
    sel = ds["spec"]["selector"]["matchLabels"]
    assert sel.items() <= ds["spec"]["template"]["metadata"]["labels"].items()
    sc = c["securityContext"]
    assert sc["privileged"] is False
    assert sc["runAsUser"] == 0
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert set(sc["capabilities"]["add"]) == POD_CAPS
    assert len(sc["capabilities"]["add"]) == len(POD_CAPS)
    # The API server refuses allowPrivilegeEscalation: false together with CAP_SYS_ADMIN.
    assert sc.get("allowPrivilegeEscalation", True) is True
    assert sc["readOnlyRootFilesystem"] is True
    assert [t["operator"] for t in spec["tolerations"]] == ["Exists"]


def test_daemon_works_in_the_hosts_mount_namespace(objects):
    """--host-mount-ns: the node's init's mount namespace, visible through hostPID."""
    _, spec, c = daemon_container(objects)
    args = c["args"]
    assert args[args.index("--host-mount-ns") + 1] == "/proc/1/ns/mnt"
    assert spec["hostPID"] is True
    assert "SYS_CHROOT" in c["securityContext"]["capabilities"]["add"]
    # The daemon refuses --host-mount-ns with self-defence on.
    assert args[args.index("--self-defence") + 1] == "off"


def test_bidirectional_bpffs_only_with_privileged():
    for docs in (rendered(), rendered(bpffsBidirectional=True)):
        _, _, c = daemon_container(docs)
        bidir = [m for m in c["volumeMounts"] if m.get("mountPropagation") == "Bidirectional"]
        # Kubernetes allows Bidirectional propagation to privileged containers only.
        assert bool(bidir) == c["securityContext"]["privileged"]
    _, _, c = daemon_container(rendered(bpffsBidirectional=True))
    assert [m["name"] for m in c["volumeMounts"] if m.get("mountPropagation") == "Bidirectional"] == ["bpffs"]


def test_volume_mounts_match_volumes_and_host_paths(objects):
    _, spec, c = daemon_container(objects)
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    assert len(volumes) == len(spec["volumes"]) and len(mounts) == len(c["volumeMounts"])
    assert set(mounts) == set(volumes)
    host = {n: v["hostPath"]["path"] for n, v in volumes.items() if "hostPath" in v}
    assert host["bpffs"] == mounts["bpffs"]["mountPath"] == "/sys/fs/bpf"
    assert host["securityfs"] == mounts["securityfs"]["mountPath"] == "/sys/kernel/security"
    assert host["cgroup"] == mounts["cgroup"]["mountPath"] == "/sys/fs/cgroup"
    assert mounts["bpffs"]["mountPropagation"] == "HostToContainer"
    assert not mounts["bpffs"].get("readOnly", False), "the daemon pins its maps in bpffs"
    for ro in ("securityfs", "cgroup", "policy"):
        assert mounts[ro]["readOnly"] is True, ro
    for m in c["volumeMounts"]:
        assert m.get("mountPropagation", "None") in ("None", "HostToContainer", "Bidirectional")
    for v in volumes.values():
        if "hostPath" in v:
            assert v["hostPath"]["type"] in ("Directory", "DirectoryOrCreate")


def test_node_id_comes_from_the_downward_api(objects):
    _, _, c = daemon_container(objects)
    env = {e["name"]: e for e in c["env"]}
    ref = env["NODE_NAME"]["valueFrom"]["fieldRef"]
    assert ref["fieldPath"] == "spec.nodeName"
    args = c["args"]
    assert args[args.index("--node-id") + 1] == "$(NODE_NAME)"


def test_args_are_daemon_options_and_paths_are_writable_mounts(objects):
    _, _, c = daemon_container(objects)
    flags = daemon_flags()
    assert {"policy", "log", "state-dir", "node-id"} <= flags, "option table not found in src/daemon/options.c"
    args = c["args"]
    for a in args:
        if a.startswith("--"):
            assert a[2:] in flags, f"sysguardd has no option {a}"
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    for opt in ("--log", "--state-dir"):
        path = args[args.index(opt) + 1]
        d = os.path.dirname(path) if opt == "--log" else path
        assert d in mounts and not mounts[d].get("readOnly", False), f"{opt} {path} not on a writable mount"


def test_policy_comes_from_the_configmap_as_a_directory(objects):
    _, spec, c = daemon_container(objects)
    cm = by_kind(objects, "ConfigMap")
    vol = {v["name"]: v for v in spec["volumes"]}["policy"]
    assert vol["configMap"]["name"] == cm["metadata"]["name"]
    mount = {m["name"]: m for m in c["volumeMounts"]}["policy"]
    # A subPath mount never sees ConfigMap updates: mount the directory.
    assert "subPath" not in mount
    args = c["args"]
    policy_path = args[args.index("--policy") + 1]
    assert os.path.dirname(policy_path) == mount["mountPath"]
    policy = yaml.safe_load(cm["data"][os.path.basename(policy_path)])
    assert {"version", "mode", "default", "rules"} <= set(policy)
    assert policy["mode"] in ("monitor", "enforce")


def test_service_account_is_used_without_a_token(objects):
    _, spec, _ = daemon_container(objects)
    sa = by_kind(objects, "ServiceAccount")
    assert spec["serviceAccountName"] == sa["metadata"]["name"]
    assert sa["automountServiceAccountToken"] is False
    assert spec["automountServiceAccountToken"] is False


def _schema_validator():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node/npm not installed: Kubernetes schema check skipped")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json", "k8s_validate.mjs"):
        src, dst = HERE / name, NPM_DIR / name
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
            shutil.rmtree(NPM_DIR / "node_modules", ignore_errors=True)
    if not (NPM_DIR / "node_modules" / "kubernetes-models").is_dir():
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NPM_DIR,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        if r.returncode:
            pytest.skip(f"npm ci failed (registry unreachable?): {r.stdout[-500:]}")
    return node


@pytest.mark.parametrize("values", [{}, {"bpffsBidirectional": True}], ids=["default", "bidirectional"])
def test_objects_pass_the_kubernetes_openapi_schema(values):
    node = _schema_validator()
    docs = rendered(**values)
    bad_spec = json.loads(json.dumps(docs))
    daemon_container(bad_spec)[1]["hostPID"] = "yes"
    for objs, want_clean in ((docs, True), (bad_spec, False)):
        r = subprocess.run([node, "k8s_validate.mjs"], cwd=NPM_DIR, input=json.dumps(objs),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        problems = json.loads(r.stdout)
        if want_clean:
            assert problems == []
        else:  # the validator really validates
            assert any("hostPID" in p["error"] for p in problems), problems


# --------------------------------------------------------------------------
# systemd
# --------------------------------------------------------------------------

def unit_keys():
    keys, section = {}, None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        keys.setdefault((section, k.strip()), []).append(v.strip())
    return keys


def test_systemd_unit_is_hardened():
    k = unit_keys()
    one = {key: vals[-1] for key, vals in k.items()}
    s = lambda name: one.get(("Service", name))  # noqa: E731
    assert s("NoNewPrivileges") == "yes"
    assert s("ProtectSystem") == "strict"
    assert s("ProtectHome") in ("yes", "read-only", "tmpfs")
    assert s("SystemCallArchitectures") == "native"
    assert s("LockPersonality") == "yes"
    assert s("MemoryDenyWriteExecute") == "yes"
    assert s("Restart") == "always"
    # Waits for the daemon's answer, so `systemctl reload` fails when the policy is refused.
    assert s("ExecReload") == "/usr/sbin/sysguardctl reload"
    # Started means enforcing (READY=1), and a stuck event loop is restarted.
    assert s("Type") == "notify"
    assert s("NotifyAccess") == "main"
    assert s("WatchdogSec") == "30s"
    fams = set(s("RestrictAddressFamilies").split())
    assert fams <= {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
    caps = {"CAP_" + c for c in CAPS}
    assert set(s("CapabilityBoundingSet").split()) == caps
    assert set(s("AmbientCapabilities").split()) == caps
    # Taken away on purpose: each would blind or break the agent (see the unit's comments).
    for off in ("PrivateTmp", "PrivateDevices", "ProtectKernelTunables", "ProtectControlGroups",
                "ProtectProc", "PrivateNetwork", "PrivateMounts"):
        assert ("Service", off) not in k, off
    assert ("Install", "WantedBy") in k


def unit_settings():
    """ExecStart's argv and what the daemon gets from its --config file (the reference config)."""
    argv = unit_keys()[("Service", "ExecStart")][-1].split()
    assert argv[:3] == ["/usr/sbin/sysguardd", "--config", "/etc/sysguard/sysguard.yaml"]
    settings = yaml.safe_load(REFERENCE_CONFIG.read_text())
    for opt, key in (("--log", "log"), ("--state-dir", "state_dir"), ("--policy", "policy")):
        if opt in argv:
            settings[key] = argv[argv.index(opt) + 1]
    return argv, settings


def test_systemd_unit_writes_only_where_allowed():
    k = unit_keys()
    argv, settings = unit_settings()
    rw = {p.lstrip("-") for p in " ".join(k[("Service", "ReadWritePaths")]).split()}
    assert os.path.dirname(settings["log"]) in rw
    assert settings["state_dir"] in rw
    # Self-defence rewrites the policy (policy apply) and restores its own binary.
    assert os.path.dirname(settings["policy"]) in rw
    assert argv[0] in rw
    flags = daemon_flags()
    for a in argv[1:]:
        if a.startswith("--"):
            assert a[2:] in flags, f"sysguardd has no option {a}"


def test_systemd_analyze_verify_the_installed_unit(tmp_path):
    """The unit as `make install` puts it, checked against the installed binaries (--root)."""
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze not installed (apt-get install systemd)")
    root = tmp_path / "root"
    r = subprocess.run(["make", "-C", str(REPO), "-s", "install", f"DESTDIR={root}"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:]
    unit = "/lib/systemd/system/sysguardd.service"
    assert (root / unit.lstrip("/")).is_file()
    verify = [tool, "verify", f"--root={root}", unit]
    r = subprocess.run(verify, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    assert r.returncode == 0 and "sysguardd.service" not in r.stdout, r.stdout
    # ...and verify does look at the installed tree: without the binary it fails.
    (root / "usr/sbin/sysguardd").unlink()
    r = subprocess.run(verify, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=60)
    assert r.returncode != 0 and "/usr/sbin/sysguardd" in r.stdout, r.stdout


# --------------------------------------------------------------------------
# Container image
# --------------------------------------------------------------------------

def test_dockerfile_is_multi_stage_debian_12():
    lines = [l for l in DOCKERFILE.read_text().splitlines() if l.startswith("FROM ")]
    assert len(lines) == 2
    assert all(re.match(r"FROM debian:12(-slim)?\b", l) for l in lines)
    assert "COPY --from=build" in DOCKERFILE.read_text()


def test_runtime_image_installs_the_libraries_the_daemon_links():
    exe = REPO / "build" / "sysguardd"
    if not exe.exists() or not shutil.which("readelf") or not shutil.which("dpkg"):
        pytest.skip("needs build/sysguardd, readelf and dpkg")
    text = DOCKERFILE.read_text()
    runtime = text[text.rindex("FROM "):]
    m = re.search(r"apt-get install -y --no-install-recommends(.*?)&&", runtime, re.S)
    pkgs = set(m.group(1).replace("\\", " ").split())
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", str(exe)], stdout=subprocess.PIPE,
                                       text=True, check=True).stdout)
    assert needed
    for soname in needed:
        if soname.startswith(("libc.so", "libm.so", "ld-linux")):
            continue  # in every Debian image
        r = subprocess.run(["dpkg", "-S", f"*/{soname}"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        owners = {line.split(":")[0] for line in r.stdout.splitlines()}
        assert owners & pkgs, f"{soname} (from {owners}) not installed in the runtime image"

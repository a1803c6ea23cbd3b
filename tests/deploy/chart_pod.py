# SPDX-License-Identifier: Apache-2.0
"""
The chart's pod as the kubelet would start it, for tests that run the real
daemon on a rendering (tests/deploy/test_chart_values.py, and
tests/e2e/test_chart_daemon.py): the rendered objects by kind and name, the
files of every ConfigMap and Secret volume, and the daemon's arguments with
the pod's paths moved under a directory of the test.
"""
import base64
import re
from pathlib import Path

import yaml

from helm_render import render_chart

CHART = Path(__file__).resolve().parents[2] / "deploy" / "helm" / "sysguard"


def docs_of(text):
    return [d for d in yaml.safe_load_all(text) if d]


def render(values=None, namespace="sysguard"):
    docs = []
    for text in render_chart(CHART, values=values or {}, namespace=namespace).values():
        docs += docs_of(text)
    return docs


def objs(docs):
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def pod_of(docs):
    ds = objs(docs)[("DaemonSet", "sysguard")]
    spec = ds["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    return ds, spec, c


def settings_of(docs):
    sec = objs(docs)[("Secret", "sysguard-settings")]
    return sec, yaml.safe_load(sec["stringData"]["sysguard.yaml"])


def opt(args, name):
    return [args[i + 1] for i, a in enumerate(args) if a == name]


def volume_files(docs, made, spec, c):
    """{path in the container: bytes} of every ConfigMap and Secret file the pod mounts."""
    known = objs(docs)
    known.update({(d["kind"], d["metadata"]["name"]): d for d in made})
    vols = {v["name"]: v for v in spec["volumes"]}
    files = {}
    for m in c["volumeMounts"]:
        v = vols[m["name"]]
        if "configMap" in v:
            src, kind, ref = v["configMap"], "ConfigMap", v["configMap"]["name"]
        elif "secret" in v:
            src, kind, ref = v["secret"], "Secret", v["secret"]["secretName"]
        else:
            continue
        assert (kind, ref) in known, f"volume {m['name']}: no {kind} {ref}"
        obj = known[(kind, ref)]
        content = {k: s.encode() for k, s in obj.get("stringData", {}).items()}
        b64 = obj.get("binaryData", {}) if kind == "ConfigMap" else obj.get("data", {})
        content.update({k: base64.b64decode(s) for k, s in b64.items()})
        if kind == "ConfigMap":
            content.update({k: s.encode() for k, s in obj.get("data", {}).items()})
        items = src.get("items") or [{"key": k, "path": k} for k in content]
        for it in items:
            assert it["key"] in content, f"{kind} {ref} has no key {it['key']}"
            files[f"{m['mountPath']}/{it['path']}"] = content[it["key"]]
    return files


def kubelet_start(docs, made, root):
    """
    The pod's volumes made under root as the kubelet would mount them, and
    (argv, moved): the daemon's arguments with the pod's paths moved under
    root, and the function that moves them (for the probes' commands).
    """
    _, spec, c = pod_of(docs)
    files = volume_files(docs, made, spec, c)
    mounts = sorted((m["mountPath"] for m in c["volumeMounts"]), key=len, reverse=True)

    def moved(text):
        for mp in mounts:
            text = re.sub(rf"(?<![\w/]){re.escape(mp)}(?=/|$|\"|\s)", str(root) + mp, text)
        return text

    for mp in mounts:
        (root / mp.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for path, data in files.items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(moved(data.decode()).encode() if path.endswith("sysguard.yaml") else data)
    env = {e["name"]: "node-7" for e in c["env"]}  # spec.nodeName
    argv = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in c["args"]]
    # The daemon runs here in this test's own mount namespace, not a pod's: it
    # has no node to join (tests/e2e/test_in_pod.py runs the join for real).
    if "--host-mount-ns" in argv:
        i = argv.index("--host-mount-ns")
        assert argv[i + 1] == "/proc/1/ns/mnt", argv
        del argv[i:i + 2]
    return [moved(a) for a in argv], moved

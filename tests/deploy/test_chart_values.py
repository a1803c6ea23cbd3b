# SPDX-License-Identifier: Apache-2.0
"""
The Helm chart's values (deploy/helm/sysguard/values.yaml): rendered with
the defaults and with every feature on, each value lands where the daemon
and Kubernetes read it; the objects pass the Kubernetes OpenAPI schemas (the
ServiceMonitor, a CRD, is checked here); and the real sysguardd takes what
the chart gives it.

The daemon has no check-only mode, so the last part runs build/sysguardd as
the kubelet would start it: the pod's volumes are made in a temporary
directory from the rendered ConfigMaps and Secrets (and the Secrets the
values name, as an operator would have made them), and the daemon runs with
the rendered arguments and settings file, their paths moved into that
directory. It runs as nobody without capabilities: it reads and checks its
settings, the trusted keys, starts its SIEM export, alerts, API and metrics
listeners, loads and verifies the policy, and then stops (exit 1) where it
would load its BPF programs, which only root can. Nothing is changed outside
the temporary directory: nobody can neither mount nor touch /sys/fs/bpf.
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from chart_pod import kubelet_start, objs, opt, pod_of, render, settings_of, volume_files
from helm_render import TemplateError
from test_manifests import DOCKERFILE, NPM_DIR, REPO, _schema_validator, daemon_flags

SYSGUARDD = REPO / "build" / "sysguardd"
SYSGUARDCTL = REPO / "build" / "sysguardctl"
NOBODY = 65534
# Set in the values below: what each Secret the values name (made by the operator) holds.
API_TOKEN, METRICS_TOKEN = "api-token-0123456789abcdef", "metrics-token-0123456789abc"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """A signing key pair and a signed bundle (the real sysguardctl), a certificate and its key."""
    if not SYSGUARDCTL.exists() or not shutil.which("openssl"):
        pytest.fail("needs build/sysguardctl (make) and openssl")
    d = tmp_path_factory.mktemp("material")
    for name in ("ops", "backup"):
        subprocess.run([SYSGUARDCTL, "policy", "keygen", d / name], check=True, capture_output=True)
    policy = d / "policy.yaml"
    policy.write_text('version: "bundle-7"\nmode: monitor\ndefault: allow\nrules:\n'
                      '  - name: no-xmrig\n    action: deny\n    glob: "/**/xmrig"\n')
    subprocess.run([SYSGUARDCTL, "policy", "sign", "--key", d / "ops.key", "--version", "7",
                    policy, "-o", d / "v7.bundle"], check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=sysguard-test", "-keyout", d / "tls.key", "-out", d / "tls.crt"],
                   check=True, capture_output=True)
    return {k: (d / f).read_text() for k, f in (
        ("ops.pub", "ops.pub"), ("backup.pub", "backup.pub"), ("bundle", "v7.bundle"),
        ("crt", "tls.crt"), ("key", "tls.key"))}


def all_on(material, api_port=9101, metrics_port=9464, alert_port=9, siem_port=9):
    """Every value of the chart away from its default."""
    return {
        "image": {"repository": "registry.example.com/sec/sysguard", "tag": "1.2.3",
                  "pullPolicy": "Always"},
        "imagePullSecrets": ["regcred"],
        "policyBundle": material["bundle"],
        "trustedKeys": {"ops.pub": material["ops.pub"], "backup.pub": material["backup.pub"]},
        "mode": "enforce",
        "strict": True,
        "crashLimit": 5,
        "recordHashes": True,
        "alerts": {"enabled": True, "url": f"http://127.0.0.1:{alert_port}/services/T0/B0/XyZzy-hook-secret",
                   "format": "teams", "dedupWindowSeconds": 120, "perMinute": 10, "timeoutMs": 2000,
                   "caBundle": material["crt"]},
        # 1000000: Helm would print it as 1e+06 without `int`.
        "siem": {"enabled": True, "address": f"127.0.0.1:{siem_port}", "transport": "tls",
                 "serverName": "siem.example.com", "queue": 1000000, "facility": "local3",
                 "caBundle": material["crt"], "clientCertSecret": "siem-client"},
        "api": {"enabled": True, "token": API_TOKEN, "port": api_port},
        "metrics": {"enabled": True, "host": "0.0.0.0", "port": metrics_port, "token": METRICS_TOKEN,
                    "tlsSecret": "metrics-tls", "service": {"enabled": True}},
        "serviceMonitor": {"enabled": True, "interval": "15s", "labels": {"release": "prom"},
                           "tlsConfig": {"ca": {"secret": {"name": "metrics-tls", "key": "ca.crt"}},
                                         "serverName": "sysguard-metrics"}},
        "extraArgs": ["--record-immutable-refusals", "--disable-backend", "egress"],
        "capabilities": ["BPF", "PERFMON", "SYS_ADMIN", "KILL", "SYS_PTRACE", "LINUX_IMMUTABLE",
                         "DAC_READ_SEARCH", "NET_ADMIN"],
        "seccompProfile": "Unconfined",
        "logDir": "/srv/sysguard/log",
        "dataDir": "/srv/sysguard/lib",
        "priorityClassName": "security-critical",
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "1Gi"}},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "node-role.kubernetes.io/edge", "operator": "DoesNotExist"}]}]}}},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "security",
                         "effect": "NoSchedule"}],
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
    }


def existing_secrets(material):
    """The values' existingSecret variant, and the Secrets an operator made for it."""
    values = {"api": {"enabled": True, "existingSecret": "ops-api", "existingSecretKey": "bearer"},
              "metrics": {"enabled": True, "existingSecret": "ops-metrics",
                          "existingSecretKey": "prom"},
              "serviceMonitor": {"enabled": True}}
    return values, made_by_operator(material)


def made_by_operator(material):
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    tls = {"tls.crt": b64(material["crt"]), "tls.key": b64(material["key"]),
           "ca.crt": b64(material["crt"])}
    return [
        {"kind": "Secret", "metadata": {"name": "ops-api"}, "data": {"bearer": b64(API_TOKEN + "\n")}},
        {"kind": "Secret", "metadata": {"name": "ops-metrics"}, "data": {"prom": b64(METRICS_TOKEN)}},
        {"kind": "Secret", "metadata": {"name": "metrics-tls"}, "type": "kubernetes.io/tls", "data": tls},
        {"kind": "Secret", "metadata": {"name": "siem-client"}, "type": "kubernetes.io/tls", "data": tls},
    ]


# --------------------------------------------------------------------------
# Where each value lands
# --------------------------------------------------------------------------

def test_defaults_turn_every_optional_feature_off():
    docs = render()
    assert sorted(objs(docs)) == [("ConfigMap", "sysguard-policy"), ("DaemonSet", "sysguard"),
                                  ("Secret", "sysguard-settings"), ("ServiceAccount", "sysguard")]
    _, spec, c = pod_of(docs)
    _, settings = settings_of(docs)
    assert settings == {"strict": False, "crash_limit": 3, "record_hashes": False,
                        "files": {"blocklist": "/var/lib/sysguard/blocklist"}}
    assert "ports" not in c
    assert not opt(c["args"], "--trusted-key") and not opt(c["args"], "--bundle-state")
    assert {v["name"] for v in spec["volumes"]} == {"policy", "settings", "bpffs", "securityfs",
                                                    "cgroup", "logs", "data", "state"}
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert "nodeSelector" not in spec and "affinity" not in spec and "imagePullSecrets" not in spec
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["exec"]["command"] == ["/usr/sbin/sysguardctl", "status", "-o", "json"]


def test_every_value_lands_where_it_is_read(material):
    values = all_on(material)
    docs = render(values)
    o = objs(docs)
    ds, spec, c = pod_of(docs)
    args = c["args"]
    sec, settings = settings_of(docs)

    # The pod.
    assert c["image"] == "registry.example.com/sec/sysguard:1.2.3"
    assert c["imagePullPolicy"] == "Always"
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["nodeSelector"] == values["nodeSelector"]
    assert spec["affinity"] == values["affinity"]
    assert spec["tolerations"] == values["tolerations"]
    assert spec["priorityClassName"] == "security-critical"
    assert c["resources"] == values["resources"]
    assert ds["spec"]["updateStrategy"] == values["updateStrategy"]
    assert c["securityContext"]["seccompProfile"] == {"type": "Unconfined"}
    host = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v}
    assert host["logs"] == "/srv/sysguard/log" and host["data"] == "/srv/sysguard/lib"

    # The daemon's settings file.
    assert opt(args, "--config") == ["/etc/sysguard/settings/sysguard.yaml"]
    assert settings == {
        "mode": "enforce", "strict": True, "crash_limit": 5, "record_hashes": True,
        "files": {"blocklist": "/var/lib/sysguard/blocklist"},
        "alerts": {"enabled": True, "url": values["alerts"]["url"], "format": "teams",
                   "dedup_window_s": 120, "per_minute": 10, "timeout_ms": 2000,
                   "ca_bundle": "/etc/sysguard/settings/alerts-ca.pem"},
        "siem": {"enabled": True, "address": values["siem"]["address"], "transport": "tls",
                 "server_name": "siem.example.com", "queue": 1000000, "facility": "local3",
                 "ca_file": "/etc/sysguard/settings/siem-ca.pem",
                 "cert_file": "/etc/sysguard/siem-client/tls.crt",
                 "key_file": "/etc/sysguard/siem-client/tls.key"},
        "api": {"token_file": "/etc/sysguard/api/token", "port": 9101},
        "metrics": {"address": "0.0.0.0:9464", "token_file": "/etc/sysguard/metrics/token",
                    "tls_cert": "/etc/sysguard/metrics-tls/tls.crt",
                    "tls_key": "/etc/sysguard/metrics-tls/tls.key"},
    }
    assert sec["stringData"]["alerts-ca.pem"].strip() == material["crt"].strip()
    assert sec["stringData"]["siem-ca.pem"].strip() == material["crt"].strip()
    # The webhook URL (its path is the secret) is in the Secret only, not in the pod.
    assert "XyZzy" not in json.dumps(ds) and "XyZzy" not in json.dumps(c["args"])

    # Signed bundles: the bundle byte for byte, each key a --trusted-key, the version on the node.
    cm = o[("ConfigMap", "sysguard-policy")]
    assert "data" not in cm
    assert base64.b64decode(cm["binaryData"]["policy.bundle"]).decode() == material["bundle"]
    assert opt(args, "--policy") == ["/etc/sysguard/policy/policy.bundle"]
    keys = o[("ConfigMap", "sysguard-trusted-keys")]["data"]
    assert keys == {"ops.pub": material["ops.pub"], "backup.pub": material["backup.pub"]}
    assert sorted(opt(args, "--trusted-key")) == ["/etc/sysguard/keys/backup.pub",
                                                  "/etc/sysguard/keys/ops.pub"]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert opt(args, "--bundle-state") == ["/var/lib/sysguard/policy-version"]
    assert mounts["/var/lib/sysguard"]["name"] == "data"
    assert not mounts["/var/lib/sysguard"].get("readOnly", False)

    # Extra arguments come last, as given.
    assert args[-3:] == values["extraArgs"]

    # The tokens: Secrets of the chart, each mounted as the file the settings name.
    for name, token in (("api", API_TOKEN), ("metrics", METRICS_TOKEN)):
        s = o[("Secret", f"sysguard-{name}-token")]
        assert base64.b64decode(s["data"]["token"]).decode() == token
    assert c["ports"] == [{"name": "metrics", "containerPort": 9464, "protocol": "TCP"}]


def test_secret_files_are_mounted_where_the_settings_point(material):
    for values, made in ((all_on(material), made_by_operator(material)), existing_secrets(material)):
        docs = render(values)
        _, spec, c = pod_of(docs)
        _, settings = settings_of(docs)
        files = volume_files(docs, made, spec, c)
        wanted = [v for sect in settings.values() if isinstance(sect, dict)
                  for k, v in sect.items() if k.endswith(("_file", "_bundle", "_cert", "_key"))]
        wanted += opt(c["args"], "--trusted-key") + opt(c["args"], "--policy")
        assert wanted
        for path in wanted:
            assert path in files, f"{path} is in no volume"
        vols = {v["name"]: v for v in spec["volumes"]}
        for m in c["volumeMounts"]:
            v = vols[m["name"]]
            if "secret" in v:
                assert m["readOnly"] is True
                assert v["secret"]["defaultMode"] == 0o400, "secrets readable by root only"


def test_existing_secrets_are_used_instead_of_the_charts(material):
    values, _ = existing_secrets(material)
    docs = render(values)
    o = objs(docs)
    assert ("Secret", "sysguard-api-token") not in o and ("Secret", "sysguard-metrics-token") not in o
    _, spec, _ = pod_of(docs)
    vols = {v["name"]: v["secret"] for v in spec["volumes"] if "secret" in v}
    assert vols["api-token"]["secretName"] == "ops-api"
    assert vols["api-token"]["items"] == [{"key": "bearer", "path": "token"}]
    assert vols["metrics-token"]["secretName"] == "ops-metrics"
    auth = o[("ServiceMonitor", "sysguard")]["spec"]["endpoints"][0]["authorization"]
    assert auth == {"type": "Bearer", "credentials": {"name": "ops-metrics", "key": "prom"}}


def test_probes_use_the_api_with_its_token_when_it_is_on(material):
    _, spec, c = pod_of(render({"api": {"enabled": True, "token": API_TOKEN}}))
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        cmd = c[probe]["exec"]["command"]
        assert cmd == ["/usr/sbin/sysguardctl", "status", "-o", "json", "--token-file",
                       "/etc/sysguard/api/token"]
        assert os.path.dirname(cmd[-1]) == mounts["api-token"]
    assert c["livenessProbe"]["periodSeconds"] >= c["readinessProbe"]["periodSeconds"]
    assert c["startupProbe"]["failureThreshold"] * c["startupProbe"]["periodSeconds"] >= 120
    # The probe's program is the one the image installs.
    assert "COPY --from=build /src/build/sysguardd /src/build/sysguardctl /usr/sbin/" in \
        DOCKERFILE.read_text()


def test_probe_command_is_accepted_by_the_real_sysguardctl(tmp_path):
    """Without a daemon it says so (exit 3), not a usage error (2), with and without the API."""
    token = tmp_path / "token"
    token.write_text(API_TOKEN)
    for api in (False, True):
        _, _, c = pod_of(render({"api": {"enabled": api, "token": API_TOKEN}}))
        cmd = c["readinessProbe"]["exec"]["command"]
        argv = [SYSGUARDCTL, "--state-dir", tmp_path] + cmd[1:]
        argv = [str(token) if a == "/etc/sysguard/api/token" else a for a in argv]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert r.returncode == 3, (r.returncode, r.stderr)


def test_service_and_service_monitor(material):
    docs = render(all_on(material), namespace="monitoring-test")
    o = objs(docs)
    _, _, c = pod_of(docs)
    svc = o[("Service", "sysguard-metrics")]
    sm = o[("ServiceMonitor", "sysguard")]
    check_service_monitor(sm, docs)
    assert svc["spec"]["clusterIP"] == "None"
    assert svc["spec"]["ports"] == [{"name": "metrics", "port": 9464, "targetPort": "metrics",
                                     "protocol": "TCP"}]
    assert svc["spec"]["selector"].items() <= \
        o[("DaemonSet", "sysguard")]["spec"]["template"]["metadata"]["labels"].items()
    assert {p["name"] for p in c["ports"]} == {"metrics"}
    ep = sm["spec"]["endpoints"][0]
    assert sm["metadata"]["labels"]["release"] == "prom"
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["monitoring-test"]}
    assert ep["interval"] == "15s" and ep["scheme"] == "https"
    assert ep["tlsConfig"] == all_on(material)["serviceMonitor"]["tlsConfig"]
    assert ep["authorization"] == {"type": "Bearer",
                                   "credentials": {"name": "sysguard-metrics-token", "key": "token"}}
    # A Service alone, without the operator's CRD.
    o = objs(render({"metrics": {"enabled": True, "token": METRICS_TOKEN,
                                 "service": {"enabled": True}}}))
    assert ("Service", "sysguard-metrics") in o and ("ServiceMonitor", "sysguard") not in o
    # A plain http endpoint without a token when only TLS... is refused below; token only:
    sm = objs(render({"metrics": {"enabled": True, "token": METRICS_TOKEN},
                      "serviceMonitor": {"enabled": True}}))[("ServiceMonitor", "sysguard")]
    assert sm["spec"]["endpoints"][0]["scheme"] == "http"
    assert "tlsConfig" not in sm["spec"]["endpoints"][0]


@pytest.mark.parametrize("values, msg", [
    ({"mode": "enforcing"}, "mode must be"),
    ({"alerts": {"enabled": True}}, "alerts.url"),
    ({"siem": {"enabled": True}}, "siem.address"),
    ({"api": {"enabled": True}}, "api.token or api.existingSecret"),
    ({"metrics": {"enabled": True}}, "needs a token"),
    ({"serviceMonitor": {"enabled": True}}, "need metrics.enabled"),
    ({"policyBundle": "sysguard-policy-bundle-v1\n"}, "needs trustedKeys"),
    ({"trustedKeys": {"ops.pub": "x"}}, "signed bundle only"),
])
def test_values_the_daemon_would_refuse_fail_to_render(values, msg):
    with pytest.raises(TemplateError, match=msg):
        render(values)


def test_settings_checksum_rolls_the_pods_on_a_settings_change_only():
    def checksum(values):
        ds, _, _ = pod_of(render(values))
        return ds["spec"]["template"]["metadata"]["annotations"]["checksum/settings"]
    base = checksum({})
    assert checksum({"mode": "enforce"}) != base
    assert checksum({"alerts": {"enabled": True, "url": "https://hooks.example.com/x"}}) != base
    # The daemon reloads a changed policy itself: no restart for that.
    assert checksum({"policy": "version: x\ndefault: allow\n"}) == base


# --------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------

DURATION = re.compile(r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?"
                      r"(([0-9]+)s)?(([0-9]+)ms)?)$")
ENDPOINT_KEYS = {"port", "path", "interval", "scheme", "tlsConfig", "authorization"}
TLS_KEYS = {"ca", "cert", "keySecret", "serverName", "insecureSkipVerify", "caFile", "certFile",
            "keyFile", "minVersion", "maxVersion"}


def check_service_monitor(sm, docs):
    """
    The ServiceMonitor beyond its CRD's schema (validate_k8s), which lets unknown fields through:
    only fields the CRD has, the Service it selects and the port it names exist.
    """
    assert sm["apiVersion"] == "monitoring.coreos.com/v1" and sm["kind"] == "ServiceMonitor"
    assert set(sm) == {"apiVersion", "kind", "metadata", "spec"}
    md = sm["metadata"]
    assert isinstance(md["name"], str) and isinstance(md["namespace"], str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in md["labels"].items())
    spec = sm["spec"]
    assert set(spec) <= {"selector", "namespaceSelector", "endpoints"}
    assert set(spec["selector"]) == {"matchLabels"}
    assert set(spec["namespaceSelector"]) <= {"matchNames", "any"}
    assert spec["namespaceSelector"]["matchNames"] == [md["namespace"]]
    services = [d for d in docs if d["kind"] == "Service"
                and spec["selector"]["matchLabels"].items() <= d["metadata"]["labels"].items()]
    assert len(services) == 1, "the ServiceMonitor selects exactly the metrics Service"
    port_names = {p["name"] for p in services[0]["spec"]["ports"]}
    assert isinstance(spec["endpoints"], list) and spec["endpoints"]
    for ep in spec["endpoints"]:
        assert set(ep) <= ENDPOINT_KEYS, set(ep) - ENDPOINT_KEYS
        assert ep["port"] in port_names
        assert ep["path"].startswith("/")
        assert DURATION.match(ep["interval"]), ep["interval"]
        assert ep["scheme"] in ("http", "https")
        if "tlsConfig" in ep:
            assert set(ep["tlsConfig"]) <= TLS_KEYS
        if "authorization" in ep:
            auth = ep["authorization"]
            assert auth["type"] == "Bearer" and set(auth) == {"type", "credentials"}
            assert set(auth["credentials"]) == {"name", "key"}
            assert all(isinstance(v, str) and v for v in auth["credentials"].values())


def validate_k8s(docs):
    """Problems k8s_validate.mjs finds: core objects and the ServiceMonitor's CRD schema."""
    node = _schema_validator()
    r = subprocess.run([node, "k8s_validate.mjs"], cwd=NPM_DIR, input=json.dumps(docs),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_everything_on_passes_the_kubernetes_schemas(material):
    for values in (all_on(material), existing_secrets(material)[0]):
        docs = render(values)
        assert validate_k8s(docs) == []
        for sm in (d for d in docs if d["kind"] == "ServiceMonitor"):
            check_service_monitor(sm, docs)
    # ...and the checks do check: a toleration with a bad shape, a ServiceMonitor's bad interval.
    docs = render(all_on(material))
    pod_of(docs)[1]["tolerations"] = "everything"
    objs(docs)[("ServiceMonitor", "sysguard")]["spec"]["endpoints"][0]["interval"] = "15 s"
    problems = validate_k8s(docs)
    assert any("tolerations" in p["error"] for p in problems), problems
    assert any(p["kind"] == "ServiceMonitor" and "interval" in p["error"] for p in problems), problems


def test_service_monitor_check_catches_mistakes(material):
    docs = render(all_on(material))
    sm = objs(docs)[("ServiceMonitor", "sysguard")]
    for breakit in (lambda ep: ep.update(port="web"), lambda ep: ep.update(interval="15 s"),
                    lambda ep: ep.update(bearerTokenFile="/x"),
                    lambda ep: ep["authorization"].update(type="Basic")):
        bad = json.loads(json.dumps(sm))
        breakit(bad["spec"]["endpoints"][0])
        with pytest.raises(AssertionError):
            check_service_monitor(bad, docs)


# --------------------------------------------------------------------------
# The real daemon takes what the chart gives it
# --------------------------------------------------------------------------

@pytest.fixture
def nobody_dir():
    """A directory nobody can reach (pytest's tmp_path is under a root-only directory)."""
    d = Path(tempfile.mkdtemp(prefix="sysguard-chart-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d)


def run_as_nobody(argv, root):
    exe = root / "sysguardd"
    shutil.copy(SYSGUARDD, exe)
    for dirpath, dirnames, filenames in os.walk(root):
        for n in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            os.chown(n, NOBODY, NOBODY)
    cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
           "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", str(exe)] + argv
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=root,
                          env={"PATH": "/usr/bin:/bin"})


def audit_types(root):
    log = root / "var/log/sysguard/audit.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def daemon_run(docs, made, root):
    if not SYSGUARDD.exists() or not shutil.which("setpriv"):
        pytest.fail("needs build/sysguardd (make) and setpriv (util-linux)")
    argv, _ = kubelet_start(docs, made, root)
    r = run_as_nobody(argv, root)
    return r, audit_types(root)


def assert_started_up_to_the_bpf_load(r, records):
    # Exit 1 where the exec sensor's BPF programs are loaded: every setting before it was taken
    # (a refused setting, key file or listener is exit 2 earlier).
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "cannot start the exec sensor" in r.stderr, r.stderr
    types = [x.get("type") for x in records]
    assert "daemon_start" in types
    for bad in ("policy_error", "policy_bundle_rejected", "config_error"):
        assert bad not in types, [x for x in records if x.get("type") == bad]
    return types


def test_real_daemon_takes_the_default_rendering(nobody_dir):
    r, records = daemon_run(render(), [], nobody_dir)
    types = assert_started_up_to_the_bpf_load(r, records)
    assert "api_start" not in types and "metrics_start" not in types
    assert all(x.get("node_id") == "node-7" for x in records)


def test_real_daemon_takes_every_feature(material, nobody_dir):
    ports = dict(api_port=free_port(), metrics_port=free_port(), alert_port=free_port(),
                 siem_port=free_port())
    r, records = daemon_run(render(all_on(material, **ports)), made_by_operator(material), nobody_dir)
    types = assert_started_up_to_the_bpf_load(r, records)
    assert "api_start" in types and "metrics_start" in types
    accepted = [x for x in records if x.get("type") == "policy_bundle_accepted"]
    assert accepted and accepted[0]["bundle_version"] == 7, records
    # The anti-rollback state went to the node's data directory.
    assert (nobody_dir / "var/lib/sysguard/policy-version").read_text().strip() == "7"


def test_real_daemon_takes_existing_secrets(material, nobody_dir):
    values, made = existing_secrets(material)
    values["api"]["port"] = free_port()
    values["metrics"]["port"] = free_port()
    r, records = daemon_run(render(values), made, nobody_dir)
    types = assert_started_up_to_the_bpf_load(r, records)
    assert "api_start" in types and "metrics_start" in types


def test_real_daemon_run_does_refuse_a_bad_setting(material, nobody_dir):
    """The run above is a real check: a value the daemon refuses stops it before the BPF load."""
    docs = render({"siem": {"enabled": True, "address": "127.0.0.1:9", "facility": "local9"}})
    r, _ = daemon_run(docs, [], nobody_dir / "a")
    assert r.returncode == 2 and "siem facility" in r.stderr, r.stderr
    docs = render({"extraArgs": ["--no-such-option"]})
    r, _ = daemon_run(docs, [], nobody_dir / "b")
    assert r.returncode == 2, r.stderr
    values, made = existing_secrets(material)
    made[0]["data"]["bearer"] = base64.b64encode(b"short").decode()
    r, _ = daemon_run(render(values), made, nobody_dir / "c")
    assert r.returncode == 2 and "at least 16" in r.stderr, r.stderr


def test_every_option_the_chart_emits_exists(material):
    flags = daemon_flags()
    for values in ({}, all_on(material), existing_secrets(material)[0]):
        _, _, c = pod_of(render(values))
        for a in c["args"]:
            if a.startswith("--"):
                assert a[2:] in flags, a


def test_policy_fragments_are_projected_into_policy_d():
    docs = render({"policyFragments": ["sysguard-policy-payments", "sysguard-policy-search"]})
    _, spec, c = pod_of(docs)
    (vol,) = [v for v in spec["volumes"] if v["name"] == "policy-d"]
    assert [s["configMap"]["name"] for s in vol["projected"]["sources"]] == \
        ["sysguard-policy-payments", "sysguard-policy-search"]
    # Root's files, writable by no one else, or the daemon refuses them.
    assert vol["projected"]["defaultMode"] == 0o444
    (m,) = [m for m in c["volumeMounts"] if m["name"] == "policy-d"]
    assert m == {"name": "policy-d", "mountPath": "/etc/sysguard/policy.d", "readOnly": True}
    # The daemon's default fragment directory: no argument needed, none given.
    assert not opt(c["args"], "--policy-dir")
    assert "policy-d" not in {v["name"] for v in pod_of(render())[1]["volumes"]}
    with pytest.raises(TemplateError, match="a signed bundle takes no unsigned fragments"):
        render({"policyFragments": ["x"], "trustedKeys": {"a.pub": "k"}, "policyBundle": "b"})

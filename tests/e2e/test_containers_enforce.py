# SPDX-License-Identifier: Apache-2.0
"""
Enforcement inside containers started by real runtimes: podman (runc) and a
containerd the test starts (runc shim, driven with ctr). The daemon runs on
the host; every container starts after it.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import CTL_BIN, Policy, sha256_of
from containers import containerd, make_rootfs, podman, unique  # noqa: F401 (fixtures)


class Image:
    """An image holding /usr/bin/payload and /usr/bin/allowed (tagged static markers)."""

    def __init__(self, tools, workdir, podman, tag):
        src = Path(workdir) / f"src-{tag}"
        src.mkdir()
        self.payload_host = tools.make_bin(src, "payload", tag=f"payload-{tag}", static=True)
        self.allowed_host = tools.make_bin(src, "allowed", tag=f"allowed-{tag}", static=True)
        root = make_rootfs(Path(workdir) / f"root-{tag}",
                           {"/usr/bin/payload": self.payload_host,
                            "/usr/bin/allowed": self.allowed_host})
        self.ref = podman.build(unique(tag), root)
        self.payload_sha = sha256_of(self.payload_host)


@pytest.fixture
def out(workdir):
    d = Path(workdir) / "out"
    d.mkdir()
    d.chmod(0o777)
    return d


def vol(out):
    return ["-v", f"{out}:/out"]


def run_as_teams(podman, img, out, line, teams):
    """`line` (with {0} for the team) in one container per team, each annotated team=TEAM."""
    for team in teams:
        podman.run(img.ref, "/bin/sh", "-c", line.format(team), extra=vol(out),
                   annotations={"team": team})


def test_sha256_in_podman(tools, workdir, daemon, podman, out):
    """Denied by content; the record, and the API, name the container as podman recorded it."""
    img = Image(tools, workdir, podman, "sha")
    tok = Path(workdir) / "token"
    tok.write_text("container-test-token-0123456789\n")
    d = daemon(Policy([{"name": "no-payload", "action": "deny", "sha256": img.payload_sha}]),
               extra=["--api-token-file", str(tok)])
    name = unique("web")
    r = podman.run(img.ref, "/usr/bin/payload", "/out/m", name=name, extra=vol(out),
                   annotations={"team": "a"})
    assert not (out / "m").exists(), (r.stdout, r.stderr)
    r = podman.run(img.ref, "/usr/bin/allowed", "/out/ok", extra=vol(out))
    assert (out / "ok").exists(), (r.stdout, r.stderr)
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                     and (x["rule"] or {}).get("name") == "no-payload")[0]
    c = rec["process"]["container"]
    assert c["runtime"] == "podman" and c["verified"] is True
    assert c["name"] == name
    assert c["image"] == img.ref
    assert c["image_digest"] == podman.image_digest(img.ref)
    assert c["id"] == rec["process"]["container"]["id"] and len(c["id"]) == 64
    assert c["labels"]["team"] == "a"
    assert rec["process"]["container_exe"] == "/usr/bin/payload"
    assert rec["process"]["exe"].endswith("/merged/usr/bin/payload")
    # The monitoring API serves the same fields (the dashboard's feed reads it).
    r = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "events", "-o", "json",
                        "--token-file", str(tok)], capture_output=True, text=True, timeout=20)
    api = [e for e in json.loads(r.stdout) if e.get("event_id") == rec["event_id"]]
    assert api and api[0]["process"]["container"] == c, r


def test_path_rule_in_a_container_means_the_containers_path(tools, workdir, daemon, podman, out):
    img = Image(tools, workdir, podman, "path")
    d = daemon(Policy([{"name": "no-payload-in-containers", "action": "deny",
                        "path": "/usr/bin/payload", "container": {}}]))
    r = podman.run(img.ref, "/usr/bin/payload", "/out/m", extra=vol(out))
    assert not (out / "m").exists(), (r.stdout, r.stderr)
    # The same name under another directory, and another program, run.
    r = podman.run(img.ref, "/bin/sh", "-c", "cp /usr/bin/payload /tmp/payload && /tmp/payload /out/c",
                   extra=vol(out))
    assert (out / "c").exists(), (r.stdout, r.stderr)
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny")[0]
    assert rec["rule"]["name"] == "no-payload-in-containers"
    assert rec["process"]["container_exe"] == "/usr/bin/payload"
    # On the host the scoped rule does not apply: the host path is another file.
    host = tools.make_bin(workdir, "payload", tag="host-payload")
    r = __import__("subprocess").run([host, str(out / "host")], timeout=10)
    assert (out / "host").exists()


def test_unscoped_path_rule_is_the_hosts_path(tools, workdir, daemon, podman, out):
    """A path rule without a selector names the host's file: /usr/bin/payload in a
    container is another file, so the rule leaves it alone."""
    img = Image(tools, workdir, podman, "hostpath")
    daemon(Policy([{"name": "host-only", "action": "deny", "path": "/usr/bin/payload"}]))
    r = podman.run(img.ref, "/usr/bin/payload", "/out/m", extra=vol(out))
    assert (out / "m").exists(), (r.stdout, r.stderr)


def test_identity_rules_inside_containers(tools, workdir, daemon, podman, out):
    img = Image(tools, workdir, podman, "ident")
    hostbin = Path(workdir) / "hostbin"
    hostbin.mkdir()
    shared = tools.make_bin(hostbin, "shared", tag="shared-host", static=True)
    d = daemon(Policy([
        # This very file of the host, whatever name a container mounts it under.
        {"name": "host-file", "action": "deny", "identity": shared},
        # The file at this path in each matching container's own root.
        {"name": "image-file", "action": "deny", "identity": "/usr/bin/payload",
         "container": {"image": img.ref}},
    ]))
    r = podman.run(img.ref, "/mnt/shared", "/out/s", extra=vol(out) + ["-v", f"{hostbin}:/mnt:ro"])
    assert not (out / "s").exists(), (r.stdout, r.stderr)
    r = podman.run(img.ref, "/usr/bin/payload", "/out/p", extra=vol(out))
    assert not (out / "p").exists(), (r.stdout, r.stderr)
    # A copy is another file: identity rules follow the file, not the name.
    r = podman.run(img.ref, "/bin/sh", "-c", "cp /usr/bin/payload /tmp/p && /tmp/p /out/c",
                   extra=vol(out))
    assert (out / "c").exists(), (r.stdout, r.stderr)
    names = {x["rule"]["name"] for x in d.log_records()
             if x.get("type") == "exec" and x.get("decision") == "deny" and x.get("rule")}
    assert {"host-file", "image-file"} <= names


def test_scoped_rules_fire_only_for_their_selector(tools, workdir, daemon, podman, out):
    a = Image(tools, workdir, podman, "sela")
    b = Image(tools, workdir, podman, "selb")
    d = daemon(Policy([
        {"name": "image-a", "action": "deny", "glob": "/usr/bin/pay*", "container": {"image": a.ref}},
        {"name": "team-red", "action": "deny", "path": "/usr/bin/allowed",
         "container": {"labels": {"team": "red"}}},
    ]))
    r = podman.run(a.ref, "/usr/bin/payload", "/out/a", extra=vol(out))
    assert not (out / "a").exists(), (r.stdout, r.stderr)
    r = podman.run(b.ref, "/usr/bin/payload", "/out/b", extra=vol(out))
    assert (out / "b").exists(), (r.stdout, r.stderr)
    r = podman.run(b.ref, "/usr/bin/allowed", "/out/red", extra=vol(out), annotations={"team": "red"})
    assert not (out / "red").exists(), (r.stdout, r.stderr)
    r = podman.run(b.ref, "/usr/bin/allowed", "/out/blue", extra=vol(out), annotations={"team": "blue"})
    assert (out / "blue").exists(), (r.stdout, r.stderr)
    denied = [x for x in d.log_records() if x.get("type") == "exec" and x.get("decision") == "deny"]
    assert {x["rule"]["name"] for x in denied} == {"image-a", "team-red"}
    for x in denied:
        assert x["process"]["container"]["verified"] is True


DRIFT_ATTEMPTS = {
    # name: shell line run in the container; each would run a file the image did not have
    "copy": "cp /usr/bin/allowed /tmp/x && /tmp/x /out/copy",
    "download": "cat /usr/bin/allowed > /tmp/dl && chmod +x /tmp/dl && /tmp/dl /out/download",
    "chmod": "chmod 0700 /usr/bin/allowed && /usr/bin/allowed /out/chmod",
    "overwrite": "cat /usr/bin/payload > /usr/bin/allowed && /usr/bin/allowed /out/overwrite",
}


def test_drift_denied(tools, workdir, daemon, podman, out):
    img = Image(tools, workdir, podman, "drift")
    other = Image(tools, workdir, podman, "nodrift")
    d = daemon(Policy([], version="drift-1") .text + "drift:\n"
               f"  - {{name: web-drift, action: deny, container: {{image: \"{img.ref}\"}}}}\n")
    r = podman.run(img.ref, "/usr/bin/allowed", "/out/image", extra=vol(out))
    assert (out / "image").exists(), (r.stdout, r.stderr)
    for what, line in DRIFT_ATTEMPTS.items():
        r = podman.run(img.ref, "/bin/sh", "-c", line, extra=vol(out))
        assert not (out / what).exists(), (what, r.stdout, r.stderr)
    # Another image is not under the rule.
    r = podman.run(other.ref, "/bin/sh", "-c", DRIFT_ATTEMPTS["copy"], extra=vol(out))
    assert (out / "copy").exists(), (r.stdout, r.stderr)
    recs = [x for x in d.log_records() if x.get("type") == "exec" and x.get("reason") == "drift"]
    assert len(recs) >= len(DRIFT_ATTEMPTS), recs
    assert all(x["rule"]["kind"] == "drift" and x["rule"]["name"] == "web-drift" for x in recs)
    assert {x["drift"] for x in recs} <= {"not_in_image", "modified_after_start"}
    assert {x["process"]["container_exe"] for x in recs} >= {"/tmp/x", "/tmp/dl", "/usr/bin/allowed"}


def test_drift_reported_in_monitor_mode(tools, workdir, daemon, podman, out):
    img = Image(tools, workdir, podman, "driftmon")
    d = daemon(Policy([], version="drift-2", mode="monitor").text + "drift:\n"
               f"  - {{name: watch-drift, action: deny, container: {{image: \"{img.ref}\"}}}}\n")
    r = podman.run(img.ref, "/bin/sh", "-c", DRIFT_ATTEMPTS["copy"], extra=vol(out))
    assert (out / "copy").exists(), (r.stdout, r.stderr)
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("reason") == "drift")[0]
    assert rec["mode"] == "monitor" and rec["drift"] == "not_in_image"
    assert rec["process"]["container_exe"] == "/tmp/x"


def test_containerd_enforces_and_names_the_container(tools, workdir, daemon, podman, containerd, out):
    img = Image(tools, workdir, podman, "ctrd")
    ref = containerd.import_from(podman, img.ref)
    d = daemon(Policy([
        {"name": "no-payload", "action": "deny", "sha256": img.payload_sha},
        {"name": "db-allowed", "action": "deny", "path": "/usr/bin/allowed",
         "container": {"runtime": "containerd", "labels": {"app": "db"}}},
    ]))
    name = unique("ctr")
    containerd.ctr("run", "--rm", "--runtime", "io.containerd.runc.v2", "--mount",
                   f"type=bind,src={out},dst=/out,options=rbind:rw", "--label", "app=db",
                   ref, name, "/usr/bin/payload", "/out/m", check=False)
    assert not (out / "m").exists()
    containerd.ctr("run", "--rm", "--runtime", "io.containerd.runc.v2", "--mount",
                   f"type=bind,src={out},dst=/out,options=rbind:rw", "--label", "app=db",
                   ref, unique("ctr"), "/usr/bin/allowed", "/out/db", check=False)
    assert not (out / "db").exists()
    containerd.ctr("run", "--rm", "--runtime", "io.containerd.runc.v2", "--mount",
                   f"type=bind,src={out},dst=/out,options=rbind:rw", "--label", "app=web",
                   ref, unique("ctr"), "/usr/bin/allowed", "/out/web", check=False)
    assert (out / "web").exists()
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                     and (x["rule"] or {}).get("name") == "no-payload")[0]
    c = rec["process"]["container"]
    assert c["runtime"] == "containerd" and c["id"] == name and c["name"] == name
    assert c["labels"]["app"] == "db" and c["verified"] is True
    assert rec["process"]["container_exe"] == "/usr/bin/payload"
    d.wait_for(lambda x: x.get("type") == "exec" and (x["rule"] or {}).get("name") == "db-allowed")


def test_network_and_file_records_name_the_container(tools, workdir, daemon, podman, out):
    img = Image(tools, workdir, podman, "netfile")
    secret = Path(workdir) / "secret"
    secret.mkdir()
    (secret / "key").write_text("s3cret\n")
    d = daemon(Policy([]).text +
               "egress:\n  - {name: no-77, action: deny, cidr: \"127.0.0.77/32\", port: 9}\n"
               f"files:\n  - {{name: key, path: \"{secret / 'key'}\", deny: [read]}}\n")
    name = unique("nf")
    r = podman.run(img.ref, "/bin/sh", "-c",
                   "nc -w 1 127.0.0.77 9 </dev/null; cat /s/key > /out/leak",
                   name=name, extra=vol(out) + ["-v", f"{secret}:/s:ro"])
    assert (out / "leak").read_text() == "", (r.stdout, r.stderr)
    net = d.wait_for(lambda x: x.get("type") == "network" and x.get("blocked"))[0]
    assert net["process"]["container"]["name"] == name
    assert net["process"]["container"]["image"] == img.ref
    f = d.wait_for(lambda x: x.get("type") == "file_access")[0]
    assert f["process"]["container"]["name"] == name, f


def test_egress_rules_scoped_to_a_container(tools, workdir, daemon, podman, out):
    """An egress deny with a selector refuses connects from matching containers only:
    another container and the host reach the same address."""
    img = Image(tools, workdir, podman, "netscope")
    d = daemon(Policy([]).text +
               "egress:\n  - {name: web-no-78, action: deny, cidr: \"127.0.0.78/32\", port: 9,"
               " container: {labels: {team: web}}}\n")
    run_as_teams(podman, img, out, "nc -w 1 127.0.0.78 9 </dev/null 2>/out/{0}; echo rc=$? >> /out/{0}",
                 ("web", "db"))
    # Refused before any packet: EPERM; the other one reaches the (closed) port.
    assert "not permitted" in (out / "web").read_text(), (out / "web").read_text()
    assert "refused" in (out / "db").read_text(), (out / "db").read_text()
    from conftest import tcp_connect
    assert tcp_connect("127.0.0.78", 9) == __import__("errno").ECONNREFUSED
    recs = [x for x in d.log_records() if x.get("type") == "network"]
    assert len(recs) == 1 and recs[0]["blocked"], recs
    assert recs[0]["rule"]["name"] == "web-no-78"
    assert recs[0]["process"]["container"]["labels"]["team"] == "web"


CRI = {  # what containerd's CRI plugin writes into a pod container's OCI config
    "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.sandbox-namespace": "shop",
    "io.kubernetes.cri.sandbox-name": "web-7d9f",
    "io.kubernetes.cri.sandbox-uid": "6b9f2a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    "io.kubernetes.cri.container-name": "nginx",
}


def test_pod_fields_select_rules_and_are_recorded(tools, workdir, daemon, podman, out):
    """Pod namespace and name as the CRI records them select a rule; a pod of
    another namespace, and a `podman kube play` pod by its annotation."""
    img = Image(tools, workdir, podman, "pod")
    d = daemon(Policy([
        {"name": "shop-no-payload", "action": "deny", "path": "/usr/bin/payload",
         "container": {"pod_namespace": "shop", "pod_name": "web-*"}},
        {"name": "red-no-allowed", "action": "deny", "path": "/usr/bin/allowed",
         "container": {"labels": {"team": "red"}}},
    ]))
    podman.run(img.ref, "/usr/bin/payload", "/out/shop", extra=vol(out), annotations=CRI)
    podman.run(img.ref, "/usr/bin/payload", "/out/other", extra=vol(out),
               annotations=dict(CRI, **{"io.kubernetes.cri.sandbox-namespace": "search"}))
    assert not (out / "shop").exists() and (out / "other").exists()
    rec = d.wait_for(lambda x: x.get("type") == "exec" and
                     (x.get("rule") or {}).get("name") == "shop-no-payload")[0]
    c = rec["process"]["container"]
    assert (c["pod_namespace"], c["pod_name"], c["pod_uid"], c["k8s_container"]) == \
        ("shop", "web-7d9f", CRI["io.kubernetes.cri.sandbox-uid"], "nginx")
    # A Kubernetes pod manifest run by podman: its annotations reach the OCI config.
    pod = Path(workdir) / "pod.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: red-pod\n  annotations: {team: red}\n"
        "spec:\n  restartPolicy: Never\n  containers:\n    - name: app\n"
        f"      image: {img.ref}\n      command: [/usr/bin/allowed, /out/red]\n"
        f"      volumeMounts: [{{name: out, mountPath: /out}}]\n"
        f"  volumes: [{{name: out, hostPath: {{path: \"{out}\"}}}}]\n")
    try:
        podman("kube", "play", "--network", "none", pod)
        d.wait_for(lambda x: x.get("type") == "exec" and
                   (x.get("rule") or {}).get("name") == "red-no-allowed")
    finally:
        podman("kube", "down", pod, check=False)
    assert not (out / "red").exists()


def test_file_audit_scoped_to_a_container(tools, workdir, daemon, podman, out):
    """A file_audit rule with a selector records the opens of matching containers'
    processes, started after the daemon, and of no other container."""
    img = Image(tools, workdir, podman, "faudit")
    d = daemon(Policy([]).text +
               "file_audit:\n  - {name: watch-red, container: {labels: {team: red}}}\n")
    run_as_teams(podman, img, out, "cat /etc/group > /dev/null; cat /etc/passwd > /out/{0}",
                 ("red", "blue"))
    assert (out / "red").exists() and (out / "blue").exists()
    recs = d.wait_for(lambda x: x.get("type") == "file_open" and
                      x["file"]["path"].endswith("/etc/group"))
    opens = [x for x in d.log_records() if x.get("type") == "file_open"]
    assert {x["process"]["container"]["labels"]["team"] for x in opens} == {"red"}, opens
    assert recs[0]["rule"]["name"] == "watch-red"


def test_own_user_namespace_is_not_a_container(tools, workdir, daemon, podman, out):
    """A rule for containers never applies to a process that merely made its own
    namespaces: under an allow-list, a container may run /opt/app/tool, and
    nobody's look-alike of it, in a user and mount namespace of its own, is denied."""
    img = Image(tools, workdir, podman, "notctr")
    tool = tools.make_bin(workdir, "tool", tag="not-a-container", static=True)
    os.chmod(workdir, 0o755)
    d = daemon(Policy([
        {"name": "host-tools", "action": "allow", "glob": "/usr/**"},
        {"name": "host-bin", "action": "allow", "glob": "/bin/**"},
        {"name": "host-lib", "action": "allow", "glob": "/lib*/**"},
        # runc starts each container from a memfd copy of itself
        {"name": "runc", "action": "allow", "sha256": sha256_of("/usr/sbin/runc")},
        {"name": "image-bin", "action": "allow", "glob": "/bin/**", "container": {}},
        {"name": "app-in-containers", "action": "allow", "path": "/opt/app/tool",
         "container": {}},
    ], default="deny"))
    r = podman.run(img.ref, "/bin/sh", "-c",
                   "mkdir -p /opt/app && cp /usr/bin/allowed /opt/app/tool && /opt/app/tool /out/ctr",
                   extra=vol(out))
    assert (out / "ctr").exists(), (r.stdout, r.stderr)
    r = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "unshare", "-Urm", "sh", "-c",
         f"mount -t tmpfs none /opt && mkdir /opt/app && cp {tool} /opt/app/tool && "
         f"/opt/app/tool {out}/own"], capture_output=True, text=True, timeout=30)
    assert not (out / "own").exists(), (r.stdout, r.stderr)
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                     and x["process"].get("comm") == "tool")[0]
    assert "container" not in rec["process"], rec


def test_cached_allow_of_an_image_file_does_not_cover_new_content(tools, workdir, daemon, podman, out):
    """An allowed image file's exec is cached (its layer file gets an ignore mark);
    the same name overwritten with denied content in the container is still refused."""
    img = Image(tools, workdir, podman, "cache")
    d = daemon(Policy([{"name": "no-payload", "action": "deny", "sha256": img.payload_sha}]))
    line = ("/usr/bin/allowed /tmp/w1 && /usr/bin/allowed /tmp/w2 && "
            "cat /usr/bin/payload > /usr/bin/allowed && /usr/bin/allowed /out/overwritten")
    for name in ("first", "second"):     # the second container shares the cached layer file
        r = podman.run(img.ref, "/bin/sh", "-c", line, extra=vol(out))
        assert not (out / "overwritten").exists(), (name, r.stdout, r.stderr)
    r = podman.run(img.ref, "/usr/bin/allowed", "/out/still-runs", extra=vol(out))
    assert (out / "still-runs").exists(), (r.stdout, r.stderr)
    assert len([x for x in d.log_records() if x.get("type") == "exec"
                and (x.get("rule") or {}).get("name") == "no-payload"]) >= 2


def test_a_containers_own_shell_and_its_copy_judge_their_scripts(workdir, daemon, podman, out):
    """
    The image's busybox sh is not a file of the host's: it is the container's
    interpreter by its place in the image (/bin/sh), and a copy of it by its
    content. Its other applets (ls, cp) are not held to a script.
    """
    src = Path(workdir) / "scripts"
    src.mkdir()
    (src / "bad.sh").write_text("echo ran > /out/bad\n")
    (src / "good.sh").write_text("echo ran > /out/good\n")
    root = make_rootfs(Path(workdir) / "root-sh", {"/opt/bad.sh": str(src / "bad.sh"),
                                                   "/opt/good.sh": str(src / "good.sh")})
    ref = podman.build(unique("sh"), root)
    p = Policy([{"name": "no-bad", "action": "deny", "sha256": sha256_of(src / "bad.sh")}])
    p.text += "scripts: {}\n"
    d = daemon(p)
    r = podman.run(ref, "/bin/sh", "-c",
                   "/bin/sh /opt/good.sh; /bin/sh /opt/bad.sh; echo $? > /out/rc1; "
                   "cp /bin/busybox /tmp/busybox.copy; /tmp/busybox.copy sh /opt/bad.sh; "
                   "echo $? > /out/rc2; ls /opt > /out/ls", extra=vol(out), check=False)
    assert (out / "good").exists(), (r.stdout, r.stderr)
    assert not (out / "bad").exists(), (r.stdout, r.stderr)
    assert (out / "rc1").read_text().strip() == "137", (r.stdout, r.stderr)
    assert (out / "rc2").read_text().strip() == "137", (r.stdout, r.stderr)
    assert "bad.sh" in (out / "ls").read_text()
    recs = d.wait_for(lambda x: x.get("type") == "exec" and x.get("decision") == "deny"
                      and (x["rule"] or {}).get("name") == "no-bad", count=2, what="denies")
    assert all(x["process"].get("container") for x in recs), recs
    found = [x for x in d.log_records() if x.get("type") == "interpreter_found"]
    assert {x["how"] for x in found} >= {"container", "copy"}, found

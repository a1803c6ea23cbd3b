# SPDX-License-Identifier: Apache-2.0
"""
Policy fragments (--policy-dir, policy.d): each team's or namespace's rules
in a file of its own, merged with the main policy. A fragment's rule blocks
like any other and its records name the fragment; a ConfigMap projected as
the directory is followed through its "..data" swaps without a SIGHUP; a
conflict between files is refused like a bad policy, naming both places.
"""
import errno
import json
import os
import re
import subprocess
import time

import pytest

from conftest import CTL_BIN, Policy, run, tcp_connect


def ctl(*args, check=True):
    r = subprocess.run([str(CTL_BIN), *map(str, args)], capture_output=True, text=True, timeout=30)
    if check:
        assert r.returncode == 0, r
    return r


def put(path, text):
    """Write a file atomically (a hidden temporary renamed into place), as the docs advise."""
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def fragment(name, rules):
    """A fragment's text; its rules as flow mappings, one a line (line 3 onwards)."""
    lines = [f"name: {name}", "rules:"]
    for r in rules:
        lines.append("  - {" + ", ".join(f"{k}: {json.dumps(os.fspath(v))}" for k, v in r.items()) + "}")
    return "\n".join(lines) + "\n"


def policy_dir(workdir):
    d = workdir / "policy.d"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    return d


def start(daemon, main, pdir, **kw):
    return daemon(main, extra=["--policy-dir", str(pdir)], **kw)


def ready(d):
    return json.loads((d.state_dir / "ready").read_text())


def wait_ready(d, pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        r = ready(d)
        if pred(r):
            return r
        assert time.monotonic() < deadline, f"ready never showed {what}: {r}\n{d.stderr()[-2000:]}"
        time.sleep(0.05)


def test_fragment_deny_blocks_exec_and_the_record_names_the_fragment(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "team-a-denied")
    ok = tools.make_bin(workdir, "team-a-allowed")
    pdir = policy_dir(workdir)
    put(pdir / "team-a.yaml", fragment("team-a", [{"name": "no-bad", "action": "deny", "path": bad}]))
    # Not fragments: a hidden file and another suffix (both would not even parse).
    (pdir / ".team-z.yaml").write_text("junk: [\n")
    (pdir / "README").write_text("junk: [\n")
    d = start(daemon, Policy([], version="frag-1"), pdir)
    ver = d.ready["policy_version"]
    assert re.fullmatch(r"frag-1\+d1\.[0-9a-f]{12}", ver), ver
    assert d.ready["policy_dir"] == str(pdir)
    assert d.ready["policy_fragments"] == ["team-a"]
    r = ctl("--state-dir", d.state_dir, "status")
    assert re.search(r"^policy fragments\s+team-a$", r.stdout, re.M), r.stdout
    # The CLI reads the same files the same way: the same version.
    r = ctl("policy", "check", "--policy-dir", pdir, d.policy_path)
    assert f"(version {ver})" in r.stdout, r

    marker = workdir / "m"
    ran = run([bad, marker])
    assert ran.exec_errno == errno.EPERM and not marker.exists(), ran
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    assert rec["rule"]["name"] == "no-bad"
    assert rec["rule"]["fragment"] == "team-a"
    assert rec["rule"]["file"] == str(pdir / "team-a.yaml")
    assert rec["rule"]["line"] == 3
    assert rec["policy_version"] == ver
    ran = run([ok, workdir / "m2"])
    assert ran.returncode == 0, ran
    allowed = d.wait_exec(exe=ok, pid=ran.pid)[0]
    assert allowed["decision"] == "allow" and allowed["rule"] is None

    # sysguardctl policy test says the same, with the fragment's file and line.
    r = ctl("policy", "test", d.policy_path, "--policy-dir", pdir, "--exe", bad)
    assert r.stdout.startswith(f'deny by rule 1 "no-bad" of fragment team-a ({pdir}/team-a.yaml:3, path)'), r
    r = ctl("policy", "test", d.policy_path, "--policy-dir", pdir, "--exe", bad, "-o", "json")
    rule = json.loads(r.stdout)["rule"]
    assert rule["fragment"] == "team-a" and rule["file"] == str(pdir / "team-a.yaml"), r


def test_fragment_egress_rule_blocks_and_names_the_fragment(workdir, daemon):
    pdir = policy_dir(workdir)
    put(pdir / "net-team.yaml", "name: net-team\negress:\n"
        "  - {name: no-77, action: deny, cidr: 127.0.0.77/32, port: 9}\n")
    main = 'version: "net"\nmode: enforce\ndefault: allow\negress:\n  - {name: main-audit, action: audit, cidr: 127.0.0.88/32}\n'
    d = start(daemon, main, pdir)
    assert "egress" in d.ready["backends"]
    assert tcp_connect("127.0.0.77", 9) == errno.EPERM
    rec = d.wait_for(lambda r: r["type"] == "network" and r["destination"]["ip"] == "127.0.0.77",
                     what="network record")[0]
    assert rec["rule"] == {"id": 2, "name": "no-77", "line": 3, "fragment": "net-team",
                           "file": str(pdir / "net-team.yaml")}, rec
    assert rec["decision"] == "deny" and rec["blocked"] is True
    assert tcp_connect("127.0.0.88", 9) == errno.ECONNREFUSED
    rec = d.wait_for(lambda r: r["type"] == "network" and r["destination"]["ip"] == "127.0.0.88",
                     what="network record")[0]
    assert rec["rule"] == {"id": 1, "name": "main-audit", "line": 5}, rec


def test_directory_made_after_the_start_is_watched(tools, workdir, daemon):
    bad = tools.make_bin(workdir, "later-denied")
    pdir = workdir / "policy.d"
    d = start(daemon, Policy([], version="later"), pdir)
    assert d.ready["policy_version"] == "later" and d.ready["policy_fragments"] == []
    tmp = workdir / ".policy.d.new"
    tmp.mkdir(mode=0o755)
    os.chmod(tmp, 0o755)
    put(tmp / "team-a.yaml", fragment("team-a", [{"name": "later-no", "action": "deny", "path": bad}]))
    os.rename(tmp, pdir)
    wait_ready(d, lambda r: r.get("policy_fragments") == ["team-a"], "team-a loaded")
    assert run([bad, workdir / "m"]).exec_errno == errno.EPERM
    put(pdir / "team-b.yaml", fragment("team-b", []))
    wait_ready(d, lambda r: r.get("policy_fragments") == ["team-a", "team-b"], "team-b loaded")
    for f in pdir.iterdir():
        f.unlink()
    pdir.rmdir()
    r = wait_ready(d, lambda r: r.get("policy_fragments") == [], "no fragments")
    assert r["policy_version"] == "later"
    assert not [x for x in d.log_records() if x["type"] == "policy_error"]


def test_fragment_protected_file_records_name_the_fragment(workdir, daemon):
    secret = workdir / "team-secret.conf"
    secret.write_text("k=v\n")
    pdir = policy_dir(workdir)
    # deny read: a read open is refused by fanotify (the immutable flag only stops writes).
    put(pdir / "ops.yaml", f"name: ops\nfiles:\n  - {{name: ops-secret, path: {json.dumps(str(secret))}, "
        "deny: [read, write, delete]}\n")
    d = start(daemon, Policy([], version="files"), pdir)
    add = d.wait_for(lambda r: r["type"] == "file_protect" and r["action"] == "add"
                     and r["file"]["path"] == str(secret), what="file_protect add")[0]
    assert add["rule"] == "ops-secret" and add["fragment"] == "ops" and add["source"] == "policy"
    try:
        fd = os.open(secret, os.O_RDONLY)
        os.close(fd)
        opened = 0
    except OSError as e:
        opened = e.errno
    assert opened == errno.EPERM
    acc = d.wait_for(lambda r: r["type"] == "file_access" and r["file"]["path"] == str(secret),
                     what="file_access")[0]
    assert acc["rule"]["name"] == "ops-secret" and acc["rule"]["fragment"] == "ops", acc


def project(pdir, stamp, files):
    """What the kubelet does: a new ..<timestamp> directory, then ..data swapped to it by rename."""
    ts = pdir / f"..{stamp}"
    ts.mkdir(mode=0o755)
    for name, text in files.items():
        (ts / name).write_text(text)
        os.chmod(ts / name, 0o644)
    tmp = pdir / "..data_tmp"
    os.symlink(ts.name, tmp)
    os.replace(tmp, pdir / "..data")


def test_configmap_projection_swap_is_picked_up_without_sighup(tools, workdir, daemon):
    a = tools.make_bin(workdir, "cm-a")
    b = tools.make_bin(workdir, "cm-b")
    pdir = policy_dir(workdir)
    project(pdir, "2026_12_02_05_00_00.1",
            {"team-a.yaml": fragment("team-a", [{"name": "no-a", "action": "deny", "path": a}])})
    os.symlink("..data/team-a.yaml", pdir / "team-a.yaml")
    d = start(daemon, Policy([], version="cm"), pdir)
    v1 = d.ready["policy_version"]
    assert run([a, workdir / "m1"]).exec_errno == errno.EPERM
    assert d.wait_exec(exe=a, decision="deny")[0]["rule"]["fragment"] == "team-a"

    # The update: team-a now denies b instead of a, and a new key team-b appears.
    # The kubelet swaps ..data first and adds the new key's symlink after it.
    project(pdir, "2026_12_02_05_01_00.2", {
        "team-a.yaml": fragment("team-a", [{"name": "no-b", "action": "deny", "path": b}]),
        "team-b.yaml": fragment("team-b", [{"name": "team-b-audit", "action": "audit", "path": a}]),
    })
    os.symlink("..data/team-b.yaml", pdir / "team-b.yaml")
    r = wait_ready(d, lambda r: len(r.get("policy_fragments", [])) == 2, "both fragments")
    assert r["policy_fragments"] == ["team-a", "team-b"]
    assert r["policy_version"] != v1 and r["policy_version"].startswith("cm+d2.")
    reloads = [x for x in d.log_records() if x["type"] == "policy_reload"]
    assert reloads and reloads[0]["old_policy_version"] == v1, reloads
    assert reloads[-1]["new_policy_version"] == r["policy_version"]

    ran = run([b, workdir / "m2"])
    assert ran.exec_errno == errno.EPERM, ran
    assert d.wait_exec(exe=b, decision="deny")[0]["rule"]["name"] == "no-b"
    ran = run([a, workdir / "m3"])
    assert ran.returncode == 0, ran
    rec = d.wait_exec(exe=a, pid=ran.pid)[0]
    assert rec["decision"] == "audit" and rec["rule"]["fragment"] == "team-b", rec

    # The old timestamped directory goes (the kubelet cleans it up): nothing changes.
    old = pdir / "..2026_12_02_05_00_00.1"
    for f in old.iterdir():
        f.unlink()
    old.rmdir()
    time.sleep(0.3)
    assert ready(d)["policy_version"] == r["policy_version"]
    assert not [x for x in d.log_records() if x["type"] == "policy_error"]


def test_conflicting_fragment_is_refused_on_reload_and_the_running_policy_stays(
        tools, workdir, daemon):
    bad = tools.make_bin(workdir, "conflict-denied")
    pdir = policy_dir(workdir)
    put(pdir / "team-a.yaml", fragment("team-a", [{"name": "shared-name", "action": "deny", "path": bad}]))
    d = start(daemon, Policy([], version="conf"), pdir)
    v1 = d.ready["policy_version"]

    # team-b reuses team-a's rule name: the watch reloads, the load is refused.
    put(pdir / "team-b.yaml", fragment("team-b", [{"name": "x", "action": "allow", "path": "/usr/bin/true"},
                                                  {"name": "shared-name", "action": "allow", "path": bad}]))
    err = d.wait_for(lambda r: r["type"] == "policy_error", what="policy_error")[0]
    col = (pdir / "team-b.yaml").read_text().splitlines()[3].index('"shared-name"') + 1
    want = (f"{pdir}/team-b.yaml:4:{col}: rule name \"shared-name\" is already used in "
            f"{pdir}/team-a.yaml:3; give each rule its own name")
    assert err["error"].startswith(want), err
    assert err["file"] == str(pdir / "team-b.yaml") and err["line"] == 4 and err["column"] == col
    assert err["path"] == str(d.policy_path) and err["severity"] == "critical"
    assert want in d.stderr()
    assert not [r for r in d.log_records() if r["type"] == "policy_reload"]
    assert ready(d)["policy_version"] == v1
    # Still team-a's deny, from the policy that was running.
    ran = run([bad, workdir / "m"])
    assert ran.exec_errno == errno.EPERM, ran
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    assert rec["policy_version"] == v1 and rec["rule"]["fragment"] == "team-a"

    # sysguardctl reload says it was refused; sysguardctl policy check names both places.
    r = ctl("--state-dir", d.state_dir, "reload", "--timeout", "5", check=False)
    assert r.returncode == 1 and "refused" in r.stderr, r
    r = ctl("policy", "check", "--policy-dir", pdir, d.policy_path, check=False)
    assert r.returncode == 1 and r.stdout.startswith(want.replace(f":4:{col}: ", f":4:{col}: error: ")), r

    # A fragment setting the mode is refused the same way.
    put(pdir / "team-b.yaml", "name: team-b\nmode: monitor\n")
    d.wait_for(lambda r: r["type"] == "policy_error" and "cannot set \"mode\"" in r["error"],
               what="policy_error for mode")
    # Fixed: the next change loads.
    put(pdir / "team-b.yaml", fragment("team-b", []))
    r = wait_ready(d, lambda r: len(r.get("policy_fragments", [])) == 2, "team-b loaded")
    assert r["policy_version"].startswith("conf+d2.")
    assert d.running()


def test_conflict_at_start_is_a_bad_policy(tools, workdir, daemon):
    """
    At start a conflict is what a bad main policy is: the error on stderr and
    in a policy_error record, and the failsafe policy (open here, closed with
    --strict), so a broken fragment cannot leave a host without sysguardd.
    """
    bad = tools.make_bin(workdir, "start-conflict")
    pdir = policy_dir(workdir)
    put(pdir / "a.yaml", fragment("team-a", [{"name": "r", "action": "deny", "path": bad}]))
    put(pdir / "b.yaml", "# the same team twice\nname: team-a\n")
    d = start(daemon, Policy([], version="start"), pdir)
    assert d.ready["policy_version"] == "failsafe-open"
    assert d.ready["policy_fragments"] == []
    want = (f"{pdir}/b.yaml:2:7: fragment name \"team-a\" is already used by {pdir}/a.yaml:1; "
            "give each fragment its own name")
    assert want in d.stderr(), d.stderr()
    recs = d.log_records()
    err = [r for r in recs if r["type"] == "policy_error"]
    assert err and err[0]["error"] == want and err[0]["file"] == str(pdir / "b.yaml"), err
    assert [r for r in recs if r["type"] == "policy_failsafe"]


def test_signed_policy_refuses_unsigned_fragments(tools, workdir, daemon):
    """With --trusted-key only a signed bundle is policy: fragments are refused, not skipped."""
    ctl("policy", "keygen", workdir / "ops")
    x = tools.make_bin(workdir, "signed-x")
    src = workdir / "p.yaml"
    src.write_text(Policy([{"name": "no-x", "action": "deny", "path": x}], version="signed-1").text)
    out = workdir / "p.bundle"
    ctl("policy", "sign", "--key", workdir / "ops.key", "--version", 1, src, "-o", out)
    pdir = policy_dir(workdir)
    extra = ["--trusted-key", str(workdir / "ops.pub"), "--bundle-state", str(workdir / "bv"),
             "--policy-dir", str(pdir)]
    d = daemon(out.read_bytes(), extra=extra)
    assert d.ready["policy_version"] == "signed-1"

    put(pdir / "team-a.yaml", fragment("team-a", [{"name": "allow-all", "action": "allow", "path": x}]))
    err = d.wait_for(lambda r: r["type"] == "policy_error", what="policy_error")[0]
    assert "policy fragments are not signed" in err["error"], err
    assert err["file"] == str(pdir / "team-a.yaml")
    assert ready(d)["policy_version"] == "signed-1"
    assert run([x, workdir / "m"]).exec_errno == errno.EPERM


def test_fragment_writable_by_others_is_refused(tools, workdir, daemon):
    pdir = policy_dir(workdir)
    put(pdir / "team-a.yaml", fragment("team-a", []))
    os.chmod(pdir / "team-a.yaml", 0o666)
    d = start(daemon, Policy([], version="perm"), pdir)
    assert d.ready["policy_version"] == "failsafe-open"
    want = (f"{pdir}/team-a.yaml: refused: writable by group or others "
            "(a policy fragment must be root's and writable by root only)")
    assert want in d.stderr(), d.stderr()


def test_fragment_added_while_self_defence_protects_the_policy(tools, workdir, daemon):
    """Self-defence guards the policy file; fragments still come and go (a ConfigMap changes)."""
    bad = tools.make_bin(workdir, "sd-denied")
    pdir = policy_dir(workdir)
    d = start(daemon, Policy([], version="sd"), pdir, self_defence=True)
    assert d.ready["policy_fragments"] == []
    put(pdir / "team-a.yaml", fragment("team-a", [{"name": "sd-no-bad", "action": "deny", "path": bad}]))
    r = wait_ready(d, lambda r: r.get("policy_fragments") == ["team-a"], "team-a loaded")
    assert r["policy_version"].startswith("sd+d1.")
    ran = run([bad, workdir / "m"])
    assert ran.exec_errno == errno.EPERM, ran
    assert d.wait_exec(exe=bad, decision="deny")[0]["rule"]["fragment"] == "team-a"
    (pdir / "team-a.yaml").unlink()
    r = wait_ready(d, lambda r: r.get("policy_fragments") == [], "team-a gone")
    assert r["policy_version"] == "sd"
    ran = run([bad, workdir / "m2"])
    assert ran.returncode == 0, ran

# SPDX-License-Identifier: Apache-2.0
"""sysguardctl policy check, test, learn, trust dpkg and diff on real policies, binaries and logs."""
import errno
import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import CTL_BIN, REPO, Policy, run


def ctl(*args, timeout=300):
    return subprocess.run([str(CTL_BIN), "policy"] + [os.fspath(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)


# Warnings that depend on this host, not on the policy: a merged /usr (/bin is a symlink) and
# netcat not installed. The shipped examples keep those rules for hosts that differ.
HOST_DEPENDENT = [
    r"rule \d+ \"legacy-s?bin\": glob /s?bin/\* is under /s?bin, a symlink to /usr/s?bin on this host",
    r"rule \d+ \"no-netcat\": identity /usr/bin/nc.openbsd does not exist on this host",
]


def test_shipped_policies_are_clean():
    files = [REPO / "policies" / "default.yaml"] + sorted((REPO / "policies" / "examples").glob("*.yaml"))
    r = ctl("check", *files)
    lines = r.stdout.splitlines()
    assert "error" not in r.stdout, r.stdout
    for line in lines:
        if line.endswith("rules") and ": ok, " in line:
            continue
        m = re.match(r"^(.*?):(\d+):(\d+): warning: (.*)$", line)
        assert m, f"not a gcc-style line: {line!r}"
        assert any(re.match(p, m.group(4)) for p in HOST_DEPENDENT), f"unexpected warning: {line}"
    assert f"{REPO}/policies/default.yaml: ok, 10 rules" in lines
    assert r.returncode == (1 if any(": warning: " in l for l in lines) else 0)
    assert ctl("check", "--warnings-ok", *files).returncode == 0


def test_check_reports_exact_places(workdir):
    bad = workdir / "bad.yaml"
    bad.write_text('version: "t"\nmode: enforce\nrules:\n  - {name: x, action: deny, pathh: /a}\n')
    r = ctl("check", bad)
    assert r.returncode == 1
    assert r.stdout == (f'{bad}:4:29: error: rule 1: unknown key "pathh"; expected name, action, '
                        'path, glob, identity, sha256, parent or container\n')

    absent = workdir / "absent-binary"
    lint = workdir / "lint.yaml"
    lint.write_text(
        'version: "t"\n'
        'mode: enforce\n'
        'rules:\n'
        '  - name: first\n'
        '    action: deny\n'
        '    glob: "/tmp/**"\n'
        '  - name: again\n'
        '    action: deny\n'
        '    glob: "/tmp/x/*"\n'
        '  - name: pointless\n'
        '    action: allow\n'
        '    path: /usr/bin/ls\n'
        f'  - {{name: gone, action: deny, identity: {absent}}}\n'
        '  - {name: dir, action: deny, path: /usr/bin}\n'
        '  - {name: sh-from-x, action: deny, path: /usr/bin/dash, parent: {path: /bin/true}}\n')
    col = len(f'  - {{name: gone, action: deny, identity: ')+1
    r = ctl("check", lint)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        f'{lint}:7:5: warning: rule 2 "again": shadowed by rule 1 "first" (line 4), which matches '
        'everything this rule matches and comes first, so this rule is never the one that decides',
        f'{lint}:10:5: warning: rule 3 "pointless": allow never changes a decision: the default is '
        'already allow, and an allow does not override a deny',
        f'{lint}:13:{col}: warning: rule 4 "gone": identity {absent} does not exist on this host; '
        'the rule stays inactive until it does and the policy is reloaded',
        f'{lint}:14:37: warning: rule 5 "dir": path /usr/bin is a directory; no program runs under this name',
        f'{lint}:15:5: warning: rule 6 "sh-from-x": parent path /bin/true is a symlink to /usr/bin/true '
        'on this host; a parent\'s executable is its real name, so this rule never matches '
        '(write parent: {path: /usr/bin/true})',
    ]
    assert ctl("check", "--warnings-ok", lint).returncode == 0
    assert ctl("check").returncode == 2
    h = ctl("check", "--help")
    assert h.returncode == 0 and h.stdout.startswith("usage: sysguardctl policy check")


def test_policy_test_matches_the_daemon(tools, workdir, daemon):
    py = os.path.realpath(sys.executable)
    by_glob = tools.make_bin(workdir, "bad-glob")
    by_hash = tools.make_bin(workdir, "by-hash")
    from_py = tools.make_bin(workdir, "from-python")
    trial = tools.make_bin(workdir, "trial")
    plain = tools.make_bin(workdir, "plain")
    sha = hashlib.sha256(open(by_hash, "rb").read()).hexdigest()
    policy = Policy([
        {"name": "no-bad", "action": "deny", "glob": f"{workdir}/bad-*"},
        {"name": "no-hash", "action": "deny", "sha256": sha},
        {"name": "not-from-python", "action": "deny", "path": from_py, "parent": {"path": py}},
        {"name": "try-it", "action": "audit", "path": trial},
    ], mode="monitor")
    d = daemon(policy)
    for exe in (by_glob, by_hash, from_py, trial, plain):
        ran = run([exe, workdir / "m"])
        assert ran.returncode == 0, ran  # monitor mode: everything runs
        rec = d.wait_exec(exe=exe, pid=ran.pid)[0]
        t = ctl("test", d.policy_path, "--exe", exe, "--parent", py, "--uid", str(os.getuid()), "-o", "json")
        assert t.returncode == 0, t.stderr
        got = json.loads(t.stdout)
        assert got["decision"] == rec["decision"], (exe, got, rec)
        assert (got["rule"] or {}).get("name") == (rec["rule"] or {}).get("name"), (exe, got, rec)
        if rec["rule"]:
            assert got["rule"]["line"] == rec["rule"]["line"] == policy.rule_line[rec["rule"]["name"]]
    # The same binary from another parent is not denied by the parent rule.
    t = json.loads(ctl("test", d.policy_path, "--exe", from_py, "--parent", "/usr/bin/true", "-o", "json").stdout)
    assert t["decision"] == "allow" and t["rule"] is None
    text = ctl("test", d.policy_path, "--exe", by_glob)
    assert text.stdout.splitlines()[0] == f'deny by rule 1 "no-bad" ({d.policy_path}:{policy.rule_line["no-bad"]}, glob)'
    assert ctl("test", d.policy_path).returncode == 2


# The daemon hashes an exec only when a hash rule could change its verdict; a sha256 deny
# that matches nothing makes it hash (and record) every exec, so learn can allow by content.


def test_learn_from_a_run_then_replay_and_diff(tools, workdir, daemon):
    bins = [tools.make_bin(workdir, f"app{i}") for i in range(3)]
    # Learning: monitor mode, with every program's hash on record.
    d = daemon(Policy([], mode="monitor"), extra=["--record-hashes"])
    pids = {}
    for exe in bins + ["/usr/bin/true"]:
        ran = run([exe, workdir / "m"])
        assert ran.returncode == 0
        pids[exe] = ran.pid
    for exe, pid in pids.items():
        d.wait_exec(exe=os.path.realpath(exe), pid=pid)
    d.stop()
    log = d.log_path

    learned = workdir / "learned.yaml"
    r = ctl("learn", "--from", log, "-o", learned)
    assert r.returncode == 0, r.stderr
    again = ctl("learn", "--from", log)
    assert again.stdout == learned.read_text(), "the same log gave different output"
    text = learned.read_text()
    for exe in bins + ["/usr/bin/true"]:
        h = hashlib.sha256(open(exe, "rb").read()).hexdigest()
        assert f'sha256: "{h}"' in text, f"no rule for {exe}"
    c = ctl("check", learned)
    assert c.returncode == 0, c.stdout

    # Enforcing the learned allow-list (default deny, for the whole host, for as long as this
    # takes: nothing here execs anything but what was learned): what ran before still runs,
    # a program never seen is refused before it starts.
    newbin = tools.make_bin(workdir, "newcomer")
    d2 = daemon(text, mode="enforce")
    try:
        assert d2.ready["mode"] == "enforce"
        for exe in bins + ["/usr/bin/true"]:
            marker = workdir / f"{os.path.basename(exe)}.ran"
            ran = run([exe, marker])
            assert ran.returncode == 0, ran
            rec = d2.wait_exec(exe=os.path.realpath(exe), pid=ran.pid)[0]
            assert rec["decision"] == "allow" and rec["rule"]["kind"] == "sha256", rec
        ran = run([newbin, workdir / "new.ran"])
        assert ran.exec_errno == errno.EPERM and not (workdir / "new.ran").exists(), ran
        rec = d2.wait_exec(exe=newbin, decision="deny")[0]
        assert rec["default_action"] is True
    finally:
        d2.stop()
    assert json.loads(ctl("test", learned, "--exe", newbin, "-o", "json").stdout)["decision"] == "deny"

    # diff: the same policy changes nothing; one more deny changes exactly that program.
    same = ctl("diff", learned, learned, "--log", log)
    assert same.returncode == 0, same.stdout
    assert "NEW allows what OLD denied: 0 execs" in same.stdout
    stricter = workdir / "stricter.yaml"
    stricter.write_text(text + f"  - {{name: no-app1, action: deny, path: {bins[1]}}}\n")
    diff = ctl("diff", learned, stricter, "--log", log)
    assert diff.returncode == 1, diff.stdout
    assert f"NEW denies what OLD allowed: 1 exec, 1 program\n  {bins[1]} (1)\n" in diff.stdout
    back = ctl("diff", stricter, learned, "--log", log)
    assert f"NEW allows what OLD denied: 1 exec, 1 program\n  {bins[1]} (1)\n" in back.stdout


def test_learn_lists_denied_and_filters(tools, workdir, daemon):
    ok = tools.make_bin(workdir, "ok")
    bad = tools.make_bin(workdir, "bad")
    d = daemon(Policy([{"name": "no-bad", "action": "deny", "path": bad}], mode="monitor"),
               extra=["--record-hashes"])
    for exe in (ok, bad):
        ran = run([exe, workdir / "m"])
        d.wait_exec(exe=exe, pid=ran.pid)
    d.stop()
    out = ctl("learn", "--from", d.log_path).stdout
    # What was denied is only listed, unless asked for.
    ok_sha = hashlib.sha256(open(ok, "rb").read()).hexdigest()
    bad_sha = hashlib.sha256(open(bad, "rb").read()).hexdigest()
    assert f"\n#   {bad} sha256 {bad_sha}\n" in out
    assert f'sha256: "{ok_sha}"' in out and f'sha256: "{bad_sha}"' not in out
    assert f'sha256: "{bad_sha}"' in ctl("learn", "--from", d.log_path, "--include-denied").stdout
    assert "0 programs" in ctl("learn", "--from", d.log_path, "--since", "2999-01-01").stdout
    assert ctl("learn").returncode == 2


@pytest.mark.skipif(not os.path.isdir("/var/lib/dpkg/info"), reason="not a dpkg system")
def test_trust_dpkg_hashes_installed_programs(workdir):
    out = workdir / "trust.yaml"
    r = ctl("trust", "dpkg", "-o", out, timeout=600)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    for exe, pkg in (("/usr/bin/ls", "coreutils"), ("/usr/bin/dash", "dash")):
        h = hashlib.sha256(open(exe, "rb").read()).hexdigest()
        m = re.search(rf"^  # {re.escape(exe)} \((?:[^)]*, )?{pkg}[:),]", text, re.M)
        assert m, f"no comment for {exe}"
        assert f'sha256: "{h}"' in text[m.end():].split("  - name:")[1], f"{exe}: wrong or missing hash"
    assert ctl("check", out).returncode == 0
    assert ctl("trust", "rpm").returncode == 2

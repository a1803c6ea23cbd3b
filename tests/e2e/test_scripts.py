"""
Scripts under the exec rules (scripts: in the policy): a deny rule on a
script stops `bash FILE`, `sh FILE`, `python3 FILE`, `perl FILE` and
`node FILE` before the script's first line runs, by path, sha256 and glob,
as root and as nobody. Interpreters are known by their file's identity;
their runs are held at exec and the daemon judges the script named in their
argv as the interpreter will open it. Inline code (bash -c, python3 -c,
code on a pipe) gets the policy's inline: answer. A denied file a running
interpreter reads (. FILE, source FILE) is refused at its open.
"""
import hashlib
import os
import subprocess
import time

import pytest

from conftest import NOBODY, Policy, as_user

# What each interpreter is given: a program that writes its marker file.
LANGS = {
    "bash": (["/usr/bin/bash"], "sh", 'echo ran > "{m}"\n'),
    "sh": (["/usr/bin/sh"], "sh", 'echo ran > "{m}"\n'),
    "python3": (["/usr/bin/python3"], "py", 'open("{m}", "w").write("ran")\n'),
    "perl": (["/usr/bin/perl"], "pl", 'open(my $f, ">", "{m}"); print $f "ran";\n'),
    "node": (["/usr/bin/node"], "js", 'require("fs").writeFileSync("{m}", "ran");\n'),
}


def policy(rules, scripts="{}", **kw):
    p = Policy(rules, **kw)
    p.text += f"scripts: {scripts}\n"
    return p


def make(directory, name, lang, marker):
    _, ext, body = LANGS[lang]
    p = os.path.join(directory, f"{name}.{ext}")
    with open(p, "w") as f:
        f.write(body.format(m=marker))
    os.chmod(p, 0o644)
    return p


def run_script(argv, user=None, cwd=None):
    r = subprocess.run(as_user(argv, user), stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=30, cwd=cwd)
    return r.returncode


@pytest.mark.parametrize("kind", ["path", "sha256", "glob"])
@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_denied_script_does_not_run_in_any_interpreter(open_dir, daemon, kind, user):
    bad_dir = os.path.join(open_dir, "bad")
    os.mkdir(bad_dir)
    os.chmod(bad_dir, 0o777)
    scripts, rules = {}, []
    for lang in LANGS:
        marker = os.path.join(open_dir, f"{lang}.marker")
        p = make(bad_dir, f"payload-{lang}", lang, marker)
        scripts[lang] = (p, marker)
        if kind == "path":
            rules.append({"name": f"no-{lang}", "action": "deny", "path": p})
        elif kind == "sha256":
            rules.append({"name": f"no-{lang}", "action": "deny",
                          "sha256": hashlib.sha256(open(p, "rb").read()).hexdigest()})
    if kind == "glob":
        rules.append({"name": "no-bad", "action": "deny", "glob": f"{bad_dir}/*"})
    good_marker = os.path.join(open_dir, "good.marker")
    good = make(open_dir, "fine", "bash", good_marker)
    d = daemon(policy(rules))

    assert run_script(["/usr/bin/bash", good], user) == 0 and os.path.exists(good_marker)
    for lang, (p, marker) in scripts.items():
        rc = run_script(LANGS[lang][0] + [p], user)
        assert rc == -9 and not os.path.exists(marker), (lang, rc)
        rec = d.wait_exec(exe=p, decision="deny")[0]
        assert rec["process"]["script"] == "file", rec
        assert rec["process"]["interpreter"].startswith("/usr/bin/"), rec
        assert rec["enforced_by"] == "bpf_hold", rec
        if kind != "glob":
            assert rec["rule"]["name"] == f"no-{lang}", rec
    # A relative name is the interpreter's (its cwd), not the daemon's.
    rc = run_script(["/usr/bin/bash", "payload-bash.sh"], user, cwd=bad_dir)
    assert rc == -9 and not os.path.exists(scripts["bash"][1])


def test_a_copy_of_a_hash_denied_script_and_a_link_to_a_path_denied_one(open_dir, daemon):
    marker = os.path.join(open_dir, "m")
    bad = make(open_dir, "bad", "bash", marker)
    other = make(open_dir, "other", "bash", marker + "2")
    copy = os.path.join(open_dir, "copy.sh")
    with open(copy, "w") as f:
        f.write(open(bad).read())
    link = os.path.join(open_dir, "link.sh")
    os.symlink(other, link)
    daemon(policy([{"name": "no-bad", "action": "deny",
                    "sha256": hashlib.sha256(open(bad, "rb").read()).hexdigest()},
                   {"name": "no-other", "action": "deny", "path": other}]))
    assert run_script(["/usr/bin/bash", copy]) == -9 and not os.path.exists(marker)
    assert run_script(["/usr/bin/bash", link]) == -9 and not os.path.exists(marker + "2")


def test_allow_list_runs_only_allowed_scripts_and_inline_deny_refuses_bash_c(open_dir, daemon):
    marker = os.path.join(open_dir, "m")
    good = make(open_dir, "good", "bash", marker + ".good")
    other = make(open_dir, "other", "bash", marker + ".other")
    sourced = make(open_dir, "sourced", "bash", marker + ".sourced")
    d = daemon(policy([{"name": "system", "action": "allow", "glob": "/usr/**"},
                       {"name": "the-good-one", "action": "allow", "path": good}],
                      scripts="{inline: deny}", default="deny"))
    assert run_script(["/usr/bin/bash", good]) == 0 and os.path.exists(marker + ".good")
    assert run_script(["/usr/bin/bash", other]) == -9 and not os.path.exists(marker + ".other")
    assert run_script(["/usr/bin/bash", "-c", f". {sourced}"]) == -9
    assert not os.path.exists(marker + ".sourced")
    assert run_script(["/usr/bin/python3", "-c", f"open('{marker}.py', 'w')"]) == -9
    assert not os.path.exists(marker + ".py")
    # Code on a pipe is inline code too (curl … | sh).
    r = subprocess.run(["/usr/bin/sh"], input=f"echo ran > {marker}.pipe\n", text=True, timeout=30)
    assert r.returncode == -9 and not os.path.exists(marker + ".pipe")
    rec = d.wait_exec(exe="/usr/bin/bash", decision="deny")[0]
    assert rec["reason"] == "inline_code" and rec["process"]["script"] == "inline", rec
    # The rest of the system (no script) runs as before.
    assert run_script(["/usr/bin/bash", "--version"]) == 0


def test_inline_audit_lets_it_run_and_says_so(open_dir, daemon):
    marker = os.path.join(open_dir, "m")
    d = daemon(policy([], scripts="{inline: audit}"))
    assert run_script(["/usr/bin/bash", "-c", f"echo > {marker}"]) == 0 and os.path.exists(marker)
    rec = d.wait_exec(exe="/usr/bin/bash", decision="audit")[0]
    assert rec["reason"] == "inline_code" and rec["would_deny"] is True, rec


def test_monitor_mode_lets_a_denied_script_run_and_reports_it(open_dir, daemon):
    marker = os.path.join(open_dir, "m")
    bad = make(open_dir, "bad", "python3", marker)
    d = daemon(policy([{"name": "no-bad", "action": "deny", "path": bad}], mode="monitor"))
    assert run_script(["/usr/bin/python3", bad]) == 0 and os.path.exists(marker)
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    assert rec["mode"] == "monitor" and rec["process"]["interpreter"].startswith("/usr/bin/python3")


def test_without_scripts_the_interpreter_runs_it(open_dir, daemon):
    """What the rest of this file stops: the same deny without scripts: lets bash FILE run."""
    marker = os.path.join(open_dir, "m")
    bad = make(open_dir, "bad", "bash", marker)
    p = Policy([{"name": "no-bad", "action": "deny", "path": bad}])
    daemon(p)
    assert run_script(["/usr/bin/bash", bad]) == 0 and os.path.exists(marker)


def test_a_denied_file_read_by_a_running_interpreter_is_refused(open_dir, daemon):
    """. FILE, source FILE, exec(open(F).read()): the interpreter's open of it fails."""
    bad_dir = os.path.join(open_dir, "bad")
    os.mkdir(bad_dir)
    m = os.path.join(open_dir, "m")
    by_path = make(open_dir, "by-path", "bash", m + ".path")
    by_glob = make(bad_dir, "by-glob", "bash", m + ".glob")
    py = make(open_dir, "by-path-py", "python3", m + ".py")
    sources = make(open_dir, "sources", "bash", m + ".sources")
    with open(sources, "a") as f:
        f.write(f"source {by_glob}\n")
    d = daemon(policy([{"name": "no-path", "action": "deny", "path": by_path},
                       {"name": "no-py", "action": "deny", "path": py},
                       {"name": "no-glob", "action": "deny", "glob": f"{bad_dir}/*"}]))
    assert run_script(["/usr/bin/bash", "-c", f". {by_path}"]) != 0
    assert not os.path.exists(m + ".path")
    # An allowed script runs; the denied file it sources does not.
    run_script(["/usr/bin/bash", sources])
    assert os.path.exists(m + ".sources") and not os.path.exists(m + ".glob")
    assert run_script(["/usr/bin/python3", "-c", f"exec(open('{py}').read())"]) != 0
    assert not os.path.exists(m + ".py")
    rec = d.wait_exec(exe=by_path, decision="deny")[0]
    assert rec["process"]["script"] == "sourced" and rec["enforced_by"] == "fanotify", rec
    assert rec["process"]["interpreter"] == "/usr/bin/bash", rec
    # Anyone but an interpreter reads it as before.
    assert subprocess.run(["/usr/bin/cat", by_path], capture_output=True).returncode == 0


def interpreter_found(d, path):
    return d.wait_for(lambda r: r.get("type") == "interpreter_found" and r.get("path") == path,
                      what=f"interpreter_found for {path}")[0]


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_a_copy_of_an_interpreter_is_one_too(open_dir, daemon, user):
    """
    cp /usr/bin/bash x; x denied.sh: the copy is another file with the same
    content, known by it before its first instruction (as nobody too); its
    scripts are judged and its opens of denied files refused, run after run.
    """
    m = os.path.join(open_dir, f"m{user}")
    bad = make(open_dir, f"bad{user}", "bash", m + ".bad")
    good = make(open_dir, f"good{user}", "bash", m + ".good")
    bad_pl = make(open_dir, f"bad{user}", "perl", m + ".pl")
    d = daemon(policy([{"name": "no-bad", "action": "deny", "path": bad},
                       {"name": "no-bad-pl", "action": "deny", "path": bad_pl}]))
    copy, perl = os.path.join(open_dir, f"notashell{user}"), os.path.join(open_dir, f"p{user}")
    for src, dst in (("/usr/bin/bash", copy), ("/usr/bin/perl", perl)):
        subprocess.run(as_user(["/usr/bin/cp", src, dst], user), check=True)
    assert run_script([copy, good], user) == 0 and os.path.exists(m + ".good")
    for _ in range(2):  # the second run has no fanotify event: the kernel holds it by itself
        assert run_script([copy, bad], user) == -9 and not os.path.exists(m + ".bad")
    assert run_script([copy, "-c", f". {bad}"], user) != 0 and not os.path.exists(m + ".bad")
    assert run_script([perl, bad_pl], user) == -9 and not os.path.exists(m + ".pl")
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    assert rec["process"]["interpreter"] == copy and rec["enforced_by"] == "bpf_hold", rec
    found = interpreter_found(d, copy)
    assert found["how"] == "copy" and found["language"] == "shell", found
    assert interpreter_found(d, perl)["language"] == "perl"
    # A program of another content is no interpreter.
    other = os.path.join(open_dir, f"cat{user}")
    subprocess.run(as_user(["/usr/bin/cp", "/usr/bin/cat", other], user), check=True)
    assert run_script([other, bad], user) == 0
    assert not [r for r in d.log_records() if r.get("type") == "interpreter_found"
                and r.get("path") == other]


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_a_copy_of_an_interpreter_on_a_tmpfs_of_another_namespace(open_dir, daemon, user):
    """
    The copy's first run is from a filesystem fanotify never saw: held, known,
    judged. (By hash: with a path rule, a program whose host path cannot be
    known, as on this tmpfs, is denied itself.)
    """
    m = os.path.join(open_dir, f"ns{user}")
    bad = make(open_dir, f"nsbad{user}", "bash", m + ".bad")
    good = make(open_dir, f"nsgood{user}", "bash", m + ".good")
    d = daemon(policy([{"name": "no-bad", "action": "deny",
                        "sha256": hashlib.sha256(open(bad, "rb").read()).hexdigest()}]))
    r = subprocess.run(as_user(["unshare", "-Urm", "sh", "-c",
                                f"mount -t tmpfs t /mnt && cp /usr/bin/bash /mnt/x && "
                                f"/mnt/x {good} && /mnt/x {bad}; echo rc=$?"], user),
                       capture_output=True, text=True, timeout=30)
    assert "rc=137" in r.stdout, r
    assert os.path.exists(m + ".good") and not os.path.exists(m + ".bad")
    rec = d.wait_exec(exe=bad, decision="deny")[0]
    # No host path names a file of that tmpfs; the name it was run by does.
    assert rec["process"]["filename"] == "/mnt/x" and rec["process"]["script"] == "file", rec


def test_a_copy_is_still_known_after_a_reload(open_dir, daemon):
    m = os.path.join(open_dir, "m")
    bad = make(open_dir, "bad", "bash", m)
    d = daemon(policy([{"name": "no-bad", "action": "deny", "path": bad}], version="r-1"))
    copy = os.path.join(open_dir, "sh-copy")
    subprocess.run(["/usr/bin/cp", "/usr/bin/bash", copy], check=True)
    assert run_script([copy, bad]) == -9
    d.reload(policy([{"name": "no-bad", "action": "deny", "path": bad}], version="r-2"))
    d.wait_for(lambda r: r["type"] == "policy_reload" and r["new_policy_version"] == "r-2",
               what="reload")
    assert run_script([copy, bad]) == -9 and not os.path.exists(m)


def test_allow_list_mode_holds_a_copy_to_its_scripts_too(open_dir, daemon):
    """With default: deny an allowed copy of bash (by hash) still runs only allowed scripts."""
    m = os.path.join(open_dir, "m")
    good = make(open_dir, "good", "bash", m + ".good")
    other = make(open_dir, "other", "bash", m + ".other")
    copy = os.path.join(open_dir, "allowed-copy")
    subprocess.run(["/usr/bin/cp", "/usr/bin/bash", copy], check=True)
    daemon(policy([{"name": "system", "action": "allow", "glob": "/usr/**"},
                   {"name": "the-copy", "action": "allow", "path": copy},
                   {"name": "the-good-one", "action": "allow", "path": good}],
                  scripts="{inline: deny}", default="deny"))
    assert run_script([copy, good]) == 0 and os.path.exists(m + ".good")
    assert run_script([copy, other]) == -9 and not os.path.exists(m + ".other")
    assert run_script([copy, "-c", "true"]) == -9


def test_copies_past_the_kernels_room_are_refused_not_let_through(open_dir, daemon):
    """An attacker who makes more interpreter copies than the kernel map holds gets refusals."""
    d = daemon(policy([]))
    r = subprocess.run(["/usr/bin/bash", "-c",
                        f"cd {open_dir} && for i in $(seq 300); do cp /usr/bin/dash d$i && "
                        "{ ./d$i -c true 2>/dev/null && echo ran $i || echo refused $i; }; done"],
                       capture_output=True, text=True, timeout=300)
    ran = [int(x.split()[1]) for x in r.stdout.splitlines() if x.startswith("ran")]
    refused = [int(x.split()[1]) for x in r.stdout.splitlines() if x.startswith("refused")]
    assert len(ran) >= 200 and refused and min(refused) > max(ran), r.stdout[-2000:]
    rec = d.wait_for(lambda x: x.get("type") == "exec" and x.get("reason") == "interpreter_untracked",
                     what="a refused copy")[0]
    assert rec["decision"] == "deny", rec
    assert d.wait_for(lambda x: x.get("type") == "interpreter_found"
                      and x.get("result") != "held_from_now_on", what="a copy not held")


def test_the_wait_of_held_runs_is_counted(open_dir, daemon):
    """stats.json says how many held starts were let go on and how long they waited."""
    good = make(open_dir, "good", "bash", os.path.join(open_dir, "m"))
    d = daemon(policy([]))
    deadline = time.monotonic() + 10
    while d.stats("decisions") is None and time.monotonic() < deadline:
        time.sleep(0.2)
    before = d.stats("decisions")
    for _ in range(5):
        assert run_script(["/usr/bin/bash", good]) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = d.stats("decisions")
        if now["resumed"] >= before["resumed"] + 5:
            break
        time.sleep(0.2)
    assert now["resumed"] >= before["resumed"] + 5, (before, now)
    assert now["resume_wait_us"] > before["resume_wait_us"], (before, now)


@pytest.mark.parametrize("user", [0, NOBODY], ids=["root", "nobody"])
def test_a_deep_glob_reaches_files_read_below_its_directory(open_dir, daemon, user):
    """
    deny glob DIR/**: a running interpreter's read of a file any depth below
    DIR is refused, in directories there when the policy loaded, made later,
    or moved in; anyone else reads them as before.
    """
    m = os.path.join(open_dir, f"m{user}")
    top = os.path.join(open_dir, "tree")
    deep_dir = os.path.join(top, "a", "b")
    os.makedirs(deep_dir)
    for p in (top, os.path.join(top, "a"), deep_dir):
        os.chmod(p, 0o777)
    deep = make(deep_dir, "deep", "bash", m + ".deep")
    py = make(os.path.join(top, "a"), "deep-py", "python3", m + ".py")
    d = daemon(policy([{"name": "no-tree", "action": "deny", "glob": f"{top}/**"}]))
    assert run_script(["/usr/bin/bash", "-c", f". {deep}"], user) != 0
    assert not os.path.exists(m + ".deep")
    assert run_script(["/usr/bin/python3", "-c", f"exec(open('{py}').read())"], user) != 0
    assert not os.path.exists(m + ".py")
    rec = d.wait_exec(exe=deep, decision="deny")[0]
    assert rec["process"]["script"] == "sourced" and rec["rule"]["name"] == "no-tree", rec
    # Made after the policy loaded, by the user; and a tree made elsewhere, then moved in.
    later = os.path.join(deep_dir, "later")
    subprocess.run(as_user(["/usr/bin/mkdir", "-p", os.path.join(later, "x")], user), check=True)
    outside = os.path.join(open_dir, f"outside{user}")
    subprocess.run(as_user(["/usr/bin/mkdir", "-p", os.path.join(outside, "y")], user), check=True)
    moved = make(os.path.join(outside, "y"), "moved", "bash", m + ".moved")
    subprocess.run(as_user(["/usr/bin/mv", outside, os.path.join(top, "moved-in")], user), check=True)
    moved = os.path.join(top, "moved-in", "y", "moved.sh")
    time.sleep(0.5)  # inotify tells the daemon of the new directories; it marks them
    # Put there by cp: this test's own python is an interpreter, refused there now.
    staged = make(open_dir, f"staged{user}", "bash", m + ".later")
    made_later = os.path.join(later, "x", "later.sh")
    subprocess.run(as_user(["/usr/bin/cp", staged, made_later], user), check=True)
    for f, marker in ((made_later, m + ".later"), (moved, m + ".moved")):
        assert run_script(["/usr/bin/bash", "-c", f". {f}"], user) != 0, f
        assert not os.path.exists(marker), f
    # Anyone but an interpreter reads them as before.
    assert subprocess.run(as_user(["/usr/bin/cat", deep], user), capture_output=True).returncode == 0


def test_a_deep_glob_keeps_up_with_directories_made_and_removed(open_dir, daemon):
    """More directories made and removed under DIR/** than the watch holds at once: still judged."""
    top = os.path.join(open_dir, "churn")
    os.mkdir(top)
    d = daemon(policy([{"name": "no-churn", "action": "deny", "glob": f"{top}/**"}]))
    # Two rounds of 3,000: each round's directories are all there (and watched) at once,
    # 6,000 in all against room for 4,096; the removed ones must give their room back.
    for round_ in ("a", "b"):
        r = subprocess.run(["/usr/bin/bash", "-c", f"cd {top} && mkdir {round_}{{1..3000}} && "
                            f"sleep 2 && rmdir {round_}{{1..3000}} && sleep 1"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
    last = os.path.join(top, "last", "x")
    subprocess.run(["/usr/bin/mkdir", "-p", last], check=True)
    time.sleep(1)  # the daemon reads the churn's inotify events, then marks "last"
    m = os.path.join(open_dir, "m")
    staged = make(open_dir, "staged", "bash", m)
    target = os.path.join(last, "s.sh")
    subprocess.run(["/usr/bin/cp", staged, target], check=True)
    assert run_script(["/usr/bin/bash", "-c", f". {target}"]) != 0 and not os.path.exists(m)
    assert not [r for r in d.log_records() if r.get("sourced_files_partly_unwatched")]

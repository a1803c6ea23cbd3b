# SPDX-License-Identifier: Apache-2.0
"""
sysguardctl's policy commands as the user finds them: sysguardctl(8) has a
section for each, naming every option of its usage text (`sysguardctl policy
X --help`, read from the source), and the bash completion offers each
command and exactly those options.
"""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "src" / "cli"
COMPLETION = REPO / "deploy" / "bash-completion" / "sysguardctl"
BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")


def policy_commands():
    """The words `sysguardctl policy` dispatches on, from its table."""
    text = (CLI / "policy_cmd.c").read_text()
    table = text[text.index("} subs[] = {"):]
    table = table[:table.index("};")]
    return re.findall(r'\{ "([a-z]+)", \w+ \}', table)


def usage_text(path):
    """The usage text of the command `path` ("policy check"): its string literals, joined."""
    src = "".join(p.read_text() for p in sorted(CLI.glob("*.c")))
    m = re.search(r'struct sg_cli_cmd \w+ = \{ "' + re.escape(path) + r'",(.*?)\};', src, re.S)
    assert m, f"no usage text for {path}"
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))).replace("\\n", "\n")


def long_options(usage):
    """The options the usage lists, one a line after the description."""
    return set(re.findall(r"^\s+(?:-\w, )?--([a-z][a-z-]*)", usage, re.M))


def test_policy_commands_are_all_found():
    cmds = policy_commands()
    assert {"keygen", "sign", "check", "test", "learn", "trust", "diff"} <= set(cmds), cmds
    assert long_options(usage_text("policy learn")) >= {"from", "since", "include-denied", "output",
                                                        "help"}


def man_sections():
    if not shutil.which("mandoc"):
        pytest.skip("mandoc not installed")
    text = subprocess.run(["mandoc", "-Tascii", str(REPO / "docs" / "man" / "sysguardctl.8")],
                          stdout=subprocess.PIPE, text=True, timeout=60, check=True).stdout
    text = re.sub(r".\x08", "", text)
    # Subsections are the lines indented by three; their text, by more.
    sections, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^   (\S.*)$", line)
        if m:
            name = m.group(1)
            sections[name] = ""
        elif name is not None:
            sections[name] += line + "\n"
    return sections


@pytest.mark.parametrize("sub", policy_commands())
def test_sysguardctl_8_documents_each_policy_command_and_its_options(sub):
    sections = man_sections()
    heads = [h for h in sections if h.startswith(f"policy {sub} ") or h == f"policy {sub}"]
    assert heads, f"no section 'policy {sub}' in sysguardctl(8)"
    # A heading too long for a line goes on in the section's first lines.
    text = " ".join((heads[0] + "\n" + sections[heads[0]]).split())
    for opt in sorted(long_options(usage_text(f"policy {sub}")) - {"help"}):
        names = ["--output", "-o "] if opt == "output" else [f"--{opt}"]
        assert any(n in text for n in names), f"policy {sub}: --{opt} not in sysguardctl(8)"


def complete(line, cwd):
    """COMPREPLY of the completion for `line` (the cursor at its end), as bash-completion runs it."""
    script = (f'source {BASH_COMPLETION}\nsource {COMPLETION}\n'
              'COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}\n'
              'read -ra COMP_WORDS <<<"$COMP_LINE"\n'
              '[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")\n'
              'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n'
              # compopt refuses outside a real completion; what it would do does not matter here.
              'compopt() { :; }\n'
              '_sysguardctl sysguardctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    r = subprocess.run(["bash", "-c", script, "complete", line], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.splitlines() if w]


needs_bash_completion = pytest.mark.skipif(not BASH_COMPLETION.exists(),
                                           reason="bash-completion not installed")


@needs_bash_completion
def test_completion_offers_every_policy_command(tmp_path):
    assert complete("sysguardctl policy ", tmp_path) == policy_commands()


@needs_bash_completion
@pytest.mark.parametrize("sub", policy_commands())
def test_completion_offers_each_policy_commands_options(sub, tmp_path):
    got = {w.rstrip("=").lstrip("-") for w in complete(f"sysguardctl policy {sub} --", tmp_path)}
    assert got == long_options(usage_text(f"policy {sub}")), sub


@needs_bash_completion
def test_completion_of_o_is_a_file_where_a_policy_is_written(tmp_path):
    (tmp_path / "learned.yaml").write_text("")
    for sub in ("sign", "learn", "trust"):
        assert complete(f"sysguardctl policy {sub} -o ", tmp_path) == ["learned.yaml"], sub
    assert complete("sysguardctl policy test p.yaml --exe /usr/bin/true -o ", tmp_path) == \
        ["table", "json"]
    assert complete("sysguardctl policy trust ", tmp_path) == ["dpkg"]

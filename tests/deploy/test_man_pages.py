# SPDX-License-Identifier: Apache-2.0
"""
Man pages (docs/man/): they lint clean (mandoc -Tlint, else groff -ww), and
sysguardd(8) documents every option of `sysguardd --help`, every settings
section, and the signals the daemon takes.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAN = REPO / "docs" / "man"
PAGES = sorted(p for p in MAN.iterdir() if re.search(r"\.[1-8]$", p.name))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_man_page_lints_clean(page):
    if shutil.which("mandoc"):
        argv = ["mandoc", "-Tlint", "-W", "warning", str(page)]
    elif shutil.which("groff"):
        argv = ["groff", "-ww", "-mandoc", "-z", str(page)]
    else:
        pytest.skip("neither mandoc nor groff installed (apt-get install mandoc)")
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout


def help_options():
    """Long options from `sysguardd --help` (the built binary), else from its usage text in the source."""
    exe = REPO / "build" / "sysguardd"
    if exe.exists():
        text = subprocess.run([str(exe), "--help"], stdout=subprocess.PIPE, text=True, timeout=30).stdout
    else:
        src = "".join(p.read_text() for p in (REPO / "src").glob("**/*.c"))
        text = src[src.index("usage: sysguardd"):]
        text = text[:text.index("}")]
    return set(re.findall(r"--([a-z][a-z-]+)", text)) | {"help"}


def rendered(page):
    if not shutil.which("mandoc"):
        pytest.skip("mandoc not installed")
    return subprocess.run(["mandoc", "-Tascii", str(page)], stdout=subprocess.PIPE, text=True,
                          timeout=60).stdout


def test_sysguardd_8_documents_every_option_and_signal():
    text = re.sub(r".\x08", "", rendered(MAN / "sysguardd.8"))
    opts = help_options()
    assert {"policy", "config", "siem-facility", "record-immutable-refusals"} <= opts
    missing = sorted(o for o in opts if not re.search(rf"^\s+--{re.escape(o)}\b", text, re.M))
    assert not missing, f"options of sysguardd --help not in sysguardd(8): {missing}"
    for sig in ("SIGHUP", "SIGUSR1", "SIGTERM"):
        assert re.search(rf"^\s+{sig}\b", text, re.M), sig
    for section in ("EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO", "SIGNALS"):
        assert re.search(rf"^{section}$", text, re.M), section


def test_sysguard_policy_5_names_every_top_level_key():
    text = re.sub(r".\x08", "", rendered(MAN / "sysguard-policy.5"))  # bold and underline
    keys = re.findall(r"^\| `([a-z_]+)`", (REPO / "docs" / "policy.md").read_text().split(
        "## Top-level keys", 1)[1].split("\n## ", 1)[0], re.M)
    assert "version" in keys and "file_audit" in keys
    for k in keys:
        assert re.search(rf"^\s+{k}\b", text, re.M), f"policy key {k} not in sysguard-policy(5)"

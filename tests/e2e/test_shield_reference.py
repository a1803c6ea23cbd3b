# SPDX-License-Identifier: Apache-2.0
"""
Shield: the kernel's verdicts equal a reference longest-prefix match.

tests/e2e/helpers/shield_verify.c loads random lists (IPv4 and IPv6, nested
and crowded prefixes) into a Shield program of its own (nothing pinned or
attached), runs random packets through it with BPF_PROG_TEST_RUN, and checks
each verdict and which rule counted it against a hash of (length, masked
address) probed longest first; then again after an edit of 2,000 CIDRs and
after a swap to another list. The compressed tables must never change an
answer.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import REPO, _build  # noqa: E402

SRC = Path(__file__).resolve().parent / "helpers" / "shield_verify.c"
OBJS = ["src/act/shield.o", "src/act/shield_list.o", "src/net/cidr.o", "src/net/shield_build.o",
        "src/sense/prog_audit.o", "src/sense/helper_audit.o", "src/store/bundle_files.o",
        "src/policy/bundle.o"]


@pytest.fixture(scope="module")
def verify(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("BPF_PROG_TEST_RUN on the Shield needs root")
    _build()
    out = tmp_path_factory.mktemp("shield") / "shield_verify"
    b = REPO / "build"
    subprocess.run(["gcc", "-O2", "-g", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE",
                    f"-I{REPO / 'src'}", f"-I{b}", f"-I{REPO / 'bpf'}", str(SRC)] +
                   [str(b / o) for o in OBJS] + ["-lbpf", "-lelf", "-lz", "-lsodium", "-o", str(out)],
                   check=True)
    return out


@pytest.mark.parametrize("cidrs,lookups,seed", [(100000, 300000, 1), (1000000, 1000000, 2)])
def test_kernel_verdicts_equal_reference_lpm(verify, cidrs, lookups, seed):
    r = subprocess.run([str(verify), str(cidrs), str(lookups), str(seed)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads(r.stdout)
    # (the deep chains it adds may repeat a random CIDR or two)
    assert cidrs - 200 <= got["cidrs"] <= cidrs and got["lookups"] == lookups and got["mismatches"] == 0
    # Both answers occur often: most packets are inside a rule, the rest mostly outside.
    assert 0.5 * lookups < got["drops"] < lookups

# SPDX-License-Identifier: Apache-2.0
"""BPF-4: the feature probe says what this kernel really allows, and the daemon agrees."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import CTL_BIN, Policy

BPF_PROG = (
    'char LICENSE[] __attribute__((section("license"), used)) = "GPL";\n'
    '__attribute__((section("{sec}"), used)) int sg_e2e_probe(unsigned long long *ctx) {{ return 0; }}\n'
)


def kernel_loads(tools, section):
    """
    Ground truth independent of SysGuard: can bpftool load a minimal program
    of this section type here? None when the tools are missing.
    """
    if not (shutil.which("clang") and shutil.which("bpftool") and os.path.isdir("/sys/fs/bpf")):
        return None
    tag = section.split("/")[0]
    src = tools.root / f"probe-{tag}.bpf.c"
    obj = tools.root / f"probe-{tag}.bpf.o"
    src.write_text(BPF_PROG.format(sec=section))
    r = subprocess.run(["clang", "-O2", "-target", "bpf", "-c", str(src), "-o", str(obj)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        return None
    pin = f"/sys/fs/bpf/sg_e2e_probe_{tag}_{os.getpid()}"
    try:
        r = subprocess.run(["bpftool", "prog", "load", str(obj), pin],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return r.returncode == 0
    finally:
        if os.path.exists(pin):
            os.unlink(pin)


def fanotify_exec_perm_allowed():
    """Place (and drop at once) a FAN_OPEN_EXEC_PERM filesystem mark on / from python."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    FAN_CLASS_CONTENT, FAN_CLOEXEC = 0x4, 0x1
    FAN_MARK_ADD, FAN_MARK_FILESYSTEM = 0x1, 0x100
    FAN_OPEN_EXEC_PERM = 0x40000
    AT_FDCWD = -100
    libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int,
                                   ctypes.c_char_p]
    fd = libc.fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, os.O_RDONLY)
    if fd < 0:
        return False
    try:
        return libc.fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM,
                                  AT_FDCWD, b"/") == 0
    finally:
        os.close(fd)  # pending permission events, if any, are allowed on close


def test_probe_json_matches_kernel_and_daemon(tools, workdir, daemon):
    r = subprocess.run([str(CTL_BIN), "probe", "--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1, "probe --json is not one line"
    probe = json.loads(r.stdout)
    feats = probe["features"]
    for name, f in feats.items():
        assert isinstance(f["usable"], bool) and isinstance(f["detail"], str), name

    # fanotify: usable, and really so.
    assert feats["fanotify_exec_perm"]["usable"] is True
    assert fanotify_exec_perm_allowed() is True
    assert probe["backends"]["fanotify"] is True

    # BPF LSM: whatever the probe says must be what the kernel does.
    lsm = feats["bpf_lsm"]["usable"]
    truth = kernel_loads(tools, "lsm/bprm_check_security")
    control = kernel_loads(tools, "tp_btf/sched_process_exec")
    if truth is None or control is not True:
        pytest.fail(f"cannot establish ground truth (lsm={truth}, tp_btf control={control})")
    assert lsm is truth, f"probe says bpf_lsm usable={lsm}, the kernel says {truth}"
    assert probe["backends"]["bpf_lsm"] is truth
    # This machine is known not to allow BPF LSM (the reason these backends exist here).
    assert lsm is False, feats["bpf_lsm"]["detail"]
    assert feats["tp_btf"]["usable"] is True and feats["bpf_send_signal"]["usable"] is True

    d = daemon(Policy([]))
    backends = d.ready["backends"]
    assert ("bpf_lsm" in backends) is lsm
    assert "fanotify" in backends and "bpf_kill" in backends and "pidfd_kill" in backends
    recs = d.log_records()
    lsm_rec = [x for x in recs if x["type"] == "backend" and x["backend"] == "bpf_lsm"]
    assert lsm_rec and lsm_rec[0]["active"] is False
    probe_rec = [x for x in recs if x["type"] == "probe"]
    assert probe_rec and probe_rec[0]["features"]["bpf_lsm"]["usable"] is lsm

    status = subprocess.run([str(CTL_BIN), "--state-dir", str(d.state_dir), "status", "-o", "json"],
                            stdout=subprocess.PIPE, text=True, timeout=10)
    assert status.returncode == 0 and json.loads(status.stdout) == d.ready

# SPDX-License-Identifier: Apache-2.0
"""
POL-2: signed policy bundles. With --trusted-key the daemon takes its policy
only from a bundle signed by a trusted key and newer than the last one it
accepted, which it persists, so there is no rollback even across restarts.
Every refusal says why and leaves the running policy untouched.
"""
import errno
import json

from conftest import Policy, bundle, ctl, run


def start(daemon, workdir, pub, first, strict=True):
    extra = ["--trusted-key", str(pub), "--bundle-state", str(workdir / "bundle-version")]
    return daemon(first.read_bytes(), strict=strict, extra=extra)


def records(d, kind):
    return [r for r in d.log_records() if r["type"] == kind]


def test_bundles_accepted_in_order_and_every_refusal_explained(tools, workdir, daemon, keys):
    key, pub, other = keys
    x = tools.make_bin(workdir, "bundle-x")
    y = tools.make_bin(workdir, "bundle-y")
    v1 = bundle(workdir, key, 1, Policy([{"name": "no-x", "action": "deny", "path": x}],
                                        version="b-1"))
    v2 = bundle(workdir, key, 2, Policy([{"name": "no-y", "action": "deny", "path": y}],
                                        version="b-2"))
    d = start(daemon, workdir, pub, v1)
    assert d.ready["policy_version"] == "b-1" and d.ready["bundle"]["version"] == 1
    assert run([x, workdir / "m"]).exec_errno == errno.EPERM
    acc = records(d, "policy_bundle_accepted")[0]
    assert acc["bundle_version"] == 1 and len(acc["key_id"]) == 16

    r = ctl("--state-dir", d.state_dir, "policy", "apply", "-o", "json", v2)
    assert json.loads(r.stdout)["bundle"]["version"] == 2
    assert (workdir / "bundle-version").read_text().strip() == "2"
    assert run([y, workdir / "m"]).exec_errno == errno.EPERM
    assert run([x, workdir / "mx"]).returncode == 0

    unsigned = workdir / "plain.yaml"
    unsigned.write_text(Policy([], version="plain").text)
    forged = bundle(workdir, other, 3, Policy([], version="forged"), "other")
    tampered = workdir / "tampered.bundle"
    good = bundle(workdir, key, 4, Policy([{"name": "no-y", "action": "deny", "path": y}],
                                          version="b-4"), "t").read_bytes()
    tampered.write_bytes(good.replace(b'"deny"', b'"allw"', 1))
    assert tampered.read_bytes() != good and len(tampered.read_bytes()) == len(good)
    r = ctl("--state-dir", d.state_dir, "policy", "apply", unsigned, check=False)
    assert r.returncode == 1 and "not a signed bundle" in r.stderr, r
    for f, status in ((v1, "rollback"), (unsigned, "unsigned"), (forged, "unknown key"),
                      (tampered, "bad signature")):
        if f is unsigned:   # what someone who can write the policy file might try
            d.write_policy(f.read_text())
        else:
            r = ctl("--state-dir", d.state_dir, "policy", "apply", f, check=False)
            assert r.returncode == 1 and "refused" in r.stderr, r
        rej = d.wait_for(lambda r: r["type"] == "policy_bundle_rejected" and r["status"] == status,
                         what=status)[0]
        assert rej["severity"] == "critical" and rej["error"], rej
        # The running policy is untouched.
        assert json.loads((d.state_dir / "ready").read_text())["policy_version"] == "b-2"
        assert run([y, workdir / "m"]).exec_errno == errno.EPERM
    assert (workdir / "bundle-version").read_text().strip() == "2"
    d.stop()

    # Across a restart: the accepted bundle is taken again, an older one is not.
    d.policy_path.write_bytes(v2.read_bytes())
    d2 = start(daemon, workdir, pub, v2)
    assert d2.ready["bundle"]["version"] == 2
    d2.stop()
    d3 = start(daemon, workdir, pub, v1, strict=False)   # not strict: fails open, not closed
    try:
        assert d3.ready["policy_version"] == "failsafe-open"
        assert records(d3, "policy_bundle_rejected")[0]["status"] == "rollback"
    finally:
        d3.stop()

# SPDX-License-Identifier: Apache-2.0
"""Record checks shared by the e2e tests (docs/audit-log.md, SPEC LOG-1/LOG-2)."""
import re

EVENT_ID_RE = re.compile(r"^[0-9a-f]{16}$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
SHA_RE = re.compile(r"^[0-9a-f]{64}$")
HEX_RE = re.compile(r"^(?:[0-9a-f]{2})*$")
COMMON = ("event_id", "ts", "node_id", "policy_version", "type", "severity")
SEVERITIES = ("info", "warning", "critical")
BACKENDS = ("fanotify", "bpf_kill", "bpf_hold", "bpf_gate", "pidfd_kill", "bpf_lsm")
SENSORS = ("exec_tracepoint", "fanotify", "bpf_lsm")
RULE_KINDS = ("path", "glob", "identity", "sha256", "drift")


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_hex_twins(obj, where, errs):
    """<field>_hex: lowercase hex of the exact bytes, present only when they are not UTF-8."""
    for k, v in list(obj.items()):
        if not k.endswith("_hex"):
            continue
        base = k[:-4]
        if not isinstance(v, str) or not HEX_RE.match(v):
            errs.append(f"{where}.{k} is not lowercase hex: {v!r}")
            continue
        raw = bytes.fromhex(v)
        try:
            raw.decode("utf-8")
            errs.append(f"{where}.{k} present although the bytes are valid UTF-8")
        except UnicodeDecodeError:
            pass
        if obj.get(base) != raw.decode("utf-8", "replace"):
            errs.append(f"{where}.{base}={obj.get(base)!r} is not the U+FFFD rendering of {k}")


def check_common(r, errs, node_id=None):
    for k in COMMON:
        if k not in r:
            errs.append(f"missing common field {k}")
    keys = list(r.keys())
    if keys[:len(COMMON)] != list(COMMON):
        errs.append(f"common fields not first and in order: {keys[:6]}")
    if not isinstance(r.get("event_id"), str) or not EVENT_ID_RE.match(r.get("event_id", "")):
        errs.append(f"bad event_id {r.get('event_id')!r}")
    if not isinstance(r.get("ts"), str) or not TS_RE.match(r.get("ts", "")):
        errs.append(f"bad ts {r.get('ts')!r}")
    if not isinstance(r.get("node_id"), str) or not r.get("node_id"):
        errs.append(f"bad node_id {r.get('node_id')!r}")
    elif node_id is not None and r["node_id"] != node_id:
        errs.append(f"node_id {r['node_id']!r} != {node_id!r}")
    if r.get("policy_version") is not None and not isinstance(r.get("policy_version"), str):
        errs.append(f"bad policy_version {r.get('policy_version')!r}")
    if not isinstance(r.get("type"), str) or not r.get("type"):
        errs.append(f"bad type {r.get('type')!r}")
    if r.get("severity") not in SEVERITIES:
        errs.append(f"bad severity {r.get('severity')!r}")


def check_process_block(r, errs, need_exec_args):
    p = r.get("process")
    if not isinstance(p, dict):
        errs.append("process is not an object")
        return
    for k in ("pid", "ppid", "uid", "gid", "cgroup_id"):
        if not _is_int(p.get(k)):
            errs.append(f"process.{k} missing or not an integer: {p.get(k)!r}")
    if not isinstance(p.get("comm"), str):
        errs.append(f"process.comm missing: {p.get('comm')!r}")
    if "exe" not in p or not (p["exe"] is None or isinstance(p["exe"], str)):
        errs.append(f"process.exe missing: {p.get('exe')!r}")
    if need_exec_args:
        if not isinstance(p.get("filename"), str):
            errs.append(f"process.filename missing: {p.get('filename')!r}")
        if not isinstance(p.get("args"), list) or not all(isinstance(a, str) for a in p["args"]):
            errs.append(f"process.args missing or not a list of strings: {p.get('args')!r}")
        if not isinstance(p.get("args_truncated"), bool):
            errs.append("process.args_truncated missing")
    check_hex_twins(p, "process", errs)
    par = r.get("parent")
    if not isinstance(par, dict) or not _is_int(par.get("pid")) or "exe" not in par:
        errs.append(f"parent block bad: {par!r}")
    else:
        if par["pid"] != p.get("ppid"):
            errs.append(f"parent.pid {par['pid']} != process.ppid {p.get('ppid')}")
        check_hex_twins(par, "parent", errs)
    f = r.get("file")
    if not isinstance(f, dict):
        errs.append("file is not an object")
    else:
        for k in ("fileless", "loader"):
            if not isinstance(f.get(k), bool):
                errs.append(f"file.{k} missing")
        for k in ("dev", "ino"):
            if k in f and not _is_int(f[k]):
                errs.append(f"file.{k} not an integer")
        if "sha256" in f and not (isinstance(f["sha256"], str) and SHA_RE.match(f["sha256"])):
            errs.append(f"file.sha256 bad: {f['sha256']!r}")
    if r.get("sensor") not in SENSORS:
        errs.append(f"sensor bad: {r.get('sensor')!r}")


def check_exec(r, errs):
    if r.get("action") not in ("exec", "mmap_exec", "library"):
        errs.append(f"action bad: {r.get('action')!r}")
    dec, mode = r.get("decision"), r.get("mode")
    if dec not in ("allow", "deny", "audit"):
        errs.append(f"decision bad: {dec!r}")
    # "audit": ran, but an action: audit rule (named in rule) would have denied it.
    if (dec == "audit") != (r.get("would_deny") is True) or ("would_deny" in r and dec != "audit"):
        errs.append(f"would_deny {r.get('would_deny')!r} with decision {dec!r}")
    # ...or inline code under scripts: {inline: audit}, which no rule names.
    if dec == "audit" and r.get("rule") is None and r.get("reason") != "inline_code":
        errs.append("audit decision names no rule")
    if mode not in ("monitor", "enforce"):
        errs.append(f"mode bad: {mode!r}")
    rule = r.get("rule", "missing")
    if rule == "missing":
        errs.append("rule missing")
    elif rule is not None:
        if not (isinstance(rule, dict) and _is_int(rule.get("id")) and isinstance(rule.get("name"), str)
                and rule.get("kind") in RULE_KINDS and _is_int(rule.get("line"))):
            errs.append(f"rule object bad: {rule!r}")
    if not isinstance(r.get("default_action"), bool):
        errs.append("default_action missing")
    elif r["default_action"] != (rule is None):
        errs.append(f"default_action {r['default_action']} but rule {rule!r}")
    eb = r.get("enforced_by", "missing")
    if eb == "missing":
        errs.append("enforced_by missing")
    elif eb is not None and eb not in BACKENDS:
        errs.append(f"enforced_by bad: {eb!r}")
    want_sev = ("info" if dec == "allow" else "warning" if dec == "audit"
                else "critical" if mode == "enforce" else "warning")
    if r.get("severity") != want_sev:
        errs.append(f"severity {r.get('severity')!r} for decision {dec} in {mode}; want {want_sev}")
    if dec in ("allow", "audit") and eb is not None:
        errs.append(f"allowed exec has enforced_by {eb!r}")
    if dec == "deny" and mode == "monitor" and eb is not None:
        errs.append(f"monitor-mode deny has enforced_by {eb!r}")
    if dec == "deny" and mode == "enforce" and eb is None:
        errs.append("enforce-mode deny has enforced_by null")
    # The exec tracepoint saw the exec itself, so it knows the argv; the
    # fanotify permission event comes before the new argv exists.
    check_process_block(r, errs, need_exec_args=r.get("sensor") == "exec_tracepoint")


def check_mitigation(r, errs, by_id):
    ok = r["type"] == "mitigation"
    if r.get("result") != ("ok" if ok else "failed"):
        errs.append(f"{r['type']} with result {r.get('result')!r}")
    if r.get("severity") != ("info" if ok else "critical"):
        errs.append(f"{r['type']} with severity {r.get('severity')!r}")
    for k in ("backend", "action"):
        if not isinstance(r.get(k), str):
            errs.append(f"{r['type']}.{k} missing")
    ref = r.get("decision_event_id")
    if not isinstance(ref, str) or not EVENT_ID_RE.match(ref):
        errs.append(f"decision_event_id bad: {ref!r}")
    elif ref != "0" * 16:
        dec = by_id.get(ref)
        if dec is None or dec.get("type") != "exec" or dec.get("decision") != "deny":
            errs.append(f"decision_event_id {ref} does not name an earlier exec deny record")
    check_process_block(r, errs, need_exec_args=r.get("sensor") == "exec_tracepoint")


def validate_records(records, bad_lines=(), node_id=None, limit=20, start_id=1):
    """
    All problems found in one daemon run's records, as strings (empty: all
    good). start_id: the first record's event_id (a log reopened after
    rotation goes on with the run's numbering).
    """
    errs = []
    for raw, why in bad_lines:
        errs.append(f"line is not a JSON object ({why}): {raw[:300]!r}")
    by_id = {}
    prev = start_id - 1
    for r in records:
        e = []
        check_common(r, e, node_id)
        eid = r.get("event_id")
        if isinstance(eid, str) and EVENT_ID_RE.match(eid):
            n = int(eid, 16)
            if n != prev + 1:
                e.append(f"event_id {eid} does not follow {prev:016x}")
            prev = n
            by_id[eid] = r
        t = r.get("type")
        if t == "exec":
            check_exec(r, e)
        elif t in ("mitigation", "action_error"):
            check_mitigation(r, e, by_id)
        for msg in e:
            errs.append(f"[{eid} {t}] {msg}")
        if len(errs) >= limit:
            errs.append("...")
            break
    return errs

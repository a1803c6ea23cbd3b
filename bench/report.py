# SPDX-License-Identifier: Apache-2.0
"""The markdown tables bench/harness.py prints from its results."""


BENCHES = ("exec", "open")


def ratio_cell(s):
    ci = s["median_ratio_ci95"]
    ci = "" if ci is None else f" ({ci[0]:.3f}-{ci[1]:.3f})"
    return f"{s['median_ratio']:.3f}{ci}"


def loops(results):
    return tuple(results.get("loops", BENCHES))


def side_by_side(results):
    """Every mode's ratio per loop in one table: sysguardd and fapolicyd
    against baselines of the same run."""
    lines = ["| mode | what runs | pairs | " + " | ".join(f"{b} ratio (95% CI)" for b in loops(results))
             + " |", "|---|---|---:|" + "---:|" * len(loops(results))]
    for m in results["modes"]:
        if m["kind"] == "baseline":
            what = "nothing (noise floor)"
        elif m["kind"] == "fapolicyd":
            what = f"fapolicyd, {m['ruleset']} rules"
        else:
            what = f"sysguardd {m['kind']}, {m['rules']:,} rules"
            if m["mode"].endswith("+scripts"):
                what += ", scripts and libraries on"
        s = m["summary"]
        lines.append(f"| {m['mode']} | {what} | {s['exec']['pairs']} | "
                     + " | ".join(ratio_cell(s[b]) for b in loops(results)) + " |")
    return lines


def markdown(results):
    lines = side_by_side(results) + [
        "", "| mode | bench | pairs | median ratio | 95% CI of median | min | max "
        "| baseline median ops/s | mode median ops/s | foreign load | target | result |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for m in results["modes"]:
        for b in loops(results):
            s = m["summary"][b]
            result = s["result"]
            ci = s["median_ratio_ci95"]
            ci = "-" if ci is None else f"{ci[0]:.3f}-{ci[1]:.3f}"
            busy = m.get("foreign_busy_cpus_median")
            busy = "?" if busy is None else f"{busy:.2f} CPU"
            target = "-" if s["target"] is None else f">= {s['target']}"
            if m["kind"] == "baseline":
                result = "noise floor"
            lines.append(
                f"| {m['mode']} | {b} | {s['pairs']} | {s['median_ratio']:.3f} | {ci} "
                f"| {s['min_ratio']:.3f} | {s['max_ratio']:.3f} "
                f"| {s['base_median_ops_per_s']:,.0f} | {s['mode_median_ops_per_s']:,.0f} "
                f"| {busy} "
                f"| {target} | {result} |")
    costs = [m for m in results["modes"] if m.get("direct_cost")]
    if costs:
        lines += ["", "| mode | execs | exec ns | BPF ns per exec (share) | daemon CPU us per exec |",
                  "|---|---:|---:|---:|---:|"]
        for m in costs:
            c = m["direct_cost"]
            bpf = ("- (no BPF)" if m["kind"] == "fapolicyd" else
                   f"{c['bpf_ns_per_exec']:,.0f} ({100 * c['bpf_share_of_exec']:.2f}%)")
            lines.append(f"| {m['mode']} | {c['execs']} | {c['exec_ns']:,} "
                         f"| {bpf} "
                         f"| {c['daemon_cpu_us_per_exec']:.1f} |")
    return "\n".join(lines)

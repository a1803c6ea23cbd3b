# SPDX-License-Identifier: Apache-2.0
"""
A minimal renderer for the Go templates of deploy/helm/sysguard: enough of
Helm for our charts, and it refuses anything else (so a template using more
fails the tests instead of rendering wrongly).

Supported: {{ .Values.x.y }}, {{ .Release.Name }}, {{ .Chart.Name }} and
friends; pipelines through quote, toYaml, indent N, nindent N; if / else /
end (nested); whitespace trimming with {{- and -}}.
"""
import re

import yaml

ACTION = re.compile(r"{{(-?)\s*(.*?)\s*(-?)}}", re.S)


class TemplateError(Exception):
    pass


def _lookup(expr, ctx):
    if not expr.startswith("."):
        raise TemplateError(f"unsupported expression {expr!r}")
    value = ctx
    for part in expr[1:].split("."):
        if not isinstance(value, dict) or part not in value:
            raise TemplateError(f"{expr} is not defined")
        value = value[part]
    return value


def _to_yaml(v):
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=False).rstrip("\n")


def _str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        raise TemplateError("a map or list printed without toYaml")
    return str(v)


def _pipeline(text, ctx):
    stages = [s.strip() for s in text.split("|")]
    value = _lookup(stages[0], ctx)
    for stage in stages[1:]:
        fn, *args = stage.split()
        if fn == "quote" and not args:
            value = '"' + _str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        elif fn == "toYaml" and not args:
            value = _to_yaml(value)
        elif fn in ("indent", "nindent") and len(args) == 1 and args[0].isdigit():
            pad = " " * int(args[0])
            value = "\n".join(pad + line if line else line for line in _str(value).split("\n"))
            if fn == "nindent":
                value = "\n" + value
        else:
            raise TemplateError(f"unsupported function {stage!r}")
    return _str(value)


def _tokens(src):
    """Text and actions, with {{- / -}} trimming applied to the neighbouring text."""
    out, pos, trim_next = [], 0, False
    for m in ACTION.finditer(src):
        text = src[pos:m.start()]
        if trim_next:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        out.append(("text", text))
        out.append(("action", m.group(2)))
        trim_next = bool(m.group(3))
        pos = m.end()
    text = src[pos:]
    out.append(("text", text.lstrip() if trim_next else text))
    return out


def _truthy(v):
    return bool(v)


def _render(tokens, i, ctx, out, stop=()):
    """Render tokens from i until an action in stop; returns (index, action)."""
    while i < len(tokens):
        kind, val = tokens[i]
        i += 1
        if kind == "text":
            if out is not None:
                out.append(val)
            continue
        if val in stop:
            return i, val
        if val.startswith("if "):
            cond = _truthy(_lookup(val[3:].strip(), ctx))
            i, end = _render(tokens, i, ctx, out if cond else None, ("else", "end"))
            if end == "else":
                i, end = _render(tokens, i, ctx, None if cond else out, ("end",))
            if end != "end":
                raise TemplateError("if without end")
            continue
        if val in ("else", "end") or val.split()[0] in ("range", "with", "define", "template",
                                                      "include", "block"):
            raise TemplateError(f"unsupported or unbalanced action {val!r}")
        if out is not None:
            out.append(_pipeline(val, ctx))
    if stop:
        raise TemplateError(f"missing {'/'.join(stop)}")
    return i, None


def render_string(src, ctx):
    out = []
    _render(_tokens(src), 0, ctx, out)
    return "".join(out)


def render_chart(chart_dir, release="sysguard", values=None):
    """{template file name: rendered text} for every templates/*.yaml of the chart."""
    from pathlib import Path

    chart_dir = Path(chart_dir)
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    vals = yaml.safe_load((chart_dir / "values.yaml").read_text())
    if values:
        vals.update(values)
    ctx = {
        "Values": vals,
        "Release": {"Name": release, "Namespace": vals.get("namespace", "default"),
                    "Service": "Helm"},
        "Chart": {"Name": chart["name"], "Version": chart["version"],
                  "AppVersion": chart.get("appVersion", "")},
    }
    return {p.name: render_string(p.read_text(), ctx)
            for p in sorted((chart_dir / "templates").glob("*.yaml"))}

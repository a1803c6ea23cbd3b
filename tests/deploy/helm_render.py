# SPDX-License-Identifier: Apache-2.0
"""
A minimal renderer for the Go templates of deploy/helm/sysguard: enough of
Helm for our chart, and it refuses anything else (so a template using more
fails the tests instead of rendering wrongly).

Supported:
- fields: .Values.x.y, .Release.Name/Namespace/Service, .Chart.Name/Version/
  AppVersion, `.` and `$` (the root), $.Values..., and the variables a range
  declares ($k, $v := ...), with their fields;
- literals: "strings" (Go escapes \\ \" \\n \\t), integers, true, false;
  (parenthesised pipelines);
- actions: if / else if / else / end, with / else / end, range over a list or
  a map (map keys in sorted order, as Go does; no else), nested;
- pipelines through these functions, with Go's and Helm's semantics:
  quote, toYaml, indent N, nindent N, default, b64enc, trimSuffix, int, sha256sum,
  list,
  and, or, not, eq, ne, required, fail;
- whitespace trimming with {{- and -}}.

A missing value is an error (helm's --strict), as is an unknown function,
comparing values of different kinds, or printing a map or list without
toYaml. Numbers from values print as Helm prints them (Go float64: 1000000 is
"1e+06"), so a template must pipe a large number through `int`.
"""
import base64
import hashlib
import re
from decimal import Decimal

import yaml

ACTION = re.compile(r"{{(-?)\s*(.*?)\s*(-?)}}", re.S)
TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+)(?![\w.])|(?P<lp>\()|(?P<rp>\))|'
                   r'(?P<pipe>\|)|(?P<field>(?:\$[A-Za-z_]\w*|\$|)(?:\.[A-Za-z_]\w*)+|\.|\$[A-Za-z_]\w*|\$)'
                   r'|(?P<ident>[A-Za-z_]\w*))')
RANGE_VARS = re.compile(r"^range\s+(\$[A-Za-z_]\w*)(?:\s*,\s*(\$[A-Za-z_]\w*))?\s*:=\s*(.+)$", re.S)


class TemplateError(Exception):
    pass


class GoInt(int):
    """An int64 (the result of `int`): printed as digits, unlike a value's float64."""


class Scope:
    def __init__(self, dot, variables):
        self.dot, self.vars = dot, variables

    def child(self, dot, **new_vars):
        v = dict(self.vars)
        v.update(new_vars)
        return Scope(dot, v)


# --------------------------------------------------------------------------
# Values as Go prints and compares them
# --------------------------------------------------------------------------

def _go_float(f):
    """fmt's %v of a float64: the shortest digits, in exponent form below 1e-4 and from 1e6."""
    if f != f or f in (float("inf"), float("-inf")):
        raise TemplateError(f"{f} cannot be rendered")
    if f == 0:
        return "0"
    d = Decimal(repr(float(f)))
    sign, digits, exp = d.normalize().as_tuple()
    digits = "".join(map(str, digits))
    e10 = len(digits) + exp - 1  # exponent of the first digit
    if e10 < -4 or e10 >= 6:  # strconv's 'g' at shortest precision switches at 1e6
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{'-' if sign else ''}{mant}e{'-' if e10 < 0 else '+'}{abs(e10):02d}"
    return format(d.normalize(), "f")


def _str(v):
    if v is None:
        raise TemplateError("a missing value printed")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, GoInt):
        return str(int(v))
    if isinstance(v, (int, float)):
        return _go_float(v)  # Helm reads every number of a values file as a float64
    if isinstance(v, (dict, list)):
        raise TemplateError("a map or list printed without toYaml")
    return str(v)


GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
              "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def _go_quote(s):
    """sprig's quote: Go's %q (strconv.Quote), so a newline stays a newline in YAML."""
    out = []
    for ch in s:
        if ch in GO_ESCAPES:
            out.append(GO_ESCAPES[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return type(v).__name__


def _eq(a, b):
    if _kind(a) != _kind(b) or _kind(a) not in ("bool", "number", "string"):
        raise TemplateError(f"eq: incompatible or non-basic values {a!r}, {b!r}")
    return a == b


def _truthy(v):
    # Go templates: false, 0, nil, "" and empty maps and lists are false.
    return bool(v)


def _to_yaml(v):
    # Helm's toYaml goes through JSON: map keys come out sorted.
    if v is None:
        return "null"
    return yaml.safe_dump(v, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(n, s, newline):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TemplateError("indent needs a number")
    pad = " " * int(n)
    # Helm's indent pads every line, empty ones too.
    out = "\n".join(pad + line for line in _str(s).split("\n"))
    return "\n" + out if newline else out


def _fail(msg):
    raise TemplateError(f"fail: {_str(msg)}")


def _required(msg, v):
    if v is None or (isinstance(v, str) and v == ""):
        raise TemplateError(f"required: {_str(msg)}")
    return v


def _b64enc(s):
    if not isinstance(s, str):
        raise TemplateError("b64enc needs a string")
    return base64.b64encode(s.encode()).decode()


def _int(v):
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise TemplateError(f"int of {v!r}")
    try:
        return GoInt(int(v) if not isinstance(v, str) else int(v, 10))
    except ValueError:
        return GoInt(0)  # sprig's int of a non-number string


def _and(*a):
    for v in a:
        if not _truthy(v):
            return v
    return a[-1]


def _or(*a):
    for v in a:
        if _truthy(v):
            return v
    return a[-1]


# name: (function, fewest arguments, most arguments or None)
FUNCS = {
    "quote": (lambda v: _go_quote(_str(v)), 1, 1),
    "toYaml": (_to_yaml, 1, 1),
    "indent": (lambda n, s: _indent(n, s, False), 2, 2),
    "nindent": (lambda n, s: _indent(n, s, True), 2, 2),
    "default": (lambda d, v: v if _truthy(v) else d, 2, 2),
    "b64enc": (_b64enc, 1, 1),
    "trimSuffix": (lambda suffix, s: _str(s)[:-len(suffix)] if suffix and _str(s).endswith(suffix)
                   else _str(s), 2, 2),
    "int": (_int, 1, 1),
    "sha256sum": (lambda s: hashlib.sha256(_str(s).encode()).hexdigest(), 1, 1),
    "list": (lambda *a: list(a), 0, None),
    "and": (_and, 2, None),
    "or": (_or, 2, None),
    "not": (lambda v: not _truthy(v), 1, 1),
    "eq": (lambda a, *b: any(_eq(a, x) for x in b), 2, None),
    "ne": (lambda a, b: not _eq(a, b), 2, 2),
    "required": (_required, 2, 2),
    "fail": (_fail, 1, 1),
}


# --------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------

def _lex(text):
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"cannot parse {text[pos:]!r} in {text!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _field(path, scope):
    if path.startswith("$"):
        name, _, rest = path.partition(".")
        if name not in scope.vars:
            raise TemplateError(f"undefined variable {name}")
        value, parts = scope.vars[name], rest.split(".") if rest else []
    else:
        value, parts = scope.dot, path[1:].split(".") if path != "." else []
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            raise TemplateError(f"{path} is not defined")
        value = value[part]
    return value


def _parse_pipeline(tokens, i, close):
    """[[term, ...], ...] commands of one pipeline, to the closing token."""
    commands, cmd = [], []
    while i < len(tokens):
        kind, val = tokens[i]
        if kind == "rp":
            if not close:
                raise TemplateError("unbalanced )")
            break
        i += 1
        if kind == "pipe":
            if not cmd:
                raise TemplateError("empty command in a pipeline")
            commands.append(cmd)
            cmd = []
        elif kind == "lp":
            sub, i = _parse_pipeline(tokens, i, True)
            if i >= len(tokens):
                raise TemplateError("unclosed (")
            i += 1
            cmd.append(("pipeline", sub))
        else:
            cmd.append((kind, val))
    if close and i >= len(tokens):
        raise TemplateError("unclosed (")
    if not cmd:
        raise TemplateError("empty pipeline")
    commands.append(cmd)
    return commands, i


def _term(term, scope):
    kind, val = term
    if kind == "str":
        try:
            return val[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError as e:
            raise TemplateError(f"bad string {val}: {e}") from None
    if kind == "num":
        return GoInt(int(val))
    if kind == "field":
        return _field(val, scope)
    if kind == "pipeline":
        return _eval(val, scope)
    if kind == "ident":
        if val in ("true", "false"):
            return val == "true"
        raise TemplateError(f"function {val!r} used as a value")
    raise TemplateError(f"unexpected {val!r}")


def _eval(commands, scope):
    piped, have_piped = None, False
    for cmd in commands:
        head = cmd[0]
        if head[0] == "ident" and head[1] not in ("true", "false"):
            if head[1] not in FUNCS:
                raise TemplateError(f"unsupported function {head[1]!r}")
            fn, lo, hi = FUNCS[head[1]]
            args = [_term(t, scope) for t in cmd[1:]] + ([piped] if have_piped else [])
            if len(args) < lo or (hi is not None and len(args) > hi):
                raise TemplateError(f"{head[1]}: wrong number of arguments ({len(args)})")
            piped = fn(*args)
        else:
            if len(cmd) != 1 or have_piped:
                raise TemplateError(f"{head[1]!r} is not a function")
            piped = _term(head, scope)
        have_piped = True
    return piped


def _evaluate(text, scope):
    commands, i = _parse_pipeline(_lex(text), 0, False)
    return _eval(commands, scope)


# --------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------

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
    if "{{" in text or "}}" in text:
        raise TemplateError("unbalanced {{ or }}")
    out.append(("text", text.lstrip() if trim_next else text))
    return out


def _keyword(val):
    return val.split(None, 1)[0] if val else ""


def _skip(tokens, i, stop):
    """Index after the matching stop action at this nesting level; (index, action)."""
    depth = 0
    while i < len(tokens):
        kind, val = tokens[i]
        i += 1
        if kind != "action":
            continue
        kw = _keyword(val)
        if kw in ("if", "with", "range"):
            depth += 1
        elif val == "end":
            if depth == 0:
                if "end" in stop:
                    return i, val
                break
            depth -= 1
        elif depth == 0 and (val == "else" or val.startswith("else if ")) and "else" in stop:
            return i, val
    raise TemplateError(f"missing {'/'.join(stop)}")


def _collect(tokens, i, allow_else_if):
    """[(else-action or None, body start, body end)] and the index after end."""
    parts, head, start = [], None, i
    while True:
        j, act = _skip(tokens, start, ("else", "end"))
        parts.append((head, start, j - 1))
        if act == "end":
            return parts, j
        if act.startswith("else if ") and not allow_else_if:
            raise TemplateError("else if in a with")
        if act == "else" and parts and parts[-1][0] == "else":
            raise TemplateError("else after else")
        if head == "else":
            raise TemplateError("else if after else")
        head, start = act, j


def _render(tokens, i, end, scope, out):
    while i < end:
        kind, val = tokens[i]
        i += 1
        if kind == "text":
            out.append(val)
            continue
        kw = _keyword(val)
        if kw in ("if", "with"):
            parts, after = _collect(tokens, i, kw == "if")
            for n, (head, s, e) in enumerate(parts):
                if n == 0:
                    value = _evaluate(val[len(kw):], scope)
                elif head == "else":
                    value = True
                else:
                    value = _evaluate(head[len("else if"):], scope)
                if _truthy(value):
                    _render(tokens, s, e, scope.child(value) if kw == "with" and n == 0 else scope, out)
                    break
            i = after
            continue
        if kw == "range":
            parts, after = _collect(tokens, i, False)
            if len(parts) != 1:
                raise TemplateError("range with else is not supported")
            _, s, e = parts[0]
            m = RANGE_VARS.match(val)
            coll = _evaluate(m.group(3) if m else val[len("range"):], scope)
            if isinstance(coll, dict):
                items = [(k, coll[k]) for k in sorted(coll)]
            elif isinstance(coll, list):
                items = [(GoInt(n), v) for n, v in enumerate(coll)]
            else:
                raise TemplateError(f"range over {coll!r}")
            for k, v in items:
                names = {}
                if m and m.group(2):
                    names = {m.group(1): k, m.group(2): v}
                elif m:
                    names = {m.group(1): v}
                _render(tokens, s, e, scope.child(v, **names), out)
            i = after
            continue
        if val == "end" or val == "else" or val.startswith("else "):
            raise TemplateError(f"unbalanced action {val!r}")
        if kw in ("define", "template", "include", "block", "break", "continue") or ":=" in val \
                or val.startswith("/*"):
            raise TemplateError(f"unsupported action {val!r}")
        out.append(_str(_evaluate(val, scope)))
    return i


def render_string(src, ctx):
    tokens = _tokens(src)
    out = []
    _render(tokens, 0, len(tokens), Scope(ctx, {"$": ctx}), out)
    return "".join(out)


def merge_values(base, override):
    """Helm's merge of user values over the chart's: maps deeply, null deletes a key."""
    out = dict(base)
    for k, v in override.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_values(out[k], v)
        else:
            out[k] = v
    return out


def render_chart(chart_dir, release="sysguard", values=None, namespace="sysguard"):
    """{template file name: rendered text} for every templates/*.yaml of the chart."""
    from pathlib import Path

    chart_dir = Path(chart_dir)
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    vals = yaml.safe_load((chart_dir / "values.yaml").read_text())
    if values:
        vals = merge_values(vals, values)
    ctx = {
        "Values": vals,
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm"},
        "Chart": {"Name": chart["name"], "Version": chart["version"],
                  "AppVersion": chart.get("appVersion", "")},
    }
    return {p.name: render_string(p.read_text(), ctx)
            for p in sorted((chart_dir / "templates").glob("*.yaml"))}


def template_output(chart_dir, header="", **kw):
    """What `helm template` prints: each non-empty rendering after a `# Source:` line."""
    chart = yaml.safe_load((__import__("pathlib").Path(chart_dir) / "Chart.yaml").read_text())
    out = [header]
    for name, text in render_chart(chart_dir, **kw).items():
        if text.strip():
            out.append(f"---\n# Source: {chart['name']}/templates/{name}\n{text.strip(chr(10))}\n")
    return "".join(out)


STATIC_HEADER = """\
# SysGuard on Kubernetes without Helm: the Helm chart deploy/helm/sysguard
# rendered with its default values into the namespace sysguard
# (tests/deploy/test_manifests.py checks that the two agree; regenerate with
# python3 tests/deploy/helm_render.py > deploy/k8s/daemonset.yaml). The
# namespace is not made here; it must allow privileged pods:
#   kubectl create namespace sysguard
#   kubectl label namespace sysguard pod-security.kubernetes.io/enforce=privileged
#   kubectl apply -f deploy/k8s/daemonset.yaml
# Why each privilege is needed: docs/deployment.md.
"""


if __name__ == "__main__":
    import argparse
    import sys
    from pathlib import Path

    ap = argparse.ArgumentParser(description="helm template, for this chart, without helm")
    ap.add_argument("chart", nargs="?", default=str(Path(__file__).resolve().parents[2]
                                                   / "deploy" / "helm" / "sysguard"))
    ap.add_argument("-f", "--values", action="append", default=[], help="a values file (repeatable)")
    ap.add_argument("-n", "--namespace", default="sysguard")
    ap.add_argument("--release", default="sysguard")
    a = ap.parse_args()
    user = {}
    for f in a.values:
        user = merge_values(user, yaml.safe_load(Path(f).read_text()) or {})
    try:
        sys.stdout.write(template_output(a.chart, header=STATIC_HEADER if not a.values else "",
                                         release=a.release, values=user, namespace=a.namespace))
    except TemplateError as e:
        sys.exit(f"helm_render: {e}")

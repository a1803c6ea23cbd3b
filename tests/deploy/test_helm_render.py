# SPDX-License-Identifier: Apache-2.0
"""
tests/deploy/helm_render.py, the chart's stand-in for helm: each template
feature it supports renders as Helm's Go templates do, and what it does not
support is refused instead of rendered wrongly.
"""
import hashlib

import pytest
import yaml

from helm_render import TemplateError, merge_values, render_string

CTX = {
    "Values": {
        "name": "web", "empty": "", "zero": 0, "port": 9464, "big": 1000000, "half": 0.5,
        "on": True, "off": False, "list": ["a", "b"], "map": {"z": 1, "a": {"x": [1, 2]}},
        "nothing": {}, "token": "s3cret-s3cret-s3cret",
    },
    "Release": {"Name": "rel", "Namespace": "ns"},
}


def r(src, ctx=CTX):
    return render_string(src, ctx)


def test_fields_literals_and_trimming():
    assert r("{{ .Values.name }}/{{ .Release.Namespace }}") == "web/ns"
    assert r("a  {{- .Values.name -}}  \n b") == "awebb"
    assert r('{{ "x\\ty" }} {{ 42 }} {{ true }}') == "x\ty 42 true"


def test_numbers_print_as_helm_prints_them():
    # Helm reads values-file numbers as float64: 1000000 comes out as 1e+06.
    assert r("{{ .Values.port }} {{ .Values.big }} {{ .Values.half }} {{ .Values.zero }}") == \
        "9464 1e+06 0.5 0"
    assert r("{{ .Values.big | int }} {{ int .Values.half }}") == "1000000 0"


def test_if_else_if_else_and_nesting():
    src = "{{ if .Values.off }}1{{ else if .Values.empty }}2{{ else if .Values.on }}" \
          "{{ if .Values.list }}3{{ end }}{{ else }}4{{ end }}"
    assert r(src) == "3"
    assert r("{{ if .Values.nothing }}x{{ else }}y{{ end }}") == "y"
    assert r("{{ if .Values.zero }}x{{ end }}") == ""


def test_with_sets_the_dot_and_has_else():
    assert r("{{ with .Values.map.a }}{{ .x | toYaml }}{{ end }}") == "- 1\n- 2"
    assert r("{{ with .Values.nothing }}x{{ else }}none{{ end }}") == "none"
    assert r("{{ with .Values.map }}{{ $.Release.Name }}{{ end }}") == "rel"


def test_range_over_lists_and_maps_in_key_order():
    assert r("{{ range .Values.list }}[{{ . }}]{{ end }}") == "[a][b]"
    assert r("{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }};{{ end }}") == "0=a;1=b;"
    assert r("{{ range $k, $v := .Values.map }}{{ $k }} {{ end }}") == "a z "
    assert r("{{ range $v := .Values.list }}{{ $v }}{{ $.Values.name }}{{ end }}") == "awebbweb"
    assert r("{{ range .Values.nothing }}x{{ end }}") == ""


def test_functions():
    assert r("{{ .Values.name | quote }}") == '"web"'
    # Go's %q: a newline, a quote and a backslash survive YAML's double-quoted style.
    ctx = {"Values": {"s": 'a "b" \\ c\n\x01'}}
    assert yaml.safe_load("k: " + r("{{ .Values.s | quote }}", ctx))["k"] == ctx["Values"]["s"]
    assert r("{{ .Values.map | toYaml }}") == "a:\n  x:\n  - 1\n  - 2\nz: 1"
    assert r("x:{{ .Values.list | toYaml | nindent 2 }}") == "x:\n  - a\n  - b"
    assert r("{{ .Values.list | toYaml | indent 2 }}") == "  - a\n  - b"
    assert r('{{ .Values.empty | default "d" }} {{ default "d" .Values.name }}') == "d web"
    assert r("{{ .Values.token | b64enc }}") == "czNjcmV0LXMzY3JldC1zM2NyZXQ="
    assert r('{{ "a\\n" | trimSuffix "\\n" }}|') == "a|"
    assert r('{{ and .Values.on .Values.name }} {{ and .Values.on .Values.empty }}|') == "web |"
    assert r('{{ or .Values.empty .Values.zero .Values.name }} {{ not .Values.on }}') == "web false"
    assert r('{{ eq .Values.name "x" "web" }} {{ ne .Values.port 9464 }}') == "true false"
    assert r('{{ if and .Values.on (not (eq .Values.name "db")) }}y{{ end }}') == "y"
    assert r("{{ list .Values.name .Values.port | toYaml }}") == "- web\n- 9464"
    assert r("{{ .Values.name | sha256sum }}") == hashlib.sha256(b"web").hexdigest()
    assert r('{{ required "need it" .Values.name }}') == "web"


@pytest.mark.parametrize("src, msg", [
    ("{{ .Values.missing }}", "not defined"),
    ("{{ .Values.map }}", "without toYaml"),
    ('{{ required "the name" .Values.empty }}', "required: the name"),
    ('{{ fail "no way" }}', "fail: no way"),
    ('{{ eq .Values.port "9464" }}', "incompatible"),
    ("{{ .Values.name | upper }}", "unsupported function"),
    ('{{ printf "%s" .Values.name }}', "unsupported function"),
    ('{{ include "x" . }}', "unsupported action"),
    ('{{ template "x" . }}', "unsupported action"),
    ("{{ $x := 1 }}", "unsupported action"),
    ("{{/* c */}}", "unsupported action"),
    ("{{ range .Values.list }}x{{ else }}y{{ end }}", "range with else"),
    ("{{ range .Values.name }}x{{ end }}", "range over"),
    ("{{ if .Values.on }}x", "missing"),
    ("x{{ end }}", "unbalanced"),
    ("{{ with .Values.on }}x{{ else if .Values.on }}y{{ end }}", "else if in a with"),
    ("{{ $v }}", "undefined variable"),
    ("{{ .Values.name .Values.port }}", "not a function"),
    ("{{ quote }}", "wrong number of arguments"),
    ("{{ (.Values.name }}", "unclosed"),
    ("{{ .Values.name }} }}", "unbalanced"),
])
def test_refusals(src, msg):
    with pytest.raises(TemplateError, match=msg):
        r(src)


def test_values_merge_deeply_and_null_deletes():
    base = {"api": {"enabled": False, "port": 0}, "list": [1, 2], "gone": 1}
    assert merge_values(base, {"api": {"enabled": True}, "list": [3], "gone": None}) == \
        {"api": {"enabled": True, "port": 0}, "list": [3]}
    assert base["api"]["enabled"] is False

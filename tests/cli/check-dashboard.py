#!/usr/bin/env python3
"""The structure of a Grafana dashboard for gua (contrib/grafana/gua.json).

usage: check-dashboard.py DASHBOARD FAMILIES RULES_OUT

FAMILIES holds the metric families gua exports, one a line. Checks that
the dashboard is JSON, importable on any Grafana (an __inputs data source,
${DS_PROMETHEUS} as every data source, no other uid), that its panels
are whole, and that every query names only those families. Writes each
query, with Grafana's variables given sample values, as a recording rule
to RULES_OUT, so that `promtool check rules RULES_OUT` parses every one
with Prometheus's own parser. Exit 0, or 1 with the faults on stderr.
"""
import json
import re
import sys

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
PANEL_TYPES = {"stat", "bargauge", "timeseries", "state-timeline", "table"}
# Grafana's variables, and what stands for each in the parser check.
VARIABLES = {"$__range": "1d", "$__rate_interval": "5m",
             "$__interval": "1m", "$instance": ".*"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on",
            "ignoring", "group_left", "group_right", "inf", "nan"}

faults = []


def fault(msg):
    faults.append(msg)


def families_of(expr):
    """The metric names a PromQL expression selects."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)       # label values
    e = re.sub(r"\{[^}]*\}", " ", e)                    # matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                   # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*"
               r"\([^)]*\)", " ", e)                     # label lists
    e = re.sub(r"(?<![\w:])\d[\w.+-]*", " ", e)         # numbers, durations
    names = set()
    for m in re.finditer(r"[A-Za-z_:][\w:]*", e):
        word = m.group(0)
        if word in KEYWORDS or re.match(r"\s*\(", e[m.end():]):
            continue                                     # a function
        names.add(word)
    return names


def walk(node, path):
    """Every uid anywhere: only the data source input's."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "uid" and v is not None and v != DS["uid"]:
                fault(f"{path}.uid: hard-coded {v!r}")
            walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, f"{path}[{i}]")


def main():
    dash_path, fam_path, rules_out = sys.argv[1:4]
    try:
        with open(dash_path, encoding="utf-8") as f:
            d = json.load(f)
    except ValueError as e:
        print(f"{dash_path}: not JSON: {e}", file=sys.stderr)
        return 1
    with open(fam_path, encoding="utf-8") as f:
        families = {line.strip() for line in f if line.strip()}

    inputs = d.get("__inputs", [])
    if [(i.get("name"), i.get("type"), i.get("pluginId")) for i in inputs] \
            != [("DS_PROMETHEUS", "datasource", "prometheus")]:
        fault(f"__inputs: want one Prometheus data source DS_PROMETHEUS, "
              f"got {inputs!r}")
    walk(d, "$")

    exprs = []
    for v in d.get("templating", {}).get("list", []):
        if v.get("datasource") != DS:
            fault(f"variable {v.get('name')}: data source {v.get('datasource')!r}")
        q = v.get("query", {})
        q = q.get("query", "") if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((\w+), *(\w+)\)", q)
        if m is None:
            fault(f"variable {v.get('name')}: query {q!r}")
        elif m.group(1) not in families:
            fault(f"variable {v.get('name')}: {m.group(1)} is no gua family")

    panels = d.get("panels", [])
    ids = [p.get("id") for p in panels]
    if not panels or len(set(ids)) != len(ids):
        fault(f"panels: none, or ids repeated: {ids}")
    for p in panels:
        name = f"panel {p.get('id')} ({p.get('title')!r})"
        if p.get("type") not in PANEL_TYPES:
            fault(f"{name}: type {p.get('type')!r}")
        if not p.get("title") or not p.get("description"):
            fault(f"{name}: no title or description")
        if set(p.get("gridPos", {})) != set("xywh"):
            fault(f"{name}: gridPos {p.get('gridPos')!r}")
        if p.get("datasource") != DS:
            fault(f"{name}: data source {p.get('datasource')!r}")
        targets = p.get("targets", [])
        if not targets:
            fault(f"{name}: no query")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            fault(f"{name}: refIds repeated: {refs}")
        for t in targets:
            tname = f"{name} query {t.get('refId')}"
            if t.get("datasource") != DS:
                fault(f"{tname}: data source {t.get('datasource')!r}")
            expr = t.get("expr", "")
            used = families_of(expr)
            if not used:
                fault(f"{tname}: selects no metric: {expr!r}")
            for fam in sorted(used - families):
                fault(f"{tname}: {fam} is no family gua exports")
            exprs.append((tname, expr))

    with open(rules_out, "w", encoding="utf-8") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (tname, expr) in enumerate(exprs):
            e = expr
            for var, value in VARIABLES.items():
                e = e.replace(var, value)
            if "$" in e:
                fault(f"{tname}: a variable the check does not know: {expr!r}")
            # A JSON string is a YAML double-quoted scalar.
            f.write(f"      - record: dashboard:query_{i}\n"
                    f"        expr: {json.dumps(e)}\n")
    for msg in faults:
        print(msg, file=sys.stderr)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())

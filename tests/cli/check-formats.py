"""Checks of gua's file formats for the black-box tests.

Usage: check-formats.py CHECK FILE...  Prints nothing and exits 0 when the
check holds; prints what differs and exits 1 otherwise. Only the standard
library, except 'schema', which needs python3-jsonschema.
"""
import csv
import json
import math
import re
import sys


def fail(msg):
    print(msg)
    sys.exit(1)


def near(a, b, tol=1e-6):
    return a is not None and b is not None and abs(a - b) <= tol


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def dicts(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def check_schema(schema_path, report_path):
    try:
        import jsonschema
    except ImportError:
        # 77: the shell side counts it skipped (python3-jsonschema).
        print("needs python3-jsonschema (apt-get install python3-jsonschema)")
        sys.exit(77)
    schema = load(schema_path)
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(
        load(report_path)))
    if errors:
        fail("; ".join("%s at %s" % (e.message, list(e.path))
                       for e in errors[:5]))


def pct(x):
    """A ratio as the text report prints it: one decimal."""
    return "%5.1f%%" % (100 * x)


def sm(x):
    """An own SM utilization as the text report prints it: "-" unknown."""
    return "%6s" % "-" if x is None else "%5.1f%%" % x


def place(e):
    """Where a process ran, as report_place() words it; "" when unknown."""
    unit = e.get("unit") or ""
    if e.get("pod"):
        return "pod " + e["pod"][:8] + ("\u2026" if len(e["pod"]) > 8 else "")
    if e.get("container"):
        return "container " + e["container"]
    if e.get("slurm_job"):
        return "slurm " + e["slurm_job"]
    if unit and not (unit.startswith("session-") and unit.endswith(".scope")):
        return "unit " + unit
    return ""


def check_json_text(json_path, text_path):
    """Every number the text report prints equals the JSON's, rounded."""
    d = load(json_path)
    text = open(text_path, encoding="utf-8").read()
    t = d["totals"]
    want = []
    if t["samples"] > 0:
        want += [
            "active       \u2588  %s" % pct(t["active_ratio"]),
            "idle-held    \u2592  %s" % pct(t["idle_held_ratio"]),
            "truly-idle   \u2591  %s" % pct(t["truly_idle_ratio"]),
            "(%d samples)" % t["samples"],
            "~%.2f GPU-hours idle-held, ~%.2f GPUs equivalently: " % (
                t["idle_held_gpu_hours"], t["idle_held_gpus_equivalent"]),
            "~%.2f GPU-hours truly idle, ~%.2f GPUs equivalently: " % (
                t["truly_idle_gpu_hours"], t["truly_idle_gpus_equivalent"]),
        ]
    multi = len(d["hosts"]) > 1

    def host(h):    # cut to 20 columns, as the text report cuts it
        return h if len(h) <= 20 else h[:19] + "\u2026"
    labels = [("%s/%s" % (host(g["host"]), g["label"]) if multi
               else g["label"]) for g in d["gpus"]]
    # MIG instances' and several hosts' labels are longer: the column
    # widens for them.
    width = 8
    if multi or any(g["parent_uuid"] for g in d["gpus"]):
        width = max([8] + [len(x) for x in labels])
    for g, label in zip(d["gpus"], labels):
        if g["samples"] == 0:
            continue
        want.append("%-*s  active %s  idle-held %s  truly-idle %s" % (
            width, label, pct(g["active_ratio"]), pct(g["idle_held_ratio"]),
            pct(g["truly_idle_ratio"])))
    names = []
    for i in d["identities"][:10]:
        name = i["user"] or "unknown"
        if multi:
            name += "@" + i["host"]
        where = place(i)
        names.append(("%s (%s)" % (name, where)) if where else name)
    # Wider (up to 48) when where the processes ran is said.
    width = max([20] + [min(len(n), 48) for n, i in
                        zip(names, d["identities"]) if place(i)])
    lines = text.splitlines()
    for name, i in zip(names, d["identities"][:10]):
        cut = name if len(name) <= width else name[:width - 1] + "\u2026"
        row = "  %-*s  %9.2f   %9.2f  %s" % (
            width, cut, i["gpu_hours"], i["idle_held_gpu_hours"],
            pct(i["idle_held_ratio"] or 0))
        want.append(row)
        # Its own SM utilization ends the row.
        if not any(x.startswith(row) and x.endswith("  " + sm(
                i["mean_sm_utilization_percent"])) for x in lines):
            fail("no \u00a74 row %r ending in SM %r" % (
                row, sm(i["mean_sm_utilization_percent"])))
    # \u00a76: each session shown has its SM % just before its first seen.
    for s in [s for s in d["sessions"] if s["idle_held_seconds"] > 0][:10]:
        first = s["first_seen"][:19].replace("T", " ")
        cell = "%s  %s" % (sm(s["mean_sm_utilization_percent"]), first)
        if not any((" %6u  " % s["pid"]) in x and cell in x for x in lines):
            fail("no \u00a76 row of pid %d with %r" % (s["pid"], cell))
    missing = [w for w in want if w not in text]
    if missing:
        fail("text lacks: %r" % missing)
    # The shares add up, and the hours are the shares of the known time.
    if t["samples"] > 0:
        s = t["active_ratio"] + t["idle_held_ratio"] + t["truly_idle_ratio"]
        if not near(s, 1, 3e-6):
            fail("shares sum to %f" % s)
        known = (t["active_gpu_hours"] + t["idle_held_gpu_hours"] +
                 t["truly_idle_gpu_hours"])
        if not near(t["idle_held_gpu_hours"], known * t["idle_held_ratio"],
                    1e-5):
            fail("idle-held hours do not match the share")


SUM_KEYS = ["samples", "unknown_samples", "active_gpu_hours",
            "idle_held_gpu_hours", "truly_idle_gpu_hours",
            "unknown_gpu_hours"]


def check_merged(merged_path, *part_paths):
    """A merged report's sums equal the sums of its parts."""
    m = load(merged_path)
    parts = [load(p) for p in part_paths]
    if len(m["hosts"]) != len(parts):
        fail("%d hosts, want %d" % (len(m["hosts"]), len(parts)))
    if m["hostname"] is not None:
        fail("a merged report names one host")
    for k in SUM_KEYS:
        want = sum(p["totals"][k] for p in parts)
        if not near(m["totals"][k], want, 1e-5):
            fail("totals.%s is %s, parts sum to %s" % (k, m["totals"][k],
                                                       want))
    if m["totals"]["gpu_count"] != sum(p["totals"]["gpu_count"]
                                        for p in parts):
        fail("gpu_count")
    # All of them: those shown and those --top left out.
    def count(r, key):
        return len(r[key]) + r.get(key + "_omitted", 0)
    for key in ("gpus", "identities", "sessions"):
        if count(m, key) != sum(count(p, key) for p in parts):
            fail("%s: %d, want the parts' %d" % (
                key, count(m, key), sum(count(p, key) for p in parts)))
    names = [p["hostname"] for p in parts]
    if [h["hostname"] for h in m["hosts"]] != names:
        fail("hosts %r, want %r" % (m["hosts"], names))
    for p in parts:
        mine = [g for g in m["gpus"] if g["host"] == p["hostname"]]
        for a, b in zip(mine, p["gpus"]):
            for k in SUM_KEYS + ["active_ratio", "idle_held_ratio"]:
                if a[k] != b[k]:
                    fail("%s GPU %d %s differs" % (p["hostname"], a["index"],
                                                   k))
        h = [h for h in m["hosts"] if h["hostname"] == p["hostname"]][0]
        for k in SUM_KEYS:
            if not near(h["totals"][k], p["totals"][k]):
                fail("host %s %s" % (p["hostname"], k))
    for s in m["sessions"] + m["identities"] + m["gpus"]:
        if s["host"] not in names:
            fail("an entry without its host: %r" % s)
    # The timeline adds up to the totals, whatever its buckets.
    tl = m["timeline"]["buckets"]
    for k in ("samples", "idle_held_gpu_hours"):
        if not near(sum(b[k] for b in tl), m["totals"][k], 1e-4):
            fail("timeline %s does not add up" % k)


def number(cell):
    return None if cell == "" else float(cell)


def check_csv_gpus(csv_path, json_path):
    """The gpus table has the JSON's numbers."""
    d = load(json_path)
    table = dicts(csv_path)
    if len(table) != len(d["gpus"]):
        fail("%d rows, want %d" % (len(table), len(d["gpus"])))
    for r, g in zip(table, d["gpus"]):
        if r["host"] != g["host"] or int(r["gpu_index"]) != g["index"] \
                or r["gpu_uuid"] != g["uuid"]:
            fail("row %r is not GPU %r" % (r, g["uuid"]))
        for k in SUM_KEYS + ["active_ratio", "idle_held_ratio",
                             "truly_idle_ratio", "mean_utilization_percent"]:
            a, b = number(r[k]), g[k]
            if (a is None) != (b is None) or (a is not None and
                                              not near(a, b)):
                fail("GPU %s %s: csv %s, json %s" % (g["uuid"], k, r[k], b))


STATES = ["active", "idle_held", "truly_idle", "unknown"]


def check_csv_ticks(ticks_path, gpus_path):
    """The raw rows add up to the per-GPU sums, state by state."""
    sums = {}
    count = {}
    for r in dicts(ticks_path):
        key = (r["host"], r["gpu_uuid"])
        sums.setdefault(key, dict.fromkeys(STATES, 0))
        count.setdefault(key, dict.fromkeys(STATES, 0))
        sums[key][r["state"]] += int(r["span_ms"])
        count[key][r["state"]] += 1
        if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$",
                        r["timestamp"]):
            fail("timestamp %r" % r["timestamp"])
        procs = r["processes"].split()
        if r["process_count"] != "" and len(procs) != int(
                r["process_count"]):
            fail("process_count %s, processes %r" % (r["process_count"],
                                                     r["processes"]))
        held = sum(int(p.split("/")[2]) for p in procs
                   if p.split("/")[2] != "?")
        if r["memory_held_mib"] != "" and held != int(r["memory_held_mib"]):
            fail("held %s, processes %r" % (r["memory_held_mib"],
                                            r["processes"]))
    table = dicts(gpus_path)
    if len(table) != len(sums):
        fail("%d GPUs in ticks, %d in gpus" % (len(sums), len(table)))
    for g in table:
        key = (g["host"], g["gpu_uuid"])
        for s in STATES:
            hours = float(g[s + "_gpu_hours"])
            if not near(sums[key][s] / 3.6e6, hours):
                fail("%s %s: ticks %f h, gpus %f h" % (key, s,
                                                       sums[key][s] / 3.6e6,
                                                       hours))
        known = sum(count[key][s] for s in STATES[:3])
        if known != int(g["samples"]):
            fail("%s: %d known ticks, %s samples" % (key, known,
                                                     g["samples"]))


def check_csv_processes(processes_path, ticks_path, json_path):
    """The processes table: the ticks table's processes, one per row, and
    the evidence of the sessions' numbers (where a PID is one session)."""
    procs = dicts(processes_path)
    by_tick = {}
    for r in procs:
        if r["state"] not in STATES:
            fail("state %r" % r["state"])
        key = (r["host"], r["timestamp"], r["gpu_uuid"])
        by_tick.setdefault(key, []).append("%s/%s/%s/%s" % (
            r["pid"], r["user"] or "?", r["memory_mib"] or "?", r["state"]))
    for t in dicts(ticks_path):
        key = (t["host"], t["timestamp"], t["gpu_uuid"])
        if by_tick.pop(key, []) != t["processes"].split():
            fail("%r: processes %r in the ticks table" % (key,
                                                         t["processes"]))
    if by_tick:
        fail("rows of no tick: %r" % list(by_tick)[:3])
    d = load(json_path)
    keys = [(s["host"], s["gpu_uuid"], s["pid"]) for s in d["sessions"]]
    for s in d["sessions"]:
        key = (s["host"], s["gpu_uuid"], s["pid"])
        if keys.count(key) > 1:
            continue    # a PID reused: the table does not tell them apart
        rows_ = [r for r in procs if (r["host"], r["gpu_uuid"],
                                      int(r["pid"])) == key]
        if len(rows_) != s["samples"]:
            fail("%r: %d rows, %d samples" % (key, len(rows_), s["samples"]))
        idle = sum(int(r["span_ms"]) for r in rows_
                   if r["state"] == "idle_held")
        if not near(idle / 1000, s["idle_held_seconds"], 1e-3):
            fail("%r: idle-held %d ms, json %s s" % (
                key, idle, s["idle_held_seconds"]))
        known = [(float(r["sm_utilization_percent"]), int(r["span_ms"]))
                 for r in rows_ if r["sm_utilization_percent"] != ""]
        want = s["mean_sm_utilization_percent"]
        if not known:
            if want is not None:
                fail("%r: no utilization known, json %s" % (key, want))
            continue
        mean = sum(u * ms for u, ms in known) / sum(ms for _, ms in known)
        if want is None or abs(mean - want) > 0.05 + 1e-9:
            fail("%r: mean of the rows %.4f, json %s" % (key, mean, want))


FORMULA = ("=", "+", "-", "@", "\t", "\r")
NUMERIC = {"gpu_index", "pid", "memory_total_mib", "samples",
           "unknown_samples", "sessions", "peak_memory_mib",
           "present_seconds", "idle_held_seconds", "span_ms",
           "utilization_percent", "memory_held_mib", "process_count",
           "memory_mib"}


def check_csv_safe(csv_path):
    """RFC 4180 rows of one width; no text cell a spreadsheet would run."""
    raw = open(csv_path, "rb").read()
    if raw and not raw.endswith(b"\r\n"):
        fail("rows do not end with CRLF")
    table = rows(csv_path)
    head = table[0]
    if head[0] != "host":
        fail("first column %r, want host" % head[0])
    for r in table[1:]:
        if len(r) != len(head):
            fail("a row of %d cells under %d names: %r" % (len(r), len(head),
                                                            r))
        for name, cell in zip(head, r):
            numeric = (name in NUMERIC or name.endswith("_ratio") or
                       name.endswith("_hours") or name.endswith("_percent"))
            if numeric:
                if cell != "" and not math.isfinite(float(cell)):
                    fail("%s: %r is not a number" % (name, cell))
            elif cell.startswith(FORMULA):
                fail("%s: %r would run as a formula" % (name, cell))


def check_csv_cell(csv_path, column, want):
    """Some row has exactly want in column (after Python's csv reading)."""
    got = [r[column] for r in dicts(csv_path)]
    if want not in got:
        fail("no %s cell is %r: %r" % (column, want, got))


class Dom(__import__("html.parser").parser.HTMLParser):
    """The elements of a page: [tag, attributes, text of its <title>]."""

    def __init__(self):
        super().__init__()
        self.elements = []
        self.stack = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        el = [tag, dict(attrs), ""]
        self.elements.append(el)
        if tag not in ("meta", "link", "br", "img", "input"):
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        self.text.append(data)
        # A <title> names the element it is in.
        if len(self.stack) > 1 and self.stack[-1][0] == "title":
            self.stack[-2][2] += data


def shares_of(elements):
    return {e[1]["data-state"]: float(e[1]["data-share"]) for e in elements
            if e[0] == "rect" and "data-state" in e[1]}


def check_html(dom_path, json_path, *texts):
    """The rendered page: no script, nothing remote, the JSON's numbers."""
    d = load(json_path)
    dom = Dom()
    dom.feed(open(dom_path, encoding="utf-8").read())
    els = dom.elements
    tags = [e[0] for e in els]
    for bad in ("script", "img", "iframe", "object", "embed", "link"):
        if bad in tags:
            fail("the page has a <%s>" % bad)
    for e in els:
        for k, v in e[1].items():
            if k.startswith("on") or (k in ("src", "href") and v):
                fail("<%s %s=%r>" % (e[0], k, v))
    # Elements inside an element with id X: the ones after it until the
    # next <svg> or <section>.
    def inside(ident):
        out, on = [], False
        for e in els:
            if e[1].get("id") == ident:
                on = True
                continue
            if on and e[0] in ("svg", "section"):
                break
            if on:
                out.append(e)
        return out
    t = d["totals"]
    if t["samples"] == 0:
        if "headline-bar" in [e[1].get("id") for e in els]:
            fail("a bar without samples")
        return
    got = shares_of(inside("headline-bar"))
    for s in ("active", "idle_held", "truly_idle"):
        if not near(got.get(s), t[s + "_ratio"]):
            fail("headline %s: %s, json %s" % (s, got.get(s),
                                               t[s + "_ratio"]))
    samples = [e for e in els if e[1].get("id") == "samples"]
    if not samples or int(samples[0][1]["data-samples"]) != t["samples"]:
        fail("sample count")
    # §3: a row per GPU (<tr data-uuid>), its bar's parts after it.
    bars = [e for e in els if e[0] in ("tr", "rect", "section")]
    groups = [i for i, e in enumerate(bars)
              if e[0] == "tr" and "data-uuid" in e[1]]
    if len(groups) != len(d["gpus"]):
        fail("%d GPU bars, want %d" % (len(groups), len(d["gpus"])))
    for n, (i, g) in enumerate(zip(groups, d["gpus"])):
        e = bars[i]
        if e[1]["data-uuid"] != g["uuid"] or e[1]["data-host"] != g["host"]:
            fail("bar %d is %r, want %s" % (n, e[1], g["uuid"]))
        end = i + 1
        while end < len(bars) and bars[end][0] == "rect":
            end += 1
        got = shares_of(bars[i:end])
        for s in ("active", "idle_held", "truly_idle"):
            if g["samples"] and not near(got.get(s), g[s + "_ratio"]):
                fail("GPU %s %s: %s, json %s" % (g["uuid"], s, got.get(s),
                                                 g[s + "_ratio"]))
    cells = [e for e in inside("heatmap-idle-held") if e[0] == "rect"]
    if len(cells) != 7 * 24:
        fail("%d heatmap cells" % len(cells))
    for e in cells:
        day, hour = int(e[1]["data-day"]), int(e[1]["data-hour"])
        want = d["heatmaps"]["idle_held"][day][hour]
        share = e[1]["data-share"]
        if (want is None) != (share == ""):
            fail("heatmap %d %d: %r, json %r" % (day, hour, share, want))
        if want is not None and not near(float(share), want):
            fail("heatmap %d %d: %s, json %s" % (day, hour, share, want))
        if not e[2]:
            fail("a heatmap cell without a title")
    tl = inside("timeline-svg")
    rows = [i for i, e in enumerate(tl) if e[0] == "g"]
    if len(rows) != len(d["gpus"]) + 1:
        fail("%d timeline rows" % len(rows))
    first = tl[rows[0]:rows[1] if len(rows) > 1 else len(tl)]
    buckets = d["timeline"]["buckets"]
    for i, b in enumerate(buckets):
        got = {e[1]["data-state"]: float(e[1]["data-share"]) for e in first
               if e[0] == "rect" and e[1].get("data-bucket") == str(i)
               and "data-state" in e[1]}
        for s in ("active", "idle_held", "truly_idle"):
            want = b[s + "_ratio"]
            if (want is None) != (s not in got) or (
                    want is not None and not near(got[s], want)):
                fail("timeline bucket %d %s: %s, json %s" % (
                    i, s, got.get(s), want))
    idle = [s for s in d["sessions"] if s["idle_held_seconds"] > 0][:100]
    trs = [e for e in els if e[0] == "tr" and "data-idle-held-ms" in e[1]]
    if len(trs) != len(idle):
        fail("%d session rows, want %d" % (len(trs), len(idle)))
    for tr, s in zip(trs, idle):
        if not near(int(tr[1]["data-idle-held-ms"]) / 1000,
                    s["idle_held_seconds"], 1e-3):
            fail("session row %r" % tr[1])
    text = "".join(dom.text)
    for want in texts:
        if want not in text:
            fail("the page does not show %r" % want)


def utf8_cut(raw, limit):
    """The collector's cut of a command line: NULs as spaces, trailing
    NULs dropped, whole characters (an invalid byte alone) up to limit
    bytes."""
    raw = raw.rstrip(b"\0")
    out, i = bytearray(), 0
    while i < len(raw):
        n = 1
        for k in (1, 2, 3, 4):
            try:
                if len(raw[i:i + k].decode("utf-8")) == 1:
                    n = k
                    break
            except UnicodeDecodeError:
                continue
        if len(out) + n > limit:
            break
        out += raw[i:i + n].replace(b"\0", b" ")
        i += n
    return bytes(out)


def untrusted(dir_):
    """What a hostile process is, from the files the test saved."""
    def raw(name):
        return open("%s/%s" % (dir_, name), "rb").read()
    comm = raw("comm.raw").rstrip(b"\n")
    cmdline = utf8_cut(raw("cmdline.raw"), int(raw("cmdline.max")) - 1)
    return comm, cmdline, raw("user.raw")


def text_of(b):
    """As JSON, CSV and HTML carry bytes: invalid UTF-8 as U+FFFD."""
    return b.decode("utf-8", "replace")


BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def csv_visible(t):
    """A CSV cell's text: controls but TAB and LF, DEL, C1 controls and
    bidirectional overrides as the text report's visible escapes."""
    out = []
    for c in t:
        o = ord(c)
        if c in "\t\n" or c == "\\":
            out.append(c)
        elif c == "\r":
            out.append("\\r")
        elif o < 32 or o == 0x7f:
            out.append("\\x%02X" % o)
        elif 0x80 <= o < 0xa0 or c in BIDI:
            out.append("\\u{%X}" % o)
        else:
            out.append(c)
    return "".join(out)


def prom_visible(t):
    """A Prometheus label's decoded value: LF as itself (the format
    escapes it), other controls, DEL, C1 controls and bidirectional
    overrides as the text report's visible escapes."""
    out = []
    for c in t:
        o = ord(c)
        if c in "\n\\":
            out.append(c)
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif o < 32 or o == 0x7f:
            out.append("\\x%02X" % o)
        elif 0x80 <= o < 0xa0 or c in BIDI:
            out.append("\\u{%X}" % o)
        else:
            out.append(c)
    return "".join(out)


def check_untrusted(fmt, dir_, path):
    """The hostile process's name, command line and user, in one format:
    carried exactly where the format can (JSON; CSV but for control
    characters, shown as visible escapes), escaped where it must be, and
    never a raw control character, escape sequence or invalid byte where
    it could act (terminal, HTML, CSV)."""
    comm, cmdline, user = untrusted(dir_)
    data = open(path, "rb").read()
    if fmt in ("text", "html"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            fail("invalid UTF-8 in the output: %s" % e)
        for c in text:
            if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) < 0xa0 or \
                    c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
                fail("a raw control character U+%04X in the output" % ord(c))
    if fmt == "text":
        # \u00a76 shows the command line, escaped and cut with "\u2026".
        for want in ('=cmd|"/c calc"!A1,\\n"quoted"',):
            if want not in text:
                fail("the command line is not shown escaped (%r)" % want)
        if not any(l.startswith("  ") and '=cmd|' in l and
                   l.endswith("\u2026") for l in text.splitlines()):
            fail("the command line is not cut with \u2026")
        if user and "\\x1B[31m" not in text:
            fail("the user is not shown escaped")
    elif fmt == "json":
        d = json.loads(data.decode("utf-8"))
        ss = [s for s in d["sessions"] if s["command"] == text_of(comm) and
              (not user or s["user"] == text_of(user))]
        if not ss:
            fail("no session has command %r (user %r): %r" % (
                text_of(comm), text_of(user),
                [(s["command"], s["user"]) for s in d["sessions"]]))
        if ss[0]["command_line"] != text_of(cmdline):
            fail("command_line %r, want %r" % (ss[0]["command_line"][:80],
                                               text_of(cmdline)[:80]))
        if user and ss[0]["user"] != text_of(user):
            fail("user %r, want %r" % (ss[0]["user"], text_of(user)))
    elif fmt == "csv":
        def cell(b):
            t = text_of(b)
            return csv_visible("'" + t if t.startswith(FORMULA) else t)
        raw = data.decode("utf-8")
        for i, c in enumerate(raw):
            if ((ord(c) < 32 and c not in "\t\n\r") or
                    (c == "\r" and raw[i + 1:i + 2] != "\n") or
                    0x7f <= ord(c) < 0xa0 or c in BIDI):
                fail("a raw control character U+%04X in the CSV" % ord(c))
        table = dicts(path)
        # The identities table has users only.
        ss = [r for r in table if r.get("command", cell(comm)) ==
              cell(comm) and (not user or r["user"] == cell(user))]
        if not ss:
            fail("no row has command %r (user %r)" % (cell(comm),
                                                    cell(user)))
        if "command_line" in ss[0] and ss[0]["command_line"] != cell(cmdline):
            fail("command_line %r, want %r" % (ss[0]["command_line"][:80],
                                               cell(cmdline)[:80]))
        if user and ss[0]["user"] != cell(user):
            fail("user %r, want %r" % (ss[0]["user"], cell(user)))
        check_csv_safe(path)
    elif fmt == "html":
        if "<script" in text or "\x1b" in text:
            fail("raw markup or escape in the page")
        dom = Dom()
        dom.feed(text)
        shown = "".join(dom.text) + "".join(
            v or "" for e in dom.elements for v in e[1].values())
        if "<script>alert(1)</script>" not in shown:
            fail("the command line's markup is not shown as text")
        if "\\x1B]0;" not in shown:
            fail("the name is not shown escaped")
    elif fmt == "prom":
        lines = data.decode("utf-8").split("\n")
        label = re.compile(r'user="((?:[^"\\\n]|\\[\\"n])*)"')
        found = []
        for ln in lines:
            if ln.startswith("gua_process_idle_held_seconds_total{"):
                m = label.search(ln)
                if not m:
                    fail("a sample line that does not parse: %r" % ln)
                found.append(re.sub(r'\\(.)', lambda x: "\n" if x.group(1)
                                    == "n" else x.group(1), m.group(1)))
        raw = data.decode("utf-8")
        for c in raw:
            if ((ord(c) < 32 and c != "\n") or 0x7f <= ord(c) < 0xa0 or
                    c in BIDI):
                fail("a raw control character U+%04X in the textfile" %
                     ord(c))
        if user and prom_visible(text_of(user)) not in found:
            fail("no user label decodes to %r: %r" %
                 (prom_visible(text_of(user)), found))
        if not found:
            fail("no idle-held user in the textfile")
    else:
        fail("unknown format %r" % fmt)


def main():
    checks = {
        "schema": check_schema,
        "json-text": check_json_text,
        "merged": check_merged,
        "csv-gpus": check_csv_gpus,
        "csv-ticks": check_csv_ticks,
        "csv-processes": check_csv_processes,
        "csv-safe": check_csv_safe,
        "csv-cell": check_csv_cell,
        "html": check_html,
        "untrusted": check_untrusted,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in checks:
        fail("usage: check-formats.py %s FILE..." % "|".join(checks))
    checks[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Aggregate sgbuf-bench JSON lines from several guest boots.

usage: report.py --out DIR [--meta FILE] BOOT.jsonl...

Each file holds one boot's output (the lines starting with '{'). Boots are
grouped by kernel and variant (its "env" line: kernel release, swiotlb=force).
For every metric: the median over the boots and the min-max. Target ratios
are computed within each boot (sgbuf against the system heap in the same
boot), then summarised the same way. Writes DIR/report.md and
DIR/report.json and prints the markdown.
"""

import argparse
import json
import os
import statistics
import sys
import time

EXPORTERS = ["sgbuf", "heap", "udmabuf", "vgem", "cpu",
             "pipe", "pipe-1MiB", "unix-socket"]


def group_of(env):
    k = env.get("kernel", "?")
    short = ".".join(k.split(".")[:2]) if k[:1].isdigit() else k
    short = short.split("-")[0]
    return short + (" swiotlb=force" if env.get("swiotlb_force") else "")


def load(paths):
    boots = []
    for p in paths:
        env, vals, skips = {}, {}, {}
        with open(p, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    d = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if d.get("section") == "env":
                    env = d
                    continue
                key = (d["section"], d["exporter"], d["metric"])
                if d.get("value") is None:
                    skips[key] = d.get("skip", "skipped")
                else:
                    vals[key] = (float(d["value"]), d.get("unit", ""))
        if env:
            boots.append({"file": os.path.basename(p), "env": env,
                          "group": group_of(env), "vals": vals,
                          "skips": skips})
    return boots


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "boots": len(xs), "values": xs}


def fmt_num(v, unit):
    """A value in a readable unit: (number string, unit)."""
    if unit == "us":
        if abs(v) >= 1e6:
            return "%.2f" % (v / 1e6), "s"
        if abs(v) >= 1e3:
            return "%.3g" % (v / 1e3) if abs(v) < 1e4 else "%.1f" % (v / 1e3), "ms"
        return ("%.3g" % v if abs(v) >= 1 else "%.2f" % v), "µs"
    if unit == "x":
        return "%.2f" % v, "×"
    if unit == "B":
        return "%d" % round(v), "B"
    if unit in ("buffers",):
        return "%d" % round(v), ""
    return "%.3g" % v, unit


def scale_for(v, unit):
    """Divisor and unit used for a cell, decided by its median."""
    if unit == "us":
        if abs(v) >= 1e6:
            return 1e6, "s"
        if abs(v) >= 1e3:
            return 1e3, "ms"
        return 1, "µs"
    if unit == "x":
        return 1, "×"
    return 1, unit


def fmt_cell(s, unit):
    if not s:
        return "–"
    div, u = scale_for(s["median"], unit)

    def f(x):
        x /= div
        if unit == "B":
            return "%d" % round(x)
        if unit == "x" or (u == "µs" and abs(s["median"]) < 10):
            return "%.2f" % x
        return "%.3g" % x if abs(x) < 1000 else "%.0f" % x
    cell = f(s["median"]) + ("×" if u == "×" else (" " + u if u else ""))
    if s["boots"] > 1:
        cell += " [%s–%s]" % (f(s["min"]), f(s["max"]))
    return cell


# ---------------------------------------------------------------- targets

def per_boot(boots, fn):
    out = []
    for b in boots:
        try:
            v = fn(b["vals"])
        except (KeyError, ZeroDivisionError):
            v = None
        if v is not None:
            out.append(v)
    return summary(out)


def v(vals, section, exporter, metric):
    return vals[(section, exporter, metric)][0]


def targets(groups):
    """The issue's targets, on the boots that have the system heap: 6.12
    in `make bench` (and 6.12 with swiotlb=force for sync); natively,
    whatever kernel ran."""
    def has_heap(g):
        return any(("alloc", "heap", "alloc_free_4KiB") in b["vals"]
                   for b in groups[g])
    cands = sorted((g for g in groups if "swiotlb" not in g and has_heap(g)),
                   key=lambda g: (not g.startswith("6.12"), g))
    main = cands[0] if cands else None
    swi = main and next((g for g in groups if "swiotlb" in g and
                         g.split()[0] == main), None)
    rows = []
    if not main:
        return rows, main
    bs = groups[main]

    def add(name, target, s, ok, why, ref=""):
        # compared at the two decimals the table shows: a ratio of 1.004
        # is 1.00x, inside the noise of one boot
        if s is None:
            status = "MISSED"
        else:
            status = "met" if ok(round(s["median"], 2)) else "MISSED"
        rows.append({"target": name, "goal": target, "ratio": s,
                     "status": status, "reference": ref,
                     "why": why if status == "MISSED" else ""})

    for size in ["4KiB", "1MiB", "64MiB", "256MiB"]:
        m = "alloc_free_" + size
        s = per_boot(bs, lambda x, m=m: v(x, "alloc", "sgbuf", m) /
                     v(x, "alloc", "heap", m))
        add("alloc+free %s, cold (sgbuf ÷ heap)" % size, "≤ 1.00×", s,
            lambda r: r <= 1.0,
            "sgbuf allocates and zeroes pages as the heap does (same "
            "orders, 1 MiB chunks); it stays within about 1-2%, which is "
            "not its memory-cgroup accounting (measured without it: the "
            "same); see docs/performance.md")
    rows.append({"target": "alloc+free 64MiB, warm (sgbuf ÷ heap cold)",
                 "goal": "≤ 0.25×", "ratio": None, "status": "MISSED",
                 "reference": "",
                 "why": "n/a: sgbuf keeps no pool of pre-zeroed pages, so "
                        "every allocation is cold"})
    s = per_boot(bs, lambda x: v(x, "map", "sgbuf", "mmap_first_vs_retouch"))
    ref = []
    for e in ["heap", "udmabuf"]:
        r = per_boot(bs, lambda x, e=e: v(x, "map", e,
                                          "mmap_first_vs_retouch"))
        if r:
            ref.append("%s %.2f×" % (e, r["median"]))
    add("mmap + first touch 64MiB ÷ re-touch (sgbuf)", "≥ 0.80×", s,
        lambda r: r >= 0.8,
        "mmap() fills all 16384 page-table entries up front "
        "(remap_pfn_range, so the writes never fault); under TCG that "
        "takes about half as long as the memset itself",
        ", ".join(ref))
    s = per_boot(bs, lambda x: v(x, "handoff", "sgbuf", "handoff_64MiB") /
                 v(x, "handoff", "heap", "handoff_64MiB"))
    add("hand-off 64MiB (sgbuf ÷ heap)", "≤ 1.00×", s, lambda r: r <= 1.0,
        "see docs/performance.md")
    s = per_boot(bs, lambda x: v(x, "handoff", "pipe", "handoff_64MiB") /
                 v(x, "handoff", "sgbuf", "handoff_64MiB"))
    s1 = per_boot(bs, lambda x: v(x, "handoff", "pipe-1MiB", "handoff_64MiB")
                  / v(x, "handoff", "sgbuf", "handoff_64MiB"))
    add("hand-off 64MiB: pipe time ÷ sgbuf time", "≥ 3.00×", s,
        lambda r: r >= 3.0, "the receiver's read of 64 MiB dominates both",
        "1 MiB pipe: %.2f×" % s1["median"] if s1 else "")
    for grp, label in [(main, ""), (swi, ", swiotlb=force")]:
        if not grp:
            rows.append({"target": "sync excess%s" % label, "goal":
                         "≤ heap", "ratio": None, "status": "n/a",
                         "reference": "", "why": "no such boot"})
            continue
        for size in ["4KiB", "64MiB"]:
            for imp in ["0", "1"]:
                m = "sync_excess_%s_imp%s" % (size, imp)
                d = per_boot(groups[grp], lambda x, m=m:
                             v(x, "sync", "sgbuf", m) - v(x, "sync", "heap", m))
                sg = per_boot(groups[grp], lambda x, m=m: v(x, "sync", "sgbuf", m))
                hp = per_boot(groups[grp], lambda x, m=m: v(x, "sync", "heap", m))
                hskip = next((b["skips"][("sync", "heap", m)]
                              for b in groups[grp]
                              if ("sync", "heap", m) in b["skips"]), None)
                if d:
                    d["unit"] = "us"
                    status = "met" if round(d["median"], 2) <= 0 else "MISSED"
                    if status == "met":
                        why = ""
                    elif grp == swi and imp == "1":
                        why = ("both copy the importer's bounce buffer both "
                               "ways; sgbuf also waits for the buffer's "
                               "fences first, which is needed here; see "
                               "docs/performance.md")
                    else:
                        why = ("sgbuf's begin_cpu_access waits for the "
                               "buffer's fences before it syncs, even when "
                               "nothing needs syncing (the core then waits "
                               "again); see docs/performance.md")
                elif sg and hskip:
                    status = "n/a"
                    why = ("the heap's buffer cannot be imported here (%s): "
                           "its 1 MiB segments exceed swiotlb's 256 KiB "
                           "limit; sgbuf's can" % hskip)
                else:
                    status, why = "MISSED", "not measured"
                rows.append({
                    "target": "sync excess %s, %s importer%s%s (sgbuf − heap)"
                              % (size, imp, "" if imp == "1" else "s", label),
                    "goal": "≤ 0", "ratio": d, "status": status,
                    "reference": "sgbuf %s, heap %s" % (
                        fmt_cell(sg, "us"), fmt_cell(hp, "us")),
                    "why": why})
    s = per_boot(bs, lambda x: v(x, "engine", "sgbuf", "copy_vs_memcpy"))
    add("engine COPY 64MiB ÷ memcpy", "≥ 0.80×", s, lambda r: r >= 0.8,
        "see docs/performance.md")
    s = per_boot(bs, lambda x: v(x, "engine", "sgbuf", "checksum_vs_read"))
    s64 = per_boot(bs, lambda x: v(x, "engine", "sgbuf", "checksum64_vs_read"))
    add("engine CHECKSUM (CRC-32) 64MiB ÷ read", "≥ 0.80×", s,
        lambda r: r >= 0.8,
        "CRC-32 (crc32_le, table-driven; qemu64 has no carry-less multiply) "
        "is compute-bound at about an eighth of the read bandwidth; "
        "CHECKSUM64 is the read-speed checksum",
        "CHECKSUM64 %.2f×" % s64["median"] if s64 else "")
    add("(extra) engine CHECKSUM64 64MiB ÷ read", "≥ 0.80×", s64,
        lambda r: r >= 0.8, "see docs/performance.md")
    return rows, main


# ---------------------------------------------------------------- tables

def table(lines, bs, section, metrics=None, ratio=None, exporters=None):
    """Rows: metrics; columns: exporters; cells: median [min–max]."""
    seen_m, seen_e, units, skips = [], [], {}, {}
    for b in bs:
        for (sec, e, m), (val, unit) in b["vals"].items():
            if sec != section:
                continue
            if m not in seen_m:
                seen_m.append(m)
            if e not in seen_e:
                seen_e.append(e)
            units[m] = unit
        for (sec, e, m), why in b["skips"].items():
            if sec == section:
                skips[(e, m)] = why
    ms = [m for m in (metrics or seen_m) if m in seen_m]
    es = [e for e in (exporters or EXPORTERS) if e in seen_e]
    if not ms:
        return
    hdr = ["metric"] + es + ([ratio[2]] if ratio else [])
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "---|" * len(hdr))
    for m in ms:
        row = [m]
        for e in es:
            s = per_boot(bs, lambda x, e=e, m=m: v(x, section, e, m))
            if s:
                row.append(fmt_cell(s, units[m]))
            elif (e, m) in skips:
                row.append("skip")
            else:
                row.append("")
        if ratio:
            a, b, _ = ratio
            s = per_boot(bs, lambda x, m=m: v(x, section, a, m) /
                         v(x, section, b, m))
            row.append(fmt_cell(s, "x") if s else "")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")


SECTIONS = [
    ("alloc", "1. Allocate + free (cold)", ("sgbuf", "heap", "sgbuf ÷ heap")),
    ("map", "2. 64 MiB mapping: mmap, first touch, re-touch, per-page cost",
     ("sgbuf", "heap", "sgbuf ÷ heap")),
    ("sync", "3. DMA_BUF_IOCTL_SYNC START+END (pair, floor of two empty "
     "ioctls, excess = pair − floor)", None),
    ("handoff", "4. Hand 64 MiB to a second process that reads all of it",
     ("sgbuf", "heap", "sgbuf ÷ heap")),
    ("engine", "5. DMA consumer (sgbuf's engine) against the CPU", None),
    ("pipe", "6. `dmabuf pipe`: 1080p RGBA frames, zero-copy against "
     "pipe(2)", None),
    ("scale", "7. Scale: growth 1 MiB → 1 GiB, one 1 GiB buffer, "
     "10 000 live 4 KiB buffers", ("sgbuf", "heap", "sgbuf ÷ heap")),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta", help="JSON object merged into the report header")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    boots = load(a.files)
    if not boots:
        sys.exit("report.py: no boot produced results")
    meta = {}
    if a.meta and os.path.exists(a.meta):
        with open(a.meta, encoding="utf-8") as f:
            meta = json.load(f)
    groups = {}
    for b in boots:
        groups.setdefault(b["group"], []).append(b)
    trows, main_group = targets(groups)

    L = []
    L.append("# sgbuf benchmark report")
    L.append("")
    L.append("Generated %s by `make bench`%s." % (
        time.strftime("%Y-%m-%d %H:%M %Z"),
        (" on " + meta["host"]) if meta.get("host") else ""))
    if meta.get("guest"):
        L.append("Guests: %s." % meta["guest"])
    L.append("Boots: " + "; ".join("%s × %d" % (g, len(bs))
                                   for g, bs in groups.items()) + ".")
    L.append("Cells: median over boots of the per-boot medians, "
             "[min–max] over boots. Ratios are taken within each boot.")
    L.append("")
    if trows:
        L.append("## Targets (%s)" % main_group)
        L.append("")
        L.append("| target | goal | measured | status | context | why missed |")
        L.append("|---|---|---|---|---|---|")
        for r in trows:
            unit = "us" if r["ratio"] and r["ratio"].get("unit") == "us" else "x"
            L.append("| %s | %s | %s | **%s** | %s | %s |" % (
                r["target"], r["goal"],
                fmt_cell(r["ratio"], unit) if r["ratio"] else "n/a",
                r["status"], r["reference"], r["why"]))
        counted = [r for r in trows if not r["target"].startswith("(extra)")]
        met = sum(1 for r in counted if r["status"] == "met")
        na = sum(1 for r in counted if r["status"] == "n/a")
        L.append("")
        L.append("%d of %d targets met, %d missed%s (rows marked (extra) "
                 "are not targets)." % (
                     met, len(counted) - na, len(counted) - na - met,
                     ", %d not applicable" % na if na else ""))
        L.append("")
    for g, bs in groups.items():
        L.append("## %s (%d boot%s)" % (g, len(bs), "s" if len(bs) > 1 else ""))
        L.append("")
        for sec, title, ratio in SECTIONS:
            n0 = len(L)
            L.append("### " + title)
            L.append("")
            has_heap = any(("alloc", "heap", "alloc_free_4KiB") in b["vals"]
                           for b in bs)
            table(L, bs, sec, ratio=ratio if has_heap else None)
            if len(L) == n0 + 2:
                del L[n0:]
        skips = {}
        for b in bs:
            for (sec, e, m), why in b["skips"].items():
                skips.setdefault((e, why), []).append("%s/%s" % (sec, m))
        if skips:
            L.append("Skipped:")
            L.append("")
            for (e, why), where in sorted(skips.items()):
                uniq = sorted(set(where))
                L.append("- %s: %s (%s%s)" % (
                    e, why, ", ".join(uniq[:4]),
                    ", ..." if len(uniq) > 4 else ""))
            L.append("")

    os.makedirs(a.out, exist_ok=True)
    md = "\n".join(L) + "\n"
    with open(os.path.join(a.out, "report.md"), "w", encoding="utf-8") as f:
        f.write(md)
    res = []
    for g, bs in groups.items():
        keys = {}
        for b in bs:
            for k, (val, unit) in b["vals"].items():
                keys[k] = unit
        for (sec, e, m), unit in sorted(keys.items()):
            s = per_boot(bs, lambda x, k=(sec, e, m): x[k][0])
            res.append(dict(group=g, section=sec, exporter=e, metric=m,
                            unit=unit, **s))
    out = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "meta": meta,
           "boots": [{"file": b["file"], "group": b["group"], "env": b["env"]}
                     for b in boots],
           "targets": trows, "results": res,
           "skips": [dict(group=b["group"], section=k[0], exporter=k[1],
                          metric=k[2], reason=w)
                     for b in boots for k, w in b["skips"].items()]}
    with open(os.path.join(a.out, "report.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()

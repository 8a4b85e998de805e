#!/usr/bin/env python3
"""Summary tables for bench/run.sh (issue 5).

Reads the raw measurements (TSV, one line per measurement: row, label, unit, better, server, run, value; value
"NA" when the measurement failed) and writes

- a Markdown file: the header given with --header, the rsmbd-vs-Samba table (median, min, max per server and the
  ratio of the medians rsmbd/Samba) and the table of the machine's ceilings;
- a summary TSV with the same numbers, one line per row and server (rsmbd, samba, or machine for a ceiling);
  the ratio rsmbd/Samba of the medians is repeated on both lines of a row.

Rows keep the order in which they first appear in the raw file. "better" is "higher" or "lower": for a
"higher" row a ratio above 1 means rsmbd is ahead, for a "lower" row (memory) a ratio below 1 does.
"""

import argparse
import statistics
import sys
from pathlib import Path

MACHINE = "machine"


def load(path):
    """{row: {"label", "unit", "better", "values": {server: [floats]}, "failed": {server: count}}}, in order."""
    rows = {}
    for line in Path(path).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        row, label, unit, better, server, _run, value = line.split("\t")
        entry = rows.setdefault(
            row, {"label": label, "unit": unit, "better": better, "values": {}, "failed": {}}
        )
        if value == "NA":
            entry["failed"][server] = entry["failed"].get(server, 0) + 1
        else:
            entry["values"].setdefault(server, []).append(float(value))
    return rows


def fmt(value):
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(q):
    if q is None:
        return "n/a"
    return f"{q:.2f}" if q >= 0.1 else f"{q:.4f}"


def stats(values):
    """(median, min, max) or (None, None, None)."""
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def ratio(rsmbd, samba):
    if rsmbd is None or not samba:
        return None
    return rsmbd / samba


def cell_failed(entry, server):
    n = entry["failed"].get(server, 0)
    return f" ({n} failed)" if n else ""


def comparison(rows):
    head = (
        "| Row | Unit | Better | rsmbd median | rsmbd min | rsmbd max | Samba median | Samba min | Samba max "
        "| rsmbd/Samba |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines, tsv = [head], []
    for row, e in rows.items():
        if MACHINE in e["values"] or MACHINE in e["failed"]:
            continue
        r = stats(e["values"].get("rsmbd"))
        s = stats(e["values"].get("samba"))
        q = ratio(r[0], s[0])
        lines.append(
            f"| {e['label']} | {e['unit']} | {e['better']} | {fmt(r[0])}{cell_failed(e, 'rsmbd')} | {fmt(r[1])} "
            f"| {fmt(r[2])} | {fmt(s[0])}{cell_failed(e, 'samba')} | {fmt(s[1])} | {fmt(s[2])} "
            f"| {fmt_ratio(q)} |"
        )
        for server, st in (("rsmbd", r), ("samba", s)):
            tsv.append([row, e["label"], e["unit"], e["better"], server, *st, q])
    return "\n".join(lines), tsv


def ceilings(rows):
    lines = ["| Ceiling | Unit | Median | Min | Max |", "|---|---|---:|---:|---:|"]
    tsv = []
    for row, e in rows.items():
        if MACHINE not in e["values"] and MACHINE not in e["failed"]:
            continue
        m = stats(e["values"].get(MACHINE))
        lines.append(
            f"| {e['label']} | {e['unit']} | {fmt(m[0])}{cell_failed(e, MACHINE)} | {fmt(m[1])} | {fmt(m[2])} |"
        )
        tsv.append([row, e["label"], e["unit"], e["better"], MACHINE, *m, None])
    return "\n".join(lines), tsv


def tsv_value(v):
    if v is None:
        return "NA"
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", required=True)
    ap.add_argument("--header", required=True, help="Markdown put before the tables")
    ap.add_argument("--md", required=True)
    ap.add_argument("--tsv", required=True)
    args = ap.parse_args()

    rows = load(args.raw)
    table, tsv_a = comparison(rows)
    ceil, tsv_b = ceilings(rows)
    header = Path(args.header).read_text().rstrip("\n")
    text = f"{header}\n\n{table}\n"
    if tsv_b:
        text += f"\nMachine ceilings, measured in the same run:\n\n{ceil}\n"
    Path(args.md).write_text(text)
    cols = ["row", "label", "unit", "better", "server", "median", "min", "max", "ratio_rsmbd_samba"]
    meta = "".join(f"# {line}\n" for line in header.splitlines() if line.strip())
    body = "\n".join("\t".join(tsv_value(v) for v in line) for line in tsv_a + tsv_b)
    Path(args.tsv).write_text(meta + "\t".join(cols) + "\n" + body + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

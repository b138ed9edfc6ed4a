"""A port check's report files, in a new run folder: results.jsonl (one row per leaf),
summary.json, agreement.md and agreement.html, the same kinds of file as ``unigrad compare``
writes, drawn with its marks, colours, escaping and page pieces.

The matrix has a row per leaf (``value · output``, ``grad · fc1.weight``) and a column per
framework judged against the reference; a cell shows the worst of its dtypes and its largest
error, and opens the leaf's values, worst element, error and diagnosis.
"""

from __future__ import annotations

import json
import platform
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from unigrad import __version__
from unigrad.compare import oracle
from unigrad.compare.escape import md
from unigrad.compare.html_page import STYLE, cell, chart, controls, esc, finish, group, shade
from unigrad.compare.matrix import MARKS, MEANING, SEVERITY
from unigrad.compare.records import Status, show, to_json_line
from unigrad.port.report import Leaf, PortReport, covered, grouped_errors

FORMATS = ("jsonl", "json", "md", "html")
#: the statuses a port check's leaves can have
KINDS = ("pass", "fail", "nan_mismatch", "error", "unverified")


def write(report: PortReport, out: Path, formats: tuple[str, ...] = FORMATS) -> Path:
    """Write the report files into a new folder under ``out`` and point ``out/latest`` at
    it; returns the folder."""
    from unigrad.compare.reports import point_latest
    from unigrad.compare.runner import new_run_dir

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; use {', '.join(FORMATS)}")
    run_dir = new_run_dir(out)
    summ = summary(report, run_dir.name)
    if "jsonl" in formats:
        text = "".join(to_json_line(leaf.row()) + "\n" for leaf in report.leaves)
        (run_dir / "results.jsonl").write_text(text)
    if "json" in formats:
        (run_dir / "summary.json").write_text(json.dumps(summ, indent=2, default=str))
    if "md" in formats:
        (run_dir / "agreement.md").write_text(port_md(report, summ))
    if "html" in formats:
        (run_dir / "agreement.html").write_text(port_html(report, summ))
    point_latest(run_dir)
    return run_dir


def summary(report: PortReport, run: str = "") -> dict[str, Any]:
    """What summary.json holds: the verdict, counts, versions, references and findings."""
    return {
        "unigrad": __version__,
        "run": run,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "passed": report.passed,
        "headline": report.headline(),
        "frameworks": report.versions,
        "references": report.references,
        "dtypes": report.dtypes,
        "transforms": report.transforms,
        "leaves": len(report.leaves),
        "counts": dict(Counter(leaf.status.value for leaf in report.leaves)),
        "errors": report.errors,
        "findings": report.findings,
        "notes": report.notes,
        "time_per_framework_s": {k: round(v, 3) for k, v in report.times.items()},
        "tolerance": oracle.TOLERANCE,
    }


def _grid(report: PortReport) -> tuple[list[str], list[str], dict[tuple[str, str], list[Leaf]]]:
    """Row labels, columns (frameworks with rows), and each cell's leaves (one per dtype)."""
    rows: list[str] = []
    cells: dict[tuple[str, str], list[Leaf]] = {}
    for leaf in report.leaves:
        row = f"{leaf.transform} · {leaf.path}"
        if row not in rows:
            rows.append(row)
        cells.setdefault((row, leaf.framework), []).append(leaf)
    columns = [f for f in report.frameworks if any(c == f for _, c in cells)]
    return rows, columns, cells


def _worst(leaves: list[Leaf]) -> Leaf:
    return min(leaves, key=lambda x: SEVERITY.index(x.status.value))


def _mark(leaves: list[Leaf]) -> tuple[str, float, str]:
    """(kind, largest error, label) of a matrix cell."""
    w = _worst(leaves)
    err = max((x.max_abs for x in leaves if x.max_abs), default=0.0)
    return w.status.value, err, MARKS[w.status.value] + (f" {err:.0e}" if err else "")


def port_md(report: PortReport, summ: dict[str, Any]) -> str:
    """agreement.md: the verdict, the leaf x framework matrix, and what does not pass."""
    rows, columns, cells = _grid(report)
    versions = ", ".join(md(v) for v in report.versions.values())
    refs = ", ".join(f"{md(r or 'none')} ({d})" for d, r in report.references.items())
    lines = [
        f"# unigrad port: {md(summ['run'])}",
        "",
        f"**{md(report.headline())}**",
        "",
        f"unigrad {summ['unigrad']}, {md(summ['platform'])}. Frameworks: {versions}. "
        f"Reference: {refs}.",
        "",
        "Marks: "
        + ", ".join(f"{MARKS[k]} {MEANING[k]}" for k in KINDS)
        + ". Each cell shows the worst of its dtypes and its largest absolute error against "
        "the reference, with unigrad compare's tolerances.",
        "",
        "| leaf | " + " | ".join(md(c) for c in columns) + " |",
        "| --- | " + " | ".join("---" for _ in columns) + " |",
    ]
    for row in rows:
        marks = [_mark(cells[(row, c)])[2] if (row, c) in cells else "" for c in columns]
        lines.append(f"| {md(row)} | " + " | ".join(marks) + " |")
    if report.failures:
        lines += ["", "## Not passing", ""]
        for x in report.failures:
            what = f"- {md(x.name, leading=True)} on {md(x.framework)} {x.dtype}: **{x.status}**"
            if x.got is not None:
                at = ", ".join(map(str, x.index or ())) or "scalar"
                what += f", worst element [{at}]: {x.got!r} against {x.expected!r}"
            lines.append(what)
            said = "|diff|" in x.detail or x.status == Status.ERROR  # errors: under Errors
            for extra in ("" if said else x.detail, x.note):
                if extra:
                    lines.append(f"  - {md(extra)}")
            if x.diagnosis and not covered(x, report.findings):
                lines.append(f"  - diagnosis: {md(x.diagnosis)}")
    for title, items in (
        ("Diagnosis", report.findings),
        ("Errors", [f"{k}: {v}" for k, v in grouped_errors(report.errors)]),
        ("Notes", report.notes + leaf_notes(report)),
    ):
        if items:
            lines += ["", f"## {title}", ""] + [f"- {md(i, leading=True)}" for i in items]
    return "\n".join(lines) + "\n"


def leaf_notes(report: PortReport) -> list[str]:
    """The notes of passing leaves (a failing leaf's note is shown with it), each once."""
    out: dict[str, list[str]] = {}
    for x in report.leaves:
        if x.passed and x.note:
            out.setdefault(f"{x.name} on {x.framework}: {x.note}", []).append(x.dtype)
    return [f"{text} ({', '.join(dtypes)})" for text, dtypes in out.items()]


def _short(value: Any, limit: int = 600) -> str:
    if value is None:
        return "-"
    text = show(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _detail(leaves: list[Leaf]) -> dict[str, Any]:
    x0 = leaves[0]
    notes = []
    for x in leaves:
        for what in (x.detail, x.note):
            if what:
                notes.append(f"{x.dtype}: {what}")
        if x.diagnosis:
            notes.append(f"{x.dtype}: diagnosis: {x.diagnosis}")
    return {
        "title": f"{x0.name} on {x0.framework}",
        "about": [
            f"against {x0.against or '(no reference)'}",
            f"layout: {x0.layout or 'as shared'}" if x0.transform == "grad" else "an output",
        ],
        "columns": [
            "dtype",
            "status",
            "worst element",
            x0.framework,
            x0.against or "reference",
            "error",
        ],
        "rows": [
            [
                x.dtype,
                MEANING[x.status.value],
                "-"
                if x.index is None
                else f"[{', '.join(map(str, x.index))}]: {x.got!r} vs {x.expected!r}",
                _short(x.value),
                _short(x.reference),
                "-"
                if x.max_abs is None
                else f"max abs {x.max_abs:.3g}, max rel {x.max_rel or 0:.3g}, {x.ulp or 0:.3g} ulp",
            ]
            for x in leaves
        ],
        "notes": notes,
    }


def port_html(report: PortReport, summ: dict[str, Any]) -> str:
    """agreement.html: the verdict, a bar per framework, and the leaf matrix in two groups
    (outputs, parameters) whose cells open their detail."""
    rows, columns, cells = _grid(report)
    title = f"unigrad port {summ['run']}"
    parts = [
        f'<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{STYLE}</style></head><body>",
        f"<h1>unigrad port <small>{esc(summ['run'])}</small></h1>",
        f'<p class="meta"><strong>{esc(report.headline())}</strong></p>',
        f'<p class="meta">unigrad {esc(summ["unigrad"])} &middot; {esc(summ["platform"])} '
        f"&middot; {esc(', '.join(report.versions.values()))}</p>",
    ]
    per: dict[str, Counter] = {}
    for leaf in report.leaves:
        per.setdefault(leaf.framework, Counter())[leaf.status.value] += 1
    parts += chart(per, columns, KINDS)
    parts.append(controls("its values, worst element, error and diagnosis"))
    details: list[dict] = []
    for name, transform in (
        ("outputs (value)", "value"),
        ("parameters (grad)", "grad"),
        ("layout mismatches", "layout"),
    ):
        mine = [r for r in rows if r.startswith(f"{transform} · ")]
        if not mine:
            continue
        table_rows = []
        bad_rows = 0
        for row in mine:
            row_cells = []
            flagged = False
            for c in columns:
                leaves = cells.get((row, c))
                if not leaves:
                    row_cells.append("<td></td>")
                    continue
                kind, err, text = _mark(leaves)
                flagged = flagged or kind != "pass"
                k = len(details)
                details.append(_detail(leaves))
                data = {"leaf": row, "framework": c, "status": kind}
                row_cells.append(cell(k, text, shade(kind, err), data))
            bad_rows += flagged
            table_rows.append((row, flagged, row_cells))
        what = (
            f"{bad_rows} of {len(mine)} leaves need attention"
            if bad_rows
            else f"{len(mine)} leaves, all agree"
        )
        parts += group(name, what, bool(bad_rows), "leaf", columns, table_rows)
    for title_, items in (
        ("Diagnosis", report.findings),
        ("Errors", [f"{k}: {v}" for k, v in grouped_errors(report.errors)]),
        ("Notes", report.notes + leaf_notes(report)),
    ):
        if items:
            parts.append(f"<h2>{esc(title_)}</h2><ul>")
            parts += [f"<li>{esc(i)}</li>" for i in items]
            parts.append("</ul>")
    return finish(parts, details)

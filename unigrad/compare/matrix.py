"""The case x backend matrix that agreement.md and agreement.html draw: rows, cells, marks.

A cell shows a *kind*: its status, except that an unsupported cell is a ``gap`` when the case
declares it (it passes) and ``unsupported`` when it does not (it fails the run).
"""

from __future__ import annotations

from pathlib import Path

from unigrad.compare.records import Record, RunResult, Status, counts_against

MARKS = {
    "pass": "✓",
    "fail": "✗",
    "nan_mismatch": "≠nan",
    "unsupported": "⊘",
    "unverified": "?",
    "gap": "–",
    "error": "!",
    "timeout": "timeout",
    "crash": "crash",
    "skipped": "·",
}
MEANING = {
    "pass": "pass",
    "fail": "fail",
    "nan_mismatch": "nan or inf in other places",
    "unsupported": "unsupported, not declared (fails the run)",
    "unverified": "unverified (nothing to judge it by)",
    "gap": "declared gap",
    "error": "error",
    "timeout": "timeout",
    "crash": "crash",
    "skipped": "skipped (not installed)",
}
COLOURS = {
    "pass": "#c8f0c8",
    "fail": "#f4a0a0",
    "nan_mismatch": "#f4c080",
    "unsupported": "#9fc5e8",
    "unverified": "#fff0a0",
    "gap": "#dddddd",
    "error": "#f08080",
    "timeout": "#e0b0f0",
    "crash": "#d080d0",
    "skipped": "#f4f4f4",
}
# Worst first: the kind a matrix cell shows when its dtypes differ.
SEVERITY = (
    "crash",
    "timeout",
    "error",
    "fail",
    "nan_mismatch",
    "unsupported",
    "unverified",
    "gap",
    "skipped",
    "pass",
)


def kind(rec: Record) -> str:
    """What a cell shows: its status, with a declared gap told apart from an undeclared one."""
    if rec.status == Status.UNSUPPORTED:
        return "gap" if rec.declared_gap else "unsupported"
    return rec.status.value


def colour_of(rec: Record) -> str:
    """The background of a cell showing ``rec``."""
    return COLOURS.get(kind(rec), "#ffffff")


def group_of(rec: Record) -> str:
    """The group a record's row belongs to: its case file's name, or the native catalogue."""
    if rec.section == "native":
        return "native catalogue"
    return Path(rec.file.rsplit(":", 1)[0]).stem if rec.file else "cases"


def grid(res: RunResult) -> tuple[list[str], dict[tuple[str, str], list[Record]]]:
    """Row labels ("case · transform", in run order) and each (row, backend)'s records."""
    rows: list[str] = []
    cells: dict[tuple[str, str], list[Record]] = {}
    for r in res.records:
        if r.section != "main":
            continue
        row = f"{r.case} · {r.transform}"
        if row not in rows:
            rows.append(row)
        cells.setdefault((row, r.backend), []).append(r)
    return rows, cells


def worst(recs: list[Record]) -> Record:
    """The record with the worst kind."""
    return min(recs, key=lambda r: SEVERITY.index(kind(r)) if kind(r) in SEVERITY else 0)


def bad(recs: list[Record]) -> bool:
    """Whether any of these cells counts against the run."""
    return any(counts_against(r) for r in recs)


def cell(recs: list[Record]) -> tuple[Status, float, str]:
    """A matrix cell from its records (one per dtype): worst status, largest error, label.

    The error is the largest of the records that count against the run, measured against
    what judged them (the exact value, the reference or another backend), else the largest
    of all.
    """
    w = worst(recs)
    errs = [r.max_abs for r in recs if r.max_abs and counts_against(r)]
    if not errs and w.status == Status.PASS:
        errs = [r.max_abs for r in recs if r.max_abs]
    err = max(errs, default=0.0)
    return w.status, err, MARKS.get(kind(w), "?") + (f" {err:.0e}" if err else "")

"""The case x backend matrix that agreement.md and agreement.html draw: rows, cells, marks."""

from __future__ import annotations

from unigrad.compare.records import Record, RunResult, Status

MARK = {
    Status.PASS: "✓",
    Status.FAIL: "✗",
    Status.NAN_MISMATCH: "≠nan",
    Status.UNSUPPORTED: "–",
    Status.ERROR: "!",
    Status.TIMEOUT: "timeout",
    Status.CRASH: "crash",
    Status.SKIPPED: "·",
}
COLOUR = {
    Status.PASS: "#c8f0c8",
    Status.FAIL: "#f4a0a0",
    Status.NAN_MISMATCH: "#f4c080",
    Status.UNSUPPORTED: "#dddddd",
    Status.ERROR: "#f08080",
    Status.TIMEOUT: "#e0b0f0",
    Status.CRASH: "#d080d0",
    Status.SKIPPED: "#f4f4f4",
}
# Worst first: the status a matrix cell shows when its dtypes differ.
SEVERITY = (
    Status.CRASH,
    Status.TIMEOUT,
    Status.ERROR,
    Status.FAIL,
    Status.NAN_MISMATCH,
    Status.UNSUPPORTED,
    Status.SKIPPED,
    Status.PASS,
)


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
    """The record with the worst status."""
    return min(recs, key=lambda r: SEVERITY.index(r.status) if r.status in SEVERITY else 0)


def cell(recs: list[Record]) -> tuple[Status, float, str]:
    """A matrix cell from its records (one per dtype): worst status, largest error, label."""
    status = worst(recs).status
    err = max((r.max_abs or 0.0 for r in recs), default=0.0)
    return status, err, MARK.get(status, "?") + (f" {err:.0e}" if err else "")

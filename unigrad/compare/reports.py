"""Report files of ``unigrad compare``, written to ``reports/<run-id>/``.

results.jsonl (streamed during the run by the runner), results.csv, summary.json,
agreement.md, agreement.html (one self-contained page), repro/<cell>.py for each cell that is
not a pass, and ``reports/latest`` pointing at the newest run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import sys
from collections import Counter
from dataclasses import fields

from unigrad import __version__
from unigrad.compare import oracle
from unigrad.compare.agreement_html import agreement_html
from unigrad.compare.agreement_md import agreement_md
from unigrad.compare.escape import spreadsheet
from unigrad.compare.records import IN_MEMORY, Record, RunResult, Status, show, to_json_line
from unigrad.compare.repro import write_repro

FORMATS = ("jsonl", "csv", "json", "md", "html", "repro")
#: report formats that need a package beyond unigrad's own, and the command that installs it
NEEDS = {"csv": ("pandas", "pip install pandas")}


def missing_packages(formats: tuple[str, ...]) -> str | None:
    """Why these report formats cannot be written here (a package to install), else None.

    Checked before a run starts, so that no run ends without its reports.
    """
    for fmt in formats:
        if fmt in NEEDS:
            package, command = NEEDS[fmt]
            if importlib.util.find_spec(package) is None:
                return (
                    f"results.csv is written with {package}, which is not installed here: "
                    f"{command} (or leave csv out: --format json,md,html,repro)"
                )
    return None


def _count_as(r: Record) -> str:
    if r.status == Status.UNSUPPORTED and not r.declared_gap:
        return "unsupported (undeclared)"
    return r.status.value


def native_findings(res: RunResult) -> list[dict]:
    """Per native case: what each framework returns, unigrad's convention, who departs."""
    per_case: dict[str, dict[str, str]] = {}
    source: dict[str, str] = {}
    for r in res.records:
        if r.section == "native" and r.status == Status.FINDING:
            per_case.setdefault(r.case, {})[r.backend] = r.shown or ""
            source[r.case] = r.source
    convention: dict[str, str] = {}  # the reference engine's float64 grad of each native case
    for r in res.records:
        if (
            r.case in per_case
            and r.section == "main"
            and (r.transform, r.backend, r.dtype) == ("grad", "numpy", "float64")
            and r.value is not None
        ):
            convention.setdefault(r.case, show([r.value]))
    out = []
    for cid, per in per_case.items():
        conv = convention.get(cid)
        groups: dict[str, list[str]] = {}
        for b in res.backends:
            if b in per:
                groups.setdefault(per[b], []).append(b)
        departures = []
        if len(groups) > 1:
            main_value = max(groups, key=lambda v: (len(groups[v]), v == conv))
            main = groups[main_value]
            for v, bs in groups.items():
                if v != main_value:
                    departures.append(
                        f"{', '.join(bs)} ({v}) depart{'s' if len(bs) == 1 else ''} from "
                        f"{', '.join(main)} ({main_value})"
                    )
        out.append(
            {
                "case": cid,
                "source": source[cid],
                "values": per,
                "unigrad": conv,
                "departures": departures,
            }
        )
    return out


def cells_per_second(res: RunResult) -> dict[str, float]:
    """Per backend: its cells (native findings excluded) over its worker's wall time, the
    framework's import and start included."""
    cells = Counter(r.backend for r in res.records if r.section == "main")
    return {b: round(cells[b] / t, 2) for b, t in res.backend_time.items() if t > 0 and cells[b]}


def summary(res: RunResult) -> dict:
    """Versions, platform, device, dtypes, and counts per status and per backend."""
    by_backend: dict[str, Counter] = {b: Counter() for b in res.backends}
    for r in res.records:
        by_backend.setdefault(r.backend, Counter())[_count_as(r)] += 1
    # every backend of the run, also one whose worker an interrupt stopped before it was ready
    not_ready = {"error": "the run was interrupted before its worker was ready"}
    versions = {
        b: {
            k: info.get(k)
            for k in ("version", "python", "numpy", "devices", "error")
            if info.get(k) is not None
        }
        for b in res.backends
        for info in [res.backend_info.get(b) or (not_ready if res.interrupted else {})]
    }
    return {
        "unigrad": __version__,
        "run": res.run_dir.name,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "device": "cpu",
        "dtypes": res.dtypes,
        "backends": versions,
        "cases": len(res.cases),
        "cells": len(res.records),
        "counts": dict(Counter(_count_as(r) for r in res.records)),
        "per_backend": {b: dict(c) for b, c in by_backend.items()},
        "time_per_backend_s": {b: round(t, 3) for b, t in res.backend_time.items()},
        "cells_per_second": cells_per_second(res),
        "wall_s": round(res.wall, 3),
        "interrupted": bool(res.interrupted),
        "interrupted_by": res.interrupted,
        "problems": [p.row() for p in res.problems],
        "disagreements": [d.row() for d in res.disagreements],
        "reference_fd_mismatches": sorted(
            {
                f"{r.case}/{r.transform}"
                for r in res.records
                if r.reference_fd.startswith("mismatch")
            }
        ),
        "tolerance": oracle.TOLERANCE,
        "native_findings": native_findings(res),
        "exit_code": res.exit_code,
    }


def write(res: RunResult, formats: tuple[str, ...] = FORMATS) -> dict:
    """Write the report files and point reports/latest at this run; returns the summary."""
    if "repro" in formats:
        write_repro(res)
        if any(r.repro for r in res.records):
            rewrite_jsonl(res)  # its rows again, now with their scripts' paths
    summ = summary(res)
    if "json" in formats:
        (res.run_dir / "summary.json").write_text(json.dumps(summ, indent=2, default=str))
    if "csv" in formats:
        write_csv(res)
    if "md" in formats:
        (res.run_dir / "agreement.md").write_text(agreement_md(res, summ))
    if "html" in formats:
        (res.run_dir / "agreement.html").write_text(agreement_html(res, summ))
    point_latest(res.run_dir)
    return summ


def rewrite_jsonl(res: RunResult) -> None:
    """Replace results.jsonl (the run's problems and records) at once."""
    path = res.run_dir / "results.jsonl"
    tmp = path.with_name(path.name + ".tmp")
    rows = [*res.problems, *res.records]
    tmp.write_text("".join(to_json_line(r.row()) + "\n" for r in rows))
    tmp.replace(path)


def write_csv(res: RunResult) -> None:
    """results.csv (RFC 4180: CRLF rows, so that any line break inside a field is quoted), one
    row per cell, with text that a spreadsheet would run as a formula neutralised (a leading
    apostrophe)."""
    import pandas as pd

    rows = [{k: spreadsheet(v) for k, v in r.row().items()} for r in res.records]
    columns = [f.name for f in fields(Record) if f.name not in IN_MEMORY]
    pd.DataFrame(rows, columns=columns).to_csv(
        res.run_dir / "results.csv", index=False, lineterminator="\r\n"
    )


def point_latest(run_dir: os.PathLike | str) -> None:
    """Point ``<out>/latest`` at ``run_dir`` in one step (a new link renamed over the old), so
    that runs finishing together never see it missing; where links are not possible,
    ``latest.txt`` names the run."""
    from pathlib import Path

    run_dir = Path(run_dir)
    latest = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}-{run_dir.name}"
    try:
        os.symlink(run_dir.name, tmp)
        os.replace(tmp, latest)
    except OSError:
        if tmp.is_symlink():
            tmp.unlink()
        (run_dir.parent / "latest.txt").write_text(run_dir.name + "\n")

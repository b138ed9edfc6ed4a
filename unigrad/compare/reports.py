"""Report files of ``unigrad compare``, written to ``reports/<run-id>/``.

results.jsonl (streamed during the run), results.csv, summary.json, agreement.md,
agreement.html (one self-contained page), repro/<cell>.py for each cell that is not a pass,
and ``reports/latest`` pointing at the newest run.
"""

from __future__ import annotations

import html
import json
import os
import platform
import re
import sys
from collections import Counter
from typing import Any

from unigrad._version import __version__
from unigrad.compare import oracle
from unigrad.compare.runner import RunResult

MARK = {
    "pass": "✓",
    "fail": "✗",
    "nan_mismatch": "≠nan",
    "unsupported": "–",
    "error": "!",
    "timeout": "timeout",
    "crash": "crash",
    "skipped": "·",
}
COLOUR = {
    "pass": "#c8f0c8",
    "fail": "#f4a0a0",
    "nan_mismatch": "#f4c080",
    "unsupported": "#dddddd",
    "error": "#f08080",
    "timeout": "#e0b0f0",
    "crash": "#d080d0",
    "skipped": "#f4f4f4",
}
FORMATS = ("jsonl", "csv", "json", "md", "html", "repro")


def _cell_status(r: dict) -> str:
    if r["status"] == "unsupported" and not r.get("declared_gap"):
        return "unsupported (undeclared)"
    return r["status"]


def native_findings(res: RunResult) -> list[dict]:
    """Per native case: what each framework returns, unigrad's convention, who departs."""
    from unigrad.compare.runner import _show

    per_case: dict[str, dict[str, str]] = {}
    source: dict[str, str] = {}
    for r in res.records:
        if r.get("section") == "native":
            per_case.setdefault(r["case"], {})[r["backend"]] = r["shown"]
            source[r["case"]] = r.get("source", "")
    out = []
    for cid, per in per_case.items():
        conv = next(
            (
                _show([r["value"]])
                for r in res.records
                if r.get("case") == cid
                and r.get("section") != "native"
                and r["transform"] == "grad"
                and r["backend"] == "numpy"
                and r["dtype"] == "float64"
                and "value" in r
            ),
            None,
        )
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


def summary(res: RunResult) -> dict:
    """Versions, platform, device, dtypes, and counts per status and per backend."""
    by_backend: dict[str, Counter] = {b: Counter() for b in res.backends}
    for r in res.records:
        by_backend.setdefault(r["backend"], Counter())[_cell_status(r)] += 1
    versions = {
        b: {
            k: info.get(k)
            for k in ("version", "python", "numpy", "devices", "error")
            if info.get(k) is not None
        }
        for b, info in sorted(res.backend_info.items(), key=lambda kv: res.backends.index(kv[0]))
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
        "counts": dict(Counter(_cell_status(r) for r in res.records)),
        "per_backend": {b: dict(c) for b, c in by_backend.items()},
        "time_per_backend_s": {b: round(t, 3) for b, t in res.backend_time.items()},
        "wall_s": round(res.wall, 3),
        "problems": res.problems,
        "disagreements": res.disagreements,
        "reference_fd_mismatches": sorted(
            {
                f"{r['case']}/{r['transform']}"
                for r in res.records
                if str(r.get("reference_fd", "")).startswith("mismatch")
            }
        ),
        "tolerance": oracle.TOLERANCE,
        "native_findings": native_findings(res),
        "exit_code": res.exit_code,
    }


def _matrix(res: RunResult) -> tuple[list[str], dict[tuple[str, str], list[dict]]]:
    rows: list[str] = []
    cells: dict[tuple[str, str], list[dict]] = {}
    for r in res.records:
        if r.get("section") == "native":
            continue
        row = f"{r['case']} · {r['transform']}"
        if row not in rows:
            rows.append(row)
        cells.setdefault((row, r["backend"]), []).append(r)
    return rows, cells


def _cell(recs: list[dict]) -> tuple[str, float, str]:
    """A matrix cell from its records (one per dtype): worst status, largest error, label."""
    status = _worst(recs)["status"]
    err = max((r.get("max_abs") or 0.0 for r in recs), default=0.0)
    return status, err, MARK.get(status, "?") + (f" {err:.0e}" if err else "")


def _worst(recs: list[dict]) -> dict:
    order = ["crash", "timeout", "error", "fail", "nan_mismatch", "unsupported", "skipped", "pass"]
    return min(recs, key=lambda r: order.index(r["status"]) if r["status"] in order else 0)


def agreement_md(res: RunResult, summ: dict) -> str:
    """The case x backend matrix, a mark and the max error in each cell."""
    rows, cells = _matrix(res)
    lines = [
        f"# unigrad compare: {summ['run']}",
        "",
        f"unigrad {summ['unigrad']}, {summ['platform']}, dtypes {', '.join(res.dtypes)}. "
        f"{summ['cells']} cells: "
        + ", ".join(f"{k} {v}" for k, v in sorted(summ["counts"].items()))
        + ".",
        "",
        "Backends: "
        + ", ".join(f"{b} {v.get('version', '(not run)')}" for b, v in summ["backends"].items()),
        "",
        "Marks: "
        + ", ".join(f"{m} {s}" for s, m in MARK.items())
        + ". Each cell shows the worst of its dtypes and the max abs error against the "
        "reference engine (float64).",
        "",
        "| case · transform | " + " | ".join(res.backends) + " |",
        "| --- | " + " | ".join("---" for _ in res.backends) + " |",
    ]
    for row in rows:
        out = []
        for b in res.backends:
            recs = cells.get((row, b))
            if not recs:
                out.append("")
                continue
            out.append(_cell(recs)[2])
        lines.append(f"| {row} | " + " | ".join(out) + " |")
    bad = [
        r
        for r in res.records
        if r["status"] not in ("pass", "skipped", "finding")
        and not (r["status"] == "unsupported" and r.get("declared_gap"))
    ]
    if bad:
        lines += ["", "## Not passing", ""]
        for r in bad:
            lines.append(
                f"- `{r['case']}` {r['transform']} on {r['backend']} {r['dtype']}: "
                f"**{r['status']}**: {r.get('detail', '')}"
            )
    gaps = [r for r in res.records if r["status"] == "unsupported" and r.get("declared_gap")]
    if gaps:
        lines += ["", "## Declared gaps", ""]
        for key in sorted(
            {(r["case"], r["transform"], r["backend"], r["declared_gap"]) for r in gaps}
        ):
            lines.append(f"- `{key[0]}` {key[1]} on {key[2]}: {key[3]}")
    if summ["disagreements"]:
        lines += ["", "## Backends that disagree with each other", ""]
        for d in summ["disagreements"]:
            lines.append(
                f"- `{d['case']}` {d['transform']} {d['dtype']}: "
                f"{' vs '.join(d['backends'])}: {d['status']} {d['detail']}"
            )
    if summ["native_findings"]:
        lines += [
            "",
            "## Native catalogue: where the frameworks' own ops differ",
            "",
            "Each framework's own op, differentiated with its own idiom (float64). "
            "Disagreement here is the finding; it does not fail the run. The unigrad "
            "column is the convention `unigrad.numpy` pins on every backend.",
            "",
            "| case | unigrad | " + " | ".join(res.backends) + " | departures |",
            "| --- | --- | " + " | ".join("---" for _ in res.backends) + " | --- |",
        ]
        for f in summ["native_findings"]:
            vals = " | ".join(f["values"].get(b, "") for b in res.backends)
            dep = "; ".join(f["departures"]) or "all agree"
            lines.append(f"| {f['case']} | {f['unigrad'] or ''} | {vals} | {dep} |")
    if res.problems:
        lines += ["", "## Case files with problems", ""]
        lines += [f"- {p['error']}" for p in res.problems]
    return "\n".join(lines) + "\n"


def _short(value: Any, limit: int = 400) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _shade(status: str, err: float) -> str:
    """Cell colour: by status, and within pass and fail by the size of the error."""
    import math

    if status == "pass":
        return "#c8f0c8" if err < 1e-10 else ("#daf2c4" if err < 1e-6 else "#ecf4bc")
    if status == "fail":
        # 1e-8 (light) .. 1 and above (dark)
        t = min(1.0, max(0.0, (math.log10(err) + 8) / 8)) if err > 0 else 0.5
        light, dark = (248, 200, 200), (200, 40, 40)
        rgb = [round(a + (b - a) * t) for a, b in zip(light, dark)]
        return "#{:02x}{:02x}{:02x}".format(*rgb)
    return COLOUR.get(status, "#fff")


def agreement_html(res: RunResult, summ: dict, repro: dict[int, str]) -> str:
    """One self-contained page; cells coloured by status and error; details one click away."""
    rows, cells = _matrix(res)
    esc = html.escape
    head = f"""<!doctype html><html><head><meta charset="utf-8">
<title>unigrad compare {esc(summ["run"])}</title><style>
body{{font-family:system-ui,sans-serif;margin:1.5em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:2px 6px;font-size:13px}} th{{background:#eee}}
td.c{{cursor:pointer;text-align:center;min-width:5em}} td.c:hover{{outline:2px solid #333}}
#detail{{white-space:pre-wrap;font-family:monospace;background:#f8f8f8;border:1px solid #ccc;
padding:.8em;margin-top:1em}}
</style></head><body>
<h1>unigrad compare <small>{esc(summ["run"])}</small></h1>
<p>unigrad {esc(summ["unigrad"])} &middot; {esc(summ["platform"])} &middot;
dtypes {esc(", ".join(res.dtypes))} &middot; {summ["cells"]} cells:
{esc(", ".join(f"{k} {v}" for k, v in sorted(summ["counts"].items())))}
&middot; exit code {summ["exit_code"]}</p>
<p>{esc(", ".join(f"{b} {v.get('version', '(not run)')}" for b, v in summ["backends"].items()))}</p>
<p>Click a cell for its values side by side, the error and the repro script.
Darker red means a larger error.</p><table><tr><th>case &middot; transform</th>"""
    parts = [head] + [f"<th>{esc(b)}</th>" for b in res.backends] + ["</tr>"]
    details: list[str] = []
    for row in rows:
        parts.append(f"<tr><td>{esc(row)}</td>")
        for b in res.backends:
            recs = cells.get((row, b))
            if not recs:
                parts.append("<td></td>")
                continue
            status, err, label = _cell(recs)
            colour = _shade(status, err)
            k = len(details)
            text = []
            for r in recs:
                text.append(
                    f"{r['case']}  {r['transform']}  {r['backend']}  {r['dtype']}\n"
                    f"status: {r['status']}  declared gap: {r.get('declared_gap')}\n"
                    f"source: {r.get('source')}  defined at {r.get('file')}\n"
                    f"max abs {r.get('max_abs')}  max rel {r.get('max_rel')}  ulp {r.get('ulp')}"
                    f"  time {r.get('time')}\nreference vs finite differences: "
                    f"{r.get('reference_fd')}\n{r.get('detail', '')}\n"
                    f"value: {_short(r.get('value'))}\n"
                    + (f"repro: {repro[id(r)]}\n" if id(r) in repro else "")
                )
            details.append("\n".join(text))
            parts.append(
                f'<td class="c" style="background:{colour}" onclick="show({k})">{esc(label)}</td>'
            )
        parts.append("</tr>")
    parts.append("</table>")
    if summ["native_findings"]:
        parts.append(
            "<h2>Native catalogue</h2><p>Each framework's own op, differentiated with "
            "its own idiom; disagreement is the finding.</p><table><tr><th>case</th>"
            "<th>unigrad</th>"
            + "".join(f"<th>{esc(b)}</th>" for b in res.backends)
            + "<th>departures</th></tr>"
        )
        for f in summ["native_findings"]:
            parts.append(f"<tr><td>{esc(f['case'])}</td><td>{esc(f['unigrad'] or '')}</td>")
            for b in res.backends:
                v = f["values"].get(b, "")
                odd = any(b in d.split(" (")[0].split(", ") for d in f["departures"])
                style = ' style="background:#fde2b0"' if odd else ""
                parts.append(f"<td{style}>{esc(v)}</td>")
            parts.append(f"<td>{esc('; '.join(f['departures']) or 'all agree')}</td></tr>")
        parts.append("</table>")
    parts.append('<div id="detail">(click a cell)</div><script>const D=')
    parts.append(json.dumps(details).replace("</", "<\\/"))
    parts.append(
        ";function show(k){document.getElementById('detail').textContent=D[k];}"
        "</script></body></html>\n"
    )
    return "".join(parts)


REPRO = '''"""Recompute one cell of a unigrad compare run: {case} {transform} on {backend} {dtype}.

Status in the run: {status}. {detail}
Run with the python of the backend's environment{mx_note}.
"""

import numpy as np

import unigrad
from unigrad.compare.case import load_file
from unigrad.compare.cells import compute

case = {{c.id: c for c in load_file({file!r})}}[{case!r}]
value = unigrad.to_numpy(compute(case, {transform!r}, {backend!r}, {dtype!r}))
reference = unigrad.to_numpy(compute(case, {transform!r}, "numpy", "float64"))
np.set_printoptions(precision=17)
print("{backend} {dtype}:", value)
print("reference (numpy engine, float64):", reference)
if {transform!r} in case.expected:
    print("exact:", case.expected[{transform!r}])
'''


def write_repro(res: RunResult) -> dict[int, str]:
    """One script per cell that is not a pass; returns {id(record): path}."""
    out: dict[int, str] = {}
    folder = res.run_dir / "repro"
    for r in res.records:
        if r["status"] in ("pass", "skipped") or "transform" not in r:
            continue
        folder.mkdir(exist_ok=True)
        name = (
            re.sub(
                r"[^A-Za-z0-9_.-]+",
                "_",
                f"{r['case']}-{r['transform']}-{r['backend']}-{r['dtype']}",
            )
            + ".py"
        )
        path = folder / name
        case = next(c for c in res.cases if c.id == r["case"])
        path.write_text(
            REPRO.format(
                case=r["case"],
                transform=r["transform"],
                backend=r["backend"],
                dtype=r["dtype"],
                status=r["status"],
                detail=str(r.get("detail", "")).replace('"""', "'''")[:500],
                file=case.file,
                mx_note=" (.venv-mxnet/bin/python)" if r["backend"] == "mxnet" else "",
            )
        )
        out[id(r)] = str(path)
        r["repro"] = str(path)
    return out


def write(res: RunResult, formats: tuple[str, ...] = FORMATS) -> dict:
    """Write the report files and point reports/latest at this run; returns the summary."""
    repro = write_repro(res) if "repro" in formats else {}
    summ = summary(res)
    if "json" in formats:
        (res.run_dir / "summary.json").write_text(json.dumps(summ, indent=2, default=str))
    if "csv" in formats:
        import pandas as pd

        rows = [{k: v for k, v in r.items() if k != "value"} for r in res.records]
        pd.DataFrame(rows).to_csv(res.run_dir / "results.csv", index=False)
    if "md" in formats:
        (res.run_dir / "agreement.md").write_text(agreement_md(res, summ))
    if "html" in formats:
        (res.run_dir / "agreement.html").write_text(agreement_html(res, summ, repro))
    latest = res.run_dir.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        os.symlink(res.run_dir.name, latest)
    except OSError:
        (res.run_dir.parent / "latest.txt").write_text(res.run_dir.name + "\n")
    return summ

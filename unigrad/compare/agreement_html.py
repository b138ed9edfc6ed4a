"""agreement.html: one self-contained page a person takes in at a glance.

At the top, per-backend status counts as a small bar chart and a filter that shows only what
is not a pass; below, the matrix grouped by case source (each case file, then the native
catalogue), groups that pass collapsed. A click on a cell opens its detail beside it: the
backend's value next to the reference's and the exact value, the error, the message and the
repro script. Case text reaches the page only escaped (``html.escape``) or as JSON data that
the page's script renders as text (``escape.script_json``); nothing is loaded from elsewhere.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from unigrad.compare.html_page import STYLE, cell, chart, controls, esc, finish, group, shade
from unigrad.compare.matrix import MEANING, group_of, kind, worst
from unigrad.compare.matrix import cell as matrix_cell
from unigrad.compare.records import Record, RunResult, Status, counts_against, show


def _short(value: Any, limit: int = 600) -> str:
    if value is None:
        return "-"
    text = show(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + " ..."


def _error(r: Record) -> str:
    if r.max_abs is None:
        return "-"
    return (
        f"max abs {r.max_abs:.3g}, max rel {r.max_rel or 0:.3g}, {r.ulp or 0:.3g} ulp"
        f"\nagainst the {r.against or 'reference'}"
    )


def _cell_detail(recs: list[Record]) -> dict:
    r0 = recs[0]
    notes = []
    for r in recs:
        if r.detail:
            notes.append(f"{r.dtype}: {r.detail}" + (f"\n  at {r.where}" if r.where else ""))
        if r.declared_gap:
            notes.append(f"{r.dtype}: declared gap: {r.declared_gap}")
        if r.repro:
            notes.append(f"repro ({r.dtype}): {r.repro}")
    return {
        "title": f"{r0.case} · {r0.transform} on {r0.backend}",
        "about": [f"source: {r0.source or '-'}", f"defined at {r0.file}"],
        "columns": [
            "dtype",
            "status",
            r0.backend,
            "reference (numpy, float64)",
            "exact",
            "error",
            "reference vs finite differences",
        ],
        "rows": [
            [
                r.dtype,
                MEANING.get(kind(r), str(r.status)),
                _short(r.value),
                _short(r.reference),
                _short(r.expected),
                _error(r),
                r.reference_fd,
            ]
            for r in recs
        ],
        "notes": notes,
    }


def _native_detail(r: Record, finding: dict) -> dict:
    return {
        "title": f"{r.case} · {r.backend}'s own op (native catalogue)",
        "about": [f"source: {r.source or '-'}", f"defined at {r.file}"],
        "columns": [f"{r.backend} native grad (float64)", "unigrad.numpy's convention"],
        "rows": [[r.shown or "-", finding.get("unigrad") or "-"]],
        "notes": [
            *(finding["departures"] or ["all frameworks agree"]),
            *([r.detail] if r.detail else []),
            *([f"repro: {r.repro}"] if r.repro else []),
        ],
    }


def _chart(res: RunResult) -> list[str]:
    per: dict[str, Counter] = {}
    for r in res.records:
        if r.section == "main":
            per.setdefault(r.backend, Counter())[kind(r)] += 1
    return chart(per, res.backends)


def _main_group(name: str, recs: list[Record], res: RunResult, details: list[dict]) -> list[str]:
    rows: dict[str, dict[str, list[Record]]] = {}
    for r in recs:
        rows.setdefault(f"{r.case} · {r.transform}", {}).setdefault(r.backend, []).append(r)
    shown = [b for b in res.backends if any(b in per for per in rows.values())]
    attention = sum(
        1 for per in rows.values() if any(counts_against(r) for rs in per.values() for r in rs)
    )
    gaps = any(kind(r) == "gap" for r in recs)
    if attention:
        what = f"{attention} of {len(rows)} rows need attention"
    else:
        what = f"{len(rows)} rows, all pass" + (" or are declared gaps" if gaps else "")
    table_rows = []
    for label, per in rows.items():
        flagged = any(kind(r) not in ("pass", "skipped") for rs in per.values() for r in rs)
        cells = []
        for b in shown:
            cell_recs = per.get(b)
            if not cell_recs:
                cells.append("<td></td>")
                continue
            _, err, text = matrix_cell(cell_recs)
            w = worst(cell_recs)
            k = len(details)
            details.append(_cell_detail(cell_recs))
            data = {
                "section": "main",
                "case": w.case,
                "transform": w.transform,
                "backend": b,
                "status": kind(w),
            }
            cells.append(cell(k, text, shade(kind(w), err), data))
        table_rows.append((label, flagged, cells))
    return group(name, what, bool(attention), "case &middot; transform", shown, table_rows)


def _native_group(res: RunResult, summ: dict, details: list[dict]) -> list[str]:
    findings = {f["case"]: f for f in summ["native_findings"]}
    if not findings:
        return []
    recs = {
        (r.case, r.backend): r
        for r in res.records
        if r.section == "native" and r.status == Status.FINDING
    }
    shown = [b for b in res.backends if any(b in f["values"] for f in findings.values())]
    parts = [
        '<details data-group="native catalogue" open><summary>native catalogue '
        '<span class="n">each framework\'s own op, differentiated with its own idiom '
        "(float64); disagreement is the finding and does not fail the run</span></summary>"
        '<table data-table="native"><tr><th>case</th><th>unigrad</th>'
    ]
    parts += [f'<th data-table="native" data-backend="{esc(b)}">{esc(b)}</th>' for b in shown]
    parts.append("<th>departures</th></tr>")
    for cid, f in findings.items():
        parts.append(
            f'<tr data-row data-bad="0"><td class="label">{esc(cid)}</td>'
            f"<td>{esc(f['unigrad'] or '')}</td>"
        )
        for b in shown:
            r = recs.get((cid, b))
            if r is None:
                parts.append("<td></td>")
                continue
            odd = any(b in d.split(" (")[0].split(", ") for d in f["departures"])
            style = ' style="background:#fde2b0"' if odd else ""
            k = len(details)
            details.append(_native_detail(r, f))
            parts.append(
                f'<td class="c" data-k="{k}" data-section="native" data-case="{esc(cid)}" '
                f'data-backend="{esc(b)}"{style}>'
                f"{esc(r.shown or '')}</td>"
            )
        parts.append(f"<td>{esc('; '.join(f['departures']) or 'all agree')}</td></tr>")
    parts.append("</table></details>")
    return parts


def _head(res: RunResult, summ: dict) -> list[str]:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summ["counts"].items()))
    verdict = (
        "interrupted"
        if res.interrupted
        else "every cell passes or is a declared gap"
        if summ["exit_code"] == 0
        else "some cells need attention"
    )
    versions = ", ".join(
        f"{b} {v.get('version') or '(not run)'}" for b, v in summ["backends"].items()
    )
    parts = [
        f'<!doctype html><html><head><meta charset="utf-8">'
        f"<title>unigrad compare {esc(summ['run'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>unigrad compare <small>{esc(summ['run'])}</small></h1>",
        f'<p class="meta"><strong>{esc(verdict)}</strong> (exit code {summ["exit_code"]}) '
        f"&middot; {summ['cells']} cells" + (f": {esc(counts)}</p>" if counts else "</p>"),
        f'<p class="meta">unigrad {esc(summ["unigrad"])} &middot; {esc(summ["platform"])} '
        f"&middot; dtypes {esc(', '.join(res.dtypes))} &middot; {esc(versions)}</p>",
    ]
    if res.interrupted:
        parts.append(
            f'<p class="meta"><strong>Interrupted</strong> ({esc(res.interrupted)}): only '
            "the cells that finished are here.</p>"
        )
    return parts


def agreement_html(res: RunResult, summ: dict) -> str:
    """The whole page, as one string."""
    details: list[dict] = []
    parts = _head(res, summ) + _chart(res)
    parts.append(controls())
    groups: dict[str, list[Record]] = {}
    for r in res.records:
        if r.section == "main":
            groups.setdefault(group_of(r), []).append(r)
    for name, recs in groups.items():
        parts += _main_group(name, recs, res, details)
    parts += _native_group(res, summ, details)
    if res.problems:
        parts.append("<h2>Case files with problems</h2><ul>")
        parts += [f"<li>{esc(p.error)}</li>" for p in res.problems]
        parts.append("</ul>")
    return finish(parts, details)

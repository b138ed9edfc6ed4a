"""agreement.html: one self-contained page a person takes in at a glance.

At the top, per-backend status counts as a small bar chart and a filter that shows only what
is not a pass; below, the matrix grouped by case source (each case file, then the native
catalogue), groups that pass collapsed. A click on a cell opens its detail beside it: the
backend's value next to the reference's and the exact value, the error, the message and the
repro script. Case text reaches the page only escaped (``html.escape``) or as JSON data that
the page's script renders as text (``escape.script_json``); nothing is loaded from elsewhere.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from typing import Any

from unigrad.compare.escape import script_json
from unigrad.compare.matrix import COLOURS, MARKS, MEANING, cell, group_of, kind, worst
from unigrad.compare.records import Record, RunResult, Status, counts_against, show

esc = html.escape

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1 small{color:#666;font-weight:normal}
.meta{color:#444;margin:.2em 0}
table{border-collapse:collapse;margin:.4em 0 1em}
td,th{border:1px solid #bbb;padding:2px 6px;font-size:13px}
th{background:#eee}
td.label{max-width:34em;overflow-wrap:anywhere}
td.c{cursor:pointer;text-align:center;min-width:5em}
td.c:hover,td.c.sel{outline:2px solid #333}
details{margin:.3em 0}
summary{cursor:pointer;font-weight:600;padding:.2em 0}
summary .n{font-weight:normal;color:#555}
.chart{display:grid;grid-template-columns:max-content 24em max-content;gap:4px 10px;
align-items:center;margin:.5em 0}
.bar{display:flex;height:14px;border:1px solid #999;background:#fafafa}
.bar span{display:block;height:100%}
.legend span{display:inline-block;margin-right:1em;font-size:13px}
.legend i{display:inline-block;width:.9em;height:.9em;border:1px solid #999;
vertical-align:middle;margin-right:.3em}
.controls{margin:1em 0 .5em}
body.only-bad tr[data-bad="0"]{display:none}
#detail{position:absolute;z-index:10;background:#fff;border:1px solid #888;
box-shadow:0 4px 18px rgba(0,0,0,.25);padding:.6em .8em;max-width:min(40em,92vw);
max-height:70vh;overflow:auto;font-size:13px;overflow-wrap:anywhere}
#detail pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.2em 0;font-size:12px}
#detail table{margin:.4em 0}
#detail td{vertical-align:top}
#detail th{font-size:12px;overflow-wrap:normal}
#detail .x{float:right;cursor:pointer;border:none;background:none;font-size:16px}
"""

SCRIPT = """
const D = JSON.parse(document.getElementById('data').textContent);
const box = document.getElementById('detail');
let current = null;
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(cells, head) {
  const tr = el('tr');
  for (const c of cells) {
    const td = el(head ? 'th' : 'td', head ? c : null);
    if (!head) td.appendChild(el('pre', c));
    tr.appendChild(td);
  }
  return tr;
}
function fill(d) {
  box.replaceChildren();
  const x = el('button', 'close', 'x');
  x.textContent = '\\u00d7';
  x.title = 'close (Esc)';
  x.addEventListener('click', hide);
  box.appendChild(x);
  box.appendChild(el('strong', d.title));
  for (const line of d.about) box.appendChild(el('div', line));
  const t = el('table');
  t.appendChild(row(d.columns, true));
  for (const r of d.rows) t.appendChild(row(r, false));
  box.appendChild(t);
  for (const line of d.notes) box.appendChild(el('pre', line));
}
function place(td) {
  // beside the cell: right, else left, shrunk to the wider side if need be; else below/above
  const r = td.getBoundingClientRect(), gap = 8;
  const vw = document.documentElement.clientWidth, vh = window.innerHeight;
  const right = vw - r.right - 2 * gap, left = r.left - 2 * gap;
  box.style.maxWidth = '';
  let w = box.offsetWidth, x, y = r.top;
  if (w > right && w > left && Math.max(right, left) >= 280) {
    box.style.maxWidth = Math.max(right, left) + 'px';
    w = box.offsetWidth;
  }
  if (w <= right || w <= left) {
    x = w <= right ? r.right + gap : r.left - gap - w;
    y = Math.min(Math.max(gap, y), Math.max(gap, vh - box.offsetHeight - gap));
  } else {  // under the cell, never over it (the page scrolls)
    x = Math.min(Math.max(gap, r.left), Math.max(gap, vw - w - gap));
    y = r.bottom + gap;
  }
  box.style.left = (x + window.scrollX) + 'px';
  box.style.top = (y + window.scrollY) + 'px';
}
function show(td) {
  if (current) current.classList.remove('sel');
  current = td;
  td.classList.add('sel');
  fill(D[Number(td.dataset.k)]);
  box.hidden = false;
  place(td);
}
function hide() {
  box.hidden = true;
  if (current) current.classList.remove('sel');
  current = null;
}
document.addEventListener('click', (e) => {
  const td = e.target.closest('td[data-k]');
  if (td) show(td);
  else if (!box.contains(e.target)) hide();
});
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide(); });
document.getElementById('only-bad').addEventListener('change', (e) => {
  const on = e.target.checked;
  document.body.classList.toggle('only-bad', on);
  for (const g of document.querySelectorAll('details[data-group]')) {
    const hasBad = g.querySelector('tr[data-bad="1"]') !== null;
    g.hidden = on && !hasBad;
    if (on && hasBad) g.open = true;
  }
  hide();
});
"""


def _short(value: Any, limit: int = 600) -> str:
    if value is None:
        return "-"
    text = show(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit] + " ..."


def _shade(k: str, err: float) -> str:
    """Cell colour: by kind, and within pass and fail by the size of the error."""
    if k == "pass":
        return "#c8f0c8" if err < 1e-10 else ("#daf2c4" if err < 1e-6 else "#ecf4bc")
    if k == "fail":
        # 1e-8 (light) .. 1 and above (dark)
        t = min(1.0, max(0.0, (math.log10(err) + 8) / 8)) if err > 0 else 0.5
        light, dark = (248, 200, 200), (200, 40, 40)
        rgb = [round(a + (b - a) * t) for a, b in zip(light, dark)]
        return "#{:02x}{:02x}{:02x}".format(*rgb)
    return COLOURS.get(k, "#fff")


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
    parts = ['<section id="summary"><div class="chart">']
    for b in res.backends:
        counts = per.get(b)
        if not counts:
            continue
        total = sum(counts.values())
        spans = "".join(
            f'<span style="width:{100 * counts[k] / total:.3f}%;background:{COLOURS[k]}" '
            f'title="{esc(MEANING[k])}: {counts[k]}"></span>'
            for k in MARKS
            if counts[k]
        )
        text = ", ".join(f"{MARKS[k]} {MEANING[k]} {counts[k]}" for k in MARKS if counts[k])
        parts.append(
            f'<span>{esc(b)}</span><div class="bar" data-backend="{esc(b)}">{spans}</div>'
            f"<span>{esc(text)}</span>"
        )
    parts.append('</div><p class="legend">')
    parts += [
        f'<span><i style="background:{COLOURS[k]}"></i>{esc(MEANING[k])}</span>' for k in MARKS
    ]
    parts.append("</p></section>")
    return parts


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
    parts = [
        f'<details data-group="{esc(name)}"{" open" if attention else ""}>'
        f'<summary>{esc(name)} <span class="n">{esc(what)}</span></summary>'
        '<table data-table="main"><tr><th>case &middot; transform</th>'
    ]
    parts += [f'<th data-table="main" data-backend="{esc(b)}">{esc(b)}</th>' for b in shown]
    parts.append("</tr>")
    for label, per in rows.items():
        flagged = any(kind(r) not in ("pass", "skipped") for rs in per.values() for r in rs)
        parts.append(f'<tr data-row data-bad="{int(flagged)}"><td class="label">{esc(label)}</td>')
        for b in shown:
            cell_recs = per.get(b)
            if not cell_recs:
                parts.append("<td></td>")
                continue
            _, err, text = cell(cell_recs)
            w = worst(cell_recs)
            k = len(details)
            details.append(_cell_detail(cell_recs))
            parts.append(
                f'<td class="c" data-k="{k}" data-section="main" data-case="{esc(w.case)}" '
                f'data-transform="{esc(w.transform)}" data-backend="{esc(b)}" '
                f'data-status="{esc(kind(w))}" style="background:{_shade(kind(w), err)}">'
                f"{esc(text)}</td>"
            )
        parts.append("</tr>")
    parts.append("</table></details>")
    return parts


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
        "every cell passes or is a declared gap"
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
        f"&middot; {summ['cells']} cells: {esc(counts)}</p>",
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
    parts.append(
        '<p class="controls"><label><input type="checkbox" id="only-bad"> show only what is '
        "not a pass</label> &middot; click a cell for its values, error and repro script; "
        "darker red means a larger error</p>"
    )
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
    parts.append('<div id="detail" hidden></div>')
    parts.append(f'<script type="application/json" id="data">{script_json(details)}</script>')
    parts.append(f"<script>{SCRIPT}</script></body></html>\n")
    return "".join(parts)

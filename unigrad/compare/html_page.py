"""The pieces of a one-file HTML report page, shared by ``unigrad compare`` and ``unigrad
port``: style and script, a bar chart of statuses per column, collapsible groups of matrix
rows whose cells open a detail box, and the page's assembly.

Text reaches the page only escaped (``html.escape``) or as JSON data that the page's script
renders as text (``escape.script_json``); the page loads nothing from elsewhere. A detail is
``{"title", "about": [lines], "columns": [...], "rows": [[...]], "notes": [lines]}``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from unigrad.compare.escape import html_text, script_json
from unigrad.compare.matrix import COLOURS, MARKS, MEANING

esc = html_text

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


def shade(k: str, err: float) -> str:
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


def chart(
    per: dict[str, Counter], columns: list[str], kinds: Iterable[str] | None = None
) -> list[str]:
    """One bar per column (a backend, a framework) counting its cells by kind, and a legend
    of ``kinds`` (default: every kind)."""
    parts = ['<section id="summary"><div class="chart">']
    for b in columns:
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
        f'<span><i style="background:{COLOURS[k]}"></i>{esc(MEANING[k])}</span>'
        for k in (MARKS if kinds is None else kinds)
    ]
    parts.append("</p></section>")
    return parts


def cell(k: int, text: str, background: str, data: dict[str, str]) -> str:
    """A matrix cell that opens detail ``k``; ``data`` become ``data-*`` attributes."""
    attrs = "".join(f' data-{name}="{esc(value)}"' for name, value in data.items())
    return f'<td class="c" data-k="{k}"{attrs} style="background:{background}">{esc(text)}</td>'


def group(
    name: str,
    what: str,
    is_open: bool,
    head: str,
    columns: list[str],
    rows: list[tuple[str, bool, list[str]]],
    table: str = "main",
) -> list[str]:
    """A collapsible group: a table whose first column is ``head`` and whose other columns are
    ``columns``; each row is (label, flagged, its cells' HTML)."""
    parts = [
        f'<details data-group="{esc(name)}"{" open" if is_open else ""}>'
        f'<summary>{esc(name)} <span class="n">{esc(what)}</span></summary>'
        f'<table data-table="{table}"><tr><th>{head}</th>'
    ]
    parts += [f'<th data-table="{table}" data-backend="{esc(b)}">{esc(b)}</th>' for b in columns]
    parts.append("</tr>")
    for label, flagged, cells in rows:
        parts.append(f'<tr data-row data-bad="{int(flagged)}"><td class="label">{esc(label)}</td>')
        parts += cells
        parts.append("</tr>")
    parts.append("</table></details>")
    return parts


def controls(opens: str = "its values, error and repro script") -> str:
    """The filter check box and the hint above the matrix (a click on a cell shows
    ``opens``)."""
    return (
        '<p class="controls"><label><input type="checkbox" id="only-bad"> show only what is '
        f"not a pass</label> &middot; click a cell for {esc(opens)}; "
        "darker red means a larger error</p>"
    )


def finish(parts: list[str], details: list[dict]) -> str:
    """The page: ``parts``, the detail box, the details as data, and the script."""
    parts = [*parts, '<div id="detail" hidden></div>']
    parts.append(f'<script type="application/json" id="data">{script_json(details)}</script>')
    parts.append(f"<script>{SCRIPT}</script></body></html>\n")
    return "".join(parts)

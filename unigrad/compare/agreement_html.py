"""agreement.html: one self-contained page, cells coloured by status and error, details a
click away."""

from __future__ import annotations

import html
import json
import math
from typing import Any

from unigrad.compare.matrix import COLOUR, cell, grid
from unigrad.compare.records import RunResult, Status


def _short(value: Any, limit: int = 400) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _shade(status: Status, err: float) -> str:
    """Cell colour: by status, and within pass and fail by the size of the error."""
    if status == Status.PASS:
        return "#c8f0c8" if err < 1e-10 else ("#daf2c4" if err < 1e-6 else "#ecf4bc")
    if status == Status.FAIL:
        # 1e-8 (light) .. 1 and above (dark)
        t = min(1.0, max(0.0, (math.log10(err) + 8) / 8)) if err > 0 else 0.5
        light, dark = (248, 200, 200), (200, 40, 40)
        rgb = [round(a + (b - a) * t) for a, b in zip(light, dark)]
        return "#{:02x}{:02x}{:02x}".format(*rgb)
    return COLOUR.get(status, "#fff")


def agreement_html(res: RunResult, summ: dict) -> str:
    """One self-contained page; cells coloured by status and error; details one click away."""
    rows, cells = grid(res)
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
            status, err, label = cell(recs)
            colour = _shade(status, err)
            k = len(details)
            text = []
            for r in recs:
                text.append(
                    f"{r.case}  {r.transform}  {r.backend}  {r.dtype}\n"
                    f"status: {r.status}  declared gap: {r.declared_gap}\n"
                    f"source: {r.source}  defined at {r.file}\n"
                    f"max abs {r.max_abs}  max rel {r.max_rel}  ulp {r.ulp}"
                    f"  time {r.time}\nreference vs finite differences: "
                    f"{r.reference_fd}\n{r.detail}\n"
                    f"value: {_short(r.value)}\n" + (f"repro: {r.repro}\n" if r.repro else "")
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

"""agreement.md: the case x backend matrix, what does not pass, and the native catalogue.

Every piece of case text goes through ``escape.md``: an id with a pipe, a newline or HTML in
it stays one cell of one row, shown as text.
"""

from __future__ import annotations

from unigrad.compare.escape import md
from unigrad.compare.matrix import MARKS, MEANING, cell, grid
from unigrad.compare.records import RunResult, Status, counts_against


def _header(res: RunResult, summ: dict) -> list[str]:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summ["counts"].items()))
    lines = [
        f"# unigrad compare: {md(summ['run'])}",
        "",
        f"unigrad {summ['unigrad']}, {md(summ['platform'])}, dtypes {', '.join(res.dtypes)}. "
        f"{summ['cells']} cells" + (f": {counts}." if counts else "."),
        "",
    ]
    if res.interrupted:
        note = f"**Interrupted** ({res.interrupted}): only the cells that finished are here."
        lines += [note, ""]
    lines += [
        "Backends: "
        + ", ".join(
            f"{md(b)} {md(v.get('version') or '(not run)')}" for b, v in summ["backends"].items()
        ),
        "",
        "Marks: "
        + ", ".join(f"{m} {MEANING[k]}" for k, m in MARKS.items())
        + ". Each cell shows the worst of its dtypes and its largest error: against the exact "
        "value, the reference engine (float64) or, where neither exists, the other backends.",
        "",
    ]
    return lines


def agreement_md(res: RunResult, summ: dict) -> str:
    """The case x backend matrix, a mark and the max error in each cell."""
    rows, cells = grid(res)
    shown = [b for b in res.backends if any((row, b) in cells for row in rows)]
    lines = _header(res, summ)
    if not rows:  # a table without a column is no table
        why = "; see the case files with problems below" if res.problems else ""
        lines.append(f"No cell ran{why}.")
    else:
        lines += [
            "| case · transform | " + " | ".join(md(b) for b in shown) + " |",
            "| --- | " + " | ".join("---" for _ in shown) + " |",
        ]
    for row in rows:
        marks = [cell(cells[(row, b)])[2] if (row, b) in cells else "" for b in shown]
        lines.append(f"| {md(row)} | " + " | ".join(marks) + " |")
    failing = [r for r in res.records if counts_against(r)]
    if failing:
        lines += ["", "## Not passing", ""]
        for r in failing:
            lines.append(
                f"- {md(r.case, leading=True)} · {r.transform} on {md(r.backend)} {r.dtype}: "
                f"**{r.status}**: {md(r.detail)}"
            )
    gaps = sorted(
        {
            (r.case, r.transform, r.backend, r.declared_gap)
            for r in res.records
            if r.status == Status.UNSUPPORTED and r.declared_gap
        }
    )
    if gaps:
        lines += ["", "## Declared gaps", ""]
        lines += [f"- {md(c, leading=True)} · {t} on {md(b)}: {md(why)}" for c, t, b, why in gaps]
    if summ["disagreements"]:
        lines += ["", "## Backends that disagree with each other", ""]
        for d in summ["disagreements"]:
            lines.append(
                f"- {md(d['case'], leading=True)} · {d['transform']} {d['dtype']}: "
                f"{' vs '.join(md(b) for b in d['backends'])}: {d['status']} {md(d['detail'])}"
            )
    lines += _native(res, summ)
    if res.problems:
        lines += ["", "## Case files with problems", ""]
        lines += [f"- {md(p.error, leading=True)}" for p in res.problems]
    return "\n".join(lines) + "\n"


def _native(res: RunResult, summ: dict) -> list[str]:
    findings = summ["native_findings"]
    if not findings:
        return []
    shown = [b for b in res.backends if any(b in f["values"] for f in findings)]
    lines = [
        "",
        "## Native catalogue: where the frameworks' own ops differ",
        "",
        "Each framework's own op, differentiated with its own idiom (float64). "
        "Disagreement here is the finding; it does not fail the run. The unigrad "
        "column is the convention `unigrad.numpy` pins on every backend.",
        "",
        "| case | unigrad | " + " | ".join(md(b) for b in shown) + " | departures |",
        "| --- | --- | " + " | ".join("---" for _ in shown) + " | --- |",
    ]
    for f in findings:
        vals = " | ".join(md(f["values"].get(b, "")) for b in shown)
        dep = md("; ".join(f["departures"]) or "all agree")
        lines.append(f"| {md(f['case'])} | {md(f['unigrad'] or '')} | {vals} | {dep} |")
    return lines

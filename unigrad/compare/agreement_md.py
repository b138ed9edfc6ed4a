"""agreement.md: the case x backend matrix, what does not pass, and the native catalogue."""

from __future__ import annotations

from unigrad.compare.matrix import MARK, cell, grid
from unigrad.compare.records import RunResult, Status, counts_against


def agreement_md(res: RunResult, summ: dict) -> str:
    """The case x backend matrix, a mark and the max error in each cell."""
    rows, cells = grid(res)
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
        marks = [cell(cells[(row, b)])[2] if (row, b) in cells else "" for b in res.backends]
        lines.append(f"| {row} | " + " | ".join(marks) + " |")
    bad = [r for r in res.records if counts_against(r)]
    if bad:
        lines += ["", "## Not passing", ""]
        for r in bad:
            lines.append(
                f"- `{r.case}` {r.transform} on {r.backend} {r.dtype}: **{r.status}**: {r.detail}"
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
        lines += [f"- `{c}` {t} on {b}: {why}" for c, t, b, why in gaps]
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
        lines += [f"- {p.error}" for p in res.problems]
    return "\n".join(lines) + "\n"

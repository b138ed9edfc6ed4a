"""A campaign's report files: summary.json, findings.md, findings.html and the repro scripts
(findings.jsonl is streamed by ``findings.Store``). Finding text reaches each format through
``unigrad.compare.escape``."""

from __future__ import annotations

import html
import json
from pathlib import Path

from unigrad.compare.escape import file_stem, md
from unigrad.compare.reports import point_latest
from unigrad.fuzz.campaign import Result
from unigrad.fuzz.findings import Finding
from unigrad.fuzz.repro import native_script, unigrad_script

MEANING = {
    "wrong value": "a number beyond the tolerance",
    "nan": "nan or inf where the other side has a number (or the reverse)",
    "shape": "a result of another shape",
    "crash": "an error, or a worker that died or hung",
    "refusal": "UnsupportedError where no gap is declared",
    "native divergence": "the framework's own op, differentiated its own way, departs from "
    "unigrad's pinned meaning",
}


def write(res: Result, store: object) -> dict:
    """Write every report of the campaign; return the summary."""
    run_dir = res.run_dir
    for f in res.findings:
        write_repros(run_dir, f)
    store.rewrite()  # type: ignore[attr-defined]
    summary = res.summary()
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (run_dir / "findings.md").write_text(markdown(res, summary))
    (run_dir / "findings.html").write_text(page(res, summary))
    point_latest(
        Path(run_dir).resolve()
    )  # <out>/latest, as compare's reports have (resolved: --resume <out>/latest)
    return summary


def write_repros(run_dir: Path, f: Finding) -> None:
    """repro/<id>.py (through unigrad) and repro/<id>_native.py (the framework alone)."""
    folder = run_dir / "repro"
    folder.mkdir(exist_ok=True)
    stem = file_stem(f.op, f.backend, f.transform, f.kind, limit=60)
    path = folder / f"{stem}.py"
    if f.transform != "native grad":
        path.write_text(unigrad_script(f))
        f.repro = str(path.relative_to(run_dir))
    try:
        text = native_script(f)
    except Exception as exc:  # a repro that cannot be written is noted, never fatal
        text = None
        f.native_repro = f"(not written: {type(exc).__name__}: {exc})"
    if text is not None:
        native = folder / f"{stem}_native.py"
        native.write_text(text)
        f.native_repro = str(native.relative_to(run_dir))


def _versions(f: Finding) -> str:
    keep = {k: v for k, v in f.versions.items() if k in ("unigrad", f.backend)}
    return ", ".join(f"{k} {v}" for k, v in keep.items())


def markdown(res: Result, summary: dict) -> str:
    """findings.md: the summary in a few lines, then one table row per finding."""
    lines = [
        "# unigrad fuzz findings",
        "",
        f"Seed {summary['seed']}, {summary['programs']} programs in {summary['wall_s']:.1f} s "
        f"({summary['programs_per_s'] or 0:.2f} programs/s, executor {summary['executor']}"
        f"{', native' if summary['native'] else ''})"
        + (f"; interrupted ({summary['interrupted']})" if summary["interrupted"] else "")
        + ".",
        "",
        "Per backend: "
        + ", ".join(
            f"{b} {v['programs_per_s']} programs/s" for b, v in summary["per_backend"].items()
        ),
        "",
        f"Candidates {summary['candidates']}; filtered: "
        + (", ".join(f"{k} {v}" for k, v in summary["filtered"].items()) or "none")
        + f"; declared gaps met {summary['declared_gaps']}.",
        "",
        "| kind | op | backend | transform | order | dtypes | what it shows | versions | "
        "programs | repro |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in res.findings:
        repro = " ".join(x for x in (f.repro, f.native_repro) if x and not x.startswith("("))
        lines.append(
            "| "
            + " | ".join(
                [
                    md(f.kind),
                    md(f.op),
                    md(f.backend),
                    md(f.transform),
                    str(f.order),
                    md(", ".join(f.dtypes)),
                    md(f"{f.detail} (against {f.against})"[:300]),
                    md(_versions(f)),
                    str(f.occurrences),
                    md(repro),
                ]
            )
            + " |"
        )
    if not res.findings:
        lines.append("| - | - | - | - | - | - | no finding | - | - | - |")
    lines += ["", "Kinds: " + "; ".join(f"**{k}**: {v}" for k, v in MEANING.items()), ""]
    return "\n".join(lines)


def page(res: Result, summary: dict) -> str:
    """findings.html: one self-contained page (no script, nothing loaded from elsewhere)."""
    e = html.escape
    rows = []
    for f in res.findings:
        cells = [
            f.kind,
            f.op,
            f.backend,
            f.transform,
            str(f.order),
            ", ".join(f.dtypes),
            f"{f.detail} (against {f.against})",
            _versions(f),
            str(f.occurrences),
            " ".join(x for x in (f.repro, f.native_repro) if x),
        ]
        rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    filtered = ", ".join(f"{k} {v}" for k, v in summary["filtered"].items()) or "none"
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "kind",
            "op",
            "backend",
            "transform",
            "order",
            "dtypes",
            "what it shows",
            "versions",
            "programs",
            "repro",
        )
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>unigrad fuzz findings</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}}
th{{background:#eee}}</style></head><body>
<h1>unigrad fuzz findings</h1>
<p>Seed {e(str(summary["seed"]))}: {summary["programs"]} programs in {summary["wall_s"]:.1f} s,
executor {e(summary["executor"])}{" (interrupted)" if summary["interrupted"] else ""}.
Findings: {summary["findings"]}. Candidates: {summary["candidates"]}; filtered: {e(filtered)}.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{"".join(rows) or '<tr><td colspan="10">no finding</td></tr>'}
</tbody></table></body></html>
"""

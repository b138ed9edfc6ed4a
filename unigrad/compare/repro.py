"""repro/<cell>.py: a script per cell that is not a pass, recomputing it on its own.

The scripts import unigrad and the case file by its path, nothing else: they run with any
python that has unigrad and the backend's framework installed, from any folder. Each prints
what it computed and its verdict, and exits 1 when that shows the disagreement (as the run
judges it: against the exact value, else the reference; a native grad against unigrad's
convention), 0 when it agrees; a cell that raises ends in its traceback (exit code 1).
"""

from __future__ import annotations

from pathlib import Path

from unigrad.compare.escape import docstring, file_stem
from unigrad.compare.records import Record, RunResult, Status

DOC = """Recompute one cell of a unigrad compare run: {case} {transform} on {backend} {dtype}.

Status in the run: {status}. {detail}
Run with the python of the backend's environment{mx_note}. Exit code: 1 when what it prints
shows the disagreement, 0 when the cell agrees now.
"""
HEADER = """{doc}

import numpy as np

import unigrad
from unigrad.compare.cells import compute, find_case

case = find_case({file!r}, {case!r})
np.set_printoptions(precision=17)
"""
CELL = """from unigrad.compare.verdicts import recheck

value = unigrad.to_numpy(compute(case, {transform!r}, {backend!r}, {dtype!r}))
print("{backend} {dtype}:", value)
reference, why = None, None
try:
    reference = unigrad.to_numpy(compute(case, {transform!r}, "numpy", "float64"))
    print("reference (numpy engine, float64):", reference)
except Exception as exc:  # judged as the run does: the exact value alone, else unverified
    why = f"the reference engine: {{type(exc).__name__}}: {{exc}}"
    print("reference (numpy engine, float64): none,", why)
if {transform!r} in case.expected:
    print("exact:", case.expected[{transform!r}])
verdict = recheck(case, {transform!r}, {backend!r}, {dtype!r}, value, reference, why)
print(verdict.status.value + (": " + verdict.detail if verdict.detail else ""))
raise SystemExit(0 if verdict.status.value == "pass" else 1)
"""
NATIVE = """from unigrad.compare.native import native_grad
from unigrad.compare.records import show

# {backend}'s own op, differentiated with {backend}'s own idiom (the native catalogue)
value = native_grad({backend!r}, case.native[{backend!r}], case.make_inputs("float64"))
print("{backend} native grad (float64):", value)
departs = False
if "grad" in case.transforms:
    convention = unigrad.to_numpy(compute(case, "grad", "numpy", "float64"))
    print("unigrad.numpy's convention (numpy engine, float64):", convention)
    departs = show(value) != show([convention])  # as agreement.md tells them apart
    print("departs from unigrad's convention" if departs else "agrees with unigrad's convention")
raise SystemExit(1 if departs else 0)
"""


def script(rec: Record, case_file: str) -> str:
    """The repro script of one record."""
    fields = {
        "case": rec.case,
        "transform": rec.transform,
        "backend": rec.backend,
        "dtype": rec.dtype,
        "status": rec.status,
        "detail": rec.detail[:500],
        "file": case_file,
        "mx_note": " (.venv-mxnet/bin/python)" if rec.backend == "mxnet" else "",
    }
    # the case's text goes into the docstring only through docstring() (any id compiles),
    # and into code only as repr()
    doc = docstring(DOC.format(**fields))
    body = NATIVE if rec.section == "native" else CELL
    return HEADER.format(doc=doc, **fields) + body.format(**fields)


def write_repro(res: RunResult) -> None:
    """One script per cell that is not a pass (nor a skipped backend); sets ``Record.repro``.

    File names are the cell's parts made safe and cut short, plus a hash of them: unique, and
    short enough for any file system, whatever the case id.
    """
    folder = res.run_dir / "repro"
    files = {c.id: c.case_file for c in res.cases}
    for r in res.records:
        if r.status in (Status.PASS, Status.SKIPPED) or r.case not in files:
            continue
        folder.mkdir(exist_ok=True)
        name = file_stem(r.case, r.transform, r.backend, r.dtype, r.section)
        path: Path = folder / f"{name}.py"
        path.write_text(script(r, files[r.case]))
        r.repro = str(path)

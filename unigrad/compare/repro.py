"""repro/<cell>.py: a script per cell that is not a pass, recomputing it on its own.

The scripts import unigrad and the case file by its path, nothing else: they run with any
python that has unigrad and the backend's framework installed, from any folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from unigrad.compare.records import Record, RunResult, Status

HEADER = '''"""Recompute one cell of a unigrad compare run: {case} {transform} on {backend} {dtype}.

Status in the run: {status}. {detail}
Run with the python of the backend's environment{mx_note}.
"""

import numpy as np

import unigrad
from unigrad.compare.cells import compute, find_case

case = find_case({file!r}, {case!r})
np.set_printoptions(precision=17)
'''
CELL = """value = unigrad.to_numpy(compute(case, {transform!r}, {backend!r}, {dtype!r}))
reference = unigrad.to_numpy(compute(case, {transform!r}, "numpy", "float64"))
print("{backend} {dtype}:", value)
print("reference (numpy engine, float64):", reference)
if {transform!r} in case.expected:
    print("exact:", case.expected[{transform!r}])
"""
NATIVE = """from unigrad.compare.native import native_grad

# {backend}'s own op, differentiated with {backend}'s own idiom (the native catalogue)
value = native_grad({backend!r}, case.native[{backend!r}], case.make_inputs("float64"))
print("{backend} native grad (float64):", value)
if "grad" in case.transforms:
    convention = unigrad.to_numpy(compute(case, "grad", "numpy", "float64"))
    print("unigrad.numpy's convention (numpy engine, float64):", convention)
"""


def script(rec: Record, case_file: str) -> str:
    """The repro script of one record."""
    fields = {
        "case": rec.case,
        "transform": rec.transform,
        "backend": rec.backend,
        "dtype": rec.dtype,
        "status": rec.status,
        "detail": rec.detail.replace('"""', "'''")[:500],
        "file": case_file,
        "mx_note": " (.venv-mxnet/bin/python)" if rec.backend == "mxnet" else "",
    }
    body = NATIVE if rec.section == "native" else CELL
    return HEADER.format(**fields) + body.format(**fields)


def write_repro(res: RunResult) -> None:
    """One script per cell that is not a pass (nor a skipped backend); sets ``Record.repro``."""
    folder = res.run_dir / "repro"
    files = {c.id: c.file for c in res.cases}
    for r in res.records:
        if r.status in (Status.PASS, Status.SKIPPED):
            continue
        folder.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{r.case}-{r.transform}-{r.backend}-{r.dtype}")
        path: Path = folder / f"{name}.py"
        path.write_text(script(r, files[r.case]))
        r.repro = str(path)

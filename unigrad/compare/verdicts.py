"""From cell results to records: the one place ``unigrad compare`` makes its records.

``judge`` compares a cell with the case's exact value and the reference; ``not_run`` records
a backend that could not start; ``finding`` records a native-catalogue result; ``pairwise``
lists the backends that disagree with each other.
"""

from __future__ import annotations

from typing import Any

from unigrad.compare import oracle
from unigrad.compare.case import Case
from unigrad.compare.records import CellResult, Disagreement, Outcome, Record, Status, show
from unigrad.compare.reference import Reference

# A cell that gave no value keeps its outcome as its status.
_NO_VALUE = {
    Outcome.UNSUPPORTED: Status.UNSUPPORTED,
    Outcome.ERROR: Status.ERROR,
    Outcome.TIMEOUT: Status.TIMEOUT,
    Outcome.CRASH: Status.CRASH,
}


def _record(case: Case, transform: str, backend: str, dtype: str, **rest: Any) -> Record:
    return Record(
        case=case.id,
        source=case.source,
        file=case.where,
        transform=transform,
        backend=backend,
        dtype=dtype,
        **rest,
    )


def judge(
    case: Case, transform: str, backend: str, dtype: str, result: CellResult, ref: Reference
) -> Record:
    """Judge one cell's result against the exact value (if any) and the reference."""
    key = (case.id, transform)
    rec = _record(
        case,
        transform,
        backend,
        dtype,
        status=_NO_VALUE.get(result.outcome, Status.PASS),
        time=result.time,
        declared_gap=case.gap(backend, transform),
        reference_fd=ref.fd.get(key, "n/a"),
    )
    if result.outcome != Outcome.OK:
        rec.detail, rec.where = result.error, result.where or None
        return rec
    tol = oracle.tolerance(dtype, case.tolerance)
    rec.value = result.value
    if transform in case.expected:
        v = oracle.compare(result.value, case.expected[transform], dtype, tol)
        rec.exact = v.status
        if not v.passed:
            rec.status, rec.detail = v.status, f"vs exact value: {v.detail}"
    if key in ref.values:
        v = oracle.compare(result.value, ref.values[key], dtype, tol)
        rec.max_abs, rec.max_rel, rec.ulp = v.max_abs, v.max_rel, v.ulp
        if not v.passed and rec.status == Status.PASS:
            rec.status, rec.detail = v.status, f"vs reference: {v.detail}"
    elif key in ref.errors and transform not in case.expected:
        rec.detail = f"no reference ({ref.errors[key]})"
    return rec


def not_run(
    case: Case, transform: str, backend: str, dtype: str, why: str, asked_for: bool
) -> Record:
    """A cell of a backend that could not start: skipped, or an error when asked for by name."""
    return _record(
        case,
        transform,
        backend,
        dtype,
        status=Status.ERROR if asked_for else Status.SKIPPED,
        detail=f"backend not run: {why}",
    )


def finding(case: Case, backend: str, result: CellResult) -> Record:
    """A native-catalogue result: what the framework's own op returned, never judged."""
    ok = result.outcome == Outcome.OK
    return _record(
        case,
        "native grad",
        backend,
        "float64",
        section="native",
        status=Status.FINDING,
        value=result.value,
        time=result.time,
        shown=show(result.value) if ok else f"error: {result.error}",
        detail="" if ok else result.error,
    )


def pairwise(records: list[Record], cases: dict[str, Case]) -> list[Disagreement]:
    """Every pair of backends whose values for the same (main-section) cell disagree."""
    by_cell: dict[tuple[str, str, str], dict[str, Record]] = {}
    for r in records:
        if r.value is not None and r.section == "main":
            by_cell.setdefault((r.case, r.transform, r.dtype), {})[r.backend] = r
    out = []
    for (cid, t, dtype), per in by_cell.items():
        names = sorted(per)
        tol = oracle.tolerance(dtype, cases[cid].tolerance)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                v = oracle.compare(per[a].value, per[b].value, dtype, tol)
                if not v.passed:
                    out.append(Disagreement(cid, t, dtype, [a, b], v.status, v.detail))
    return out

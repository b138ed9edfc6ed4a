"""From cell results to records: the one place ``unigrad compare`` makes its records.

``judge`` compares a cell with the case's exact value (if any) and the reference; a value with
neither is ``unverified``, never a pass. ``not_run`` records a backend that could not start;
``finding`` records a native-catalogue result; ``cross_check`` compares the backends with each
other and fails the unverified cells of any pair that disagrees.
"""

from __future__ import annotations

from typing import Any

from unigrad.compare import oracle
from unigrad.compare.case import Case
from unigrad.compare.records import (
    CellResult,
    Disagreement,
    Outcome,
    Record,
    Status,
    error_text,
    show,
)
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


def _measure(rec: Record, v: oracle.Verdict, against: str) -> None:
    rec.max_abs, rec.max_rel, rec.ulp, rec.against = v.max_abs, v.max_rel, v.ulp, against


def _judge_value(rec: Record, case: Case, dtype: str, ref: Reference) -> None:
    """Set the status and error measures of a cell that gave a value.

    The error measures are those of the comparison that decided: the exact value when the cell
    fails against it, else the reference.
    """
    key = (case.id, rec.transform)
    tol = oracle.tolerance(dtype, case.tolerance)
    exact = against_ref = None
    if rec.transform in case.expected:
        exact = oracle.compare(rec.value, rec.expected, dtype, tol, against="exact value")
        rec.exact = exact.status
    if key in ref.values:
        against_ref = oracle.compare(rec.value, rec.reference, dtype, tol)
    if exact is not None and not exact.passed:
        rec.status, rec.detail = exact.status, f"vs exact value: {exact.detail}"
        _measure(rec, exact, "exact")
    elif against_ref is not None:
        _measure(rec, against_ref, "reference")
        if not against_ref.passed:
            rec.status, rec.detail = against_ref.status, f"vs reference: {against_ref.detail}"
    elif exact is not None:
        _measure(rec, exact, "exact")
    else:
        why = ref.errors.get(key, "the reference was not computed")
        rec.status = Status.UNVERIFIED
        rec.detail = f"no reference ({why}) and no exact value: nothing to judge this value by"


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
        reference=ref.values.get(key),
        expected=case.expected.get(transform),
    )
    if result.outcome != Outcome.OK:
        rec.detail, rec.where = result.error, result.where or None
        return rec
    rec.value = result.value
    try:
        _judge_value(rec, case, dtype, ref)
    except Exception as exc:  # a value the oracle cannot read is this cell's error, not the run's
        rec.status = Status.ERROR
        rec.detail = f"cannot compare this result: {error_text(exc)}"
    return rec


def recheck(
    case: Case,
    transform: str,
    backend: str,
    dtype: str,
    value: Any,
    reference: Any = None,
    reference_error: str | None = None,
) -> Record:
    """A repro script's verdict on a value it computed again, as the run judges it: the same
    check that it is numbers, then the exact value and the reference (``reference_error``:
    why there is none)."""
    from unigrad.compare.cells import not_numbers

    ref = Reference()
    key = (case.id, transform)
    if reference_error is None:
        ref.values[key] = reference
    else:
        ref.errors[key] = reference_error
    wrong = not_numbers(value)
    result = CellResult(Outcome.ERROR, error=wrong) if wrong else CellResult(Outcome.OK, value)
    return judge(case, transform, backend, dtype, result, ref)


def not_run(
    case: Case, transform: str, backend: str, dtype: str, why: str, status: Status
) -> Record:
    """A cell of a backend that could not start (``skipped`` or ``error``)."""
    native = transform == "native grad"
    return _record(
        case,
        transform,
        backend,
        "float64" if native else dtype,
        section="native" if native else "main",
        status=status,
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


def _doubled(tol: dict[str, float]) -> dict[str, float]:
    # each of the two may be off the truth by one tolerance
    return {k: 2 * v for k, v in tol.items()}


def cross_check(records: list[Record], cases: dict[str, Case]) -> list[Disagreement]:
    """Every pair of backends whose values for the same (main-section) cell disagree.

    Two values disagree beyond twice the cell's tolerance (each may be one tolerance off the
    truth). A cell that had nothing to be judged by (``unverified``) and disagrees with another
    backend fails, with the error against that backend: without a reference neither can be
    trusted.
    """
    by_cell: dict[tuple[str, str, str], dict[str, Record]] = {}
    for r in records:
        if r.value is not None and r.section == "main":
            by_cell.setdefault((r.case, r.transform, r.dtype), {})[r.backend] = r
    out = []
    worst: dict[int, tuple[oracle.Verdict, str, Record]] = {}
    for (cid, t, dtype), per in by_cell.items():
        names = sorted(per)
        tol = _doubled(oracle.tolerance(dtype, cases[cid].tolerance))
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                v = oracle.compare(per[a].value, per[b].value, dtype, tol, against=b)
                if v.passed:
                    continue
                out.append(Disagreement(cid, t, dtype, [a, b], v.status, v.detail))
                for mine, other in ((a, b), (b, a)):
                    rec = per[mine]
                    if rec.status != Status.UNVERIFIED:
                        continue
                    w = oracle.compare(rec.value, per[other].value, dtype, tol, against=other)
                    seen = worst.get(id(rec))
                    if seen is None or (w.max_abs or 0.0) > (seen[0].max_abs or 0.0):
                        worst[id(rec)] = (w, other, rec)
    for w, other, rec in worst.values():
        rec.status = Status.FAIL
        rec.detail = (
            f"disagrees with {other}, and there is no reference to tell which is right: {w.detail}"
        )
        _measure(rec, w, "pairwise")
    return out

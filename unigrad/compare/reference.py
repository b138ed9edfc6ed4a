"""The reference of ``unigrad compare``: every cell on the numpy engine in float64, each result
checked against central finite differences in float64.

The reference runs in a worker process of its own (``reference_case``, one request per case,
under the run's timeout), so that a case that crashes, exits or hangs on the numpy engine costs
its own cells only. Each case's reference is published as it arrives (``Reference.wait``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api.dispatch import closed_over
from unigrad.compare import oracle
from unigrad.compare.case import Case, directions
from unigrad.compare.cells import find_case, run_cell
from unigrad.compare.records import CellResult, Outcome
from unigrad.errors import WorkerError
from unigrad.testing.gradcheck import assemble_jacobian, numerical_jacobian

REFERENCE_CASE = "unigrad.compare.reference:reference_case"


@dataclass
class Reference:
    """The reference engine's float64 results, keyed by (case id, transform), and their
    finite-difference check; a cell the reference could not compute has an error instead."""

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    fd: dict[tuple[str, str], str] = field(default_factory=dict)
    _ready: dict[str, threading.Event] = field(default_factory=dict, repr=False)

    def _event(self, case_id: str) -> threading.Event:
        return self._ready.setdefault(case_id, threading.Event())

    def publish(self, case: Case, cells: dict[str, CellResult], fd: dict[str, str]) -> None:
        """Record one case's reference cells and let those waiting for it go on."""
        for t, cell in cells.items():
            if cell.outcome == Outcome.OK:
                self.values[(case.id, t)] = cell.value
                self.fd[(case.id, t)] = fd.get(t, "n/a")
            else:
                self.errors[(case.id, t)] = f"the reference engine: {cell.error or cell.outcome}"
        self._event(case.id).set()

    def fail(self, case: Case, why: str) -> None:
        """Record that no reference exists for any cell of ``case``, and why."""
        for t in case.transforms:
            self.errors[(case.id, t)] = why
        self._event(case.id).set()

    def wait(self, case_id: str, stop: threading.Event | None = None) -> bool:
        """Wait until the reference of ``case_id`` is published; False if ``stop`` is set first."""
        ready = self._event(case_id)
        while not ready.wait(0.1):
            if stop is not None and stop.is_set():
                return False
        return True


def _flat(v: Any) -> np.ndarray:
    leaves = pytree.tree_leaves(v)
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in leaves])


def _sizes(tree: Any) -> list[int]:
    return [int(np.size(v)) for v in pytree.tree_leaves(tree)]


def fd_check(case: Case, transform: str, ref: Any) -> str:
    """Check a reference result against central finite differences: 'ok', 'n/a' or why not."""
    from unigrad.compare.opcases import OpCase

    if isinstance(case, OpCase):
        return case.fd_check(transform, ref)
    if transform == "value":
        return "n/a"
    if case.no_finite_differences:
        return f"n/a ({case.no_finite_differences})"
    import unigrad

    args = case.make_inputs("float64")
    nums = [case.argnums] if isinstance(case.argnums, int) else list(case.argnums)
    partial = closed_over(case.function, args, nums, "numpy")
    primals = [args[i] for i in nums]
    if any(np.asarray(v).dtype.kind != "f" for v in pytree.tree_leaves(primals)):
        return "n/a"
    try:
        if transform in ("hessian", "hvp"):

            def fn(*d: Any) -> Any:
                return unigrad.grad(partial, tuple(range(len(d))), backend="numpy")(*d)

        else:
            fn = partial
        jac = numerical_jacobian(fn, *primals, backend="numpy")
    except Exception as exc:  # the function cannot be evaluated off its inputs
        return f"n/a ({type(exc).__name__})"
    got = _flat(ref)
    in_sizes = _sizes(primals)
    if transform == "grad":
        want = jac.T.ravel()
    elif transform == "hessian":
        got = assemble_jacobian(ref, in_sizes, in_sizes).ravel()
        want = jac.ravel()
    elif transform == "jacobian":
        out_sizes = _sizes(unigrad.to_numpy(partial(*primals)))
        got = assemble_jacobian(ref, out_sizes, in_sizes).ravel()
        want = jac.ravel()
    elif transform == "vjp":
        out0 = unigrad.to_numpy(partial(*primals))
        cts = directions(case, [np.shape(v) for v in pytree.tree_leaves(out0)], "vjp", "float64")
        want = _flat(cts) @ jac
    else:  # jvp, hvp
        shapes = [np.shape(v) for v in pytree.tree_leaves(primals)]
        want = jac @ _flat(directions(case, shapes, transform, "float64"))
    verdict = oracle.compare(got, want, "float64", oracle.FD_TOLERANCE)
    return "ok" if verdict.passed else f"mismatch: {verdict.detail}"


def reference_case(payload: dict) -> dict:
    """Worker entry point: one case's reference cells and their finite-difference checks.

    ``payload``: ``file``, ``id``. Returns ``{"cells": {transform: CellResult wire data},
    "fd": {transform: check}}``.
    """
    case = find_case(payload["file"], payload["id"])
    cells, fd = {}, {}
    with np.errstate(all="ignore"):  # nan and inf at edge points are results, not accidents
        for t in case.transforms:
            cell = run_cell(case, t, "numpy", "float64")
            cells[t] = cell.to_wire()
            if cell.outcome == Outcome.OK:
                try:
                    fd[t] = fd_check(case, t, cell.value)
                except (Exception, SystemExit) as exc:  # the check is advice, never fatal
                    fd[t] = f"n/a ({type(exc).__name__})"
    return {"cells": cells, "fd": fd}


def _failure(exc: WorkerError, timeout: float) -> str:
    if exc.kind == "timeout":
        return f"the reference engine gave no answer within {timeout:g} s (a hang)"
    if exc.kind == "crash":
        return f"the reference engine's worker crashed: {str(exc).split(chr(10))[0]}"
    return f"the reference engine failed: {exc}"


def compute(
    cases: Sequence[Case],
    ref: Reference,
    worker: Any,
    timeout: float,
    stop: threading.Event | None = None,
    on_case: Callable[[Case], None] | None = None,
) -> None:
    """Fill ``ref`` case by case from a numpy worker, each case under ``timeout``."""
    try:
        for case in cases:
            if stop is not None and stop.is_set():
                return
            payload = {"file": case.case_file, "id": case.id}
            try:
                got = worker.invoke(REFERENCE_CASE, payload, timeout=timeout)
            except WorkerError as exc:
                ref.fail(case, _failure(exc, timeout))
                continue
            cells = {t: CellResult.from_wire(c) for t, c in got["cells"].items()}
            ref.publish(case, cells, got["fd"])
            if on_case is not None:
                on_case(case)
    finally:  # whatever happened, nobody waits forever for a reference that will not come
        for case in cases:
            if not ref._event(case.id).is_set():
                ref.fail(case, "the reference run stopped before this case")


def reference(cases: Sequence[Case], timeout: float = 120.0) -> Reference:
    """Every case on the reference engine in float64, checked by finite differences, computed
    in a numpy worker process."""
    import sys

    from unigrad.workers.client import Worker

    ref = Reference()
    worker = Worker("numpy", python=sys.executable)
    try:
        compute(cases, ref, worker, timeout)
    finally:
        worker.kill()
    return ref

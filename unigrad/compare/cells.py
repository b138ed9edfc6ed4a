"""Running one case's cells on one backend: in a worker (``run_case``) or in this process.

A worker runs ``run_case`` when ``unigrad compare`` sends it ``invoke
unigrad.compare.cells:run_case``; the reference run and the repro scripts call ``run_cell``
and ``compute`` directly.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api.dispatch import apply
from unigrad.compare.case import Case, directions, load_file
from unigrad.compare.records import CaseResults, CellResult, Outcome
from unigrad.errors import UnsupportedError

_loaded: dict[str, dict[str, Case]] = {}


def find_case(path: str, case_id: str) -> Case:
    """The case ``case_id`` of the case file at ``path`` (each file is loaded once)."""
    if path not in _loaded:
        _loaded[path] = {c.id: c for c in load_file(path)}
    return _loaded[path][case_id]


def differentiated(case: Case, args: list[Any]) -> list[Any]:
    """The case's differentiated arguments (those in its ``argnums``), in order."""
    nums = [case.argnums] if isinstance(case.argnums, int) else list(case.argnums)
    return [args[i] for i in nums]


def compute(case: Case, transform: str, backend: str, dtype: str) -> Any:
    """The result of ``transform`` of the case's function on ``backend`` in ``dtype``.

    vjp, jvp and hvp use the case's fixed random cotangents or tangents; for vjp and jvp the
    result is the derivative part (the cotangent or tangent out), not the value.
    """
    import unigrad

    args = case.make_inputs(dtype)
    tangents = cotangents = None
    if transform in ("jvp", "hvp"):
        primals = differentiated(case, args)
        ts = directions(case, [np.shape(v) for v in pytree.tree_leaves(primals)], transform, dtype)
        tangents = pytree.tree_unflatten(pytree.tree_flatten(primals)[1], ts)
    elif transform == "vjp":

        def cotangents(out: Any) -> Any:
            leaves, tdef = pytree.tree_flatten(unigrad.to_numpy(out))
            return pytree.tree_unflatten(
                tdef, directions(case, [np.shape(v) for v in leaves], "vjp", dtype)
            )

    result = apply(
        transform,
        case.function,
        args,
        case.argnums,
        backend,
        tangents=tangents,
        cotangents=cotangents,
    )
    return result[1] if transform in ("vjp", "jvp") else result


def _located(exc: BaseException, case: Case) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    for fr in reversed(frames):
        if Path(fr.filename).resolve() == Path(case.file).resolve():
            return f"{fr.filename}:{fr.lineno}"
    return case.where


def run_cell(case: Case, transform: str, backend: str, dtype: str) -> CellResult:
    """One cell, its value as NumPy, or how it failed (an error located in the case file)."""
    import unigrad

    t0 = time.perf_counter()
    try:
        value = unigrad.to_numpy(compute(case, transform, backend, dtype))
    except UnsupportedError as exc:
        return CellResult(Outcome.UNSUPPORTED, error=str(exc), time=time.perf_counter() - t0)
    except Exception as exc:  # a case that raises is reported, located, and the run goes on
        return CellResult(
            Outcome.ERROR,
            error=f"{type(exc).__name__}: {exc}",
            where=_located(exc, case),
            time=time.perf_counter() - t0,
        )
    return CellResult(Outcome.OK, value=value, time=time.perf_counter() - t0)


def run_native(case: Case, backend: str) -> CellResult:
    """The framework's own op, differentiated with its own idiom, in float64."""
    from unigrad.compare.native import native_grad

    t0 = time.perf_counter()
    try:
        value = native_grad(backend, case.native[backend], case.make_inputs("float64"))
    except Exception as exc:  # the finding is what the framework does, errors included
        return CellResult(
            Outcome.ERROR, error=f"{type(exc).__name__}: {exc}", time=time.perf_counter() - t0
        )
    return CellResult(Outcome.OK, value=value, time=time.perf_counter() - t0)


def run_case(payload: dict) -> dict:
    """Worker entry point: every (dtype, transform) cell of one case on one backend.

    ``payload``: ``file``, ``id``, ``backend``, ``dtypes``, ``transforms``. Returns
    ``CaseResults`` as wire data.
    """
    case = find_case(payload["file"], payload["id"])
    backend = payload["backend"]
    cells = {
        (dtype, t): run_cell(case, t, backend, dtype)
        for dtype in payload["dtypes"]
        for t in payload["transforms"]
    }
    native = run_native(case, backend) if backend in case.native else None
    return CaseResults(cells, native).to_wire()

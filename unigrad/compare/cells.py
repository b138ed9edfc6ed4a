"""Running one case's cells on one backend: in a worker (``run_case``) or in this process.

A worker runs ``run_case`` when ``unigrad compare`` sends it ``invoke
unigrad.compare.cells:run_case``; the reference's worker (``reference.reference_case``) and the
repro scripts call ``run_cell`` and ``compute`` directly.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api.dispatch import apply
from unigrad.compare.case import Case, directions, read_file
from unigrad.compare.records import CaseResults, CellResult, Outcome, error_text
from unigrad.errors import UnsupportedError

_loaded: dict[str, dict[str, Case]] = {}


def find_case(path: str, case_id: str) -> Case:
    """The case ``case_id`` of the case file at ``path`` (each file is loaded once; of two
    cases with one id, the first, as ``unigrad compare`` runs it). The ops suite's cases are
    found by their id in the per-op table."""
    from unigrad.compare import opcases

    if path == opcases.SUITE:
        return opcases.find(case_id)
    if path not in _loaded:
        cases: dict[str, Case] = {}
        for c in read_file(path)[0]:
            cases.setdefault(c.id, c)
        _loaded[path] = cases
    return _loaded[path][case_id]


def differentiated(case: Case, args: list[Any]) -> list[Any]:
    """The case's differentiated arguments (those in its ``argnums``), in order."""
    nums = [case.argnums] if isinstance(case.argnums, int) else list(case.argnums)
    return [args[i] for i in nums]


def compute(
    case: Case, transform: str, backend: str, dtype: str, args: list[Any] | None = None
) -> Any:
    """The result of ``transform`` of the case's function on ``backend`` in ``dtype``, at the
    case's inputs (or at ``args``, the same inputs as a compiler's traced arrays).

    vjp, jvp and hvp use the case's fixed random cotangents or tangents; for vjp and jvp the
    result is the derivative part (the cotangent or tangent out), not the value.
    """
    from unigrad.api.array import unwrap
    from unigrad.compare.opcases import OpCase

    if isinstance(case, OpCase):
        return case.compute(transform, backend, dtype)
    if args is None:
        args = case.make_inputs(dtype)
    tangents = cotangents = None
    if transform in ("jvp", "hvp"):
        primals = differentiated(case, args)
        ts = directions(case, [np.shape(v) for v in pytree.tree_leaves(primals)], transform, dtype)
        tangents = pytree.tree_unflatten(pytree.tree_flatten(primals)[1], ts)
    elif transform == "vjp":

        def cotangents(out: Any) -> Any:
            leaves, tdef = pytree.tree_flatten(unwrap(out))  # by shape: it may be traced
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


def not_numbers(value: Any) -> str | None:
    """What is wrong with a result that is not (a pytree of) arrays of numbers, if anything."""
    leaves = pytree.tree_leaves(value)
    if not leaves:  # None (an empty pytree), or empty containers: nothing to compare
        shown = "None" if value is None else f"{type(value).__name__} {value!r:.60}"
        return f"the function returned {shown}, not numbers"
    for leaf in leaves:
        if isinstance(leaf, bool | int | float):
            continue
        if isinstance(leaf, np.ndarray | np.generic) and leaf.dtype.kind in "biufc":
            continue
        shown = leaf.tolist() if isinstance(leaf, np.ndarray | np.generic) else leaf
        return f"the function returned {type(shown).__name__} {shown!r:.60}, not numbers"
    return None


def together(
    case: Case, backend: str, dtypes: list[str], transforms: list[str]
) -> dict[tuple[str, str], Any]:
    """Every cell of ``case`` as one compiled program, where the backend compiles one-off work
    (``Backend.compile_one_off``, see ``unigrad.compare.together``): ``{(transform, dtype):
    value as NumPy}``; ``{}`` where it does not, or where the program as a whole fails.

    The case's float arrays are the program's inputs, as ``unigrad.Array``s where the backend
    wraps them (as its transforms hand them to the function); other inputs stay constants.
    """
    import unigrad
    from unigrad.api.array import wrap
    from unigrad.compare import together as joint

    impl = unigrad.get_backend(backend).impl

    def build() -> list[Any]:
        inputs, cells = [], {}
        for d in dtypes:
            values, tdef = pytree.tree_flatten(case.make_inputs(d))
            slots = [i for i, v in enumerate(values) if _float_array(v)]
            start = len(inputs)
            inputs += [values[i] for i in slots]
            for t in transforms:
                cells[(t, d)] = traced_cell(t, d, values, tdef, slots, start)
        return [joint.Part(inputs, cells)]

    def traced_cell(t: str, d: str, values: list, tdef: Any, slots: list, start: int) -> Any:
        def cell(leaves: list[Any]) -> Any:
            mine = list(values)
            for n, i in enumerate(slots):
                x = leaves[start + n]
                mine[i] = wrap(x, impl) if impl.wraps_arrays else x
            return compute(case, t, backend, d, pytree.tree_unflatten(tdef, mine))

        return cell

    got = joint.run(backend, build)
    return got[0] if got else {}


def _float_array(v: Any) -> bool:
    return isinstance(v, np.ndarray | np.generic) and v.dtype.kind == "f"


_NOT_READY = object()


def run_cell(
    case: Case, transform: str, backend: str, dtype: str, ready: Any = _NOT_READY
) -> CellResult:
    """One cell, its value as NumPy, or how it failed (an error located in the case file).
    ``ready``: its value, computed already (by ``together``).

    ``sys.exit`` in a case is an error of its cell like any exception; only the worker's own
    death (a crash) or a hang costs more than the cell.
    """
    import unigrad

    t0 = time.perf_counter()
    try:
        if ready is not _NOT_READY:
            value = ready
        else:
            try:
                with unigrad.get_backend(backend).impl.one_off():
                    value = unigrad.to_numpy(compute(case, transform, backend, dtype))
            except (UnsupportedError, SystemExit):
                raise
            except Exception:  # one_off only saves time: a cell that fails under it runs again
                value = unigrad.to_numpy(compute(case, transform, backend, dtype))
    except UnsupportedError as exc:
        return CellResult(Outcome.UNSUPPORTED, error=str(exc), time=time.perf_counter() - t0)
    except (Exception, SystemExit) as exc:  # a case that raises is reported, located
        return CellResult(
            Outcome.ERROR,
            error=error_text(exc),
            where=_located(exc, case),
            time=time.perf_counter() - t0,
        )
    took = time.perf_counter() - t0
    wrong = not_numbers(value)
    if wrong:
        return CellResult(Outcome.ERROR, error=wrong, where=case.where, time=took)
    return CellResult(Outcome.OK, value=value, time=took)


def run_native(case: Case, backend: str) -> CellResult:
    """The framework's own op, differentiated with its own idiom, in float64."""
    from unigrad.compare.native import native_grad

    t0 = time.perf_counter()
    try:
        value = native_grad(backend, case.native[backend], case.make_inputs("float64"))
    except (Exception, SystemExit) as exc:  # the finding is what the framework does, errors too
        return CellResult(Outcome.ERROR, error=error_text(exc), time=time.perf_counter() - t0)
    return CellResult(Outcome.OK, value=value, time=time.perf_counter() - t0)


def run_case(payload: dict) -> dict:
    """Worker entry point: every (dtype, transform) cell of one case on one backend.

    ``payload``: ``file``, ``id``, ``backend``, ``dtypes``, ``transforms``, and ``ahead``
    (optional: the ops-suite cases to be asked for next, as ``[id, dtypes, transforms]``).
    Returns ``CaseResults`` as wire data.
    """
    case = find_case(payload["file"], payload["id"])
    backend = payload["backend"]
    dtypes, transforms = list(payload["dtypes"]), list(payload["transforms"])
    t0 = time.perf_counter()
    ready = case.prepare(backend, dtypes, transforms, payload.get("ahead", ()))
    share = (time.perf_counter() - t0) / max(1, len(dtypes) * len(transforms))
    cells = {}
    for dtype in dtypes:
        for t in transforms:
            cell = run_cell(case, t, backend, dtype, ready.get((t, dtype), _NOT_READY))
            cell.time = (cell.time or 0.0) + share  # the shared work, split evenly
            cells[(dtype, t)] = cell
    native = run_native(case, backend) if backend in case.native else None
    return CaseResults(cells, native).to_wire()

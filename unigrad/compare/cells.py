"""Running one case's transforms on one backend: in a worker, or in-process for the reference."""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.compare.case import Case, directions, load_file
from unigrad.errors import UnsupportedError

_loaded: dict[str, dict[str, Case]] = {}


def _case(path: str, case_id: str) -> Case:
    if path not in _loaded:
        _loaded[path] = {c.id: c for c in load_file(path)}
    return _loaded[path][case_id]


def _split(case: Case, args: list[Any], backend: str | None = None) -> tuple[list[int], Any]:
    nums = [case.argnums] if isinstance(case.argnums, int) else list(case.argnums)
    if backend is not None:  # the closed-over arguments become backend arrays, as in _Call
        import unigrad
        from unigrad.api.call import backend_constant

        impl = unigrad.get_backend(backend).impl
        args = [
            a if i in nums else pytree.tree_map(lambda v: backend_constant(impl, v), a)
            for i, a in enumerate(args)
        ]

    def partial(*d: Any) -> Any:
        full = list(args)
        for i, v in zip(nums, d):
            full[i] = v
        return case.function(*full)

    return nums, partial


def evaluate(f: Any, args: Sequence[Any], backend: str) -> Any:
    """``f(*args)`` on ``backend`` outside any transform, numeric inputs as backend arrays."""
    import unigrad

    impl = unigrad.get_backend(backend).impl

    def conv(v: Any) -> Any:
        if isinstance(v, float | np.ndarray | np.generic) and np.asarray(v).dtype.kind in "fiub":
            return impl.asarray(np.asarray(v))
        return v

    with unigrad.use_backend(backend), impl.evaluating():
        return f(*[pytree.tree_map(conv, a) for a in args])


def compute(case: Case, transform: str, backend: str, dtype: str) -> Any:
    """The result of ``transform`` of the case's function on ``backend`` in ``dtype``."""
    import unigrad

    args = case.make_inputs(dtype)
    f, nums = case.function, case.argnums
    if transform == "value":
        return evaluate(f, args, backend)
    if transform == "grad":
        return unigrad.grad(f, nums, backend=backend)(*args)
    if transform == "jacobian":
        return unigrad.jacobian(f, nums, backend=backend)(*args)
    if transform == "hessian":
        return unigrad.hessian(f, nums, backend=backend)(*args)
    idx, partial = _split(case, args, backend)
    primals = [args[i] for i in idx]
    if transform == "vjp":
        out, vjp_fn = unigrad.vjp(partial, *primals, backend=backend)
        leaves, tdef = pytree.tree_flatten(unigrad.to_numpy(out))
        cts = directions(case, [np.shape(v) for v in leaves], "vjp", dtype)
        return vjp_fn(pytree.tree_unflatten(tdef, cts))
    shapes = [np.shape(v) for v in pytree.tree_leaves(primals)]
    ts = directions(case, shapes, transform, dtype)
    tangents = pytree.tree_unflatten(pytree.tree_flatten(primals)[1], ts)
    if transform == "jvp":
        return unigrad.jvp(partial, primals, tangents, backend=backend)[1]
    if transform == "hvp":
        return unigrad.hvp(partial, primals, tangents, backend=backend)
    raise ValueError(f"unknown transform {transform!r}")


def _located(exc: BaseException, case: Case) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    for fr in reversed(frames):
        if Path(fr.filename).resolve() == Path(case.file).resolve():
            return f"{fr.filename}:{fr.lineno}"
    return case.where


def run_cell(case: Case, transform: str, backend: str, dtype: str) -> dict:
    """One cell: {'status': ok|unsupported|error, 'value'?, 'time', 'error'?, 'where'?}."""
    import unigrad

    t0 = time.perf_counter()
    try:
        value = unigrad.to_numpy(compute(case, transform, backend, dtype))
    except UnsupportedError as exc:
        return {"status": "unsupported", "error": str(exc), "time": time.perf_counter() - t0}
    except Exception as exc:  # a case that raises is reported, located, and the run goes on
        return {
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "where": _located(exc, case),
            "time": time.perf_counter() - t0,
        }
    return {"status": "ok", "value": value, "time": time.perf_counter() - t0}


def run_case(msg: dict) -> dict:
    """Worker request handler: every (dtype, transform) cell of one case on one backend."""
    case = _case(msg["file"], msg["id"])
    out = {}
    for dtype in msg["dtypes"]:
        for transform in msg["transforms"]:
            out[f"{dtype}/{transform}"] = run_cell(case, transform, msg["backend"], dtype)
    fn = case.native.get(msg["backend"])
    if fn is not None:
        out["native"] = run_native(case, msg["backend"], fn)
    return out


def run_native(case: Case, backend: str, fn: Any) -> dict:
    """The framework's own op, differentiated with its own idiom, in float64."""
    from unigrad.compare.native import native_grad

    t0 = time.perf_counter()
    try:
        value = native_grad(backend, fn, case.make_inputs("float64"))
    except Exception as exc:  # the finding is what the framework does, errors included
        return {
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "time": time.perf_counter() - t0,
        }
    return {"status": "ok", "value": value, "time": time.perf_counter() - t0}

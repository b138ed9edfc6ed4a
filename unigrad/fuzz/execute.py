"""Running programs on one backend, in its worker: ``run_shard`` is what a worker invokes.

For each program and dtype, each check is computed through the public API:

- ``value``: the program's output;
- ``grad``: the gradient of ``L = sum(out * W)`` (fixed random weights W), reverse mode;
- ``jvp``: ``J u`` (forward mode); ``vjp``: ``vᵀ J`` (reverse mode), for fixed random u, v;
- ``hvp``: the Hessian of L times u (second order);
- ``grad_fd`` (float64): the central difference of the backend's own gradient along u, which
  its ``hvp`` must match (first against second order inside one backend).

The reference (mode "reference", the numpy engine in float64) adds central finite differences
of L (``fd_grad``) and the rounding sensitivity of L and of its gradient (``sensitivity``: how
much a relative error of one unit in every intermediate value moves them, which the stability
filter compares with the disagreement). Native mode runs each framework's own ops,
differentiated with its own idiom (``native grad``: d sum(out) / d inputs).
"""

from __future__ import annotations

import time
import zlib
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.fuzz.program import Program, Ref, table_op

CHECKS = ("value", "grad", "jvp", "vjp", "hvp")
#: derivative order of each compared quantity
ORDER = {
    "value": 0,
    "grad": 1,
    "jvp": 1,
    "vjp": 1,
    "jvp/vjp": 1,
    "hvp": 2,
    "grad/hvp": 2,
    "native grad": 1,
}
FD_STEP = 1e-5  #: central differences step, relative to the input's magnitude


def _richardson(fd1: list[Any], fd2: list[Any], h: float) -> dict[str, Any]:
    """Central differences at steps h and h/2: the extrapolated estimate, and its error
    estimate (their difference plus the rounding of a difference quotient)."""
    eps = float(np.finfo(np.float64).eps)
    est = [(4 * b - a) / 3 for a, b in zip(fd1, fd2)]
    err = [np.abs(a - b) + eps * (np.abs(a) + 1.0) / h * 4 for a, b in zip(fd1, fd2)]
    return {"estimate": tuple(est), "error": tuple(err)}


def directions(program: Program, out_shape: tuple[int, ...]) -> dict[str, Any]:
    """The program's fixed random weights W, tangents u and cotangent v (float64)."""
    rng = np.random.default_rng(zlib.crc32(program.key.encode()))
    return {
        "W": rng.standard_normal(out_shape),
        "v": rng.standard_normal(out_shape),
        "u": [rng.standard_normal(i.shape) for i in program.inputs],
    }


def _ok(value: Any, took: float) -> dict:
    return {"ok": True, "value": value, "time": took}


def _failed(exc: BaseException, took: float) -> dict:
    from unigrad.errors import UnsupportedError

    outcome = "unsupported" if isinstance(exc, UnsupportedError) else "error"
    return {
        "ok": False,
        "outcome": outcome,
        "error": f"{type(exc).__name__}: {exc}"[:2000],
        "time": took,
    }


def _timed(fn: Any) -> dict:
    t0 = time.perf_counter()
    try:
        value = fn()
    except (Exception, SystemExit) as exc:  # a backend's failure is a result, never fatal
        return _failed(exc, time.perf_counter() - t0)
    return _ok(value, time.perf_counter() - t0)


def _np(tree: Any) -> Any:
    import unigrad

    return pytree.tree_map(lambda v: np.asarray(v), unigrad.to_numpy(tree))


def run_program(
    program: Program, backend: str, dtype: str, checks: tuple[str, ...]
) -> dict[str, dict]:
    """Every check of ``program`` on ``backend`` in ``dtype``."""
    import unigrad
    import unigrad.numpy as unp
    from unigrad.api.dispatch import apply

    f = program.function()
    xs = [np.asarray(i.value, dtype=dtype) for i in program.inputs]
    nums = tuple(range(len(xs)))
    fused = _fused(program, backend, dtype, checks, xs)
    if fused is not None:
        return fused
    out: dict[str, dict] = {}
    value = _timed(lambda: _np(apply("value", f, xs, backend=backend)))
    out["value"] = value
    if not value["ok"]:
        return out
    d = directions(program, np.shape(value["value"]))
    w = d["W"].astype(dtype)
    u = [t.astype(dtype) for t in d["u"]]

    def loss(*a: Any) -> Any:
        return unp.sum(f(*a) * w)

    if "grad" in checks:
        out["grad"] = _timed(lambda: _np(unigrad.grad(loss, nums, backend=backend)(*xs)))
    if "jvp" in checks:
        out["jvp"] = _timed(lambda: _np(unigrad.jvp(f, xs, u, backend=backend)[1]))
    if "vjp" in checks:

        def vjp() -> Any:
            _, fn = unigrad.vjp(f, *xs, backend=backend)
            return _np(fn(d["v"].astype(dtype)))

        out["vjp"] = _timed(vjp)
    if "hvp" in checks:
        out["hvp"] = _timed(lambda: _np(unigrad.hvp(loss, xs, u, backend=backend)))
        if dtype == "float64" and out["hvp"]["ok"]:
            g = unigrad.grad(loss, nums, backend=backend)

            def along(h: float) -> Any:
                hi = _np(g(*[x + h * t for x, t in zip(xs, u)]))
                lo = _np(g(*[x - h * t for x, t in zip(xs, u)]))
                return [(a - b) / (2 * h) for a, b in zip(hi, lo)]

            def grad_fd() -> Any:
                h = FD_STEP * max(1e-3, *(float(np.max(np.abs(x), initial=0)) for x in xs))
                return _richardson(along(h), along(h / 2), h)

            out["grad_fd"] = _timed(grad_fd)
    return out


def _fused(
    program: Program, backend: str, dtype: str, checks: tuple[str, ...], xs: list
) -> dict[str, dict] | None:
    """The value and every derivative check in one function compiled by the backend
    (jax.jit, tf.function), where the backend compiles: one compilation per program and dtype
    instead of one per transform, which is what a compiling framework's time goes to. None
    where the backend does not compile, or the fused function fails or gives a value of
    another shape than NumPy's (each check then runs alone, so that a failure is charged to
    the check that fails)."""
    import unigrad
    import unigrad.numpy as unp
    from unigrad import registry
    from unigrad.backends.base import Backend

    impl = registry.handle(backend).impl
    if type(impl).compile is Backend.compile:
        return None
    try:
        shape = np.shape(program.values()[program.output])
    except Exception:
        return None
    d = directions(program, shape)
    f = program.function()
    nums = tuple(range(len(xs)))
    w, v = impl.asarray(d["W"].astype(dtype)), impl.asarray(d["v"].astype(dtype))
    us = [impl.asarray(t.astype(dtype)) for t in d["u"]]
    scale = max(1e-3, *(float(np.max(np.abs(x), initial=0)) for x in xs))
    steps = (FD_STEP * scale, FD_STEP * scale / 2) if dtype == "float64" else ()

    def loss(*a: Any) -> Any:
        return unp.sum(f(*a) * w)

    def every(*a: Any) -> dict[str, Any]:
        res: dict[str, Any] = {"value": f(*a)}
        g = unigrad.grad(loss, nums, backend=backend)
        if "grad" in checks:
            res["grad"] = g(*a)
        if "jvp" in checks:
            res["jvp"] = unigrad.jvp(f, list(a), us, backend=backend)[1]
        if "vjp" in checks:
            res["vjp"] = unigrad.vjp(f, *a, backend=backend)[1](v)
        if "hvp" in checks:
            res["hvp"] = unigrad.hvp(loss, list(a), us, backend=backend)
            for k, h in enumerate(steps):
                hi = g(*[x + h * t for x, t in zip(a, us)])
                lo = g(*[x - h * t for x, t in zip(a, us)])
                res[f"fd{k}"] = tuple((p - q) / (2 * h) for p, q in zip(hi, lo))
        return res

    t0 = time.perf_counter()
    try:
        got = _np(impl.compile(every, ())(*[impl.asarray(x) for x in xs]))
    except Exception:
        return None
    if np.shape(got["value"]) != shape:  # a shape finding: the checks run alone to show it
        return None
    each = (time.perf_counter() - t0) / max(1, len(got))
    out = {
        k: _ok(tuple(v) if k in ("grad", "vjp", "hvp") else v, each)
        for k, v in got.items()
        if not k.startswith("fd")
    }
    if steps and "fd0" in got:
        out["grad_fd"] = _ok(_richardson(list(got["fd0"]), list(got["fd1"]), steps[0]), each)
    return out


# ------------------------------------------------------------------------ the reference
def _scaled(program: Program) -> Any:
    """The program with every float value multiplied by ``1 + delta_k`` (one delta per
    value): its derivative in the deltas at 0 is the output's rounding sensitivity."""

    def f(xs: list[Any], deltas: list[Any]) -> Any:
        env: list[Any] = [x * (1 + dk) for x, dk in zip(xs, deltas)]
        for k, node in enumerate(program.nodes):
            args = [env[a.index] if isinstance(a, Ref) else a for a in node.args]
            kwargs = {
                k2: env[v.index] if isinstance(v, Ref) else v for k2, v in node.kwargs.items()
            }
            v = table_op(node.op)(*args, **kwargs)
            v = v if node.pick is None else v[node.pick]
            dk = deltas[len(xs) + k]
            env.append(v if dk is None else v * (1 + dk))
        return env[program.output]

    return f


def sensitivity(program: Program, w: np.ndarray) -> dict[str, float]:
    """How much a relative error of one unit in every value moves L and rᵀ grad L."""
    import unigrad
    import unigrad.numpy as unp

    values = program.values()
    n_in = len(program.inputs)
    xs = [np.asarray(i.value, np.float64) for i in program.inputs]
    live = [k for k, v in enumerate(values) if np.asarray(v).dtype.kind == "f"]
    zeros = [np.zeros(np.shape(values[k])) for k in live]
    f = _scaled(program)
    r = [np.random.default_rng(len(xs) + k).standard_normal(x.shape) for k, x in enumerate(xs)]

    def full(ds: tuple) -> list[Any]:
        out: list[Any] = [None] * len(values)
        for k, dv in zip(live, ds):
            out[k] = dv
        return out

    def loss(*ds: Any) -> Any:
        return unp.sum(f(xs, full(ds)) * w)

    def projected_grad(*ds: Any) -> Any:
        def inner(*a: Any) -> Any:
            return unp.sum(f(list(a), full(ds)) * w)

        g = unigrad.grad(inner, tuple(range(n_in)), backend="numpy")(*xs)
        total = 0.0
        for gi, ri in zip(g, r):
            total = total + unp.sum(gi * ri)
        return total

    nums = tuple(range(len(zeros)))
    out = {}
    for name, fn in (("value", loss), ("grad", projected_grad)):
        try:
            g = unigrad.grad(fn, nums, backend="numpy")(*zeros)
            out[name] = float(sum(np.sum(np.abs(np.asarray(x))) for x in g))
        except Exception:
            out[name] = float("inf")
    finite = [np.abs(np.asarray(v, np.float64)) for v in values if np.asarray(v).dtype.kind == "f"]
    out["max_magnitude"] = float(max((np.max(a, initial=0) for a in finite), default=0.0))
    nonzero = [a[a > 0] for a in finite]
    out["min_magnitude"] = float(min((np.min(a) for a in nonzero if a.size), default=1.0))
    out["weights_for_grad"] = 0.0
    return out


def reference_program(program: Program, checks: tuple[str, ...]) -> dict[str, dict]:
    """The reference engine's checks in float64, finite differences and sensitivities."""
    import unigrad.numpy as unp

    out = run_program(program, "numpy", "float64", checks)
    if not out["value"]["ok"]:
        return out
    d = directions(program, np.shape(out["value"]["value"]))
    f = program.function()
    xs = [np.asarray(i.value, np.float64) for i in program.inputs]

    def loss(*a: Any) -> Any:
        return unp.sum(f(*a) * d["W"])

    def fd() -> Any:
        def grad_at(scale: float) -> list[np.ndarray]:
            parts = []
            for i, x in enumerate(xs):
                g = np.zeros_like(x)
                for idx in np.ndindex(*x.shape):
                    h = scale * max(abs(float(x[idx])), 1e-3)
                    e = np.zeros_like(x)
                    e[idx] = h
                    hi = [x + e if k == i else y for k, y in enumerate(xs)]
                    lo = [x - e if k == i else y for k, y in enumerate(xs)]
                    g[idx] = (float(loss(*hi)) - float(loss(*lo))) / (2 * h)
                parts.append(g)
            return parts

        return _richardson(grad_at(FD_STEP), grad_at(FD_STEP / 2), FD_STEP * 1e-3)

    if "grad" in checks:
        out["fd_grad"] = _timed(fd)
    out["sensitivity"] = _timed(lambda: sensitivity(program, d["W"]))
    return out


# ------------------------------------------------------------------------------ native
def run_native(program: Program, backend: str) -> dict[str, dict]:
    """d sum(out) / d inputs with the framework's own ops and its own idiom (float64)."""
    from unigrad import registry
    from unigrad.fuzz.native import resolver

    xs = [np.asarray(i.value, np.float64) for i in program.inputs]
    if backend == "numpy":  # unigrad's pinned meaning: the reference engine
        import unigrad
        import unigrad.numpy as unp

        f = program.function()
        nums = tuple(range(len(xs)))
        return {
            "native grad": _timed(
                lambda: list(
                    _np(unigrad.grad(lambda *a: unp.sum(f(*a)), nums, backend="numpy")(*xs))
                )
            )
        }
    impl = registry.handle(backend).impl
    f = program.function(resolver(backend))

    def grads() -> Any:
        got = impl.native_gradient(f, xs)
        return [None if g is None else np.asarray(g, np.float64) for g in got]

    return {"native grad": _timed(grads)}


def run_shard(payload: dict) -> list[dict]:
    """Worker entry point: ``payload`` holds ``backend``, ``programs`` (JSON data), ``dtypes``,
    ``checks`` and ``mode`` ("unigrad", "reference" or "native"). Returns one dict per program:
    ``{dtype: {check: result}}`` (native: ``{"float64": ...}``)."""
    mode = payload.get("mode", "unigrad")
    checks = tuple(payload.get("checks") or CHECKS)
    results = []
    with np.errstate(all="ignore"):  # nan and inf at edge points are results, not accidents
        for data in payload["programs"]:
            program = Program.from_json(data)
            if mode == "reference":
                results.append({"float64": reference_program(program, checks)})
            elif mode == "native":
                results.append({"float64": run_native(program, payload["backend"])})
            else:
                results.append(
                    {
                        dt: run_program(program, payload["backend"], dt, checks)
                        for dt in payload["dtypes"]
                    }
                )
    return results

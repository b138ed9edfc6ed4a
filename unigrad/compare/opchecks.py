"""The checks of the per-op suite, for one OpInfo sample on one backend in one dtype.

- ``value``: the op's value;
- ``grad``: the gradient of ``sum(op(x) * W)`` for fixed random weights ``W``;
- ``jvp_vjp``: ``vᵀ(J u)`` computed by a jvp and by a vjp (they must agree on the backend itself);
- ``hvp``: the Hessian-vector product of ``sum(op(x) * W)``.

Each returns NumPy arrays; the suite compares them with the reference engine in float64 (and
the reference with NumPy's value and central finite differences).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.compare.opinfo import OpInfo, Sample


def _rng(info: OpInfo, sample: Sample, salt: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, f"{info.name}/{sample.label}/{salt}")))


def _like(tree: Any, rng: np.random.Generator, dtype: str) -> Any:
    # by shape alone: the tree may hold a compiler's traced arrays (see ``together``)
    return pytree.tree_map(lambda v: rng.standard_normal(np.shape(v)).astype(dtype), tree)


def _diff(sample: Sample) -> list[Any]:
    return [sample.args[i] for i in sample.argnums]


def scalar_loss(info: OpInfo, sample: Sample, dtype: str) -> Callable[..., Any]:
    """``sum(op(x) * W)`` as a function of the differentiated arguments."""
    import unigrad
    import unigrad.numpy as unp

    op = info.op()
    out = unigrad.to_numpy(sample.call(op, *_diff(sample)))
    w = _like(out, _rng(info, sample, "W"), "float64")

    def loss(*diff: Any) -> Any:
        outs = pytree.tree_leaves(sample.call(op, *diff))
        terms = [unp.sum(o * wi.astype(dtype)) for o, wi in zip(outs, pytree.tree_leaves(w))]
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    return loss


def run(info: OpInfo, sample: Sample, check: str, backend: str, dtype: str) -> Any:
    """The result of ``check`` at ``sample`` on ``backend`` in ``dtype``, as NumPy."""
    import unigrad
    from unigrad.api.dispatch import apply

    s = sample.cast(dtype)
    diff = _diff(s)
    op = info.op()
    if check == "value":
        return unigrad.to_numpy(
            apply("value", lambda *a: op(*a, **s.kwargs), list(s.args), backend=backend)
        )
    if check == "grad":
        nums = tuple(range(len(diff)))
        return unigrad.to_numpy(
            unigrad.grad(scalar_loss(info, s, dtype), nums, backend=backend)(*diff)
        )
    if check == "jvp_vjp":
        return consistency(jvp(info, s, backend, dtype), vjp(info, s, backend, dtype))
    if check == "hvp":
        u = _like(diff, _rng(info, sample, "u"), dtype)
        return unigrad.to_numpy(unigrad.hvp(scalar_loss(info, s, dtype), diff, u, backend=backend))
    raise ValueError(f"unknown check {check!r}")


def tangent(info: OpInfo, sample: Sample, dtype: str) -> list[Any]:
    """The fixed random tangent ``u`` of ``sample`` (one entry per differentiated argument)."""
    return _like(_diff(sample), _rng(info, sample, "u"), dtype)


def cotangent(info: OpInfo, sample: Sample, out: Any, dtype: str) -> Any:
    """The fixed random cotangent ``v``, in the structure of the op's output ``out``."""
    v = _like(out, _rng(info, sample, "v"), dtype)
    return pytree.tree_unflatten(pytree.tree_flatten(out)[1], pytree.tree_leaves(v))


def jvp(info: OpInfo, sample: Sample, backend: str, dtype: str) -> tuple[Any, Any]:
    """``(u, J u)`` at ``sample`` (already in ``dtype``) on ``backend``, as NumPy."""
    import unigrad

    op = info.op()
    u = tangent(info, sample, dtype)
    _, tout = unigrad.jvp(lambda *d: sample.call(op, *d), _diff(sample), u, backend=backend)
    return u, unigrad.to_numpy(tout)


def vjp(info: OpInfo, sample: Sample, backend: str, dtype: str) -> tuple[Any, Any]:
    """``(v, vᵀ J)`` at ``sample`` (already in ``dtype``) on ``backend``, as NumPy."""
    import unigrad

    op = info.op()
    out, vjp_fn = unigrad.vjp(lambda *d: sample.call(op, *d), *_diff(sample), backend=backend)
    v = cotangent(info, sample, unigrad.to_numpy(out), dtype)
    return v, unigrad.to_numpy(vjp_fn(v))


def consistency(jvp_: tuple, vjp_: tuple) -> np.ndarray:
    """``[vᵀ(J u), (vᵀJ) u]`` from a jvp's and a vjp's results: equal where they are consistent."""
    (u, tout), (v, ct) = jvp_, vjp_
    forward = sum(
        float(np.vdot(a, b)) for a, b in zip(pytree.tree_leaves(tout), pytree.tree_leaves(v))
    )
    backward = sum(
        float(np.vdot(a, b)) for a, b in zip(pytree.tree_leaves(ct), pytree.tree_leaves(u))
    )
    return np.array([forward, backward])


def finite_differences(info: OpInfo, sample: Sample, check: str) -> Any:
    """What central finite differences (float64, of the reference engine) give for ``check``."""
    import unigrad
    from unigrad.testing import numerical_jacobian

    diff = _diff(sample)
    loss = scalar_loss(info, sample, "float64")
    if check == "grad":
        jac = numerical_jacobian(loss, *diff, backend="numpy")[0]
        return _split(jac, diff)
    if check == "hvp":
        u = _like(diff, _rng(info, sample, "u"), "float64")
        nums = tuple(range(len(diff)))

        def g(*d: Any) -> Any:
            return unigrad.grad(loss, nums, backend="numpy")(*d)

        jac = numerical_jacobian(g, *diff, backend="numpy")
        flat_u = np.concatenate([np.ravel(x) for x in pytree.tree_leaves(u)])
        return _split(jac @ flat_u, diff)
    if check in ("jvp", "vjp", "jvp_vjp"):
        op = info.op()
        out = unigrad.to_numpy(sample.call(op, *diff))
        jac = numerical_jacobian(lambda *d: sample.call(op, *d), *diff, backend="numpy")
        u = np.concatenate([np.ravel(x) for x in tangent(info, sample, "float64")])
        v = cotangent(info, sample, out, "float64")
        flat_v = np.concatenate([np.ravel(x) for x in pytree.tree_leaves(v)] or [np.zeros(0)])
        if check == "jvp":
            leaves, tdef = pytree.tree_flatten(out)
            return pytree.tree_unflatten(tdef, list(_split(jac @ u, leaves)))
        if check == "vjp":
            return _split(flat_v @ jac, diff)
        return np.array([flat_v @ jac @ u] * 2)
    raise ValueError(f"no finite-difference form for {check!r}")


def _split(flat: np.ndarray, like: list[Any]) -> Any:
    out, pos = [], 0
    for x in like:
        n = int(np.size(x))
        out.append(np.asarray(flat[pos : pos + n]).reshape(np.shape(x)))
        pos += n
    return tuple(out)


def part(info: OpInfo, sample: Sample, backend: str, dtypes: list[str], checks: list[str]) -> Any:
    """``sample``'s checks in every dtype as a part of one compiled program
    (``together.Part``), and the tangents and cotangents its jvp and vjp cells draw."""
    import unigrad
    from unigrad.api.array import unwrap
    from unigrad.api.dispatch import evaluate
    from unigrad.compare.together import Part

    op = info.op()
    casts = {d: sample.cast(d) for d in dtypes}
    second = "grad" in checks or "hvp" in checks
    losses = {d: scalar_loss(info, casts[d], d) for d in dtypes if second}
    side: dict[tuple[str, str], Any] = {}  # NumPy parts of a result, fixed while tracing
    starts, at = {}, 0
    for d in dtypes:
        starts[d], at = at, at + len(casts[d].argnums)

    def cell(check: str, d: str) -> Callable[[list[Any]], Any]:
        s = casts[d]

        def compute(leaves: list[Any]) -> Any:
            diff = leaves[starts[d] : starts[d] + len(s.argnums)]
            nums = tuple(range(len(diff)))
            if check == "value":
                args = list(s.args)
                for i, x in zip(s.argnums, diff):
                    args[i] = x
                return evaluate(lambda *a: op(*a, **s.kwargs), args, backend)
            if check == "grad":
                return unigrad.grad(losses[d], nums, backend=backend)(*diff)
            if check == "hvp":
                return unigrad.hvp(losses[d], diff, tangent(info, s, d), backend=backend)
            if check == "jvp":
                u = side[(check, d)] = tangent(info, s, d)
                return unigrad.jvp(lambda *x: s.call(op, *x), diff, u, backend=backend)[1]
            out, vjp_fn = unigrad.vjp(lambda *x: s.call(op, *x), *diff, backend=backend)
            v = side[(check, d)] = cotangent(info, s, unwrap(out), d)
            return vjp_fn(v)

        return compute

    cells = {(c, d): cell(c, d) for d in dtypes for c in checks}
    return Part([a for d in dtypes for a in _diff(casts[d])], cells), side


def together(
    info: OpInfo, sample: Sample, backend: str, dtypes: list[str], checks: list[str]
) -> dict[tuple[str, str], Any]:
    """Every check of ``sample`` in every dtype as one compiled program, where the backend
    compiles one-off work (``Backend.compile_one_off``); ``{}`` where it does not.

    Returns ``{(check, dtype): result}`` for ``value``, ``grad``, ``hvp`` (as ``run`` gives
    them), and ``jvp``/``vjp`` (as ``jvp``/``vjp`` give them). A check that fails while its
    program is traced is left out (it runs on its own, with its own error); if the program as a
    whole fails, nothing is returned.
    """
    return together_many([(info, sample, dtypes, checks)], backend)[0]


def together_many(
    items: list[tuple[OpInfo, Sample, list[str], list[str]]], backend: str
) -> list[dict[tuple[str, str], Any]]:
    """``together`` for several op samples in one program (fewer, larger compilations: each
    costs a fixed part as well). ``[{}, ...]`` where the backend does not compile one-off
    work, or the program fails (each sample may then run in a program of its own)."""
    from unigrad.compare import together as joint

    sides: list[dict] = []

    def build() -> list[Any]:
        parts = []
        for info, sample, dtypes, checks in items:
            try:
                p, side = part(info, sample, backend, dtypes, checks)
            except Exception:  # the op fails at its sample: its checks run alone, with its error
                p, side = None, {}
            parts.append(p)
            sides.append(side)
        return parts

    got = joint.run(backend, build)
    if got is None:
        return [{} for _ in items]
    return [
        {k: (side[k], v) if k in side else v for k, v in cells.items()}
        for cells, side in zip(got, sides)
    ]

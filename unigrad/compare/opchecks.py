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
    return pytree.tree_map(
        lambda v: rng.standard_normal(np.shape(v)).astype(dtype), pytree.tree_map(np.asarray, tree)
    )


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
        u = _like(diff, _rng(info, sample, "u"), dtype)
        out, tout = unigrad.jvp(lambda *d: s.call(op, *d), diff, u, backend=backend)
        v = _like(unigrad.to_numpy(out), _rng(info, sample, "v"), dtype)
        _, vjp_fn = unigrad.vjp(lambda *d: s.call(op, *d), *diff, backend=backend)
        ct = vjp_fn(
            pytree.tree_unflatten(
                pytree.tree_flatten(unigrad.to_numpy(out))[1], pytree.tree_leaves(v)
            )
        )
        forward = sum(
            float(np.vdot(a, b))
            for a, b in zip(pytree.tree_leaves(unigrad.to_numpy(tout)), pytree.tree_leaves(v))
        )
        backward = sum(
            float(np.vdot(a, b))
            for a, b in zip(pytree.tree_leaves(unigrad.to_numpy(ct)), pytree.tree_leaves(u))
        )
        return np.array([forward, backward])
    if check == "hvp":
        u = _like(diff, _rng(info, sample, "u"), dtype)
        return unigrad.to_numpy(unigrad.hvp(scalar_loss(info, s, dtype), diff, u, backend=backend))
    raise ValueError(f"unknown check {check!r}")


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
    raise ValueError(f"no finite-difference form for {check!r}")


def _split(flat: np.ndarray, like: list[Any]) -> Any:
    out, pos = [], 0
    for x in like:
        n = int(np.size(x))
        out.append(np.asarray(flat[pos : pos + n]).reshape(np.shape(x)))
        pos += n
    return tuple(out)

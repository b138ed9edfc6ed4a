"""One transform chosen by name: the single place where a transform's name becomes a call.

``apply("hessian", f, args, argnums, "torch")`` is ``unigrad.hessian(f, argnums,
backend="torch")(*args)``. ``unigrad compare``'s cells, the worker's ``call`` and
``unigrad.testing.assert_agree`` all go through it, so a name means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from unigrad import pytree

TRANSFORMS = ("value", "grad", "value_and_grad", "jacobian", "hessian", "vjp", "jvp", "hvp")


def evaluate(f: Callable, args: Sequence[Any], backend: Any = None) -> Any:
    """``f(*args)`` on ``backend`` outside any transform, numeric inputs as the backend's arrays
    (``unigrad.Array``s where the backend wraps them, as inside a transform); the result comes
    back as the framework's arrays."""
    from unigrad.api.array import unwrap, wrap
    from unigrad.api.switch import get_backend, use_backend

    handle = get_backend(backend)
    impl = handle.impl

    def conv(v: Any) -> Any:
        if isinstance(v, float | np.ndarray | np.generic) and np.asarray(v).dtype.kind in "fiub":
            v = impl.asarray(np.asarray(v))
            return wrap(v, impl) if impl.wraps_arrays else v
        return v

    with use_backend(handle), impl.evaluating():
        return unwrap(f(*[pytree.tree_map(conv, a) for a in args]))


def _positions(argnums: int | Sequence[int] | None, n_args: int) -> tuple[int, ...]:
    """The differentiated positions of a vjp, jvp or hvp (None: every argument)."""
    if argnums is None:
        return tuple(range(n_args))
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    bad = [i for i in nums if not -n_args <= i < n_args]
    if bad:
        raise ValueError(f"argnums {bad} out of range for {n_args} argument(s)")
    idx = tuple(i % n_args for i in nums)
    if len(set(idx)) < len(idx):
        raise ValueError(f"argnums {nums} names one argument twice; name each argument once")
    return idx


def closed_over(
    f: Callable, args: Sequence[Any], nums: Sequence[int], backend: Any = None
) -> Callable:
    """``f`` as a function of the arguments at positions ``nums`` only; the others are held
    fixed, as backend arrays (as the transforms convert non-differentiated arguments)."""
    from unigrad.api.array import wrap
    from unigrad.api.call import backend_constant
    from unigrad.api.switch import get_backend

    impl = get_backend(backend).impl

    def constant(v: Any) -> Any:
        v = backend_constant(impl, v)
        return wrap(v, impl) if impl.wraps_arrays else v

    fixed = [a if i in nums else pytree.tree_map(constant, a) for i, a in enumerate(args)]

    def partial(*d: Any) -> Any:
        full = list(fixed)
        for i, v in zip(nums, d):
            full[i] = v
        return f(*full)

    return partial


def apply(
    transform: str,
    f: Callable,
    args: Sequence[Any],
    argnums: int | Sequence[int] | None = None,
    backend: Any = None,
    *,
    tangents: Sequence[Any] | None = None,
    cotangents: Any = None,
    has_aux: bool = False,
    mode: str = "auto",
) -> Any:
    """Run ``transform`` of ``f`` at ``args`` on ``backend``; return what the unigrad API returns.

    - ``value``: ``f(*args)`` outside any transform (numeric inputs as backend arrays);
    - ``grad``, ``value_and_grad``, ``jacobian``, ``hessian``: with ``argnums`` (default 0),
      ``has_aux`` (grad, value_and_grad) and ``mode`` (jacobian);
    - ``vjp``: ``(out, vjp_fn(cotangents))``; ``cotangents`` may be a function of ``out``;
    - ``jvp``: ``(out, tangent_out)``; ``hvp``: one entry per differentiated argument. For these
      three, ``argnums`` defaults to every argument, the others are held constant, and
      ``tangents`` holds one entry per differentiated argument.
    """
    import unigrad

    args = list(args)
    nums = 0 if argnums is None else argnums
    if transform == "value":
        return evaluate(f, args, backend)
    if transform == "grad":
        return unigrad.grad(f, nums, has_aux, backend=backend)(*args)
    if transform == "value_and_grad":
        return unigrad.value_and_grad(f, nums, has_aux, backend=backend)(*args)
    if transform == "jacobian":
        return unigrad.jacobian(f, nums, has_aux, mode=mode, backend=backend)(*args)
    if transform == "hessian":
        return unigrad.hessian(f, nums, backend=backend)(*args)
    if transform not in ("vjp", "jvp", "hvp"):
        raise ValueError(f"unknown transform {transform!r}; use one of {', '.join(TRANSFORMS)}")
    idx = _positions(argnums, len(args))
    g = f if idx == tuple(range(len(args))) else closed_over(f, args, idx, backend)
    primals = [args[i] for i in idx]
    if transform == "vjp":
        if cotangents is None:
            raise ValueError("vjp needs cotangents (the structure and shapes of f's output)")
        out, vjp_fn = unigrad.vjp(g, *primals, backend=backend)
        return out, vjp_fn(cotangents(out) if callable(cotangents) else cotangents)
    if tangents is None:
        raise ValueError(f"{transform} needs tangents, one per differentiated argument")
    if transform == "jvp":
        return unigrad.jvp(g, primals, tangents, backend=backend)
    return unigrad.hvp(g, primals, tangents, backend=backend)

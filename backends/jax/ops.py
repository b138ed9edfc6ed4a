"""JAX's table of ops behind ``unigrad.numpy``, with the kink conventions pinned.

Natively JAX gives abs'(0) = 1, clip boundaries 0.5, norm'(0) = nan and (x**0)'(0) = nan; those
are pinned here with ``jax.custom_jvp`` or an exact composition. Ops run with 64-bit types on,
so float64 inputs stay float64.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from unigrad.backends.jax.backend import x64


def _x(fn: Any) -> Any:
    def op(*args: Any, **kwargs: Any) -> Any:
        if jax.config.jax_enable_x64:
            return fn(*args, **kwargs)
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    op.__name__ = getattr(fn, "__name__", "op")
    return op


def asarray(x: Any, dtype: Any = None) -> Any:
    """A jax array; Python floats become float64."""
    with x64():
        if isinstance(x, jax.Array):
            return x if dtype is None else x.astype(dtype)
        if isinstance(x, list | tuple) and any(isinstance(e, jax.Array) for e in x):
            return jnp.stack([asarray(e, dtype) for e in x])
        return jnp.asarray(np.asarray(x, dtype=dtype))


_SAME = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "negative",
    "square",
    "reciprocal",
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "maximum",
    "minimum",
    "sign",
    "floor",
    "ceil",
    "round",
    "reshape",
    "transpose",
    "swapaxes",
    "moveaxis",
    "expand_dims",
    "squeeze",
    "ravel",
    "broadcast_to",
    "matmul",
    "dot",
    "outer",
    "inner",
    "einsum",
    "trace",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "equal",
    "not_equal",
    "isfinite",
    "isnan",
    "isinf",
    "zeros_like",
    "ones_like",
]
for _n in _SAME:
    globals()[_n] = _x(getattr(jnp, _n))

sign = _x(lambda x: jax.lax.stop_gradient(jnp.sign(x)))
floor = _x(lambda x: jax.lax.stop_gradient(jnp.floor(x)))
ceil = _x(lambda x: jax.lax.stop_gradient(jnp.ceil(x)))
round = _x(lambda x: jax.lax.stop_gradient(jnp.round(x)))


def zeros(shape: Any, dtype: Any = float) -> Any:
    with x64():
        return jnp.zeros(shape, dtype=dtype)


def ones(shape: Any, dtype: Any = float) -> Any:
    with x64():
        return jnp.ones(shape, dtype=dtype)


def arange(*args: Any, dtype: Any = None) -> Any:
    return asarray(np.arange(*args, dtype=dtype))


def eye(n: int, m: int | None = None, dtype: Any = float) -> Any:
    with x64():
        return jnp.eye(n, m, dtype=dtype)


def astype(x: Any, dtype: Any) -> Any:
    return asarray(x).astype(dtype)


@jax.custom_jvp
def _abs(x: Any) -> Any:
    return jnp.abs(x)


@_abs.defjvp
def _abs_jvp(primals: tuple, tangents: tuple) -> tuple:
    (x,), (t,) = primals, tangents
    return jnp.abs(x), t * jax.lax.stop_gradient(jnp.sign(x))  # abs'(0) = 0


abs = _x(_abs)
absolute = abs


def power(x: Any, y: Any) -> Any:
    """x ** y; x ** 0 for a constant 0 is the constant 1 (derivative 0, also at x = 0)."""
    if isinstance(y, int | float) and y == 0:
        return _x(jnp.ones_like)(x)
    return _x(jnp.power)(x, y)


sigmoid = _x(jax.nn.sigmoid)
softplus = _x(jax.nn.softplus)
relu = _x(jax.nn.relu)  # relu'(0) = 0 in JAX


def clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    """Derivative 1 on the closed interval [lo, hi] (jnp.clip gives 0.5 at the bounds)."""
    with x64():
        x = jnp.asarray(x)
        inside = jnp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        return jnp.where(inside, x, jax.lax.stop_gradient(jnp.clip(x, lo, hi)))


def where(cond: Any, x: Any, y: Any) -> Any:
    with x64():
        return jnp.where(jnp.asarray(cond, dtype=bool), x, y)


def _ax(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _x(jnp.sum)(x, axis=_ax(axis), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _x(jnp.mean)(x, axis=_ax(axis), keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _x(jnp.prod)(x, axis=_ax(axis), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _x(jnp.max)(x, axis=_ax(axis), keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _x(jnp.min)(x, axis=_ax(axis), keepdims=keepdims)


amax, amin = max, min


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return _x(jnp.var)(x, axis=_ax(axis), ddof=ddof, keepdims=keepdims)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return _x(jnp.std)(x, axis=_ax(axis), ddof=ddof, keepdims=keepdims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _x(jax.nn.logsumexp)(x, axis=_ax(axis), keepdims=keepdims)


def stack(xs: Any, axis: int = 0) -> Any:
    return _x(jnp.stack)(list(xs), axis=axis)


def concatenate(xs: Any, axis: int = 0) -> Any:
    return _x(jnp.concatenate)(list(xs), axis=axis)


def diagonal(x: Any) -> Any:
    return _x(jnp.diagonal)(x, axis1=-2, axis2=-1)


def stop_gradient(x: Any) -> Any:
    return jax.lax.stop_gradient(x)


def _norm2(x: Any, axis: Any, keepdims: bool) -> Any:
    # The double-where pattern: the sqrt branch never sees 0, so its derivative stays finite.
    s = jnp.sum(x * x, axis=axis, keepdims=keepdims)
    zero = s == 0
    return jnp.where(zero, 0.0, jnp.sqrt(jnp.where(zero, 1.0, s))).astype(s.dtype)


class linalg:
    """``unigrad.numpy.linalg`` on JAX; the 2-norm has derivative 0 at 0."""

    @staticmethod
    def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
        with x64():
            x = jnp.asarray(x)
            matrix = (axis is None and x.ndim == 2 and ord is not None) or (
                isinstance(axis, tuple) and len(axis) == 2
            )
            if ord in (None, "fro") or (ord == 2 and not matrix):
                return _norm2(x, _ax(axis), keepdims)
            if matrix:
                from unigrad.errors import UnsupportedError

                raise UnsupportedError(
                    "jax", f"linalg.norm(ord={ord!r}) of a matrix", "use ord=None or 'fro'"
                )
            if ord == 1:
                return jnp.sum(_abs(x), axis=_ax(axis), keepdims=keepdims)
            if ord == np.inf:
                return jnp.max(_abs(x), axis=_ax(axis), keepdims=keepdims)
            if ord == -np.inf:
                return jnp.min(_abs(x), axis=_ax(axis), keepdims=keepdims)
            if ord == 0:
                return jax.lax.stop_gradient(
                    jnp.sum(x != 0, axis=_ax(axis), keepdims=keepdims).astype(x.dtype)
                )
            p = float(ord)
            return jnp.sum(_abs(x) ** p, axis=_ax(axis), keepdims=keepdims) ** (1.0 / p)

    det = staticmethod(_x(jnp.linalg.det))
    inv = staticmethod(_x(jnp.linalg.inv))
    solve = staticmethod(_x(jnp.linalg.solve))

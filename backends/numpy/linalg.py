"""``unigrad.numpy.linalg`` on the engine: inv, det, solve and norm, with their derivatives.

The 2-norm has derivative 0 at 0 (the pinned convention); other orders are built from abs,
power and the reductions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends.numpy.axes import batched_axes, kept_shape, normalize_axes
from unigrad.backends.numpy.contractions import matmul, matrix_transpose
from unigrad.backends.numpy.elementwise import abs, divide, multiply, negative, power, where
from unigrad.backends.numpy.reductions import max as amax
from unigrad.backends.numpy.reductions import min as amin
from unigrad.backends.numpy.structural import (
    expand_dims,
    reshape,
    sum,
    transpose,
    unbroadcast,
)
from unigrad.backends.numpy.tracer import Primitive, primal

from unigrad.errors import UnsupportedError

inv = Primitive("inv", np.linalg.inv)
inv.defvjp(
    lambda g, ans, x: negative(matmul(matmul(matrix_transpose(ans), g), matrix_transpose(ans)))
)
inv.defjvp(lambda t, ans, x: negative(matmul(matmul(ans, t), ans)))

det = Primitive("det", np.linalg.det)
det.defvjp(
    lambda g, ans, x: multiply(
        expand_dims(expand_dims(multiply(g, ans), -1), -1), matrix_transpose(inv(x))
    )
)
det.defjvp(lambda t, ans, x: multiply(ans, sum(multiply(matrix_transpose(inv(x)), t), (-2, -1))))


def _solve_impl(a: Any, b: Any) -> Any:
    return np.linalg.solve(a, b)


solve = Primitive("solve", _solve_impl)


def _solve_batched(a: Any, rhs: Any, vector: bool) -> Any:
    """Solve with a batched right-hand side (leading batch axis)."""
    if vector:  # rhs (batch, n): solve once for the n x batch matrix of right-hand sides
        return transpose(solve(a, transpose(rhs)))
    return solve(a, rhs)


def _solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = solve(matrix_transpose(a), g)
    if np.ndim(b) == 1:
        ga = multiply(expand_dims(gb, -1), expand_dims(ans, -2))
    else:
        ga = matmul(gb, matrix_transpose(ans))
    return unbroadcast(negative(ga), np.shape(a))


def _solve_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(solve(matrix_transpose(a), g), np.shape(b))


def _solve_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    vector = np.ndim(b) == 1
    rhs = matmul(t, ans)
    return negative(_solve_batched(a, rhs, vector))


def _solve_jvp_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return _solve_batched(a, t, np.ndim(b) == 1)


solve.defvjp(_solve_vjp_a, _solve_vjp_b)
solve.defjvp(_solve_jvp_a, _solve_jvp_b)


def _norm2_impl(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


norm2 = Primitive("norm2", _norm2_impl)


def _norm2_dir(x: Any, ans: Any, axis: Any, keepdims: bool) -> Any:
    """x / ||x||, with 0 where the norm is 0 (the pinned derivative of the 2-norm at 0), and a
    constant there, so that the second derivative at 0 is 0 too, as on every other backend."""
    nd = np.ndim(x)
    axes = normalize_axes(axis, nd)
    shape = tuple(1 if i in axes else n for i, n in enumerate(np.shape(x)))
    n = ans if keepdims else reshape(ans, shape)
    dt = np.result_type(primal(x))
    zero = primal(n) == 0
    safe = where(zero, np.ones((), dtype=dt), n)
    return where(zero, np.zeros((), dtype=dt), divide(x, safe))


norm2.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: multiply(
        g if keepdims else reshape(g, kept_shape(x, axis)), _norm2_dir(x, ans, axis, keepdims)
    )
)
norm2.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(
        multiply(t, _norm2_dir(x, ans, axis, keepdims)), batched_axes(axis, np.ndim(x)), keepdims
    )
)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector p-norms and the Frobenius norm; the 2-norm has derivative 0 at 0."""
    nd = np.ndim(x)
    matrix = (axis is None and nd == 2 and ord is not None) or (
        isinstance(axis, tuple) and len(axis) == 2
    )
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        if ord == "fro" and not matrix and nd != 2:
            raise ValueError("ord='fro' is a matrix norm: give a 2-D array or a 2-tuple axis")
        return norm2(x, axis=axis, keepdims=keepdims)
    if matrix:
        raise UnsupportedError(
            "numpy", f"linalg.norm(ord={ord!r}) of a matrix", "use ord=None or 'fro'"
        )
    if ord == 1:
        return sum(abs(x), axis, keepdims=keepdims)
    if ord == np.inf:
        return amax(abs(x), axis, keepdims=keepdims)
    if ord == -np.inf:
        return amin(abs(x), axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(primal(x) != 0, axis=axis, keepdims=keepdims).astype(
            np.result_type(primal(x))
        )
    p = float(ord)
    return power(sum(power(abs(x), p), axis, keepdims=keepdims), 1.0 / p)

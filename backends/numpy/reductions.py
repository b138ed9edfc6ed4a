"""Reductions other than sum (mean, max/min, prod, var/std, logsumexp) and their derivatives.

Tied extremes share the derivative evenly; prod's derivative is exact with zeros (no
division); std's derivative is 0 where the variance is 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends.numpy.axes import batched_axes, kept_shape, normalize_axes
from unigrad.backends.numpy.elementwise import (
    add,
    divide,
    exp,
    log,
    multiply,
    sqrt,
    subtract,
    where,
)
from unigrad.backends.numpy.structural import (
    expand_dims,
    expand_reduced,
    reshape,
    sum,
    transpose,
)
from unigrad.backends.numpy.tracer import Primitive, primal


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Arithmetic mean over ``axis``."""
    shape = np.shape(x)
    n = int(np.prod([shape[a] for a in normalize_axes(axis, len(shape))], dtype=int))
    return divide(sum(x, axis, keepdims=keepdims), n)


def _extreme_weights(x: Any, ans: Any, axis: Any, keepdims: bool) -> np.ndarray:
    """Tied extremes share the derivative evenly: weights 1/count on each tied element."""
    xv = primal(x)
    a = primal(ans)
    a = a if keepdims else np.reshape(a, kept_shape(xv, axis))
    hit = xv == a
    count = np.sum(hit, axis=normalize_axes(axis, np.ndim(xv)), keepdims=True)
    return (hit / count).astype(np.result_type(xv))


def _extreme(name: str, fn: Any) -> Primitive:
    p = Primitive(name, lambda x, axis=None, keepdims=False: fn(x, axis=axis, keepdims=keepdims))
    p.defvjp(
        lambda g, ans, x, axis=None, keepdims=False: multiply(
            expand_reduced(g, x, axis, keepdims), _extreme_weights(x, ans, axis, keepdims)
        )
    )
    p.defjvp(
        lambda t, ans, x, axis=None, keepdims=False: sum(
            multiply(t, _extreme_weights(x, ans, axis, keepdims)),
            batched_axes(axis, np.ndim(x)),
            keepdims=keepdims,
        )
    )
    return p


max = _extreme("max", np.max)
min = _extreme("min", np.min)


def _prod_others_impl(x: Any) -> Any:
    """Product of all other elements along the last axis, exact with zeros (no division)."""
    x = np.asarray(x)
    ones = np.ones((*x.shape[:-1], 1), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


prod_others = Primitive("prod_others", _prod_others_impl)


def _prod_others_jac(x: Any) -> Any:
    """J[..., i, j] = d prod_others(x)[..., i] / d x[..., j], built from prod_others again.

    With M[..., i, j] = x[..., j] off the diagonal and 1 on it, prod_others(x)[i] is the
    product of row i of M, so its derivative is prod_others of that row, and 0 for j == i.
    """
    n = np.shape(x)[-1]
    eye = np.eye(n, dtype=bool)
    dt = np.result_type(primal(x))
    m = where(eye, np.ones((), dtype=dt), expand_dims(x, -2))
    return where(eye, np.zeros((), dtype=dt), prod_others(m))


prod_others.defvjp(lambda g, ans, x: sum(multiply(expand_dims(g, -1), _prod_others_jac(x)), -2))
prod_others.defjvp(lambda t, ans, x: sum(multiply(expand_dims(t, -2), _prod_others_jac(x)), -1))


def _prod_factor(x: Any, axis: Any) -> Any:
    """d prod(x, axis) / dx: the product of the other elements of each reduced group."""
    nd = np.ndim(x)
    axes = normalize_axes(axis, nd)
    keep = [i for i in range(nd) if i not in axes]
    perm = (*keep, *axes)
    xt = transpose(x, perm) if perm != tuple(range(nd)) else x
    kept = tuple(np.shape(x)[i] for i in keep)
    po = prod_others(reshape(xt, (*kept, -1)))
    back = reshape(po, np.shape(xt))
    return transpose(back, tuple(np.argsort(perm))) if perm != tuple(range(nd)) else back


def _prod_impl(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.prod(x, axis=axis, keepdims=keepdims)


prod = Primitive("prod", _prod_impl)
prod.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: multiply(
        expand_reduced(g, x, axis, keepdims), _prod_factor(x, axis)
    )
)
prod.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(
        multiply(t, _prod_factor(x, axis)), batched_axes(axis, np.ndim(x)), keepdims=keepdims
    )
)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom."""
    shape = np.shape(x)
    n = int(np.prod([shape[a] for a in normalize_axes(axis, len(shape))], dtype=int))
    d = subtract(x, mean(x, axis, keepdims=True))
    return divide(sum(multiply(d, d), axis, keepdims=keepdims), n - ddof)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Standard deviation over ``axis``, with derivative 0 where the variance is 0.

    sqrt has no derivative at 0, and a group of equal values (one element, or a length-1
    axis) has variance 0 wherever it is moved together. The pinned convention is that std's
    derivative is 0 there, at every order: the zero-variance groups take a constant branch.
    """
    v = var(x, axis, ddof=ddof, keepdims=keepdims)
    zero = primal(v) == 0
    if not np.any(zero):
        return sqrt(v)
    one = np.ones((), dtype=np.result_type(primal(v)))
    return where(zero, np.zeros((), dtype=one.dtype), sqrt(where(zero, one, v)))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) over ``axis``, computed stably; its derivative is the softmax."""
    m = np.max(primal(x), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(np.result_type(primal(x)))
    s = log(sum(exp(subtract(x, m)), axis, keepdims=True))
    out = add(s, m)
    if keepdims:
        return out
    axes = normalize_axes(axis, np.ndim(x))
    return reshape(out, tuple(n for i, n in enumerate(np.shape(x)) if i not in axes))

"""Shape, indexing and reduction primitives with their derivatives.

These are linear (or piecewise linear) in their array argument, so a jvp rule applies the same
op to the batched tangent with its axes shifted past the batch axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends.numpy.elementwise import divide, multiply
from unigrad.backends.numpy.tracer import Primitive, primal

_AxisError = getattr(getattr(np, "exceptions", np), "AxisError", None) or np.AxisError


def _norm_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise _AxisError(a, ndim)
        out.append(a % ndim)
    return tuple(out)


def _shift(axis: Any, ndim: int) -> tuple[int, ...]:
    """Axes of a batched tangent that correspond to ``axis`` of the unbatched value."""
    return tuple(a + 1 for a in _norm_axes(axis, ndim))


# ------------------------------------------------------------------------------- reshaping

reshape = Primitive("reshape", lambda x, shape: np.reshape(x, shape))
reshape.defvjp(lambda g, ans, x, shape: reshape(g, np.shape(x)))
reshape.defjvp(lambda t, ans, x, shape: reshape(t, (np.shape(t)[0], *np.shape(ans))))


def _transpose_impl(x: Any, axes: Any = None) -> Any:
    return np.transpose(x, axes)


transpose = Primitive("transpose", _transpose_impl)


def _full_axes(x: Any, axes: Any) -> tuple[int, ...]:
    nd = np.ndim(x)
    return tuple(range(nd - 1, -1, -1)) if axes is None else tuple(a % nd for a in axes)


transpose.defvjp(lambda g, ans, x, axes=None: transpose(g, tuple(np.argsort(_full_axes(x, axes)))))
transpose.defjvp(
    lambda t, ans, x, axes=None: transpose(t, (0, *(a + 1 for a in _full_axes(x, axes))))
)


def expand_batched(t: Any, ndim: int) -> Any:
    """Give a batched tangent rank ``1 + ndim`` by adding unit axes just after the batch axis."""
    shape = np.shape(t)
    missing = ndim + 1 - len(shape)
    if missing <= 0:
        return t
    return reshape(t, (shape[0], *([1] * missing), *shape[1:]))


broadcast_to = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape))


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting a ``shape`` array."""
    gshape = np.shape(g)
    if gshape == tuple(shape):
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    return reshape(sum(g, axes), shape) if axes else reshape(g, shape)


broadcast_to.defvjp(lambda g, ans, x, shape: unbroadcast(g, np.shape(x)))
broadcast_to.defjvp(
    lambda t, ans, x, shape: broadcast_to(
        expand_batched(t, len(shape)), (np.shape(t)[0], *tuple(shape))
    )
)


# -------------------------------------------------------------------------------- indexing


def _has_advanced(idx: tuple) -> bool:
    return any(isinstance(i, np.ndarray | list) for i in idx)


def _as_tuple(idx: Any) -> tuple:
    return idx if isinstance(idx, tuple) else (idx,)


def _getitem_impl(x: Any, idx: Any) -> Any:
    return x[idx]


getitem = Primitive("getitem", _getitem_impl)


def _scatter_impl(g: Any, idx: Any, shape: tuple[int, ...]) -> Any:
    out = np.zeros(shape, dtype=np.result_type(g))
    if _has_advanced(_as_tuple(idx)):
        np.add.at(out, idx, g)  # repeated integer indices accumulate
    else:
        out[idx] = g
    return out


scatter_add = Primitive("scatter_add", _scatter_impl)


def _batched_index(idx: Any) -> tuple:
    idx = _as_tuple(idx)
    adv = [i for i, k in enumerate(idx) if isinstance(k, np.ndarray | list)]
    if adv and adv[-1] - adv[0] + 1 != len(adv):
        raise NotImplementedError(
            "forward-mode derivatives of indexing with separated advanced indices "
            "(x[a, :, b]) are not supported by the numpy engine; index in two steps"
        )
    return (slice(None), *idx)


getitem.defvjp(lambda g, ans, x, idx: scatter_add(g, idx, np.shape(x)))
getitem.defjvp(lambda t, ans, x, idx: getitem(t, _batched_index(idx)))
scatter_add.defvjp(lambda g, ans, x, idx, shape: getitem(g, idx))
scatter_add.defjvp(
    lambda t, ans, x, idx, shape: scatter_add(t, _batched_index(idx), (np.shape(t)[0], *shape))
)


def _concat_impl(*xs: Any, axis: int = 0) -> Any:
    return np.concatenate(xs, axis=axis)


concatenate_p = Primitive("concatenate", _concat_impl)


def _concat_vjp(i: int) -> Any:
    def rule(g: Any, ans: Any, *xs: Any, axis: int = 0) -> Any:
        ax = axis % np.ndim(ans)
        start = int(np.sum([np.shape(x)[ax] for x in xs[:i]], dtype=int))
        sl = [slice(None)] * np.ndim(ans)
        sl[ax] = slice(start, start + np.shape(xs[i])[ax])
        return getitem(g, tuple(sl))

    return rule


def _concat_jvp_all(tans: list, ans: Any, *xs: Any, axis: int = 0) -> Any:
    batch = next(np.shape(t)[0] for t in tans if t is not None)
    dt = np.result_type(primal(ans))
    parts = [
        t if t is not None else np.zeros((batch, *np.shape(x)), dtype=dt) for t, x in zip(tans, xs)
    ]
    return concatenate_p(*parts, axis=axis % np.ndim(ans) + 1)


class _ConcatRules(dict):
    """Rules for every argument position of a variadic primitive."""

    def get(self, i: int, default: Any = None) -> Any:
        return _concat_vjp(i)


concatenate_p.vjps = _ConcatRules()
concatenate_p.jvp_all = _concat_jvp_all


def concatenate(xs: Any, axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    return concatenate_p(*xs, axis=axis)


def expand_dims(x: Any, axis: int) -> Any:
    """Insert a unit axis at ``axis``."""
    shape = list(np.shape(x))
    ax = axis % (len(shape) + 1)
    shape.insert(ax, 1)
    return reshape(x, tuple(shape))


def stack(xs: Any, axis: int = 0) -> Any:
    """Join arrays along a new axis."""
    xs = list(xs)
    if not xs:
        raise ValueError("stack needs at least one array")
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


# ------------------------------------------------------------------------------ reductions


def _keep_shape(x: Any, axis: Any) -> tuple[int, ...]:
    axes = _norm_axes(axis, np.ndim(x))
    return tuple(1 if i in axes else n for i, n in enumerate(np.shape(x)))


def _expand_back(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Reshape a reduced cotangent so that it broadcasts against ``x``."""
    return g if keepdims else reshape(g, _keep_shape(x, axis))


def _sum_impl(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(x, axis=axis, keepdims=keepdims)


sum = Primitive("sum", _sum_impl)
sum.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: broadcast_to(
        _expand_back(g, x, axis, keepdims), np.shape(x)
    )
)
sum.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(t, _shift(axis, np.ndim(x)), keepdims=keepdims)
)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Arithmetic mean over ``axis``."""
    shape = np.shape(x)
    n = int(np.prod([shape[a] for a in _norm_axes(axis, len(shape))], dtype=int))
    return divide(sum(x, axis, keepdims=keepdims), n)


def _extreme_weights(x: Any, ans: Any, axis: Any, keepdims: bool) -> np.ndarray:
    """Tied extremes share the derivative evenly: weights 1/count on each tied element."""
    xv = primal(x)
    a = primal(ans)
    a = a if keepdims else np.reshape(a, _keep_shape(xv, axis))
    hit = xv == a
    count = np.sum(hit, axis=_norm_axes(axis, np.ndim(xv)), keepdims=True)
    return (hit / count).astype(np.result_type(xv))


def _extreme(name: str, fn: Any) -> Primitive:
    p = Primitive(name, lambda x, axis=None, keepdims=False: fn(x, axis=axis, keepdims=keepdims))
    p.defvjp(
        lambda g, ans, x, axis=None, keepdims=False: multiply(
            _expand_back(g, x, axis, keepdims), _extreme_weights(x, ans, axis, keepdims)
        )
    )
    p.defjvp(
        lambda t, ans, x, axis=None, keepdims=False: sum(
            multiply(t, _extreme_weights(x, ans, axis, keepdims)),
            _shift(axis, np.ndim(x)),
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
    from unigrad.backends.numpy.elementwise import where

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
    axes = _norm_axes(axis, nd)
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
        _expand_back(g, x, axis, keepdims), _prod_factor(x, axis)
    )
)
prod.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(
        multiply(t, _prod_factor(x, axis)), _shift(axis, np.ndim(x)), keepdims=keepdims
    )
)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom."""
    from unigrad.backends.numpy.elementwise import subtract

    shape = np.shape(x)
    n = int(np.prod([shape[a] for a in _norm_axes(axis, len(shape))], dtype=int))
    d = subtract(x, mean(x, axis, keepdims=True))
    return divide(sum(multiply(d, d), axis, keepdims=keepdims), n - ddof)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Standard deviation over ``axis``."""
    from unigrad.backends.numpy.elementwise import sqrt

    return sqrt(var(x, axis, ddof=ddof, keepdims=keepdims))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) over ``axis``, computed stably; its derivative is the softmax."""
    from unigrad.backends.numpy.elementwise import add, exp, log, subtract

    m = np.max(primal(x), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0).astype(np.result_type(primal(x)))
    s = log(sum(exp(subtract(x, m)), axis, keepdims=True))
    out = add(s, m)
    if keepdims:
        return out
    axes = _norm_axes(axis, np.ndim(x))
    return reshape(out, tuple(n for i, n in enumerate(np.shape(x)) if i not in axes))

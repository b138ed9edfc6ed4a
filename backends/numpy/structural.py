"""Shape, broadcasting, indexing and joining primitives, and sum, with their derivatives.

These are linear (or piecewise linear) in their array argument, so a jvp rule applies the same
op to the batched tangent with its axes shifted past the batch axis.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
from unigrad.backends.numpy.axes import batched_axes, kept_shape, normalize_axes
from unigrad.backends.numpy.tracer import OpError, Primitive, Tracer, primal

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


def _as_tuple(idx: Any) -> tuple:
    return idx if isinstance(idx, tuple) else (idx,)


def _constant_index(idx: Any) -> Any:
    """``idx`` with lists as arrays and traced values as constants (an index is not smooth)."""
    if isinstance(idx, tuple):
        return tuple(_constant_index(i) for i in idx)
    if isinstance(idx, list):
        return np.asarray([_constant_index(i) for i in idx]) if idx else np.zeros(0, np.intp)
    return primal(idx)


def _is_bool(i: Any) -> bool:
    return isinstance(i, bool | np.bool_) or (isinstance(i, np.ndarray) and i.dtype == bool)


def _is_array(i: Any) -> bool:
    """An index that makes indexing advanced: an array (not 0-d integer) or a boolean."""
    return (isinstance(i, np.ndarray) and i.ndim > 0) or _is_bool(i)


_ADVANCED = (int, np.integer, np.ndarray, np.bool_)  # advanced indices next to an array


def _front_dims(idx: Any, x_ndim: int, ans_ndim: int) -> int | None:
    """How many axes NumPy puts first when advanced indices are separated (x[a, :, b]).

    Integers count as advanced indices next to an array. Separated advanced indices put
    their broadcast axes first, so a tangent's batch axis, indexed as ``t[:, *idx]``, lands
    after them. None when the layout keeps the batch axis first.
    """
    items = _as_tuple(idx)
    if not any(_is_array(i) for i in items):
        return None
    adv = [k for k, i in enumerate(items) if isinstance(i, _ADVANCED)]
    if adv[-1] - adv[0] + 1 == len(adv):
        return None
    consumed = builtins.sum(
        (np.ndim(i) if _is_bool(i) else 1) for i in items if i is not None and i is not Ellipsis
    )
    basic = builtins.sum(1 for i in items if i is None or isinstance(i, slice))
    return ans_ndim - basic - (x_ndim - consumed)


def _batch_to(t: Any, k: int | None, front: bool) -> Any:
    """Move a batched value's batch axis from ``k`` to 0 (``front``) or from 0 to ``k``."""
    if not k:
        return t
    nd = np.ndim(t)
    if front:
        perm = (k, *range(k), *range(k + 1, nd))
    else:
        perm = (*range(1, k + 1), 0, *range(k + 1, nd))
    return transpose(t, perm)


def _getitem_impl(x: Any, idx: Any) -> Any:
    return x[idx]


getitem = Primitive("getitem", _getitem_impl)


def _scatter_impl(g: Any, idx: Any, shape: tuple[int, ...]) -> Any:
    out = np.zeros(shape, dtype=np.result_type(g))
    if any(isinstance(i, np.ndarray) for i in _as_tuple(idx)):
        np.add.at(out, idx, g)  # repeated integer indices accumulate
    else:
        out[idx] = g
    return out


scatter_add = Primitive("scatter_add", _scatter_impl)


def _getitem_jvp(t: Any, ans: Any, x: Any, idx: Any) -> Any:
    out = getitem(t, (slice(None), *_as_tuple(idx)))
    return _batch_to(out, _front_dims(idx, np.ndim(x), np.ndim(ans)), front=True)


def _scatter_jvp(t: Any, ans: Any, g: Any, idx: Any, shape: tuple[int, ...]) -> Any:
    batch = np.shape(t)[0]
    t = _batch_to(t, _front_dims(idx, len(shape), np.ndim(g)), front=False)
    return scatter_add(t, (slice(None), *_as_tuple(idx)), (batch, *shape))


getitem.defvjp(lambda g, ans, x, idx: scatter_add(g, idx, np.shape(x)))
getitem.defjvp(_getitem_jvp)
scatter_add.defvjp(lambda g, ans, x, idx, shape: getitem(g, idx))
scatter_add.defjvp(_scatter_jvp)


def index(x: Any, idx: Any) -> Any:
    """``x[idx]`` with NumPy's rules: basic, advanced and boolean indices, None and ``...``.

    Lists become integer or boolean arrays; a traced index counts as a constant. An index out
    of range raises an IndexError.
    """
    return getitem(x, _constant_index(idx))


def _concat_impl(*xs: Any, axis: int = 0) -> Any:
    return np.concatenate(xs, axis=axis)


concatenate_p = Primitive("concatenate", _concat_impl)


def _concat_vjp(i: int, g: Any, ans: Any, *xs: Any, axis: int = 0) -> Any:
    ax = axis % np.ndim(ans)
    start = int(np.sum([np.shape(x)[ax] for x in xs[:i]], dtype=int))
    sl = [slice(None)] * np.ndim(ans)
    sl[ax] = slice(start, start + np.shape(xs[i])[ax])
    return getitem(g, tuple(sl))


def _concat_jvp_all(tans: list, ans: Any, *xs: Any, axis: int = 0) -> Any:
    batch = next(np.shape(t)[0] for t in tans if t is not None)
    dt = np.result_type(primal(ans))
    parts = [
        t if t is not None else np.zeros((batch, *np.shape(x)), dtype=dt) for t, x in zip(tans, xs)
    ]
    return concatenate_p(*parts, axis=axis % np.ndim(ans) + 1)


concatenate_p.vjp_any = _concat_vjp
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
        raise OpError("unigrad.numpy.stack needs at least one array")
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def holds_tracer(x: Any) -> bool:
    """True when the (nested) list or tuple ``x`` holds a traced value."""
    return any(isinstance(e, Tracer) or (type(e) in (list, tuple) and holds_tracer(e)) for e in x)


def pack(x: Any) -> Any:
    """An array from (nested) lists and tuples holding traced values: a stack of stacks."""
    if type(x) in (list, tuple):
        if not holds_tracer(x):
            return np.asarray(x)
        if not x:
            return np.zeros((0,))
        return stack([pack(e) for e in x])
    return x


def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    """Exchange two axes."""
    axes = list(range(np.ndim(x)))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, tuple(axes))


def moveaxis(x: Any, source: int, destination: int) -> Any:
    """Move axis ``source`` to position ``destination``."""
    nd = np.ndim(x)
    order = [i for i in range(nd) if i != source % nd]
    order.insert(destination % nd, source % nd)
    return transpose(x, tuple(order))


def squeeze(x: Any, axis: Any = None) -> Any:
    """Remove unit axes (all of them, or those in ``axis``)."""
    shape = np.shape(x)
    if axis is None:
        return reshape(x, tuple(n for n in shape if n != 1))
    axes = normalize_axes(axis, len(shape))
    for a in axes:
        if shape[a] != 1:
            raise OpError(
                f"unigrad.numpy.squeeze: axis {a} has size {shape[a]}; only unit axes can go"
            )
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def ravel(x: Any) -> Any:
    """Flatten to 1-D."""
    return reshape(x, (-1,))


def diagonal(x: Any) -> Any:
    """The diagonal of the last two axes."""
    n = builtins.min(np.shape(x)[-1], np.shape(x)[-2])
    i = np.arange(n)
    return getitem(x, (Ellipsis, i, i))


# ------------------------------------------------------ sum: the adjoint of broadcasting


def expand_reduced(g: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """Reshape a cotangent of a reduction of ``x`` so that it broadcasts against ``x``."""
    return g if keepdims else reshape(g, kept_shape(x, axis))


def _sum_impl(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sum(x, axis=axis, keepdims=keepdims)


sum = Primitive("sum", _sum_impl)
sum.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: broadcast_to(
        expand_reduced(g, x, axis, keepdims), np.shape(x)
    )
)
sum.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(
        t, batched_axes(axis, np.ndim(x)), keepdims=keepdims
    )
)

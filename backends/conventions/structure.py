"""The structure family (issue 16), written once over any backend's op table.

NumPy's signatures, defaults and errors on every backend. Rearranging ops (flip, roll, rot90,
tile, repeat, pad, diagonal, diag) are one gather at the flat positions NumPy's own op gives
for a grid of positions (``layout``): their derivative is a scatter-add, exact at any order on
every framework, and the positions are constants under jit. The others are compositions of
reshape, transpose, slices, concatenate, where, multiply and matmul.

Pinned meanings (README, "The structure family"):

- sort and partition: the derivative is the permutation of a stable sort (tied elements keep
  their order, NaN last, as NumPy's ``kind="stable"``); partition returns the full sort, a
  valid partition;
- cumprod: a scan of multiplications, so its derivative is exact with zeros (no division);
- diagonal and trace take NumPy's ``(offset, axis1=0, axis2=1)``;
- linspace is differentiable in start and stop; argsort, nonzero and where(condition) are
  constants.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from unigrad.backends import layout
from unigrad.backends.conventions.core import _op

from unigrad.errors import ArgumentError, ArgumentTypeError


def operands(backend: Any, values: list[Any]) -> list[Any]:
    """``values`` as the backend's arrays of NumPy's result dtype (optable's rule)."""
    from unigrad.backends import optable  # optable imports this package

    return optable.operands(backend, values)


def _as(o: Any, x: Any) -> Any:
    """``x`` as the backend's array (a list holding traced values is stacked)."""
    return x if o.backend.is_array(x) else o.asarray(x)


def _shape(o: Any, x: Any) -> tuple[int, ...]:
    return tuple(o.backend.shape(x))


def _constant(o: Any, v: Any) -> Any:
    """An argument that is data, not differentiated (repeats, shifts): as NumPy."""
    b = o.backend
    if b.is_array(v) and not isinstance(v, np.ndarray | np.generic):
        return np.asarray(b.to_numpy(b.stop_gradient(v)))
    return v


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise ArgumentTypeError(f"unigrad.numpy.{name}(out=...): arrays cannot be written in place")


def _gather(o: Any, x: Any, pos: np.ndarray) -> Any:
    """The elements of ``x`` at the flat positions ``pos`` (an array of ``pos``'s shape)."""
    flat = o.reshape(x, (-1,))
    return o.reshape(o.take(flat, pos.reshape(-1)), pos.shape)


def _moved(o: Any, x: Any, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``x`` rearranged as NumPy's ``fn(x, *args, **kwargs)`` rearranges it."""
    x = _as(o, x)
    return _gather(o, x, layout.positions(name, fn, _shape(o, x), *args, **kwargs))


# ------------------------------------------------------------------------ rearranging


@_op("flip")
def flip(o: Any, m: Any, axis: Any = None) -> Any:
    """Reverse the order of elements along ``axis`` (every axis when None)."""
    return _moved(o, m, "flip", np.flip, axis)


@_op("fliplr")
def fliplr(o: Any, m: Any) -> Any:
    """Reverse the order along axis 1."""
    return _moved(o, m, "fliplr", np.fliplr)


@_op("flipud")
def flipud(o: Any, m: Any) -> Any:
    """Reverse the order along axis 0."""
    return _moved(o, m, "flipud", np.flipud)


@_op("rot90")
def rot90(o: Any, m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``."""
    return _moved(o, m, "rot90", np.rot90, k, axes)


@_op("roll")
def roll(o: Any, a: Any, shift: Any, axis: Any = None) -> Any:
    """Shift elements along ``axis`` cyclically (the flattened array when None)."""
    return _moved(o, a, "roll", np.roll, _constant(o, shift), axis)


@_op("tile")
def tile(o: Any, A: Any, reps: Any) -> Any:
    """``A`` repeated ``reps`` times along each axis."""
    return _moved(o, A, "tile", np.tile, _constant(o, reps))


@_op("repeat")
def repeat(o: Any, a: Any, repeats: Any, axis: Any = None) -> Any:
    """Each element repeated ``repeats`` times (of the flattened array when axis is None)."""
    x = _as(o, a)
    if axis is None:
        x = o.reshape(x, (-1,))
        axis = 0
    return _moved(o, x, "repeat", np.repeat, _constant(o, repeats), axis)


@_op("diagonal")
def diagonal(o: Any, a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal of the (axis1, axis2) planes, as a last axis (NumPy's meaning)."""
    return _moved(o, a, "diagonal", np.diagonal, offset, axis1, axis2)


@_op("trace")
def trace(
    o: Any,
    a: Any,
    offset: int = 0,
    axis1: int = 0,
    axis2: int = 1,
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """The sum of the diagonal of the (axis1, axis2) planes."""
    _no_out("trace", out)
    s = o.sum(diagonal(o, a, offset, axis1, axis2), axis=-1)
    return s if dtype is None else o.astype(s, dtype)


@_op("diag")
def diag(o: Any, v: Any, k: int = 0) -> Any:
    """A matrix with ``v`` on its k-th diagonal (``v`` 1-D), or the k-th diagonal (``v`` 2-D)."""
    x = _as(o, v)
    s = _shape(o, x)
    if len(s) == 2:
        return diagonal(o, x, k)
    if len(s) != 1:
        raise ArgumentError("unigrad.numpy.diag: input must be 1-d or 2-d")
    zero = o.zeros((1,), dtype=o.backend.dtype_name(x))
    return _gather(o, o.concatenate([x, zero]), layout.diag_positions("diag", s[0], k))


def _triangle(o: Any, m: Any, k: Any, lower: bool) -> Any:
    x = _as(o, m)
    mask = layout.tri_mask("tril" if lower else "triu", _shape(o, x), k, lower)
    return o.where(mask, x, 0)


@_op("tril")
def tril(o: Any, m: Any, k: int = 0) -> Any:
    """``m`` with the elements above the k-th diagonal zeroed (last two axes)."""
    return _triangle(o, m, k, True)


@_op("triu")
def triu(o: Any, m: Any, k: int = 0) -> Any:
    """``m`` with the elements below the k-th diagonal zeroed (last two axes)."""
    return _triangle(o, m, k, False)


@_op("pad")
def pad(o: Any, array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """NumPy's pad in modes constant, edge, reflect, symmetric and wrap."""
    b = o.backend
    x = _as(o, array)
    s = _shape(o, x)
    pos = layout.pad_positions(b.name, s, pad_width, mode, kwargs)
    if mode != "constant":
        return _gather(o, x, pos)
    dt = b.dtype_name(x)
    values = kwargs.get("constant_values", 0)
    if b.is_array(values) and not isinstance(values, np.ndarray | np.generic):
        consts = o.reshape(o.astype(values, dt), (-1,))  # a traced constant: its derivative
        if _shape(o, consts) != (1,):
            raise ArgumentTypeError(
                "unigrad.numpy.pad: a differentiated constant_values must be one number"
            )
        size = int(np.prod(s, dtype=int))
        pos = np.minimum(pos, size)
    else:
        consts = b.asarray(layout.constant_pairs("pad", values, len(s)).reshape(-1).astype(dt))
    return _gather(o, o.concatenate([o.reshape(x, (-1,)), consts]), pos)


# ------------------------------------------------------------------ joining, splitting


@_op("append")
def append(o: Any, arr: Any, values: Any, axis: Any = None) -> Any:
    """``values`` joined after ``arr`` along ``axis`` (both flattened when None)."""
    x, v = _as(o, arr), _as(o, values)
    if axis is None:
        return o.concatenate([o.reshape(x, (-1,)), o.reshape(v, (-1,))])
    return o.concatenate([x, v], axis=axis)


def _at_least(o: Any, x: Any, n: int) -> Any:
    x = _as(o, x)
    s = _shape(o, x)
    if len(s) >= n:
        return x
    if n == 1:
        return o.reshape(x, (1,))
    if n == 2:
        return o.reshape(x, (1, *s, *(1,) * (1 - len(s))))
    return o.reshape(x, {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}[len(s)])


def _atleast(n: int) -> Any:
    def op(o: Any, *arys: Any) -> Any:
        out = tuple(_at_least(o, x, n) for x in arys)
        return out[0] if len(out) == 1 else out

    op.__name__ = f"atleast_{n}d"
    op.__doc__ = f"Each array with at least {n} dimension(s) (NumPy's placement of unit axes)."
    return op


for _n in (1, 2, 3):
    _op(f"atleast_{_n}d")(_atleast(_n))


def _joined(o: Any, name: str, tup: Any, n: int, axis: Any, dtype: Any) -> Any:
    arrays = [_at_least(o, x, n) for x in tup]
    if not arrays:
        raise ArgumentError(f"unigrad.numpy.{name}: need at least one array to concatenate")
    if axis is None:  # hstack: along the first axis of 1-D arrays, else the second
        axis = 0 if len(_shape(o, arrays[0])) == 1 else 1
    out = o.concatenate(arrays, axis=axis)
    return out if dtype is None else o.astype(out, dtype)


@_op("hstack")
def hstack(o: Any, tup: Any, *, dtype: Any = None) -> Any:
    """Join arrays along their second axis (the first, for 1-D arrays)."""
    return _joined(o, "hstack", tup, 1, None, dtype)


@_op("vstack")
def vstack(o: Any, tup: Any, *, dtype: Any = None) -> Any:
    """Join arrays along their first axis, 1-D arrays as rows."""
    return _joined(o, "vstack", tup, 2, 0, dtype)


_op("row_stack")(vstack)


@_op("column_stack")
def column_stack(o: Any, tup: Any) -> Any:
    """Join 1-D arrays as columns (and 2-D arrays as they are) along the second axis."""
    cols = []
    for x in tup:
        x = _as(o, x)
        s = _shape(o, x)
        cols.append(o.reshape(x, (s[0] if s else 1, 1)) if len(s) < 2 else x)
    if not cols:
        raise ArgumentError("unigrad.numpy.column_stack: need at least one array to concatenate")
    return o.concatenate(cols, axis=1)


def _split(o: Any, name: str, ary: Any, sections: Any, axis: Any = 0) -> list[Any]:
    x = _as(o, ary)
    s = _shape(o, x)
    ax = layout.split_axis(name, len(s), axis)
    sections = _constant(o, sections)
    return [o.getitem(x, idx) for idx in layout.split_slices(name, s, sections, ax)]


@_op("split")
def split(o: Any, ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Equal sections, or pieces cut at the given indices, along ``axis``: a list of arrays."""
    return _split(o, "split", ary, indices_or_sections, axis)


@_op("array_split")
def array_split(o: Any, ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """As split, and sections may differ in length by one (the first ones are longer)."""
    return _split(o, "array_split", ary, indices_or_sections, axis)


def _split_along(name: str) -> Any:
    def op(o: Any, ary: Any, indices_or_sections: Any) -> list[Any]:
        return _split(o, name, ary, indices_or_sections)

    op.__name__ = name
    op.__doc__ = f"NumPy's {name}: split along its fixed axis, a list of arrays."
    return op


for _name in ("hsplit", "vsplit", "dsplit"):
    _op(_name)(_split_along(_name))


# ---------------------------------------------------------------------- axes, products


@_op("rollaxis")
def rollaxis(o: Any, a: Any, axis: int, start: int = 0) -> Any:
    """Move ``axis`` to just before position ``start`` (NumPy's older moveaxis)."""
    x = _as(o, a)
    axes = layout.rollaxis_axes(len(_shape(o, x)), axis, start)
    return x if axes is None else o.transpose(x, axes)


@_op("tensordot")
def tensordot(o: Any, a: Any, b: Any, axes: Any = 2) -> Any:
    """The sum of products over ``axes`` of ``a`` and ``b`` (one matmul)."""
    a, b = operands(o.backend, [a, b])
    plan = layout.tensordot_plan(_shape(o, a), _shape(o, b), axes)
    am = o.reshape(_permuted(o, a, plan.perm_a), plan.matrix_a)
    bm = o.reshape(_permuted(o, b, plan.perm_b), plan.matrix_b)
    return o.reshape(o.matmul(am, bm), plan.out)


def _permuted(o: Any, x: Any, axes: tuple[int, ...]) -> Any:
    return x if axes == tuple(range(len(axes))) else o.transpose(x, axes)


@_op("kron")
def kron(o: Any, a: Any, b: Any) -> Any:
    """The Kronecker product: blocks ``a[i, j] * b``."""
    a, b = operands(o.backend, [a, b])
    sa, sb = _shape(o, a), _shape(o, b)
    if not sa or not sb:
        return o.multiply(a, b)
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    ar = o.reshape(a, tuple(n for d in sa for n in (d, 1)))
    br = o.reshape(b, tuple(n for d in sb for n in (1, d)))
    return o.reshape(o.multiply(ar, br), tuple(p * q for p, q in zip(sa, sb)))


@_op("cross")
def cross(
    o: Any,
    a: Any,
    b: Any,
    axisa: int = -1,
    axisb: int = -1,
    axisc: int = -1,
    axis: Any = None,
) -> Any:
    """The cross product of vectors of 3 (or 2) components along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = operands(o.backend, [a, b])
    a = o.moveaxis(a, layout.normalize_axis("cross", axisa, len(_shape(o, a))), -1)
    b = o.moveaxis(b, layout.normalize_axis("cross", axisb, len(_shape(o, b))), -1)
    na, nb = _shape(o, a)[-1], _shape(o, b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ArgumentError(
            "unigrad.numpy.cross: incompatible dimensions for cross product (dimension must "
            "be 2 or 3)"
        )
    ca = [a[..., i] for i in range(na)]
    cb = [b[..., i] for i in range(nb)]
    if na == 2 and nb == 2:  # the z component alone, a scalar per pair
        return ca[0] * cb[1] - ca[1] * cb[0]
    a0, a1 = ca[0], ca[1]
    b0, b1 = cb[0], cb[1]
    if na == 3 and nb == 3:
        a2, b2 = ca[2], cb[2]
        comps = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    elif na == 2:
        b2 = cb[2]
        comps = [a1 * b2, -(a0 * b2), a0 * b1 - a1 * b0]
    else:
        a2 = ca[2]
        comps = [-(a2 * b1), a2 * b0, a0 * b1 - a1 * b0]
    c = o.stack(_broadcast(o, comps), axis=-1)
    return o.moveaxis(c, -1, layout.normalize_axis("cross", axisc, len(_shape(o, c))))


def _broadcast(o: Any, xs: list[Any]) -> list[Any]:
    shape = np.broadcast_shapes(*(_shape(o, x) for x in xs))
    return [x if _shape(o, x) == shape else o.broadcast_to(x, shape) for x in xs]


# ----------------------------------------------------------------- differences, scans


@_op("diff")
def diff(
    o: Any, a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None
) -> Any:
    """The n-th difference along ``axis`` (``prepend``/``append`` joined first)."""
    x = _as(o, a)
    n, ax, edge = layout.diff_plan(n, _shape(o, x), axis)
    if n == 0:
        return x
    parts = []
    for extra in (prepend, x, append):
        if extra is not None:
            e = _as(o, extra)
            parts.append(o.broadcast_to(e, edge) if not _shape(o, e) else e)
    if len(parts) > 1:
        x = o.concatenate(parts, axis=ax)
    lead = (slice(None),) * ax
    for _ in range(n):
        m = _shape(o, x)[ax]
        hi = o.getitem(x, (*lead, slice(min(1, m), m)))
        lo = o.getitem(x, (*lead, slice(0, max(m - 1, 0))))
        x = o.not_equal(hi, lo) if o.backend.dtype_name(x) == "bool" else o.subtract(hi, lo)
    return x


def _scan_axis(o: Any, x: Any, axis: Any) -> tuple[Any, int]:
    x = _as(o, x)
    if axis is None:
        return o.reshape(x, (-1,)), 0
    return x, layout.normalize_axis("cumsum", axis, len(_shape(o, x)))


@_op("cumsum")
def cumsum(o: Any, a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative sums along ``axis`` (of the flattened array when None)."""
    _no_out("cumsum", out)
    x, ax = _scan_axis(o, a, axis)
    if dtype is not None:
        x = o.astype(x, dtype)
    return o.own("cumsum")(x, ax)


@_op("cumprod")
def cumprod(o: Any, a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative products along ``axis``, by a scan of multiplications: the derivative is
    exact where elements are 0 (no division), at every order."""
    _no_out("cumprod", out)
    x, ax = _scan_axis(o, a, axis)
    if dtype is not None:
        x = o.astype(x, dtype)
    nd = len(_shape(o, x))
    if ax != nd - 1:
        x = o.moveaxis(x, ax, -1)
    n = _shape(o, x)[-1]
    d = 1
    while d < n:  # Hillis-Steele: after each step, x[i] is the product of x[i-2d+1 .. i]
        x = o.concatenate([x[..., :d], x[..., d:] * x[..., : n - d]], axis=-1)
        d *= 2
    return x if ax == nd - 1 else o.moveaxis(x, -1, ax)


# ---------------------------------------------------------------------------- sorting


def _take_along(o: Any, x: Any, idx: Any, axis: int) -> Any:
    """``x`` gathered along ``axis`` at the backend integer array ``idx`` (same shape)."""
    b = o.backend
    base, stride = layout.along_axis(_shape(o, x), axis)
    pos = o.astype(idx, "int64") * stride + b.asarray(base)
    return o.reshape(o.take(o.reshape(x, (-1,)), o.reshape(pos, (-1,))), _shape(o, x))


def _sort_axis(o: Any, a: Any, axis: Any, name: str) -> tuple[Any, int]:
    x = _as(o, a)
    if axis is None:
        return o.reshape(x, (-1,)), 0
    return x, layout.normalize_axis(name, axis, len(_shape(o, x)))


def _refuse_order(name: str, order: Any) -> None:
    if order is not None:
        raise ArgumentTypeError(f"unigrad.numpy.{name}(order=...) sorts structured arrays only")


@_op("argsort")
def argsort(
    o: Any, a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None
) -> Any:
    """The indices that sort ``a`` along ``axis``, always stable (ties keep their order, NaN
    last): a constant integer array. The framework's own argsort must be stable; NaN is put
    last here, by a second stable pass."""
    _refuse_order("argsort", order)
    b = o.backend
    x, ax = _sort_axis(o, b.stop_gradient(_as(o, a)), axis, "argsort")
    own = o.own("argsort")
    if np.dtype(b.dtype_name(x)).kind not in "fc":
        return o.astype(own(x, ax), "int64")
    nan = o.isnan(x)
    p = o.astype(own(o.where(nan, np.inf, x), ax), "int64")
    flags = _take_along(o, o.astype(nan, "int32"), p, ax)
    return b.stop_gradient(_take_along(o, p, own(flags, ax), ax))


@_op("sort")
def sort(
    o: Any, a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None
) -> Any:
    """``a`` sorted along ``axis``; its derivative is the permutation of a stable sort (tied
    elements keep their order)."""
    _refuse_order("sort", order)
    x, ax = _sort_axis(o, a, axis, "sort")
    return _take_along(o, x, o.argsort(o.backend.stop_gradient(x), ax), ax)


@_op("partition")
def partition(
    o: Any, a: Any, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None
) -> Any:
    """A partition of ``a`` around ``kth``: the full stable sort (NumPy leaves the order on
    each side of kth unspecified), with sort's derivative."""
    _refuse_order("partition", order)
    x, ax = _sort_axis(o, a, axis, "partition")
    layout.numpy_says("partition", np.partition, np.zeros(_shape(o, x)[ax]), _constant(o, kth))
    return sort(o, x, ax)


# ----------------------------------------------------------------- creation, selection


@_op("linspace")
def linspace(
    o: Any,
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``, differentiable in both."""
    b = o.backend
    num = layout.numpy_says("linspace", operator.index, num)
    if num < 0:
        raise ArgumentError(
            f"unigrad.numpy.linspace: number of samples, {num}, must be non-negative"
        )
    start, stop = operands(b, [start, stop])
    dt = np.dtype(b.dtype_name(start))
    if dt.kind not in "fc":
        dt = np.dtype(np.float64)
        start, stop = o.astype(start, dt), o.astype(stop, dt)
    delta = stop - start
    sd = _shape(o, delta)
    steps = b.asarray(np.arange(num, dtype=dt).reshape((-1,) + (1,) * len(sd)))
    div = num - 1 if endpoint else num
    step = delta / div if div > 0 else delta * np.nan
    y = o.add(o.multiply(steps, step if div > 0 else delta), start)
    if endpoint and num > 1:
        last = o.expand_dims(o.broadcast_to(stop, sd) if _shape(o, stop) != sd else stop, 0)
        y = o.concatenate([y[: num - 1], last], axis=0)
    if axis != 0:
        y = o.moveaxis(y, 0, axis)
    if dtype is not None:
        if np.dtype(dtype).kind in "iu":
            y = o.floor(y)
        y = o.astype(y, dtype)
    return (y, step) if retstep else y


@_op("nonzero")
def nonzero(o: Any, a: Any) -> tuple[Any, ...]:
    """The indices of the nonzero elements, one integer array per axis (constants)."""
    b = o.backend
    c = np.asarray(b.to_numpy(b.stop_gradient(_as(o, a))))
    if c.ndim == 0:
        raise ArgumentError(
            "unigrad.numpy.nonzero of a 0-d array: use atleast_1d(a).nonzero() as NumPy asks"
        )
    return tuple(b.asarray(i.astype(np.int64)) for i in np.nonzero(c))

"""Ops whose meaning unigrad pins, written once for every backend over its own op table.

Each function takes the backend's ``OpTable`` (``o``) first. They use ``o.backend``'s protocol
(``stop_gradient``, ``asarray``), other ops of the same table, and ``o.own(name)``, the
framework's own version of an op, so a new backend gets every convention without writing it
again. ``PINS`` hold unigrad's meaning of an op: they are used on every backend unless it lists
the name in ``native_pins`` (its own op already follows the pin, measured by the native
catalogue). ``FALLBACKS`` are compositions for ops a framework's namespace lacks.

The pins (README, "Derivatives at kinks"): abs'(0) = 0; relu'(0) = 0; sign, floor, ceil and
round have derivative 0 (zeros, never None); maximum/minimum split a tie 0.5/0.5; max/min
reductions split the derivative evenly among tied elements; clip counts its bounds as inside;
the 2-norm has derivative 0 at 0; ``x ** c`` for a constant c has derivative c*x**(c-1) and
``x ** 0`` derivative 0 everywhere; ``0 ** y`` has derivative 0 in y; prod's derivative is exact
with zeros (no division); std has derivative 0 where the variance is 0.

Piecewise-linear pins select with ``where`` between the framework's own op and a constant
(``stop_gradient``) copy of it, so values are exactly the framework's and derivatives are right
at every order. Where both branches are computed, the branch not taken is fed values that keep
its derivative finite (the "double where"), because ``0 * nan`` is nan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from unigrad.errors import ArgumentTypeError, ArrayIndexError

#: unigrad's meaning of an op, used on every backend unless it lists the name in native_pins
PINS: dict[str, Callable[..., Any]] = {}
#: compositions for ops a framework's namespace lacks (found after departures and namespace)
FALLBACKS: dict[str, Callable[..., Any]] = {}
LINALG_PINS: dict[str, Callable[..., Any]] = {}


def _op(name: str, table: dict[str, Callable[..., Any]] = PINS) -> Callable:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        table[name] = fn
        return fn

    return register


def _arr(o: Any, x: Any) -> Any:
    b = o.backend
    return x if b.is_array(x) else b.asarray(x)


def _pair(o: Any, x: Any, y: Any) -> tuple[Any, Any]:
    from unigrad.backends.optable import operands

    x, y = operands(o.backend, [x, y])
    return x, y


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    return tuple(int(a) % max(ndim, 1) for a in axes)


def _reduced_shape(shape: Sequence[int], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


# ------------------------------------------------------------------------------ creation


@_op("asarray")
def asarray(o: Any, x: Any, dtype: Any = None) -> Any:
    """An array from ``x``; a (nested) list holding traced values is stacked, so its derivative
    reaches them."""
    b = o.backend
    if isinstance(x, list | tuple) and _holds_arrays(b, x):
        return o.stack([asarray(o, e, dtype) for e in x])
    return b.asarray(x, dtype)


PINS["array"] = asarray


def _holds_arrays(b: Any, xs: Sequence[Any]) -> bool:
    return any(b.is_array(e) or (isinstance(e, list | tuple) and _holds_arrays(b, e)) for e in xs)


@_op("astype")
def astype(o: Any, x: Any, dtype: Any) -> Any:
    """``x`` cast to ``dtype`` (derivatives are cast back)."""
    return o.backend.asarray(_arr(o, x), dtype)


@_op("zeros")
def zeros(o: Any, shape: Any, dtype: Any = float) -> Any:
    return o.backend.asarray(np.zeros(shape, dtype=dtype))


@_op("ones")
def ones(o: Any, shape: Any, dtype: Any = float) -> Any:
    return o.backend.asarray(np.ones(shape, dtype=dtype))


@_op("eye")
def eye(o: Any, n: int, m: int | None = None, dtype: Any = float) -> Any:
    return o.backend.asarray(np.eye(n, m, dtype=dtype))


@_op("arange")
def arange(o: Any, *args: Any, dtype: Any = None) -> Any:
    return o.backend.asarray(np.arange(*args, dtype=dtype))


@_op("zeros_like")
def zeros_like(o: Any, x: Any, dtype: Any = None) -> Any:
    x = _arr(o, x)
    return o.backend.asarray(np.zeros(o.backend.shape(x), dtype or o.backend.dtype_name(x)))


@_op("ones_like")
def ones_like(o: Any, x: Any, dtype: Any = None) -> Any:
    x = _arr(o, x)
    return o.backend.asarray(np.ones(o.backend.shape(x), dtype or o.backend.dtype_name(x)))


@_op("stop_gradient")
def stop_gradient(o: Any, x: Any) -> Any:
    """A constant copy of ``x`` at every order of differentiation."""
    return o.backend.stop_gradient(_arr(o, x))


# ---------------------------------------------------------------------- selection, kinks


@_op("where")
def where(o: Any, cond: Any, x: Any, y: Any) -> Any:
    """NumPy's where; the branch not taken gets a zero derivative (``0 * nan`` is still nan)."""
    b = o.backend
    c = cond if b.is_array(cond) and b.dtype_name(cond) == "bool" else b.asarray(cond, bool)
    x, y = _pair(o, x, y)
    return o.own("where")(c, x, y)


def _kinked(o: Any, x: Any, smooth: Any, value: Any) -> Any:
    """``value`` (the framework's op at x) with derivative only where ``smooth`` holds."""
    return o.own("where")(smooth, value, o.backend.stop_gradient(value))


@_op("abs")
def abs_(o: Any, x: Any) -> Any:
    x = _arr(o, x)
    return _kinked(o, x, o.backend.stop_gradient(x) != 0, o.own("abs")(x))


PINS["absolute"] = abs_


def _constant(name: str) -> Callable[..., Any]:
    def op(o: Any, x: Any) -> Any:
        return o.backend.stop_gradient(o.own(name)(_arr(o, x)))

    op.__name__ = name
    op.__doc__ = f"NumPy's {name}, a constant at every order (derivative 0, never None)."
    return op


for _name in ("sign", "floor", "ceil"):
    PINS[_name] = _constant(_name)


@_op("round")
def round_(o: Any, x: Any, decimals: int = 0, out: Any = None) -> Any:
    """NumPy's round to ``decimals`` (half to even, by scaling as NumPy does): a constant."""
    if out is not None:
        raise ArgumentTypeError("unigrad.numpy.round(out=...): arrays cannot be written in place")
    x, own, d = _arr(o, x), o.own("round"), int(decimals)
    if d == 0:
        return o.backend.stop_gradient(own(x))
    scale = 10.0 ** abs(d)
    r = own(x * scale) / scale if d > 0 else own(x / scale) * scale
    return o.backend.stop_gradient(r)


PINS["around"] = round_


@_op("relu")
def relu(o: Any, x: Any) -> Any:
    """max(x, 0) with relu'(0) = 0; NaN stays NaN."""
    x = _arr(o, x)
    sx = o.backend.stop_gradient(x)
    w = o.own("where")
    return w(sx > 0, x, w(sx <= 0, o.zeros_like(sx), sx))


def _tie_split(o: Any, x: Any, y: Any, first_wins: bool) -> Any:
    x, y = _pair(o, x, y)
    sg = o.backend.stop_gradient
    sx, sy = sg(x), sg(y)
    w = o.own("where")
    win, lose = (sx > sy, sx < sy) if first_wins else (sx < sy, sx > sy)
    # at a tie the value is exactly sx; x - sx is exactly 0 there unless x is infinite
    tie = w(o.isfinite(sx), sx + 0.5 * (x - sx) + 0.5 * (y - sy), x)
    return w(win, x, w(lose, y, tie))


@_op("maximum")
def maximum(o: Any, x: Any, y: Any) -> Any:
    """Elementwise maximum; at a tie each side gets half the derivative."""
    return _tie_split(o, x, y, True)


@_op("minimum")
def minimum(o: Any, x: Any, y: Any) -> Any:
    """Elementwise minimum; at a tie each side gets half the derivative."""
    return _tie_split(o, x, y, False)


@_op("clip")
def clip(o: Any, x: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """Clip to [a_min, a_max]; derivative 1 on the closed interval, bounds included."""
    x = _arr(o, x)
    sx = o.backend.stop_gradient(x)
    inside = o.ones_like(sx, dtype=bool)
    w = o.own("where")
    value = x
    if a_min is not None:
        lo = _pair(o, sx, a_min)[1]
        inside = inside & (sx >= lo)
        value = w(sx < lo, lo, value)
    if a_max is not None:
        hi = _pair(o, sx, a_max)[1]
        inside = inside & (sx <= hi)
        value = w(o.backend.stop_gradient(value) > hi, hi, value)
    return w(inside, x, o.backend.stop_gradient(value))


# ------------------------------------------------------------------------------- powers


@_op("power")
def power(o: Any, x: Any, y: Any) -> Any:
    """x ** y: for a constant c, x**c has derivative c*x**(c-1) and x**0 derivative 0 (also at
    x = 0); the derivative of 0**y in y is 0."""
    b = o.backend
    if isinstance(y, int | float) and not isinstance(y, bool):
        x = _arr(o, x)
        return o.ones_like(x) if y == 0 else o.own("power")(x, y)
    traced = b.is_array(y)
    x, y = _pair(o, x, y)
    w = o.own("where")
    pw = o.own("power")
    sg = b.stop_gradient
    sy = sg(y)
    zero_exp = sy == 0
    sx = sg(x)
    if not traced:  # a constant array exponent: x**0 is the constant 1
        # the branch not taken must be smooth at every order (0 * nan is nan): 1**1 there
        safe_y = w(zero_exp, o.ones_like(sy), y)
        safe = pw(w(zero_exp, o.ones_like(sx), x), safe_y)
        return w(zero_exp, o.ones_like(safe), safe)
    zero_base = sx == 0
    safe_x = w(zero_base, o.ones_like(sx), x)
    return w(zero_base, pw(x, sy), pw(safe_x, y))


# --------------------------------------------------------------------------- smooth ops


@_op("sigmoid", FALLBACKS)
def sigmoid(o: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)), computed without overflow in either branch."""
    x = _arr(o, x)
    sx = o.backend.stop_gradient(x)
    w = o.own("where")
    pos = sx >= 0
    z = o.exp(w(pos, -x, x))  # in (0, 1]
    return w(pos, 1 / (1 + z), z / (1 + z))


@_op("softplus", FALLBACKS)
def softplus(o: Any, x: Any) -> Any:
    """log(1 + exp(x)), stable; derivative sigmoid(x), 0.5 at 0."""
    x = _arr(o, x)
    sx = o.backend.stop_gradient(x)
    w = o.own("where")
    pos = sx > 0
    return w(pos, x, o.zeros_like(sx)) + o.log1p(o.exp(w(pos, -x, x)))


# ---------------------------------------------------------------------------- reductions


def _restore(o: Any, out: Any, shape: tuple[int, ...], axes: tuple[int, ...], keep: bool) -> Any:
    return out if keep else o.reshape(out, _reduced_shape(shape, axes))


def _extreme(o: Any, x: Any, axis: Any, keepdims: bool, name: str) -> Any:
    x = _arr(o, x)
    b = o.backend
    shape = b.shape(x)
    axes = _axes(axis, len(shape))
    sg = b.stop_gradient
    native = o.own(name)
    sx = sg(x)
    value = native(sx, axis=axes, keepdims=True)
    w = o.own("where")
    hit = sx == value
    weights = sg(o.astype(hit, b.dtype_name(x)))
    weights = weights / o.sum(weights, axis=axes, keepdims=True)
    carrier = o.sum(w(hit, x - sx, o.zeros_like(sx)) * weights, axis=axes, keepdims=True)
    # an infinite extreme: x - sx is nan there, so the tied infinities carry it themselves
    # (MXNet's own max gave each of two tied infinities the whole derivative)
    infinite = o.sum(w(hit, x, o.zeros_like(sx)) * weights, axis=axes, keepdims=True)
    native_out = native(x, axis=axes, keepdims=True)
    out = w(o.isfinite(value), value + carrier, w(o.isnan(value), native_out, infinite))
    return _restore(o, out, shape, axes, keepdims)


@_op("max")
def max_(o: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Maximum over ``axis``; tied elements share the derivative evenly."""
    return _extreme(o, x, axis, keepdims, "max")


@_op("min")
def min_(o: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Minimum over ``axis``; tied elements share the derivative evenly."""
    return _extreme(o, x, axis, keepdims, "min")


PINS["amax"], PINS["amin"] = max_, min_


@_op("prod")
def prod(o: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Product over ``axis`` as a tree of multiplications: exact derivatives with zeros, at
    every order (no division)."""
    x = _arr(o, x)
    b = o.backend
    shape = b.shape(x)
    axes = _axes(axis, len(shape))
    kept = [i for i in range(len(shape)) if i not in axes]
    t = o.transpose(x, (*kept, *axes)) if axes != tuple(range(len(shape)))[-len(axes) :] else x
    lead = tuple(shape[i] for i in kept)
    n = int(np.prod([shape[a] for a in axes], dtype=int))
    t = o.reshape(t, (*lead, n))
    if n == 0:
        out = o.ones(lead, dtype=b.dtype_name(x))
    else:
        while n > 1:
            if n % 2:
                t = o.concatenate([t, o.ones((*lead, 1), dtype=b.dtype_name(x))], axis=-1)
                n += 1
            t = t[..., 0::2] * t[..., 1::2]
            n //= 2
        out = o.reshape(t, lead)
    if keepdims:
        out = o.reshape(out, tuple(1 if i in axes else m for i, m in enumerate(shape)))
    return out


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return int(np.prod([shape[a] for a in axes], dtype=int))


@_op("var")
def var(o: Any, x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom."""
    x = _arr(o, x)
    if not o.backend.dtype_name(x).startswith(("float", "bfloat", "complex")):
        x = o.backend.asarray(x, "float64")  # NumPy's variance of integers is float64
    shape = o.backend.shape(x)
    axes = _axes(axis, len(shape))
    d = x - o.mean(x, axis=axes, keepdims=True)
    return o.sum(d * d, axis=axes, keepdims=keepdims) / (_count(shape, axes) - ddof)


@_op("std")
def std(o: Any, x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """Standard deviation over ``axis``; its derivative is 0 where the variance is 0."""
    v = var(o, x, axis, ddof, keepdims)
    sv = o.backend.stop_gradient(v)
    w = o.own("where")
    zero = sv == 0
    return w(zero, o.zeros_like(sv), o.sqrt(w(zero, o.ones_like(sv), v)))


@_op("logsumexp", FALLBACKS)
def logsumexp(o: Any, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """log(sum(exp(x))) over ``axis``, stable; its derivative is the softmax."""
    x = _arr(o, x)
    shape = o.backend.shape(x)
    axes = _axes(axis, len(shape))
    m = o.backend.stop_gradient(o.own("max")(x, axis=axes, keepdims=True))
    m = o.own("where")(o.isfinite(m), m, o.zeros_like(m))
    out = o.log(o.sum(o.exp(x - m), axis=axes, keepdims=True)) + m
    return _restore(o, out, shape, axes, keepdims)


# ------------------------------------------------------------------- shapes, contractions


@_op("outer")
def outer(o: Any, a: Any, b: Any) -> Any:
    """Outer product of two arrays, flattened first (NumPy's meaning)."""
    a, b = _pair(o, a, b)
    return o.reshape(a, (-1, 1)) * o.reshape(b, (1, -1))


@_op("inner")
def inner(o: Any, a: Any, b: Any) -> Any:
    """NumPy's inner: a product with a scalar, else a sum over both last axes (result shape
    ``a.shape[:-1] + b.shape[:-1]``)."""
    a, b = _pair(o, a, b)
    sa, sb = o.backend.shape(a), o.backend.shape(b)
    if not sa or not sb:
        return a * b
    k = sa[-1]
    m = o.matmul(o.reshape(a, (-1, k)), o.transpose(o.reshape(b, (-1, k))))
    return o.reshape(m, (*sa[:-1], *sb[:-1]))


# --------------------------------------------------------------------------------- linalg


@_op("norm", LINALG_PINS)
def norm(o: Any, x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector p-norms and the Frobenius norm; the 2-norm's derivative at 0 is 0."""
    from unigrad.errors import UnsupportedError

    top = o.backend.ops
    x = _arr(top, x)
    nd = len(o.backend.shape(x))
    matrix = (axis is None and nd == 2 and ord is not None) or (
        isinstance(axis, tuple) and len(axis) == 2
    )
    if ord in (None, "fro") or (ord == 2 and not matrix):
        return _norm2(top, x, axis, keepdims)
    if matrix:
        raise UnsupportedError(
            o.backend.name, f"linalg.norm(ord={ord!r}) of a matrix", "use ord=None or 'fro'"
        )
    ax = None if axis is None else _axes(axis, nd)
    if ord == 1:
        return top.sum(top.abs(x), axis=ax, keepdims=keepdims)
    if ord == np.inf:
        return top.max(top.abs(x), axis=ax, keepdims=keepdims)
    if ord == -np.inf:
        return top.min(top.abs(x), axis=ax, keepdims=keepdims)
    if ord == 0:
        nonzero = top.astype(o.backend.stop_gradient(x) != 0, o.backend.dtype_name(x))
        return top.sum(nonzero, axis=ax, keepdims=keepdims)
    p = float(ord)
    return top.power(top.sum(top.power(top.abs(x), p), axis=ax, keepdims=keepdims), 1.0 / p)


def _norm2(o: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    ax = None if axis is None else _axes(axis, len(o.backend.shape(x)))
    s = o.sum(x * x, axis=ax, keepdims=keepdims)
    ss = o.backend.stop_gradient(s)
    w = o.own("where")
    zero = ss == 0
    return w(zero, o.zeros_like(ss), o.sqrt(w(zero, o.ones_like(ss), s)))


# ------------------------------------------------------------------------------- indexing


@_op("getitem")
def getitem(o: Any, x: Any, index: Any) -> Any:
    """``x[index]`` with NumPy's meaning on every backend: negative steps, integer lists and
    arrays, boolean masks, ``None`` and ``...``, mixed advanced indices with NumPy's result
    shape, and an IndexError for an index out of range (never a clamped or wrapped value).

    Basic indices (integers, positive-step slices, None, ...) use the framework's own indexing;
    anything else is one gather at the flat positions NumPy computes for the index.
    """
    b = o.backend
    x = _arr(o, x)
    shape = tuple(b.shape(x))
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_constant_index(b, i) for i in items)
    if _basic(items):
        _check_bounds(items, shape)
        return x[items if isinstance(index, tuple) else items[0]]
    grid = np.arange(int(np.prod(shape, dtype=int))).reshape(shape)
    try:
        positions = grid[items if isinstance(index, tuple) else items[0]]
    except IndexError as exc:
        raise ArrayIndexError(str(exc)) from None
    taken = o.take(o.reshape(x, (-1,)), positions.reshape(-1))
    return o.reshape(taken, positions.shape)


def _constant_index(b: Any, i: Any) -> Any:
    """An index that is a backend array (integers or a mask) as NumPy: indices carry no
    derivative."""
    if b.is_array(i) and not isinstance(i, np.ndarray | np.generic):
        return np.asarray(b.to_numpy(b.stop_gradient(i)))
    if isinstance(i, list):
        return np.asarray(i)
    return i


def _basic(items: tuple) -> bool:
    for i in items:
        if isinstance(i, slice):
            if i.step is not None and i.step <= 0:
                return False
        elif i is None or i is Ellipsis:
            continue
        elif isinstance(i, bool | np.bool_) or not isinstance(i, int | np.integer):
            return False
    return True


def _check_bounds(items: tuple, shape: tuple[int, ...]) -> None:
    """IndexError for an integer out of range (JAX would clamp it, MXNet read past the end)."""
    n_real = sum(1 for i in items if i is not None and i is not Ellipsis)
    axis = 0
    for i in items:
        if i is Ellipsis:
            axis += len(shape) - n_real
            continue
        if i is None:
            continue
        if axis >= len(shape):
            raise ArrayIndexError(
                f"too many indices for an array with {len(shape)} dimension(s): {items}"
            )
        if isinstance(i, int | np.integer) and not -shape[axis] <= i < shape[axis]:
            raise ArrayIndexError(
                f"index {int(i)} is out of bounds for axis {axis} with size {shape[axis]}"
            )
        axis += 1


@_op("take", FALLBACKS)
def take(o: Any, x: Any, indices: Any, axis: int | None = None) -> Any:
    """Elements of ``x`` at ``indices`` (of the flattened array when ``axis`` is None)."""
    x = _arr(o, x)
    if axis is None:
        return getitem(o, o.reshape(x, (-1,)), np.asarray(indices))
    nd = len(o.backend.shape(x))
    return getitem(o, x, (slice(None),) * (int(axis) % nd) + (np.asarray(indices),))


# ------------------------------------------------------------------ division and logic


@_op("remainder")
def remainder(o: Any, x: Any, y: Any) -> Any:
    """NumPy's mod (the sign of the divisor); derivative 1 in x and -(x // y) in y, the
    quotient that goes with the value (x % y == x - (x // y) * y), at the jumps too."""
    x, y = _pair(o, x, y)
    sg = o.backend.stop_gradient
    w = o.own("where")
    sx, sy = sg(x), sg(y)
    zero = o.zeros_like(sx)

    def moved(v: Any, sv: Any) -> Any:  # exactly 0, with derivative 1 where v is finite
        v = w(o.isfinite(sv), v, zero)
        return v - sg(v)

    q = o.own("floor_divide")(sx, sy)
    q = w(o.isfinite(q), q, zero)
    return o.own("remainder")(sx, sy) + moved(x, sx) - q * moved(y, sy)


PINS["mod"] = remainder


@_op("floor_divide")
def floor_divide(o: Any, x: Any, y: Any) -> Any:
    """NumPy's ``//``: a constant at every order (derivative 0)."""
    x, y = _pair(o, x, y)
    sg = o.backend.stop_gradient
    return sg(o.own("floor_divide")(sg(x), sg(y)))


def _logical(name: str) -> Callable[..., Any]:
    def op(o: Any, *xs: Any) -> Any:
        b = o.backend
        bools = [b.asarray(x, bool) if not b.is_array(x) else o.not_equal(x, 0) for x in xs]
        return b.stop_gradient(o.own(name)(*bools))

    op.__name__ = name
    op.__doc__ = f"NumPy's {name}, a constant boolean array."
    return op


for _name in ("logical_and", "logical_or", "logical_xor", "logical_not"):
    PINS[_name] = _logical(_name)

"""Issue 16, the elementwise family: pinned meanings written once over any backend's op table.

The pins (README, "Derivatives at kinks", elementwise): ``arctan2`` and ``hypot`` have
derivative 0 at the origin (hypot is the 2-norm of (x, y), whose pin is 0 at 0); ``fmax`` and
``fmin`` ignore NaN as NumPy's do, send the derivative to the value they return, and split a tie
0.5/0.5 as ``maximum`` does (a tie of infinities, or two NaN, goes to the first argument whole,
as maximum's does); ``logaddexp`` has derivatives ``sigmoid(x - y)`` and ``sigmoid(y - x)``, and
where an input is not finite, those of the larger input (1 and 0; the first argument's at a tie
or NaN); ``sinc`` has exact derivatives at 0 at every order (odd ones exactly 0);
``nan_to_num`` has derivative 1 where x is finite and 0 where it replaces a value.

Each keeps the value of the framework's own op where it has one; where a branch is not taken,
it is fed values that keep its derivative finite (``0 * nan`` is nan).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from unigrad.backends.conventions.core import FALLBACKS, PINS, _arr, _op, _pair, abs_

from unigrad.errors import ArgumentError, UnsupportedError

LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))

PINS["fabs"] = abs_  # NumPy's fabs is abs for real numbers: fabs'(0) = 0


def _own_or_none(o: Any, name: str) -> Any:
    """The framework's own op ``name``, or None where it has none."""
    try:
        return o.own(name)
    except UnsupportedError:
        return None


def _broadcast_pair(o: Any, x: Any, y: Any) -> tuple[Any, Any]:
    """x and y as arrays of one shape: the masks combined below then have one shape too
    (MXNet's ``&`` and ``|`` refuse boolean operands that broadcast)."""
    x, y = _pair(o, x, y)
    sx, sy = tuple(o.backend.shape(x)), tuple(o.backend.shape(y))
    if sx == sy:
        return x, y
    try:
        shape = np.broadcast_shapes(sx, sy)
    except ValueError:
        raise ArgumentError(
            f"operands could not be broadcast together with shapes {sx} and {sy}"
        ) from None
    return (
        x if sx == shape else o.broadcast_to(x, shape),
        y if sy == shape else o.broadcast_to(y, shape),
    )


def _off_origin(o: Any, name: str, a: Any, b: Any) -> Any:
    """The framework's ``name(a, b)``, with derivative 0 where a and b are both 0: a double
    where moves the pair off the origin there, so no NaN flows back from its derivative."""
    a, b = _broadcast_pair(o, a, b)
    sg = o.backend.stop_gradient
    w, own = o.own("where"), o.own(name)
    at = (sg(a) == 0) & (sg(b) == 0)
    a1, b1 = w(at, o.ones_like(sg(a)), a), w(at, o.ones_like(sg(b)), b)
    return w(at, own(sg(a), sg(b)), own(a1, b1))


@_op("arctan2")
def arctan2(o: Any, y: Any, x: Any) -> Any:
    """The angle of (x, y), NumPy's signed-zero values at the origin; derivative 0 there."""
    return _off_origin(o, "arctan2", y, x)


@_op("hypot")
def hypot(o: Any, x: Any, y: Any) -> Any:
    """sqrt(x**2 + y**2) without overflow; derivative 0 at the origin (as the 2-norm's)."""
    return _off_origin(o, "hypot", x, y)


@_op("logaddexp")
def logaddexp(o: Any, x: Any, y: Any) -> Any:
    """log(exp(x) + exp(y)), stable, smooth to every order; where an input is not finite the
    derivative is the larger input's (the first one's at a tie or NaN)."""
    return _logaddexp(o, x, y, "logaddexp", o.exp, o.log)


@_op("logaddexp2")
def logaddexp2(o: Any, x: Any, y: Any) -> Any:
    """log2(2**x + 2**y): logaddexp in base 2."""
    return _logaddexp(o, x, y, "logaddexp2", o.exp2, o.log2)


def _logaddexp(o: Any, x: Any, y: Any, name: str, exp: Any, log: Any) -> Any:
    # No factor touches an infinite value (the hard branch selects x or y whole): TensorFlow's
    # forward mode turns a constant's zero tangent times inf into nan.
    x, y = _broadcast_pair(o, x, y)
    sg = o.backend.stop_gradient
    w = o.own("where")
    sx, sy = sg(x), sg(y)
    finite = o.isfinite(sx) & o.isfinite(sy)
    zero = o.zeros_like(sx)
    m = w(finite, w(sx > sy, sx, sy), zero)
    x0, y0 = w(finite, x, zero), w(finite, y, zero)  # the smooth branch stays finite
    smooth = m + log(exp(x0 - m) + exp(y0 - m))
    own = _own_or_none(o, name)
    if own is not None:  # the framework's own value, the derivatives of the smooth form
        smooth = own(sx, sy) + (smooth - sg(smooth))
    return w(finite, smooth, w(sx < sy, y, x))


def _nan_ignoring(o: Any, x: Any, y: Any, larger: bool) -> Any:
    x, y = _broadcast_pair(o, x, y)
    sg = o.backend.stop_gradient
    w = o.own("where")
    sx, sy = sg(x), sg(y)
    x_nan, y_nan = o.isnan(sx), o.isnan(sy)
    x_ahead, y_ahead = (sx > sy, sx < sy) if larger else (sx < sy, sx > sy)
    x_wins = x_ahead | (y_nan & (sx == sx))
    y_wins = y_ahead | (x_nan & (sy == sy))
    # a tie: the value is exactly sx, and x - sx is exactly 0 where x is finite; a tie of
    # infinities (or two NaN) goes to x whole, as maximum's does
    exact = o.isfinite(sx)
    x1 = w(exact, x, o.zeros_like(sx))
    y1 = w(exact, y, o.zeros_like(sy))
    tie = w(exact, sx + 0.5 * (x1 - sx) + 0.5 * (y1 - sy), x)
    return w(x_wins, x, w(y_wins, y, tie))


# fmax and fmin: the elementwise extreme ignoring NaN; a finite tie splits the derivative 0.5/0.5
PINS["fmax"] = functools.partial(_nan_ignoring, larger=True)
PINS["fmin"] = functools.partial(_nan_ignoring, larger=False)


#: sinc(x) = sum_k (-1)**k u**(2k) / (2k + 1)!, u = pi x: used where |u| < 1, where it is exact
#: to float64 (the next term is below 1e-17) and its derivatives at 0 are exact to order 18
_SINC_SERIES = tuple((-1) ** k / float(np.prod(np.arange(1, 2 * k + 2))) for k in range(10))


def sinc_series(u2: Any) -> Any:
    """The Maclaurin series of sin(u)/u in v = u**2, by Horner's rule (any array type)."""
    s = _SINC_SERIES[-1]
    for c in reversed(_SINC_SERIES[:-1]):
        s = s * u2 + c
    return s


@_op("sinc")
def sinc(o: Any, x: Any) -> Any:
    """sin(pi x) / (pi x), 1 at 0; exact derivatives at 0 at every order (odd ones 0)."""
    x = _arr(o, x)
    w = o.own("where")
    near = o.abs(o.backend.stop_gradient(x)) < 1 / np.pi
    u = x * np.pi
    far = w(near, o.ones_like(o.backend.stop_gradient(u)), u)
    return w(near, sinc_series(u * u), o.sin(far) / far)


@_op("nan_to_num")
def nan_to_num(
    o: Any,
    x: Any,
    copy: bool = True,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Any:
    """NaN and infinities replaced by numbers (NumPy's defaults); derivative 1 where x is
    finite, 0 where a value was replaced."""
    x = _arr(o, x)
    b = o.backend
    dt = b.dtype_name(x)
    if np.dtype(dt).kind not in "fc":
        return x
    big = float(np.finfo(dt).max)
    sx = b.stop_gradient(x)
    w = o.own("where")

    def const(v: float) -> Any:  # exact in the dtype (MXNet rounds ones * 1.8e308)
        return b.asarray(np.asarray(v, dtype=dt))

    pos = const(big if posinf is None else posinf)
    neg = const(-big if neginf is None else neginf)
    repl = w(o.isnan(sx), const(nan), w(sx > 0, pos, neg))
    return w(o.isfinite(sx), x, repl)


@_op("exp2", FALLBACKS)
def exp2(o: Any, x: Any) -> Any:
    """2 ** x."""
    return o.exp(_arr(o, x) * LN2)


@_op("log2", FALLBACKS)
def log2(o: Any, x: Any) -> Any:
    """The base-2 logarithm."""
    return o.log(_arr(o, x)) / LN2


@_op("log10", FALLBACKS)
def log10(o: Any, x: Any) -> Any:
    """The base-10 logarithm."""
    return o.log(_arr(o, x)) / LN10


@_op("deg2rad", FALLBACKS)
def deg2rad(o: Any, x: Any) -> Any:
    """Degrees to radians."""
    return _arr(o, x) * (np.pi / 180)


@_op("rad2deg", FALLBACKS)
def rad2deg(o: Any, x: Any) -> Any:
    """Radians to degrees."""
    return _arr(o, x) * (180 / np.pi)


FALLBACKS["radians"] = deg2rad
FALLBACKS["degrees"] = rad2deg

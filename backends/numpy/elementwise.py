"""Elementwise primitives and their derivatives, each rule written beside its op.

Rules use primitives only, so they can be differentiated again. Unary ops give one derivative
``d(x, ans)``; the vjp is ``g * d`` and the jvp ``t * d``. Kink conventions (see the README):
abs'(0) = 0, relu'(0) = 0, sign/floor/ceil/round' = 0, maximum/minimum split ties 0.5/0.5,
clip counts its bounds as inside, x**c has derivative c*x**(c-1) and x**0 has derivative 0.
Where a partial is infinite (sqrt, log at 0; x**y at x = 0, y < 1), a zero tangent or cotangent
gives nan there, as IEEE's 0 * inf does in every framework (the where pattern's pin).

Complex intermediate values follow JAX's convention: a cotangent w of a complex value z stands
for the linear map t -> Re(w * t), so holomorphic rules need no conjugate, and the cotangent of
a real input is the real part of what reaches it. ``abs``, ``real``, ``imag`` and ``conj`` carry
the rules that make a real function of a complex value differentiable.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from unigrad.backends.numpy.tracer import Primitive, Tracer, primal

# ------------------------------------------------------------------------- binary arithmetic

_NUMPY = (np.ndarray, np.generic)


def _binary_impl(op: Callable[[Any, Any], Any], ufunc: Any) -> Callable[[Any, Any], Any]:
    """The Python operator when an operand is a NumPy type (same result, several times faster
    on scalars than calling the ufunc); the ufunc otherwise, so lists and Python numbers keep
    NumPy's semantics."""

    def impl(x: Any, y: Any) -> Any:
        if isinstance(x, _NUMPY) or isinstance(y, _NUMPY):
            return op(x, y)
        return ufunc(x, y)

    impl.__name__ = ufunc.__name__
    return impl


add = Primitive("add", _binary_impl(operator.add, np.add), broadcasts=True)
subtract = Primitive("subtract", _binary_impl(operator.sub, np.subtract), broadcasts=True)
multiply = Primitive("multiply", _binary_impl(operator.mul, np.multiply), broadcasts=True)
divide = Primitive("divide", _binary_impl(operator.truediv, np.true_divide), broadcasts=True)
negative = Primitive("negative", np.negative)

add.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: g)
add.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: t)
subtract.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: negative(g))
subtract.defjvp(lambda t, ans, x, y: t, lambda t, ans, x, y: negative(t))
multiply.defvjp(lambda g, ans, x, y: multiply(g, y), lambda g, ans, x, y: multiply(g, x))
multiply.defjvp(lambda t, ans, x, y: multiply(t, y), lambda t, ans, x, y: multiply(t, x))
divide.defvjp(
    lambda g, ans, x, y: divide(g, y),
    lambda g, ans, x, y: negative(divide(multiply(g, ans), y)),
)
divide.defjvp(
    lambda t, ans, x, y: divide(t, y),
    lambda t, ans, x, y: negative(divide(multiply(t, ans), y)),
)
negative.defvjp(lambda g, ans, x: negative(g))
negative.defjvp(lambda t, ans, x: negative(t))


def _power_impl(x: Any, y: Any) -> Any:
    if isinstance(x, _NUMPY):
        return x**y  # NumPy semantics, without the ufunc call's overhead on scalars
    return np.power(x, y)


power = Primitive("power", _power_impl, broadcasts=True)


def _dpow_base(x: Any, y: Any, ans: Any) -> Any:
    ty = type(y)
    if ty is int or ty is float or isinstance(y, np.generic):
        c = y.item() if isinstance(y, np.generic) else y  # a Python scalar keeps x's dtype
        if c == 0:
            return zeros_like_value(x, ans)
        if c == 1:
            return ones_like_value(x, ans)
        if c == 2:
            return multiply(x, 2)
        return multiply(c, power(x, c - 1))
    d = multiply(y, power(x, subtract(y, 1)))
    if isinstance(y, Tracer):
        return d  # a traced exponent: y * x**(y-1) keeps its mixed partials at y = 0
    # A constant array exponent: x**0 still has derivative 0, at x = 0 too.
    return where(primal(y) == 0, 0.0, d)


def _dpow_exp(x: Any, y: Any, ans: Any) -> Any:
    # d/dy 0**y = 0 (for y > 0), not log(0) * 0 = nan; selected, not multiplied, so that its own
    # derivatives at x = 0 are 0 too, not 0 * inf (d2/dy2 0**y = 0, as in torch and JAX)
    at_zero = primal(x) == 0
    safe_x = where(at_zero, 1.0, x)
    return where(at_zero, 0.0, multiply(log(safe_x), ans))


# Both modes multiply as IEEE does: a zero (co)tangent at an infinite partial is nan there, as
# in every framework and as where(x > 0, x**0.5, 0) at 0 pins (README: derivatives at kinks).
power.defvjp(
    lambda g, ans, x, y: multiply(g, _dpow_base(x, y, ans)),
    lambda g, ans, x, y: multiply(g, _dpow_exp(x, y, ans)),
)
power.defjvp(
    lambda t, ans, x, y: multiply(t, _dpow_base(x, y, ans)),
    lambda t, ans, x, y: multiply(t, _dpow_exp(x, y, ans)),
)


def zeros_like_value(x: Any, like: Any = None) -> np.ndarray:
    """Constant zeros with the shape of ``x`` and the dtype of ``like`` (or ``x``)."""
    v = primal(x)
    dt = np.result_type(primal(like) if like is not None else v)
    return np.zeros(np.shape(v), dtype=dt)


def ones_like_value(x: Any, like: Any = None) -> np.ndarray:
    """Constant ones with the shape of ``x`` and the dtype of ``like`` (or ``x``)."""
    v = primal(x)
    dt = np.result_type(primal(like) if like is not None else v)
    return np.ones(np.shape(v), dtype=dt)


# ------------------------------------------------------------------------------- unary math


def unary(name: str, impl: Callable[[Any], Any], deriv: Callable[[Any, Any], Any]) -> Primitive:
    """Define an elementwise unary primitive from its derivative ``deriv(x, ans)``."""
    p = Primitive(name, impl)
    p.defvjp(lambda g, ans, x: multiply(g, deriv(x, ans)))
    p.defjvp(lambda t, ans, x: multiply(t, deriv(x, ans)))
    return p


def nondiff(name: str, impl: Callable[..., Any]) -> Callable[..., Any]:
    """An op whose derivative is zero everywhere: its result is a constant at every order."""

    def op(*args: Any, **kwargs: Any) -> Any:
        return impl(*(primal(a) for a in args), **kwargs)

    op.__name__ = name
    return op


exp = unary("exp", np.exp, lambda x, ans: ans)
log = unary("log", np.log, lambda x, ans: reciprocal(x))
log1p = unary("log1p", np.log1p, lambda x, ans: reciprocal(add(x, 1)))
expm1 = unary("expm1", np.expm1, lambda x, ans: add(ans, 1))
sqrt = unary("sqrt", np.sqrt, lambda x, ans: divide(0.5, ans))
sin = unary("sin", np.sin, lambda x, ans: cos(x))
cos = unary("cos", np.cos, lambda x, ans: negative(sin(x)))
tan = unary("tan", np.tan, lambda x, ans: add(1, multiply(ans, ans)))
arcsin = unary("arcsin", np.arcsin, lambda x, ans: reciprocal(sqrt(subtract(1, x * x))))
arccos = unary("arccos", np.arccos, lambda x, ans: negative(reciprocal(sqrt(subtract(1, x * x)))))
arctan = unary("arctan", np.arctan, lambda x, ans: reciprocal(add(1, x * x)))
sinh = unary("sinh", np.sinh, lambda x, ans: cosh(x))
cosh = unary("cosh", np.cosh, lambda x, ans: sinh(x))
tanh = unary("tanh", np.tanh, lambda x, ans: subtract(1, multiply(ans, ans)))
arcsinh = unary("arcsinh", np.arcsinh, lambda x, ans: reciprocal(sqrt(add(x * x, 1))))
arccosh = unary("arccosh", np.arccosh, lambda x, ans: reciprocal(sqrt(subtract(x * x, 1))))
arctanh = unary("arctanh", np.arctanh, lambda x, ans: reciprocal(subtract(1, x * x)))

_erf_values = np.frompyfunc(math.erf, 1, 1)


def _erf(x: Any) -> Any:
    """The error function, elementwise, to double precision (NumPy has none: Python's own)."""
    a = np.asarray(x)
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    return np.asarray(_erf_values(a), dtype=dt)[()]


# d erf(x) / dx = 2 / sqrt(pi) * exp(-x**2): unigrad.nn.gelu's exact (erf) form is built on it
erf = unary("erf", _erf, lambda x, ans: multiply(2.0 / math.sqrt(math.pi), exp(negative(x * x))))

sign = nondiff("sign", np.sign)
floor = nondiff("floor", np.floor)
ceil = nondiff("ceil", np.ceil)
round = nondiff("round", np.round)


def _complex_sign(x: Any) -> np.ndarray:
    """x / |x| (0 at 0) as a constant; NumPy before 2.0 has another sign for complex numbers."""
    v = primal(x)
    m = np.abs(v)
    return np.where(m == 0, 0, v / np.where(m == 0, 1, m)).astype(np.result_type(v))


def _abs_vjp(g: Any, ans: Any, x: Any) -> Any:
    if np.iscomplexobj(primal(x)):
        return multiply(g, conj(_complex_sign(x)))
    return multiply(g, sign(x))


def _abs_jvp(t: Any, ans: Any, x: Any) -> Any:
    if np.iscomplexobj(primal(x)):
        return real(multiply(t, conj(_complex_sign(x))))
    return multiply(t, sign(x))


abs = Primitive("abs", np.abs).defvjp(_abs_vjp).defjvp(_abs_jvp)
absolute = abs

real = Primitive("real", np.real)
imag = Primitive("imag", np.imag)
conj = Primitive("conj", np.conj)
real.defvjp(lambda g, ans, x: g).defjvp(lambda t, ans, x: real(t))
imag.defvjp(lambda g, ans, x: multiply(g, -1j)).defjvp(lambda t, ans, x: imag(t))
conj.defvjp(lambda g, ans, x: conj(g)).defjvp(lambda t, ans, x: conj(t))


def square(x: Any) -> Any:
    """x * x."""
    return multiply(x, x)


def reciprocal(x: Any) -> Any:
    """1 / x."""
    return divide(1.0, x)


astype_p = Primitive("astype", lambda x, dtype: np.asarray(x).astype(dtype))


def _astype_back(g: Any, x: Any) -> Any:
    """A cotangent cast back to the dtype of ``x`` (the real part, for a real ``x``)."""
    want = np.result_type(primal(x))
    if np.iscomplexobj(primal(g)) and want.kind != "c":
        g = real(g)
    return astype_p(g, want)


astype_p.defvjp(lambda g, ans, x, dtype: _astype_back(g, x))
astype_p.defjvp(lambda t, ans, x, dtype: astype_p(t, dtype))


def astype(x: Any, dtype: Any) -> Any:
    """Cast to ``dtype`` (derivatives are cast back)."""
    return astype_p(x, np.dtype(dtype))


def _sigmoid_impl(x: Any) -> Any:
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1 / (1 + e), e / (1 + e)).astype(np.result_type(x))


def _softplus_impl(x: Any) -> Any:
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


sigmoid = unary("sigmoid", _sigmoid_impl, lambda x, ans: multiply(ans, subtract(1, ans)))
softplus = unary("softplus", _softplus_impl, lambda x, ans: sigmoid(x))


def _relu_mask(x: Any, ans: Any) -> np.ndarray:
    v = primal(x)
    return (v > 0).astype(np.result_type(v))  # relu'(0) = 0


relu = unary("relu", lambda x: np.maximum(x, 0).astype(np.result_type(x)), _relu_mask)


# ----------------------------------------------------------------- comparisons and selection


def _tie_weights(x: Any, y: Any, first_wins: bool) -> tuple[np.ndarray, np.ndarray]:
    xv, yv = primal(x), primal(y)
    dt = np.result_type(xv, yv)
    win = (xv > yv) if first_wins else (xv < yv)
    tie = xv == yv
    wx = np.where(win, 1.0, np.where(tie, 0.5, 0.0)).astype(dt)
    return wx, (1 - wx).astype(dt)


maximum = Primitive("maximum", np.maximum, broadcasts=True)
minimum = Primitive("minimum", np.minimum, broadcasts=True)
for _p, _first in ((maximum, True), (minimum, False)):

    def _make(first: bool, which: int) -> Callable[..., Any]:
        return lambda g, ans, x, y: multiply(g, _tie_weights(x, y, first)[which])

    _p.defvjp(_make(_first, 0), _make(_first, 1))
    _p.defjvp(_make(_first, 0), _make(_first, 1))


def _where_impl(cond: Any, x: Any, y: Any) -> Any:
    return np.where(cond, x, y)


where = Primitive("where", _where_impl, broadcasts=True)


def _where_rule(branch: int) -> Callable[..., Any]:
    def rule(g: Any, ans: Any, cond: Any, x: Any, y: Any) -> Any:
        c = primal(cond)
        z = np.zeros((), dtype=np.result_type(primal(g)))
        return where(c, g, z) if branch == 1 else where(c, z, g)

    return rule


where.defvjp(None, _where_rule(1), _where_rule(2))
where.defjvp(None, _where_rule(1), _where_rule(2))


def _clip_impl(x: Any, lo: Any = None, hi: Any = None) -> Any:
    return np.clip(x, lo, hi)


clip = Primitive("clip", _clip_impl)


def _clip_mask(x: Any, lo: Any, hi: Any) -> np.ndarray:
    v = primal(x)
    inside = np.ones(np.shape(v), dtype=bool)
    if lo is not None:
        inside &= v >= primal(lo)
    if hi is not None:
        inside &= v <= primal(hi)
    return inside.astype(np.result_type(v))


clip.defvjp(lambda g, ans, x, lo=None, hi=None: multiply(g, _clip_mask(x, lo, hi)))
clip.defjvp(lambda t, ans, x, lo=None, hi=None: multiply(t, _clip_mask(x, lo, hi)))


# ------------------------------------------------------------- comparisons and predicates
# Their results are plain boolean arrays: constants at every order, which reductions accept.

greater = nondiff("greater", np.greater)
greater_equal = nondiff("greater_equal", np.greater_equal)
less = nondiff("less", np.less)
less_equal = nondiff("less_equal", np.less_equal)
equal = nondiff("equal", np.equal)
not_equal = nondiff("not_equal", np.not_equal)
isfinite = nondiff("isfinite", np.isfinite)
isnan = nondiff("isnan", np.isnan)
isinf = nondiff("isinf", np.isinf)
signbit = nondiff("signbit", np.signbit)
logical_and = nondiff("logical_and", np.logical_and)
logical_or = nondiff("logical_or", np.logical_or)
logical_xor = nondiff("logical_xor", np.logical_xor)
logical_not = nondiff("logical_not", np.logical_not)


# ------------------------------------------------------------- issue 16: elementwise family
# Conventions (README, "Derivatives at kinks"): x % y has derivatives 1 and -(x // y); x // y
# has derivative 0; arctan2 and hypot have derivative 0 at the origin; fmax/fmin send the
# derivative to the value they return (NaN ignored) and split finite ties 0.5/0.5 (a tie of
# infinities, or two NaN, goes to x); logaddexp's derivatives are sigmoid(x - y) and
# sigmoid(y - x), the larger input's where one is not finite (x's at a tie or NaN);
# sinc's derivatives at 0 are exact at every order; nan_to_num's derivative is 0 where it
# replaces a value. The backends' conventions (backends/conventions/elementwise.py) match.


def _dtype(*xs: Any) -> np.dtype:
    return np.result_type(*(primal(x) for x in xs))


def _finite_mask(x: Any, dt: np.dtype) -> np.ndarray:
    return np.isfinite(primal(x)).astype(dt)


floor_divide = nondiff("floor_divide", np.floor_divide)


def _quotient(x: Any, y: Any) -> np.ndarray:
    """x // y, the quotient that goes with x % y (0 where it is not finite)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.floor_divide(primal(x), primal(y))
    return np.where(np.isfinite(q), q, 0).astype(_dtype(x, y))


remainder = Primitive("remainder", np.remainder, broadcasts=True)
_rem_x = lambda g, ans, x, y: multiply(g, _finite_mask(x, _dtype(x, y)))  # noqa: E731
_rem_y = lambda g, ans, x, y: negative(  # noqa: E731
    multiply(g, _quotient(x, y) * _finite_mask(y, _dtype(x, y)))
)
remainder.defvjp(_rem_x, _rem_y)
remainder.defjvp(_rem_x, _rem_y)
mod = remainder


def _origin(x: Any, y: Any) -> np.ndarray:
    return (primal(x) == 0) & (primal(y) == 0)


def _off_origin(d: Callable[[], Any], at: np.ndarray, dt: np.dtype) -> Any:
    """``d()`` with 0 at the origin (where its parts were fed values away from it)."""
    return d() if not at.any() else where(at, np.zeros((), dt), d())


def _arctan2_d(which: int) -> Callable[..., Any]:
    def rule(g: Any, ans: Any, y: Any, x: Any) -> Any:
        at = _origin(x, y)
        dt = _dtype(x, y)
        if at.any():
            x, y = where(at, np.ones((), dt), x), where(at, np.ones((), dt), y)
        r2 = add(multiply(x, x), multiply(y, y))
        part = (lambda: divide(x, r2)) if which == 0 else (lambda: negative(divide(y, r2)))
        return multiply(g, _off_origin(part, at, dt))

    return rule


arctan2 = Primitive("arctan2", np.arctan2, broadcasts=True)
arctan2.defvjp(_arctan2_d(0), _arctan2_d(1)).defjvp(_arctan2_d(0), _arctan2_d(1))


def _hypot_d(which: int) -> Callable[..., Any]:
    def rule(g: Any, ans: Any, x: Any, y: Any) -> Any:
        at = _origin(x, y)
        dt = _dtype(x, y)
        v = x if which == 0 else y
        h = ans if not at.any() else where(at, np.ones((), dt), ans)
        return multiply(g, _off_origin(lambda: divide(v, h), at, dt))

    return rule


hypot = Primitive("hypot", np.hypot, broadcasts=True)
hypot.defvjp(_hypot_d(0), _hypot_d(1)).defjvp(_hypot_d(0), _hypot_d(1))

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))
log2 = unary("log2", np.log2, lambda x, ans: reciprocal(multiply(x, _LN2)))
log10 = unary("log10", np.log10, lambda x, ans: reciprocal(multiply(x, _LN10)))
exp2 = unary("exp2", np.exp2, lambda x, ans: multiply(ans, _LN2))


def _logaddexp_weight(x: Any, y: Any, first: bool) -> Any:
    """d logaddexp(x, y) / dx (``first``) or / dy: sigmoid(x - y) or sigmoid(y - x); where an
    input is not finite, the larger input's 1 and 0 (x's at a tie or NaN)."""
    xv, yv = primal(x), primal(y)
    finite = np.isfinite(xv) & np.isfinite(yv)
    a, b = (x, y) if first else (y, x)
    if finite.all():
        return sigmoid(subtract(a, b))
    dt = _dtype(x, y)
    x_takes = np.where(xv < yv, 0, 1)
    hard = (x_takes if first else 1 - x_takes).astype(dt)
    d = where(finite, subtract(where(finite, a, 0), where(finite, b, 0)), np.zeros((), dt))
    return where(finite, sigmoid(d), hard)


logaddexp = Primitive("logaddexp", np.logaddexp, broadcasts=True)
_lae_x = lambda g, ans, x, y: multiply(g, _logaddexp_weight(x, y, True))  # noqa: E731
_lae_y = lambda g, ans, x, y: multiply(g, _logaddexp_weight(x, y, False))  # noqa: E731
logaddexp.defvjp(_lae_x, _lae_y).defjvp(_lae_x, _lae_y)


def logaddexp2(x: Any, y: Any) -> Any:
    """log2(2**x + 2**y), stable: logaddexp in base 2."""
    return divide(logaddexp(multiply(x, _LN2), multiply(y, _LN2)), _LN2)


def _nan_ignoring_weights(x: Any, y: Any, larger: bool) -> tuple[np.ndarray, np.ndarray]:
    xv, yv = primal(x), primal(y)
    dt = _dtype(x, y)
    x_nan, y_nan = np.isnan(xv), np.isnan(yv)
    ahead, behind = (xv > yv, xv < yv) if larger else (xv < yv, xv > yv)
    x_wins = ahead | (y_nan & ~x_nan)
    y_wins = behind | (x_nan & ~y_nan)
    # a finite tie splits 0.5/0.5; a tie of infinities (or two NaN) goes to x whole
    tie = np.where(np.isfinite(xv), 0.5, 1)
    wx = np.where(x_wins, 1, np.where(y_wins, 0, tie)).astype(dt)
    return wx, (1 - wx).astype(dt)


fmax = Primitive("fmax", np.fmax, broadcasts=True)
fmin = Primitive("fmin", np.fmin, broadcasts=True)
for _p, _larger in ((fmax, True), (fmin, False)):

    def _make_nan(larger: bool, which: int) -> Callable[..., Any]:
        return lambda g, ans, x, y: multiply(g, _nan_ignoring_weights(x, y, larger)[which])

    _p.defvjp(_make_nan(_larger, 0), _make_nan(_larger, 1))
    _p.defjvp(_make_nan(_larger, 0), _make_nan(_larger, 1))

fabs = abs


def sinc(x: Any) -> Any:
    """sin(pi x) / (pi x), 1 at 0: a Maclaurin series where |pi x| < 1, so that derivatives
    at and near 0 are exact at every order (odd ones exactly 0 at 0)."""
    from unigrad.backends.conventions.elementwise import sinc_series

    xv = primal(x)
    near = np.abs(xv) < 1 / np.pi
    u = multiply(x, np.pi)
    if not near.any():
        return divide(sin(u), u)
    dt = np.result_type(xv)
    far = where(near, np.ones((), dt), u)
    return where(near, sinc_series(multiply(u, u)), divide(sin(far), far))


def nan_to_num(
    x: Any,
    copy: bool = True,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Any:
    """NaN and infinities replaced by numbers (NumPy's defaults); derivative 0 where replaced."""
    xv = primal(x)
    if not hasattr(x, "trace"):
        return np.nan_to_num(xv, nan=nan, posinf=posinf, neginf=neginf)
    finite = np.isfinite(xv)
    if finite.all():
        return x
    return where(finite, x, np.nan_to_num(xv, nan=nan, posinf=posinf, neginf=neginf))


def deg2rad(x: Any) -> Any:
    """Degrees to radians."""
    return multiply(x, np.pi / 180)


def rad2deg(x: Any) -> Any:
    """Radians to degrees."""
    return multiply(x, 180 / np.pi)


radians, degrees = deg2rad, rad2deg


# np.<ufunc>(tracer) -> the engine's op of the same meaning (see operators.ArrayTracer).
UFUNCS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        *(add, subtract, multiply, divide, negative, power, square, reciprocal),
        *(exp, log, log1p, expm1, sqrt, sin, cos, tan, arcsin, arccos, arctan),
        *(sinh, cosh, tanh, arcsinh, arccosh, arctanh, sign, floor, ceil, maximum, minimum),
        *(greater, greater_equal, less, less_equal, equal, not_equal, isfinite, isnan, isinf),
        *(signbit, logical_and, logical_or, logical_xor, logical_not),
        *(remainder, floor_divide, arctan2, hypot, log2, log10, exp2, logaddexp, fmax, fmin),
    )
}
UFUNCS.update(true_divide=divide, absolute=abs, conjugate=conj, rint=round)
UFUNCS.update(logaddexp2=logaddexp2, fabs=abs, deg2rad=deg2rad, rad2deg=rad2deg)
UFUNCS.update(radians=deg2rad, degrees=rad2deg)

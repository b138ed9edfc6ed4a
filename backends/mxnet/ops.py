"""MXNet's table of ops behind ``unigrad.numpy`` (mxnet.np / npx), with NumPy dtype rules.

Every op records its name in ``USED`` so that second-order requests can be refused, by name,
for ops whose second derivative MXNet gets wrong (see second_order.py). Natively MXNet gives
maximum ties (1, 0), max-reduction ties [0, 1, 1], prod'([0, 2, 3]) = nan and nan for
(x**0)'(0); those are pinned here by exact compositions.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as onp
from mxnet import np as mnp
from mxnet import npx

npx.set_np()

USED: set[str] = set()


def asarray(x: Any, dtype: Any = None) -> Any:
    """An mxnet.np array; float64 stays float64 and Python floats become float64."""
    if isinstance(x, mnp.ndarray):
        return x if dtype is None else x.astype(onp.dtype(dtype).name)
    if isinstance(x, list | tuple) and builtins.any(isinstance(e, mnp.ndarray) for e in x):
        return mnp.stack([asarray(e, dtype) for e in x])
    a = onp.asarray(x, dtype=dtype)
    if a.dtype == onp.bool_:
        return mnp.array(a.astype(onp.bool_), dtype=onp.bool_)
    return mnp.array(a, dtype=a.dtype)


def _t(x: Any) -> Any:
    return x if isinstance(x, mnp.ndarray) else asarray(x)


def _pair(x: Any, y: Any) -> tuple[Any, Any]:
    xt, yt = isinstance(x, mnp.ndarray), isinstance(y, mnp.ndarray)
    if xt and not yt and isinstance(y, int | float):
        return x, y
    if yt and not xt and isinstance(x, int | float):
        return x, y
    x, y = _t(x), _t(y)
    if x.dtype != y.dtype:
        common = onp.result_type(x.dtype, y.dtype).name
        x, y = x.astype(common), y.astype(common)
    return x, y


def _arrays(x: Any, y: Any) -> tuple[Any, Any]:
    """Both operands as arrays of one dtype; a Python scalar takes the other's dtype."""
    if isinstance(y, int | float) and isinstance(x, mnp.ndarray):
        return x, mnp.full(x.shape if x.ndim == 0 else (), y, dtype=x.dtype)
    if isinstance(x, int | float) and isinstance(y, mnp.ndarray):
        return mnp.full(y.shape if y.ndim == 0 else (), x, dtype=y.dtype), y
    return _pair(_t(x), _t(y))


def _named(name: str, fn: Any) -> Any:
    def op(*args: Any, **kwargs: Any) -> Any:
        USED.add(name)
        return fn(*args, **kwargs)

    op.__name__ = name
    return op


def _unary(name: str, fn: Any) -> Any:
    return _named(name, lambda x: fn(_t(x)))


def _binary(name: str, fn: Any) -> Any:
    return _named(name, lambda x, y: fn(*_pair(x, y)))


def zeros(shape: Any, dtype: Any = float) -> Any:
    return mnp.zeros(shape, dtype=onp.dtype(dtype).name)


def ones(shape: Any, dtype: Any = float) -> Any:
    return mnp.ones(shape, dtype=onp.dtype(dtype).name)


def arange(*args: Any, dtype: Any = None) -> Any:
    return asarray(onp.arange(*args, dtype=dtype))


def eye(n: int, m: int | None = None, dtype: Any = float) -> Any:
    return mnp.eye(n, m, dtype=onp.dtype(dtype).name)


def zeros_like(x: Any, dtype: Any = None) -> Any:
    x = _t(x)
    return mnp.zeros(x.shape, dtype=onp.dtype(dtype).name if dtype else x.dtype)


def ones_like(x: Any, dtype: Any = None) -> Any:
    x = _t(x)
    return mnp.ones(x.shape, dtype=onp.dtype(dtype).name if dtype else x.dtype)


def astype(x: Any, dtype: Any) -> Any:
    return _t(x).astype(onp.dtype(dtype).name)


def stop_gradient(x: Any) -> Any:
    return _t(x).detach()


def _sg(x: Any) -> Any:
    return x.detach()


add = _binary("add", mnp.add)
subtract = _binary("subtract", mnp.subtract)
multiply = _binary("multiply", mnp.multiply)
divide = _binary("divide", mnp.true_divide)
true_divide = divide
negative = _unary("negative", mnp.negative)


def power(x: Any, y: Any) -> Any:
    """x ** y; x ** 0 for a constant 0 is the constant 1 (derivative 0, also at x = 0)."""
    USED.add("power")
    if isinstance(y, int | float) and y == 0:
        return ones_like(x)
    x, y = _pair(x, y)
    return x**y


square = _unary("square", mnp.square)
reciprocal = _unary("reciprocal", mnp.reciprocal)
exp = _unary("exp", mnp.exp)
log = _unary("log", mnp.log)
log1p = _unary("log1p", mnp.log1p)
expm1 = _unary("expm1", mnp.expm1)
sqrt = _unary("sqrt", mnp.sqrt)
sin = _unary("sin", mnp.sin)
cos = _unary("cos", mnp.cos)
tan = _unary("tan", mnp.tan)
arcsin = _unary("arcsin", mnp.arcsin)
arccos = _unary("arccos", mnp.arccos)
arctan = _unary("arctan", mnp.arctan)
sinh = _unary("sinh", mnp.sinh)
cosh = _unary("cosh", mnp.cosh)
tanh = _unary("tanh", mnp.tanh)
arcsinh = _unary("arcsinh", mnp.arcsinh)
arccosh = _unary("arccosh", mnp.arccosh)
arctanh = _unary("arctanh", mnp.arctanh)
abs = _unary("abs", mnp.abs)
absolute = abs
sign = _unary("sign", lambda x: _sg(mnp.sign(x)))
floor = _unary("floor", lambda x: _sg(mnp.floor(x)))
ceil = _unary("ceil", lambda x: _sg(mnp.ceil(x)))
round = _unary("round", lambda x: _sg(mnp.round(x)))
sigmoid = _unary("sigmoid", npx.sigmoid)
softplus = _unary("softplus", lambda x: npx.activation(x, act_type="softrelu"))
relu = _unary("relu", npx.relu)


def _tie_split(x: Any, y: Any, first_wins: bool) -> Any:
    """max/min with derivative 0.5 to each side at a tie; the value is MXNet's exactly."""
    x, y = _arrays(x, y)
    sg = _sg
    value = mnp.maximum(sg(x), sg(y)) if first_wins else mnp.minimum(sg(x), sg(y))
    win = (sg(x) > sg(y)) if first_wins else (sg(x) < sg(y))
    tie = sg(x) == sg(y)
    wx = win.astype(x.dtype) + 0.5 * tie.astype(x.dtype)
    return value + (x - sg(x)) * wx + (y - sg(y)) * (1 - wx)


def maximum(x: Any, y: Any) -> Any:
    USED.add("maximum")
    return _tie_split(x, y, True)


def minimum(x: Any, y: Any) -> Any:
    USED.add("minimum")
    return _tie_split(x, y, False)


def clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    """Derivative 1 on the closed interval [lo, hi] (MXNet's clip gives that natively)."""
    USED.add("clip")
    return mnp.clip(_t(x), lo, hi)


def where(cond: Any, x: Any, y: Any) -> Any:
    USED.add("where")
    x, y = _arrays(x, y)
    return mnp.where(_t(cond).astype(onp.bool_), x, y)


def _ax(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    USED.add("sum")
    return mnp.sum(_t(x), axis=_ax(axis), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    USED.add("mean")
    return mnp.mean(_t(x), axis=_ax(axis), keepdims=keepdims)


def _norm_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axes)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Product with the exact derivative at zeros (MXNet's own gives nan there).

    The value is MXNet's product; the derivative is the product of the other elements,
    built without division from two exclusive cumulative products.
    """
    USED.add("prod")
    x = _t(x)
    sg = _sg
    value = mnp.prod(sg(x), axis=_ax(axis), keepdims=True)
    others = sg(asarray(_prod_others(x.asnumpy(), _norm_axes(axis, x.ndim))))
    out = value + mnp.sum((x - sg(x)) * others, axis=_ax(axis), keepdims=True)
    if keepdims:
        return out
    axes = _norm_axes(axis, x.ndim)
    return out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def _prod_others(x: onp.ndarray, axes: tuple[int, ...]) -> onp.ndarray:
    keep = [i for i in range(x.ndim) if i not in axes]
    perm = keep + list(axes)
    xt = onp.transpose(x, perm)
    flat = xt.reshape((*xt.shape[: len(keep)], -1))
    ones_ = onp.ones((*flat.shape[:-1], 1), dtype=x.dtype)
    left = onp.cumprod(onp.concatenate([ones_, flat[..., :-1]], axis=-1), axis=-1)
    right = onp.cumprod(onp.concatenate([ones_, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return onp.transpose((left * right).reshape(xt.shape), onp.argsort(perm))


def _extreme(x: Any, axis: Any, keepdims: bool, fn: Any) -> Any:
    """max/min reductions whose derivative is split evenly among tied elements."""
    x = _t(x)
    sg = _sg
    value = fn(sg(x), axis=_ax(axis), keepdims=True)
    hit = (sg(x) == value).astype(x.dtype)
    weights = sg(hit / mnp.sum(hit, axis=_ax(axis), keepdims=True))
    out = value + mnp.sum((x - sg(x)) * weights, axis=_ax(axis), keepdims=True)
    if keepdims:
        return out
    axes = _norm_axes(axis, x.ndim)
    return out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    USED.add("max")
    return _extreme(x, axis, keepdims, mnp.max)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    USED.add("min")
    return _extreme(x, axis, keepdims, mnp.min)


amax, amin = max, min


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    USED.add("var")
    x = _t(x)
    m = mnp.mean(x, axis=_ax(axis), keepdims=True)
    n = int(onp.prod([x.shape[a] for a in _norm_axes(axis, x.ndim)], dtype=int))
    return mnp.sum((x - m) ** 2, axis=_ax(axis), keepdims=keepdims) / (n - ddof)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return sqrt(var(x, axis, ddof, keepdims))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    USED.add("logsumexp")
    x = _t(x)
    m = _sg(mnp.max(x, axis=_ax(axis), keepdims=True))
    out = mnp.log(mnp.sum(mnp.exp(x - m), axis=_ax(axis), keepdims=True)) + m
    if keepdims:
        return out
    axes = _norm_axes(axis, x.ndim)
    return out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


def reshape(x: Any, shape: Any) -> Any:
    USED.add("reshape")
    return _t(x).reshape((shape,) if isinstance(shape, int) else tuple(shape))


def transpose(x: Any, axes: Any = None) -> Any:
    USED.add("transpose")
    return mnp.transpose(_t(x), axes)


def swapaxes(x: Any, a: int, b: int) -> Any:
    USED.add("swapaxes")
    return mnp.swapaxes(_t(x), a, b)


def moveaxis(x: Any, source: int, destination: int) -> Any:
    USED.add("moveaxis")
    return mnp.moveaxis(_t(x), source, destination)


def expand_dims(x: Any, axis: int) -> Any:
    USED.add("expand_dims")
    return mnp.expand_dims(_t(x), axis)


def squeeze(x: Any, axis: Any = None) -> Any:
    USED.add("squeeze")
    return mnp.squeeze(_t(x), axis=_ax(axis))


def ravel(x: Any) -> Any:
    USED.add("reshape")
    return _t(x).reshape(-1)


def broadcast_to(x: Any, shape: Any) -> Any:
    USED.add("broadcast_to")
    return mnp.broadcast_to(_t(x), tuple(shape))


def stack(xs: Any, axis: int = 0) -> Any:
    USED.add("stack")
    return mnp.stack([_t(x) for x in xs], axis=axis)


def concatenate(xs: Any, axis: int = 0) -> Any:
    USED.add("concatenate")
    return mnp.concatenate([_t(x) for x in xs], axis=axis)


def diagonal(x: Any) -> Any:
    USED.add("diagonal")
    return mnp.diagonal(_t(x), axis1=-2, axis2=-1)


def matmul(a: Any, b: Any) -> Any:
    """a @ b. Two matrices go through FullyConnected, which this MXNet build runs 1.3-1.9x
    faster than dot (benchmarks/bench_mxnet.py); other ranks through np.matmul."""
    USED.add("matmul")
    a, b = _pair(_t(a), _t(b))
    if a.ndim == 2 and b.ndim == 2:
        return npx.fully_connected(a, b.T, no_bias=True, num_hidden=b.shape[1], flatten=False)
    return mnp.matmul(a, b)


def dot(a: Any, b: Any) -> Any:
    USED.add("dot")
    a, b = _pair(_t(a), _t(b))
    return mnp.dot(a, b)


def outer(a: Any, b: Any) -> Any:
    USED.add("outer")
    a, b = _pair(_t(a), _t(b))
    return mnp.outer(a.reshape(-1), b.reshape(-1))


def inner(a: Any, b: Any) -> Any:
    USED.add("inner")
    a, b = _pair(_t(a), _t(b))
    return mnp.sum(a * b, axis=-1)


def einsum(subscripts: str, *operands: Any) -> Any:
    USED.add("einsum")
    return mnp.einsum(subscripts, *[_t(o) for o in operands])


def trace(x: Any) -> Any:
    USED.add("trace")
    return mnp.trace(_t(x), axis1=-2, axis2=-1)


greater = _binary("greater", mnp.greater)
greater_equal = _binary("greater_equal", mnp.greater_equal)
less = _binary("less", mnp.less)
less_equal = _binary("less_equal", mnp.less_equal)
equal = _binary("equal", mnp.equal)
not_equal = _binary("not_equal", mnp.not_equal)
isfinite = _unary("isfinite", mnp.isfinite)
isnan = _unary("isnan", mnp.isnan)
isinf = _unary("isinf", mnp.isinf)


def _norm2(x: Any, axis: Any, keepdims: bool) -> Any:
    s = mnp.sum(x * x, axis=_ax(axis), keepdims=keepdims)
    zero = s == 0
    return mnp.where(zero, mnp.zeros_like(s), mnp.sqrt(mnp.where(zero, mnp.ones_like(s), s)))


class linalg:
    """``unigrad.numpy.linalg`` on MXNet; the 2-norm has derivative 0 at 0."""

    @staticmethod
    def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
        USED.add("norm")
        x = _t(x)
        matrix = (axis is None and x.ndim == 2 and ord is not None) or (
            isinstance(axis, tuple) and len(axis) == 2
        )
        if ord in (None, "fro") or (ord == 2 and not matrix):
            return _norm2(x, axis, keepdims)
        if matrix:
            from unigrad.errors import UnsupportedError

            raise UnsupportedError(
                "mxnet", f"linalg.norm(ord={ord!r}) of a matrix", "use ord=None or 'fro'"
            )
        if ord == 1:
            return mnp.sum(mnp.abs(x), axis=_ax(axis), keepdims=keepdims)
        if ord == onp.inf:
            return max(mnp.abs(x), axis, keepdims)
        if ord == -onp.inf:
            return min(mnp.abs(x), axis, keepdims)
        if ord == 0:
            nz = (x != 0).astype(x.dtype)
            return _sg(mnp.sum(nz, axis=_ax(axis), keepdims=keepdims))
        p = float(ord)
        return mnp.sum(mnp.abs(x) ** p, axis=_ax(axis), keepdims=keepdims) ** (1.0 / p)

    @staticmethod
    def det(x: Any) -> Any:
        USED.add("det")
        return mnp.linalg.det(_t(x))

    @staticmethod
    def inv(x: Any) -> Any:
        USED.add("inv")
        return mnp.linalg.inv(_t(x))

    @staticmethod
    def solve(a: Any, b: Any) -> Any:
        USED.add("solve")
        a, b = _pair(_t(a), _t(b))
        if b.ndim == 1:
            return mnp.linalg.solve(a, b.reshape((-1, 1))).reshape(-1)
        return mnp.linalg.solve(a, b)

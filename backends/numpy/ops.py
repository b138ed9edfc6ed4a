"""The numpy engine's table of ops: every name in ``unigrad.numpy``, plus tracer operators."""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends.numpy.contractions import (
    det,
    dot,
    einsum,
    inner,
    inv,
    matmul,
    matrix_transpose,
    norm,
    outer,
    solve,
    trace,
)
from unigrad.backends.numpy.elementwise import (
    abs,
    absolute,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    ceil,
    clip,
    cos,
    cosh,
    divide,
    exp,
    expm1,
    floor,
    log,
    log1p,
    maximum,
    minimum,
    multiply,
    negative,
    nondiff,
    power,
    relu,
    round,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    subtract,
    tan,
    tanh,
    where,
)
from unigrad.backends.numpy.structural import (
    broadcast_to,
    concatenate,
    expand_batched,
    expand_dims,
    getitem,
    logsumexp,
    max,
    mean,
    min,
    prod,
    reshape,
    stack,
    std,
    sum,
    transpose,
    unbroadcast,
    var,
)
from unigrad.backends.numpy.tracer import Primitive, Tracer, primal

true_divide = divide
amax, amin = max, min


def stop_gradient(x: Any) -> Any:
    """A constant copy of ``x`` at every order of differentiation."""
    return primal(x)


def asarray(x: Any, dtype: Any = None) -> Any:
    """An array from ``x``; traced values pass through (cast when ``dtype`` differs)."""
    if isinstance(x, Tracer):
        return x if dtype is None or np.dtype(dtype) == x.dtype else astype(x, dtype)
    return np.asarray(x, dtype=dtype)


astype_p = Primitive("astype", lambda x, dtype: np.asarray(x).astype(dtype))
astype_p.defvjp(lambda g, ans, x, dtype: astype_p(g, np.result_type(primal(x))))
astype_p.defjvp(lambda t, ans, x, dtype: astype_p(t, dtype))


def astype(x: Any, dtype: Any) -> Any:
    """Cast to ``dtype`` (derivatives are cast back)."""
    return astype_p(x, np.dtype(dtype))


def zeros(shape: Any, dtype: Any = float) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


def ones(shape: Any, dtype: Any = float) -> np.ndarray:
    return np.ones(shape, dtype=dtype)


def arange(*args: Any, dtype: Any = None) -> np.ndarray:
    return np.arange(*args, dtype=dtype)


def eye(n: int, m: int | None = None, dtype: Any = float) -> np.ndarray:
    return np.eye(n, m, dtype=dtype)


def zeros_like(x: Any, dtype: Any = None) -> np.ndarray:
    v = primal(x)
    return np.zeros(np.shape(v), dtype=dtype or np.result_type(v))


def ones_like(x: Any, dtype: Any = None) -> np.ndarray:
    v = primal(x)
    return np.ones(np.shape(v), dtype=dtype or np.result_type(v))


def square(x: Any) -> Any:
    return multiply(x, x)


def reciprocal(x: Any) -> Any:
    return divide(1.0, x)


def swapaxes(x: Any, a: int, b: int) -> Any:
    axes = list(range(np.ndim(x)))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, tuple(axes))


def moveaxis(x: Any, source: int, destination: int) -> Any:
    nd = np.ndim(x)
    order = [i for i in range(nd) if i != source % nd]
    order.insert(destination % nd, source % nd)
    return transpose(x, tuple(order))


def squeeze(x: Any, axis: Any = None) -> Any:
    shape = np.shape(x)
    if axis is None:
        return reshape(x, tuple(n for n in shape if n != 1))
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def ravel(x: Any) -> Any:
    return reshape(x, (-1,))


def diagonal(x: Any) -> Any:
    n = builtin_min(np.shape(x)[-1], np.shape(x)[-2])
    idx = np.arange(n)
    return getitem(x, (Ellipsis, idx, idx))


def builtin_min(a: int, b: int) -> int:
    return a if a < b else b


greater = nondiff("greater", np.greater)
greater_equal = nondiff("greater_equal", np.greater_equal)
less = nondiff("less", np.less)
less_equal = nondiff("less_equal", np.less_equal)
equal = nondiff("equal", np.equal)
not_equal = nondiff("not_equal", np.not_equal)
isfinite = nondiff("isfinite", np.isfinite)
isnan = nondiff("isnan", np.isnan)
isinf = nondiff("isinf", np.isinf)
shape = np.shape
ndim = np.ndim


def size(x: Any) -> int:
    return int(np.size(primal(x)))


class linalg:
    """``unigrad.numpy.linalg`` on the numpy engine."""

    norm = staticmethod(norm)
    det = staticmethod(det)
    inv = staticmethod(inv)
    solve = staticmethod(solve)


# ------------------------------------------------------------------ operators on tracers


def _index(idx: Any) -> Any:
    if isinstance(idx, tuple):
        return tuple(_index(i) for i in idx)
    if isinstance(idx, Tracer):
        return primal(idx)
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx


def _bind_operators() -> None:
    T = Tracer
    T.__add__ = lambda a, b: add(a, b)
    T.__radd__ = lambda a, b: add(b, a)
    T.__sub__ = lambda a, b: subtract(a, b)
    T.__rsub__ = lambda a, b: subtract(b, a)
    T.__mul__ = lambda a, b: multiply(a, b)
    T.__rmul__ = lambda a, b: multiply(b, a)
    T.__truediv__ = lambda a, b: divide(a, b)
    T.__rtruediv__ = lambda a, b: divide(b, a)
    T.__pow__ = lambda a, b: power(a, b)
    T.__rpow__ = lambda a, b: power(b, a)
    T.__matmul__ = lambda a, b: matmul(a, b)
    T.__rmatmul__ = lambda a, b: matmul(b, a)
    T.__neg__ = lambda a: negative(a)
    T.__pos__ = lambda a: a
    T.__abs__ = lambda a: abs(a)
    T.__getitem__ = lambda a, idx: getitem(a, _index(idx))
    T.__lt__ = lambda a, b: np.less(primal(a), primal(b))
    T.__le__ = lambda a, b: np.less_equal(primal(a), primal(b))
    T.__gt__ = lambda a, b: np.greater(primal(a), primal(b))
    T.__ge__ = lambda a, b: np.greater_equal(primal(a), primal(b))
    T.__eq__ = lambda a, b: np.equal(primal(a), primal(b))
    T.__ne__ = lambda a, b: np.not_equal(primal(a), primal(b))
    T.__iter__ = lambda a: (getitem(a, i) for i in range(len(a)))
    T.T = property(lambda a: transpose(a))
    T.mT = property(lambda a: matrix_transpose(a))
    T.reshape = lambda a, *shape: reshape(a, shape[0] if len(shape) == 1 else shape)
    T.transpose = lambda a, *axes: transpose(a, (axes[0] if len(axes) == 1 else axes) or None)

    # np.sum(tracer) and friends call these methods with NumPy's dtype= and out= keywords.
    def reduction(fn: Any) -> Any:
        def method(
            a: Any,
            axis: Any = None,
            dtype: Any = None,
            out: Any = None,
            keepdims: bool = False,
            **unused: Any,
        ) -> Any:
            if out is not None:
                raise TypeError(f"{fn.__name__}(out=...) cannot hold a traced value")
            r = fn(a, axis, keepdims=keepdims)
            return r if dtype is None else astype(r, dtype)

        return method

    T.sum, T.mean, T.prod = reduction(sum), reduction(mean), reduction(prod)
    T.max, T.min = reduction(max), reduction(min)
    T.dot = lambda a, b: dot(a, b)
    T.astype = lambda a, dtype: astype(a, dtype)
    T.ravel = lambda a: ravel(a)
    T.squeeze = lambda a, axis=None: squeeze(a, axis)


_bind_operators()

# np.<ufunc>(tracer) routes here through Tracer.__array_ufunc__.
UFUNCS = {
    "add": add,
    "subtract": subtract,
    "multiply": multiply,
    "divide": divide,
    "true_divide": divide,
    "negative": negative,
    "power": power,
    "exp": exp,
    "log": log,
    "log1p": log1p,
    "expm1": expm1,
    "sqrt": sqrt,
    "square": square,
    "sin": sin,
    "cos": cos,
    "tan": tan,
    "arcsin": arcsin,
    "arccos": arccos,
    "arctan": arctan,
    "sinh": sinh,
    "cosh": cosh,
    "tanh": tanh,
    "arcsinh": arcsinh,
    "arccosh": arccosh,
    "arctanh": arctanh,
    "absolute": abs,
    "sign": sign,
    "floor": floor,
    "ceil": ceil,
    "maximum": maximum,
    "minimum": minimum,
    "matmul": matmul,
}

__all__ = [
    "absolute",
    "amax",
    "amin",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "broadcast_to",
    "ceil",
    "clip",
    "concatenate",
    "cos",
    "cosh",
    "det",
    "dot",
    "einsum",
    "exp",
    "expand_batched",
    "expand_dims",
    "expm1",
    "floor",
    "inner",
    "inv",
    "log",
    "log1p",
    "logsumexp",
    "maximum",
    "minimum",
    "outer",
    "prod",
    "relu",
    "round",
    "sigmoid",
    "sinh",
    "softplus",
    "solve",
    "stack",
    "std",
    "tan",
    "tanh",
    "trace",
    "true_divide",
    "unbroadcast",
    "var",
    "where",
]

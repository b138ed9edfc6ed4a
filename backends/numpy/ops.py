"""The numpy engine's table of ops: every name in ``unigrad.numpy``, and a few the adapter uses.

The ops are defined in ``elementwise``, ``structural``, ``reductions``, ``contractions`` and
``linalg``; this table adds the creation functions and NumPy's array-like arguments: an op
given a (nested) list or tuple that holds traced values treats it as the array it spells
(``unp.sum([x, y])``, ``unp.asarray([[x, x], [x**2, x]])``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from unigrad.backends.numpy import contractions, elementwise, reductions, structural
from unigrad.backends.numpy import linalg as linalg_ops
from unigrad.backends.numpy.elementwise import astype, nondiff
from unigrad.backends.numpy.operators import UFUNCS
from unigrad.backends.numpy.structural import (
    broadcast_to,
    concatenate,
    expand_batched,
    expand_dims,
    getitem,
    holds_tracer,
    pack,
    reshape,
    stack,
    transpose,
    unbroadcast,
)
from unigrad.backends.numpy.tracer import Tracer, primal


def _array_like(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` taking (nested) lists and tuples as the arrays they spell, as NumPy does.

    The first argument (the array an op works on) is converted whenever it is a list or
    tuple; a later one only when it holds traced values (a tuple of axes stays a tuple).
    """

    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        for k, a in enumerate(args):
            if type(a) in (list, tuple) and (k == 0 or holds_tracer(a)):
                args = tuple(
                    pack(b) if type(b) in (list, tuple) and (j == 0 or holds_tracer(b)) else b
                    for j, b in enumerate(args)
                )
                break
        return fn(*args, **kwargs)

    return op


abs = _array_like(elementwise.abs)
add = _array_like(elementwise.add)
arccos = _array_like(elementwise.arccos)
arccosh = _array_like(elementwise.arccosh)
arcsin = _array_like(elementwise.arcsin)
arcsinh = _array_like(elementwise.arcsinh)
arctan = _array_like(elementwise.arctan)
arctanh = _array_like(elementwise.arctanh)
ceil = _array_like(elementwise.ceil)
clip = _array_like(elementwise.clip)
conj = _array_like(elementwise.conj)
cos = _array_like(elementwise.cos)
cosh = _array_like(elementwise.cosh)
divide = _array_like(elementwise.divide)
equal = _array_like(elementwise.equal)
exp = _array_like(elementwise.exp)
expm1 = _array_like(elementwise.expm1)
floor = _array_like(elementwise.floor)
greater = _array_like(elementwise.greater)
greater_equal = _array_like(elementwise.greater_equal)
imag = _array_like(elementwise.imag)
isfinite = _array_like(elementwise.isfinite)
isinf = _array_like(elementwise.isinf)
isnan = _array_like(elementwise.isnan)
less = _array_like(elementwise.less)
less_equal = _array_like(elementwise.less_equal)
log = _array_like(elementwise.log)
log1p = _array_like(elementwise.log1p)
maximum = _array_like(elementwise.maximum)
minimum = _array_like(elementwise.minimum)
multiply = _array_like(elementwise.multiply)
negative = _array_like(elementwise.negative)
not_equal = _array_like(elementwise.not_equal)
power = _array_like(elementwise.power)
real = _array_like(elementwise.real)
reciprocal = _array_like(elementwise.reciprocal)
relu = _array_like(elementwise.relu)
round = _array_like(elementwise.round)
sigmoid = _array_like(elementwise.sigmoid)
sign = _array_like(elementwise.sign)
sin = _array_like(elementwise.sin)
sinh = _array_like(elementwise.sinh)
softplus = _array_like(elementwise.softplus)
sqrt = _array_like(elementwise.sqrt)
square = _array_like(elementwise.square)
subtract = _array_like(elementwise.subtract)
tan = _array_like(elementwise.tan)
tanh = _array_like(elementwise.tanh)
where = _array_like(elementwise.where)
diagonal = _array_like(structural.diagonal)
logsumexp = _array_like(reductions.logsumexp)
max = _array_like(reductions.max)
mean = _array_like(reductions.mean)
min = _array_like(reductions.min)
moveaxis = _array_like(structural.moveaxis)
prod = _array_like(reductions.prod)
ravel = _array_like(structural.ravel)
squeeze = _array_like(structural.squeeze)
std = _array_like(reductions.std)
sum = _array_like(structural.sum)
swapaxes = _array_like(structural.swapaxes)
var = _array_like(reductions.var)
det = _array_like(linalg_ops.det)
dot = _array_like(contractions.dot)
inner = _array_like(contractions.inner)
inv = _array_like(linalg_ops.inv)
matmul = _array_like(contractions.matmul)
matrix_transpose = _array_like(contractions.matrix_transpose)
norm = _array_like(linalg_ops.norm)
outer = _array_like(contractions.outer)
solve = _array_like(linalg_ops.solve)
trace = _array_like(contractions.trace)
# issue 16: elementwise
arctan2 = _array_like(elementwise.arctan2)
deg2rad = _array_like(elementwise.deg2rad)
degrees = _array_like(elementwise.degrees)
exp2 = _array_like(elementwise.exp2)
fabs = _array_like(elementwise.fabs)
floor_divide = _array_like(elementwise.floor_divide)
fmax = _array_like(elementwise.fmax)
fmin = _array_like(elementwise.fmin)
hypot = _array_like(elementwise.hypot)
log10 = _array_like(elementwise.log10)
log2 = _array_like(elementwise.log2)
logaddexp = _array_like(elementwise.logaddexp)
logaddexp2 = _array_like(elementwise.logaddexp2)
nan_to_num = _array_like(elementwise.nan_to_num)
rad2deg = _array_like(elementwise.rad2deg)
radians = _array_like(elementwise.radians)
remainder = _array_like(elementwise.remainder)
mod = remainder
sinc = _array_like(elementwise.sinc)

# einsum's first argument is its subscripts (or, in the sublist form, an operand).
einsum = contractions.einsum
absolute = abs
true_divide = divide
amax, amin = max, min


def stop_gradient(x: Any) -> Any:
    """A constant copy of ``x`` at every order of differentiation."""
    return primal(x)


def asarray(x: Any, dtype: Any = None) -> Any:
    """An array from ``x``: traced values pass through (cast when ``dtype`` differs), and
    (nested) lists holding traced values are stacked into one traced array."""
    if isinstance(x, Tracer):
        return x if dtype is None or np.dtype(dtype) == x.dtype else astype(x, dtype)
    if type(x) in (list, tuple) and holds_tracer(x):
        a = pack(x)
        return a if dtype is None or np.dtype(dtype) == a.dtype else astype(a, dtype)
    return np.asarray(x, dtype=dtype)


array = asarray


def zeros(shape: Any, dtype: Any = float) -> np.ndarray:
    """An array of zeros (float64 unless ``dtype`` is given)."""
    return np.zeros(shape, dtype=dtype)


def ones(shape: Any, dtype: Any = float) -> np.ndarray:
    """An array of ones (float64 unless ``dtype`` is given)."""
    return np.ones(shape, dtype=dtype)


def arange(*args: Any, dtype: Any = None) -> np.ndarray:
    """Evenly spaced values, as numpy.arange."""
    return np.arange(*args, dtype=dtype)


def eye(n: int, m: int | None = None, dtype: Any = float) -> np.ndarray:
    """The identity matrix."""
    return np.eye(n, m, dtype=dtype)


def zeros_like(x: Any, dtype: Any = None) -> np.ndarray:
    """Zeros with the shape and dtype of ``x`` (a constant)."""
    v = primal(pack(x))
    return np.zeros(np.shape(v), dtype=dtype or np.result_type(v))


def ones_like(x: Any, dtype: Any = None) -> np.ndarray:
    """Ones with the shape and dtype of ``x`` (a constant)."""
    v = primal(pack(x))
    return np.ones(np.shape(v), dtype=dtype or np.result_type(v))


def size(x: Any) -> int:
    """The number of elements of ``x``."""
    return int(np.size(primal(pack(x))))


shape = np.shape
ndim = np.ndim


class linalg:
    """``unigrad.numpy.linalg`` on the numpy engine."""

    norm = staticmethod(norm)
    det = staticmethod(det)
    inv = staticmethod(inv)
    solve = staticmethod(solve)


__all__ = [
    "UFUNCS",
    "abs",
    "absolute",
    "add",
    "amax",
    "amin",
    "arange",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "array",
    "asarray",
    "astype",
    "broadcast_to",
    "ceil",
    "clip",
    "concatenate",
    "conj",
    "cos",
    "cosh",
    "deg2rad",
    "degrees",
    "det",
    "diagonal",
    "divide",
    "dot",
    "einsum",
    "equal",
    "exp",
    "exp2",
    "expand_batched",
    "expand_dims",
    "expm1",
    "eye",
    "fabs",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "getitem",
    "greater",
    "greater_equal",
    "hypot",
    "imag",
    "inner",
    "inv",
    "isfinite",
    "isinf",
    "isnan",
    "less",
    "less_equal",
    "linalg",
    "log",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logaddexp2",
    "logsumexp",
    "matmul",
    "matrix_transpose",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mod",
    "moveaxis",
    "multiply",
    "nan_to_num",
    "ndim",
    "negative",
    "nondiff",
    "norm",
    "not_equal",
    "ones",
    "ones_like",
    "outer",
    "power",
    "primal",
    "prod",
    "rad2deg",
    "radians",
    "ravel",
    "real",
    "reciprocal",
    "relu",
    "remainder",
    "reshape",
    "round",
    "shape",
    "sigmoid",
    "sign",
    "sin",
    "sinc",
    "sinh",
    "size",
    "softplus",
    "solve",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "stop_gradient",
    "subtract",
    "sum",
    "swapaxes",
    "tan",
    "tanh",
    "trace",
    "transpose",
    "true_divide",
    "unbroadcast",
    "var",
    "where",
    "zeros",
    "zeros_like",
]

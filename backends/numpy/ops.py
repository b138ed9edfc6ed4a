"""The numpy engine's table of ops: every name in ``unigrad.numpy``, and a few the adapter uses.

The ops are defined in ``elementwise``, ``structural``, ``reductions``, ``contractions`` and
``linalg``; this table adds the creation functions and NumPy's array-like arguments: an op
given a (nested) list or tuple that holds traced values treats it as the array it spells
(``unp.sum([x, y])``, ``unp.asarray([[x, x], [x**2, x]])``).
"""

from __future__ import annotations

import functools
import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from unigrad.backends import layout
from unigrad.backends.numpy import (
    contractions,
    decompositions,
    elementwise,
    rearrange,
    reductions,
    scans,
    sorting,
    structural,
)
from unigrad.backends.numpy import linalg as linalg_ops
from unigrad.backends.numpy.elementwise import astype, nondiff
from unigrad.backends.numpy.operators import FUNCTIONS, UFUNCS
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

from unigrad.errors import ArgumentError


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
erf = _array_like(elementwise.erf)  # for unigrad.nn.gelu (not in unigrad.numpy)
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
# issue 16: structure
tensordot = _array_like(contractions.tensordot)
kron = _array_like(contractions.kron)
cross = _array_like(contractions.cross)
repeat = _array_like(rearrange.repeat)
tile = _array_like(rearrange.tile)
tril = _array_like(rearrange.tril)
triu = _array_like(rearrange.triu)
diag = _array_like(rearrange.diag)
diagonal = _array_like(rearrange.diagonal)
trace = _array_like(rearrange.trace)
roll = _array_like(rearrange.roll)
flip = _array_like(rearrange.flip)
fliplr = _array_like(rearrange.fliplr)
flipud = _array_like(rearrange.flipud)
rot90 = _array_like(rearrange.rot90)
pad = _array_like(rearrange.pad)
append = _array_like(rearrange.append)
split = _array_like(rearrange.split)
array_split = _array_like(rearrange.array_split)
hsplit = _array_like(rearrange.hsplit)
vsplit = _array_like(rearrange.vsplit)
dsplit = _array_like(rearrange.dsplit)
rollaxis = _array_like(rearrange.rollaxis)
cumsum = _array_like(scans.cumsum)
cumprod = _array_like(scans.cumprod)
diff = _array_like(scans.diff)
sort = _array_like(sorting.sort)
argsort = _array_like(sorting.argsort)
partition = _array_like(sorting.partition)
nonzero = _array_like(sorting.nonzero)
# these take sequences of arrays (each may be a list), or several arrays
hstack, vstack, row_stack = rearrange.hstack, rearrange.vstack, rearrange.row_stack
column_stack = rearrange.column_stack
atleast_1d, atleast_2d, atleast_3d = (
    rearrange.atleast_1d,
    rearrange.atleast_2d,
    rearrange.atleast_3d,
)
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
around = round
conjugate = conj
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


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``, differentiable in both."""
    num = layout.numpy_says("linspace", operator.index, num)
    if num < 0:
        raise ArgumentError(
            f"unigrad.numpy.linspace: number of samples, {num}, must be non-negative"
        )
    start, stop = pack(start), pack(stop)
    dt = np.result_type(primal(start), primal(stop), 1.0)
    start, stop = astype(start, dt), astype(stop, dt)
    delta = elementwise.subtract(stop, start)
    sd = np.shape(delta)
    steps = np.arange(num, dtype=dt).reshape((-1,) + (1,) * len(sd))
    div = num - 1 if endpoint else num
    step = elementwise.divide(delta, div) if div > 0 else elementwise.multiply(delta, np.nan)
    y = elementwise.add(elementwise.multiply(steps, step if div > 0 else delta), start)
    if endpoint and num > 1:
        last = broadcast_to(stop, sd) if np.shape(stop) != sd else stop
        y = concatenate([getitem(y, slice(0, num - 1)), expand_dims(last, 0)], axis=0)
    if axis != 0:
        y = structural.moveaxis(y, 0, axis)
    if dtype is not None:
        if np.dtype(dtype).kind in "iu":
            y = elementwise.floor(y)
        y = astype(y, dtype)
    return (y, step) if retstep else y


def _constant_reduction(name: str, fn: Callable[..., Any], gives: str) -> Callable[..., Any]:
    def op(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        if out is not None:
            raise ArgumentError(f"unigrad.numpy.{name}(out=...): arrays cannot be written in place")
        return fn(primal(pack(a)), axis, keepdims=keepdims)

    op.__name__ = name
    op.__doc__ = f"NumPy's {name}: {gives}, a constant."
    return op


argmax = _constant_reduction("argmax", np.argmax, "integer indices")
argmin = _constant_reduction("argmin", np.argmin, "integer indices")
any = _constant_reduction("any", np.any, "a boolean array")
all = _constant_reduction("all", np.all, "a boolean array")


def copy(a: Any) -> Any:
    """``a`` itself: traced values never change, so a copy is the same value."""
    return pack(a) if type(a) in (list, tuple) else a


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
    # issue 16: linalg
    slogdet = staticmethod(_array_like(decompositions.slogdet))
    cholesky = staticmethod(_array_like(decompositions.cholesky))
    eigh = staticmethod(_array_like(decompositions.eigh))
    svd = staticmethod(_array_like(decompositions.svd))
    qr = staticmethod(_array_like(decompositions.qr))
    pinv = staticmethod(_array_like(decompositions.pinv))


__all__ = [
    "UFUNCS",
    "abs",
    "absolute",
    "add",
    "all",
    "amax",
    "amin",
    "any",
    "append",
    "arange",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "argmax",
    "argmin",
    "argsort",
    "around",
    "array",
    "array_split",
    "asarray",
    "astype",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_to",
    "ceil",
    "clip",
    "column_stack",
    "concatenate",
    "conj",
    "conjugate",
    "copy",
    "cos",
    "cosh",
    "cross",
    "cumprod",
    "cumsum",
    "deg2rad",
    "degrees",
    "det",
    "diag",
    "diagonal",
    "diff",
    "divide",
    "dot",
    "dsplit",
    "einsum",
    "equal",
    "exp",
    "exp2",
    "expand_batched",
    "expand_dims",
    "expm1",
    "eye",
    "fabs",
    "flip",
    "fliplr",
    "flipud",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "getitem",
    "greater",
    "greater_equal",
    "hsplit",
    "hstack",
    "hypot",
    "imag",
    "inner",
    "inv",
    "isfinite",
    "isinf",
    "isnan",
    "kron",
    "less",
    "less_equal",
    "linalg",
    "linspace",
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
    "nonzero",
    "norm",
    "not_equal",
    "ones",
    "ones_like",
    "outer",
    "pad",
    "partition",
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
    "repeat",
    "reshape",
    "roll",
    "rollaxis",
    "rot90",
    "round",
    "row_stack",
    "shape",
    "sigmoid",
    "sign",
    "sin",
    "sinc",
    "sinh",
    "size",
    "softplus",
    "solve",
    "sort",
    "split",
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
    "tensordot",
    "tile",
    "trace",
    "transpose",
    "tril",
    "triu",
    "true_divide",
    "unbroadcast",
    "var",
    "vsplit",
    "vstack",
    "where",
    "zeros",
    "zeros_like",
]


# NumPy's functions called on traced values (np.dot(x, y)) run the op of the same name; these
# names are the engine's helpers, not NumPy's
_NOT_NUMPY = frozenset(
    {"UFUNCS", "expand_batched", "getitem", "nondiff", "pack", "primal", "unbroadcast"}
)
_this = sys.modules[__name__]
FUNCTIONS.update({n: getattr(_this, n) for n in __all__ if n not in _NOT_NUMPY})
FUNCTIONS.update({f"linalg.{n}": getattr(linalg, n) for n in ("norm", "det", "inv", "solve")})

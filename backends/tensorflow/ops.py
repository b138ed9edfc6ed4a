"""TensorFlow's table of ops behind ``unigrad.numpy``, with NumPy dtype rules and pinned kinks.

TF does not promote dtypes and turns Python floats into float32; here Python floats are
float64 unless they meet a tensor (then they take its dtype), and mixed float dtypes promote
as in NumPy. Natively TF gives maximum ties (1, 0), norm'(0) = nan, (x**0)'(0) = nan and None
for floor; those are pinned here.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import tensorflow as tf
from unigrad.backends.tensorflow.backend import _is_tf


def asarray(x: Any, dtype: Any = None) -> Any:
    """A tensor; Python floats become float64."""
    if _is_tf(x):
        return x if dtype is None else tf.cast(x, np.dtype(dtype).name)
    if isinstance(x, list | tuple) and builtins.any(_is_tf(e) for e in x):
        return tf.stack([asarray(e, dtype) for e in x])
    return tf.convert_to_tensor(np.asarray(x, dtype=dtype))


def _t(x: Any) -> Any:
    return x if _is_tf(x) else asarray(x)


def _pair(x: Any, y: Any) -> tuple[Any, Any]:
    """Two tensors of one dtype: Python scalars take the tensor's dtype; arrays promote."""
    xt, yt = _is_tf(x), _is_tf(y)
    if xt and not yt and isinstance(y, int | float):
        return x, tf.constant(y, dtype=x.dtype)
    if yt and not xt and isinstance(x, int | float):
        return tf.constant(x, dtype=y.dtype), y
    x, y = _t(x), _t(y)
    if x.dtype != y.dtype:
        common = np.result_type(x.dtype.as_numpy_dtype, y.dtype.as_numpy_dtype).name
        x, y = tf.cast(x, common), tf.cast(y, common)
    return x, y


def _unary(fn: Any) -> Any:
    return lambda x: fn(_t(x))


def _binary(fn: Any) -> Any:
    return lambda x, y: fn(*_pair(x, y))


def zeros(shape: Any, dtype: Any = float) -> Any:
    return tf.zeros(shape, dtype=np.dtype(dtype).name)


def ones(shape: Any, dtype: Any = float) -> Any:
    return tf.ones(shape, dtype=np.dtype(dtype).name)


def arange(*args: Any, dtype: Any = None) -> Any:
    return asarray(np.arange(*args, dtype=dtype))


def eye(n: int, m: int | None = None, dtype: Any = float) -> Any:
    return tf.eye(n, m, dtype=np.dtype(dtype).name)


def zeros_like(x: Any, dtype: Any = None) -> Any:
    return tf.zeros_like(_t(x), dtype=np.dtype(dtype).name if dtype else None)


def ones_like(x: Any, dtype: Any = None) -> Any:
    return tf.ones_like(_t(x), dtype=np.dtype(dtype).name if dtype else None)


def astype(x: Any, dtype: Any) -> Any:
    return tf.cast(_t(x), np.dtype(dtype).name)


add = _binary(tf.add)
subtract = _binary(tf.subtract)
multiply = _binary(tf.multiply)
divide = _binary(tf.divide)
true_divide = divide
negative = _unary(tf.negative)


def power(x: Any, y: Any) -> Any:
    """x ** y; x ** 0 for a constant 0 is the constant 1 (derivative 0, also at x = 0)."""
    if isinstance(y, int | float) and y == 0:
        return tf.ones_like(_t(x))
    return tf.pow(*_pair(x, y))


square = _unary(tf.square)
reciprocal = _unary(tf.math.reciprocal)
exp = _unary(tf.exp)
log = _unary(tf.math.log)
log1p = _unary(tf.math.log1p)
expm1 = _unary(tf.math.expm1)


def sqrt(x: Any) -> Any:
    """Square root whose derivative lets NaN flow like everywhere else.

    tf.sqrt's gradient turns 0 * inf into 0, so where(x > 0, sqrt(x), 0) would get 0 at x = 0
    where every other framework gets nan. The value is tf.sqrt's exactly; the derivative is
    that of pow(x, 0.5) (the stop_gradient term is zero in value).
    """
    x = _t(x)
    p = tf.pow(x, tf.constant(0.5, x.dtype))
    return p + tf.stop_gradient(tf.sqrt(x) - p)


sin = _unary(tf.sin)
cos = _unary(tf.cos)
tan = _unary(tf.tan)
arcsin = _unary(tf.asin)
arccos = _unary(tf.acos)
arctan = _unary(tf.atan)
sinh = _unary(tf.sinh)
cosh = _unary(tf.cosh)
tanh = _unary(tf.tanh)
arcsinh = _unary(tf.asinh)
arccosh = _unary(tf.acosh)
arctanh = _unary(tf.atanh)
abs = _unary(tf.abs)
absolute = abs
sign = _unary(lambda x: tf.stop_gradient(tf.sign(x)))
floor = _unary(lambda x: tf.stop_gradient(tf.floor(x)))
ceil = _unary(lambda x: tf.stop_gradient(tf.math.ceil(x)))
round = _unary(lambda x: tf.stop_gradient(tf.round(x)))
sigmoid = _unary(tf.sigmoid)
softplus = _unary(tf.math.softplus)
relu = _unary(tf.nn.relu)  # TF: relu'(0) = 0


def _tie_split(x: Any, y: Any, first_wins: bool) -> Any:
    """max/min whose derivative at a tie is 0.5 to each side, value exactly TF's.

    The value is tf.maximum of constants; x - stop_gradient(x) is exactly zero but carries
    the derivative, weighted by constant masks.
    """
    x, y = _pair(x, y)
    sg = tf.stop_gradient
    value = tf.maximum(sg(x), sg(y)) if first_wins else tf.minimum(sg(x), sg(y))
    win = (x > y) if first_wins else (x < y)
    wx = sg(tf.where(win, 1.0, tf.where(tf.equal(x, y), 0.5, 0.0)))
    wx = tf.cast(wx, x.dtype)
    return value + (x - sg(x)) * wx + (y - sg(y)) * (1 - wx)


def maximum(x: Any, y: Any) -> Any:
    return _tie_split(x, y, True)


def minimum(x: Any, y: Any) -> Any:
    return _tie_split(x, y, False)


def clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    """Derivative 1 on the closed interval [lo, hi], as tf.clip_by_value gives."""
    x = _t(x)
    lo = x.dtype.min if lo is None else lo
    hi = x.dtype.max if hi is None else hi
    return tf.clip_by_value(x, tf.cast(lo, x.dtype), tf.cast(hi, x.dtype))


def where(cond: Any, x: Any, y: Any) -> Any:
    x, y = _pair(x, y)
    c = tf.cast(_t(cond), tf.bool)
    shape = tf.broadcast_static_shape(tf.broadcast_static_shape(c.shape, x.shape), y.shape)
    return tf.where(tf.broadcast_to(c, shape), x, y)


def _ax(axis: Any) -> Any:
    return list(axis) if isinstance(axis, tuple | list) else axis


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return tf.reduce_sum(_t(x), axis=_ax(axis), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return tf.reduce_mean(_t(x), axis=_ax(axis), keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return tf.reduce_prod(_t(x), axis=_ax(axis), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return tf.reduce_max(_t(x), axis=_ax(axis), keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return tf.reduce_min(_t(x), axis=_ax(axis), keepdims=keepdims)


amax, amin = max, min


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    x = _t(x)
    m = tf.reduce_mean(x, axis=_ax(axis), keepdims=True)
    n = tf.cast(tf.size(x) // tf.size(m), x.dtype)
    return tf.reduce_sum(tf.square(x - m), axis=_ax(axis), keepdims=keepdims) / (n - ddof)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return tf.sqrt(var(x, axis, ddof, keepdims))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return tf.reduce_logsumexp(_t(x), axis=_ax(axis), keepdims=keepdims)


def reshape(x: Any, shape: Any) -> Any:
    return tf.reshape(_t(x), shape)


def transpose(x: Any, axes: Any = None) -> Any:
    return tf.transpose(_t(x), perm=axes)


def swapaxes(x: Any, a: int, b: int) -> Any:
    x = _t(x)
    perm = list(range(x.shape.rank))
    perm[a], perm[b] = perm[b], perm[a]
    return tf.transpose(x, perm)


def moveaxis(x: Any, source: int, destination: int) -> Any:
    x = _t(x)
    nd = x.shape.rank
    order = [i for i in range(nd) if i != source % nd]
    order.insert(destination % nd, source % nd)
    return tf.transpose(x, order)


def expand_dims(x: Any, axis: int) -> Any:
    return tf.expand_dims(_t(x), axis)


def squeeze(x: Any, axis: Any = None) -> Any:
    return tf.squeeze(_t(x), axis=_ax(axis))


def ravel(x: Any) -> Any:
    return tf.reshape(_t(x), [-1])


def broadcast_to(x: Any, shape: Any) -> Any:
    return tf.broadcast_to(_t(x), shape)


def stack(xs: Any, axis: int = 0) -> Any:
    return tf.stack([_t(x) for x in xs], axis=axis)


def concatenate(xs: Any, axis: int = 0) -> Any:
    return tf.concat([_t(x) for x in xs], axis=axis)


def diagonal(x: Any) -> Any:
    return tf.linalg.diag_part(_t(x))


def matmul(a: Any, b: Any) -> Any:
    a, b = _pair(a, b)
    if a.shape.rank == 1 and b.shape.rank == 1:
        return tf.reduce_sum(a * b)
    if a.shape.rank == 1:
        return tf.squeeze(tf.matmul(a[None, :], b), -2)
    if b.shape.rank == 1:
        return tf.squeeze(tf.matmul(a, b[:, None]), -1)
    return tf.matmul(a, b)


def dot(a: Any, b: Any) -> Any:
    a, b = _pair(a, b)
    if a.shape.rank == 0 or b.shape.rank == 0:
        return a * b
    if b.shape.rank <= 2:
        return matmul(a, b)
    return tf.tensordot(a, b, axes=[[a.shape.rank - 1], [b.shape.rank - 2]])


def outer(a: Any, b: Any) -> Any:
    a, b = _pair(a, b)
    return tf.reshape(a, [-1, 1]) * tf.reshape(b, [1, -1])


def inner(a: Any, b: Any) -> Any:
    a, b = _pair(a, b)
    return tf.reduce_sum(a * b, axis=-1)


def einsum(subscripts: str, *operands: Any) -> Any:
    ops = [_t(o) for o in operands]
    common = np.result_type(*[o.dtype.as_numpy_dtype for o in ops]).name
    return tf.einsum(subscripts, *[tf.cast(o, common) for o in ops])


def trace(x: Any) -> Any:
    return tf.linalg.trace(_t(x))


greater = _binary(tf.greater)
greater_equal = _binary(tf.greater_equal)
less = _binary(tf.less)
less_equal = _binary(tf.less_equal)
equal = _binary(tf.equal)
not_equal = _binary(tf.not_equal)
isfinite = _unary(tf.math.is_finite)
isnan = _unary(tf.math.is_nan)
isinf = _unary(tf.math.is_inf)


def stop_gradient(x: Any) -> Any:
    return tf.stop_gradient(_t(x))


def _norm2(x: Any, axis: Any, keepdims: bool) -> Any:
    s = tf.reduce_sum(x * x, axis=_ax(axis), keepdims=keepdims)
    zero = tf.equal(s, 0)
    return tf.where(zero, tf.zeros_like(s), tf.sqrt(tf.where(zero, tf.ones_like(s), s)))


class linalg:
    """``unigrad.numpy.linalg`` on TensorFlow; the 2-norm has derivative 0 at 0."""

    @staticmethod
    def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
        x = _t(x)
        matrix = (axis is None and x.shape.rank == 2 and ord is not None) or (
            isinstance(axis, tuple) and len(axis) == 2
        )
        if ord in (None, "fro") or (ord == 2 and not matrix):
            return _norm2(x, axis, keepdims)
        if matrix:
            from unigrad.errors import UnsupportedError

            raise UnsupportedError(
                "tensorflow", f"linalg.norm(ord={ord!r}) of a matrix", "use ord=None or 'fro'"
            )
        if ord == 1:
            return tf.reduce_sum(tf.abs(x), axis=_ax(axis), keepdims=keepdims)
        if ord == np.inf:
            return tf.reduce_max(tf.abs(x), axis=_ax(axis), keepdims=keepdims)
        if ord == -np.inf:
            return tf.reduce_min(tf.abs(x), axis=_ax(axis), keepdims=keepdims)
        if ord == 0:
            nz = tf.cast(tf.not_equal(x, 0), x.dtype)
            return tf.stop_gradient(tf.reduce_sum(nz, axis=_ax(axis), keepdims=keepdims))
        p = float(ord)
        s = tf.reduce_sum(tf.abs(x) ** p, axis=_ax(axis), keepdims=keepdims)
        return s ** (1.0 / p)

    @staticmethod
    def det(x: Any) -> Any:
        return tf.linalg.det(_t(x))

    @staticmethod
    def inv(x: Any) -> Any:
        return tf.linalg.inv(_t(x))

    @staticmethod
    def solve(a: Any, b: Any) -> Any:
        a, b = _pair(a, b)
        if b.shape.rank == 1:
            return tf.squeeze(tf.linalg.solve(a, b[:, None]), -1)
        return tf.linalg.solve(a, b)

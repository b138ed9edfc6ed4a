"""PyTorch's table of ops behind ``unigrad.numpy``, with the kink conventions pinned.

Natively, torch already gives abs'(0) = 0, maximum ties 0.5/0.5, amax ties split evenly, clamp
boundaries 1, vector_norm'(0) = 0 and exact prod gradients with zeros; the rest is pinned here.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import torch

_DT = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}


def _dtype(d: Any) -> Any:
    if d is None or isinstance(d, torch.dtype):
        return d
    if d is float:
        return torch.float64
    return _DT[np.dtype(d).name]


def asarray(x: Any, dtype: Any = None) -> torch.Tensor:
    """Convert to a tensor; Python floats become float64."""
    if isinstance(x, torch.Tensor):
        return x if dtype is None else x.to(_dtype(dtype))
    if isinstance(x, list | tuple) and any(isinstance(e, torch.Tensor) for e in x):
        return stack([asarray(e, dtype) for e in x])
    a = np.asarray(x, dtype=dtype)
    if not a.flags.writeable or not a.flags.c_contiguous:
        a = np.ascontiguousarray(a).copy()
    return torch.as_tensor(a)


def _t(x: Any) -> Any:
    """Tensors pass; NumPy arrays and scalars become tensors."""
    return x if isinstance(x, torch.Tensor) else asarray(x)


def _pair(x: Any, y: Any) -> tuple[Any, Any]:
    """Make at least one operand a tensor; Python scalars stay weakly typed."""
    if isinstance(x, torch.Tensor):
        return x, (y if isinstance(y, torch.Tensor | int | float) else asarray(y))
    if isinstance(y, torch.Tensor):
        return (x if isinstance(x, int | float) else asarray(x)), y
    return asarray(x), asarray(y)


def _unary(fn: Any) -> Any:
    return lambda x: fn(_t(x))


def _binary(fn: Any) -> Any:
    def op(x: Any, y: Any) -> Any:
        return fn(*_pair(x, y))

    return op


zeros = lambda shape, dtype=float: torch.zeros(shape, dtype=_dtype(dtype))  # noqa: E731
ones = lambda shape, dtype=float: torch.ones(shape, dtype=_dtype(dtype))  # noqa: E731


def arange(*args: Any, dtype: Any = None) -> torch.Tensor:
    return asarray(np.arange(*args, dtype=dtype))


def eye(n: int, m: int | None = None, dtype: Any = float) -> torch.Tensor:
    return torch.eye(n, m if m is not None else n, dtype=_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
    return torch.zeros_like(_t(x), dtype=_dtype(dtype))


def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
    return torch.ones_like(_t(x), dtype=_dtype(dtype))


def astype(x: Any, dtype: Any) -> torch.Tensor:
    return _t(x).to(_dtype(dtype))


add = _binary(torch.add)
subtract = _binary(torch.sub)
multiply = _binary(torch.mul)
divide = _binary(torch.true_divide)
true_divide = divide
negative = _unary(torch.neg)


def power(x: Any, y: Any) -> Any:
    """x ** y; x ** 0 for a constant 0 is the constant 1 (derivative 0, also at x = 0)."""
    if isinstance(y, int | float) and y == 0:
        return torch.ones_like(_t(x))
    return torch.pow(*_pair(x, y))


square = _unary(torch.square)
reciprocal = _unary(torch.reciprocal)
exp = _unary(torch.exp)
log = _unary(torch.log)
log1p = _unary(torch.log1p)
expm1 = _unary(torch.expm1)
sqrt = _unary(torch.sqrt)
sin = _unary(torch.sin)
cos = _unary(torch.cos)
tan = _unary(torch.tan)
arcsin = _unary(torch.asin)
arccos = _unary(torch.acos)
arctan = _unary(torch.atan)
sinh = _unary(torch.sinh)
cosh = _unary(torch.cosh)
tanh = _unary(torch.tanh)
arcsinh = _unary(torch.asinh)
arccosh = _unary(torch.acosh)
arctanh = _unary(torch.atanh)
abs = _unary(torch.abs)
absolute = abs
sign = _unary(lambda x: torch.sign(x).detach())
floor = _unary(lambda x: torch.floor(x).detach())
ceil = _unary(lambda x: torch.ceil(x).detach())
round = _unary(lambda x: torch.round(x).detach())
sigmoid = _unary(torch.sigmoid)
softplus = _unary(torch.nn.functional.softplus)


def relu(x: Any) -> Any:
    return torch.relu(_t(x))  # torch: relu'(0) = 0


def _tensors(x: Any, y: Any) -> tuple[Any, Any]:
    """Both operands as tensors; a Python scalar takes the other operand's dtype."""
    x, y = _pair(x, y)
    if not isinstance(x, torch.Tensor):
        x = torch.tensor(x, dtype=y.dtype)
    if not isinstance(y, torch.Tensor):
        y = torch.tensor(y, dtype=x.dtype)
    return x, y


def maximum(x: Any, y: Any) -> Any:
    return torch.maximum(*_tensors(x, y))  # torch: ties 0.5/0.5


def minimum(x: Any, y: Any) -> Any:
    return torch.minimum(*_tensors(x, y))


def clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    """torch.clamp: derivative 1 on the closed interval."""
    return torch.clamp(_t(x), lo, hi)


def where(cond: Any, x: Any, y: Any) -> Any:
    c = _t(cond).to(torch.bool)
    x, y = _pair(x, y)
    return torch.where(c, x, y)


def _axis(axis: Any) -> Any:
    if axis is None:
        return None
    return tuple(axis) if isinstance(axis, list | tuple) else axis


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = _t(x)
    return (
        torch.sum(x)
        if axis is None and not keepdims
        else torch.sum(
            x, dim=_axis(axis) if axis is not None else tuple(range(x.ndim)), keepdim=keepdims
        )
    )


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = _t(x)
    dims = _axis(axis) if axis is not None else tuple(range(x.ndim))
    return torch.mean(x, dim=dims, keepdim=keepdims) if x.ndim else x


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = _t(x)
    if axis is None:
        out = torch.prod(x.reshape(-1))
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in sorted((a % x.ndim for a in axes), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims)
    return x


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = _t(x)
    return torch.amax(x, dim=_axis(axis) if axis is not None else (), keepdim=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = _t(x)
    return torch.amin(x, dim=_axis(axis) if axis is not None else (), keepdim=keepdims)


amax, amin = max, min


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    x = _t(x)
    dims = _axis(axis) if axis is not None else tuple(range(x.ndim))
    return torch.var(x, dim=dims, correction=ddof, keepdim=keepdims)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return torch.sqrt(var(x, axis, ddof, keepdims))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = _t(x)
    dims = _axis(axis) if axis is not None else tuple(range(x.ndim))
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


def reshape(x: Any, shape: Any) -> Any:
    return torch.reshape(_t(x), (shape,) if isinstance(shape, int) else tuple(shape))


def transpose(x: Any, axes: Any = None) -> Any:
    x = _t(x)
    return x.permute(*(axes if axes is not None else range(x.ndim - 1, -1, -1)))


def swapaxes(x: Any, a: int, b: int) -> Any:
    return torch.swapaxes(_t(x), a, b)


def moveaxis(x: Any, source: int, destination: int) -> Any:
    return torch.movedim(_t(x), source, destination)


def expand_dims(x: Any, axis: int) -> Any:
    return torch.unsqueeze(_t(x), axis)


def squeeze(x: Any, axis: Any = None) -> Any:
    x = _t(x)
    return torch.squeeze(x) if axis is None else torch.squeeze(x, _axis(axis))


def ravel(x: Any) -> Any:
    return torch.reshape(_t(x), (-1,))


def broadcast_to(x: Any, shape: Any) -> Any:
    return torch.broadcast_to(_t(x), tuple(shape))


def stack(xs: Any, axis: int = 0) -> Any:
    return torch.stack([_t(x) for x in xs], dim=axis)


def concatenate(xs: Any, axis: int = 0) -> Any:
    return torch.cat([_t(x) for x in xs], dim=axis)


def diagonal(x: Any) -> Any:
    return torch.diagonal(_t(x), dim1=-2, dim2=-1)


def matmul(a: Any, b: Any) -> Any:
    return torch.matmul(_t(a), _t(b))


def dot(a: Any, b: Any) -> Any:
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2:
        return torch.matmul(a, b)
    return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))


def outer(a: Any, b: Any) -> Any:
    return torch.outer(_t(a).reshape(-1), _t(b).reshape(-1))


def inner(a: Any, b: Any) -> Any:
    return torch.sum(_t(a) * _t(b), dim=-1)


def einsum(subscripts: str, *operands: Any) -> Any:
    return torch.einsum(subscripts, *[_t(o) for o in operands])


def trace(x: Any) -> Any:
    return torch.sum(diagonal(x), dim=-1)


greater = _binary(torch.gt)
greater_equal = _binary(torch.ge)
less = _binary(torch.lt)
less_equal = _binary(torch.le)
equal = _binary(torch.eq)
not_equal = _binary(torch.ne)
isfinite = _unary(torch.isfinite)
isnan = _unary(torch.isnan)
isinf = _unary(torch.isinf)


def stop_gradient(x: Any) -> Any:
    return _t(x).detach()


class linalg:
    """``unigrad.numpy.linalg`` on torch."""

    @staticmethod
    def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
        x = _t(x)
        matrix = (axis is None and x.ndim == 2 and ord is not None) or (
            isinstance(axis, tuple) and len(axis) == 2
        )
        if ord in (None, "fro") or (ord == 2 and not matrix):
            dims = _axis(axis) if axis is not None else tuple(range(x.ndim))
            return torch.linalg.vector_norm(x, 2, dim=dims, keepdim=keepdims)
        if matrix:
            from unigrad.errors import UnsupportedError

            raise UnsupportedError(
                "torch", f"linalg.norm(ord={ord!r}) of a matrix", "use ord=None or 'fro'"
            )
        if ord == 0:
            return sum((x != 0).to(x.dtype).detach(), axis, keepdims)
        dims = _axis(axis) if axis is not None else tuple(range(x.ndim))
        return torch.linalg.vector_norm(x, float(ord), dim=dims, keepdim=keepdims)

    @staticmethod
    def det(x: Any) -> Any:
        return torch.linalg.det(_t(x))

    @staticmethod
    def inv(x: Any) -> Any:
        return torch.linalg.inv(_t(x))

    @staticmethod
    def solve(a: Any, b: Any) -> Any:
        a, b = _t(a), _t(b)
        if b.ndim == 1:
            return torch.linalg.solve(a, b.unsqueeze(-1)).squeeze(-1)
        return torch.linalg.solve(a, b)


_ = builtins  # the builtins stay reachable under their own names where shadowed above

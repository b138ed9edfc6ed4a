"""Ops whose results are constants or pass values through, written once for every backend:
``argmax``, ``argmin``, ``any``, ``all`` (integer and boolean answers: derivative-free), ``copy``,
and ``real``, ``imag``, ``conj``, which on real arrays are the array itself or zeros (as in
NumPy), whatever the framework's own op does with a real array (torch's ``imag`` raises).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from unigrad.backends.conventions.core import PINS, _arr, _axes, _op

from unigrad.errors import ArgumentTypeError


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise ArgumentTypeError(f"unigrad.numpy.{name}(out=...): arrays cannot be written in place")


def _index_of(name: str) -> Callable[..., Any]:
    def op(o: Any, a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        _no_out(name, out)
        b = o.backend
        x = b.stop_gradient(_arr(o, a))
        ndim = len(b.shape(x))
        if axis is None:
            x, ax = o.reshape(x, (-1,)), 0
        else:
            ax = int(axis) % max(ndim, 1)
        r = b.asarray(o.own(name)(x, ax), "int64")
        if not b.dtype_name(x).startswith(("int", "uint", "bool")):
            r = _first_nan_wins(o, x, ax, r)
        if keepdims:
            r = o.reshape(r, (1,) * ndim) if axis is None else o.expand_dims(r, ax)
        return b.stop_gradient(r)

    op.__name__ = name
    op.__doc__ = (
        f"NumPy's {name}: the first index of the extreme element, a constant (int64); a NaN "
        "is the extreme (its first index), as in NumPy."
    )
    return op


def _first_nan_wins(o: Any, x: Any, axis: int, r: Any) -> Any:
    """``r`` where ``x`` has no NaN along ``axis``, else the first NaN's index (NumPy's rule;
    TensorFlow's own argmax skips NaN). The first index by a min over positions, not by an
    argmax of the mask: TensorFlow does not promise the first of tied maxima."""
    nan = o.isnan(x)
    shape = o.backend.shape(x)
    n = shape[axis]
    where = [n if i == axis else 1 for i in range(len(shape))]
    positions = o.reshape(o.arange(n, dtype="float64"), tuple(where))  # float: MXNet's where
    first = o.backend.asarray(o.min(o.where(nan, positions, float(n)), axis=axis), "int64")
    return o.where(o.any(nan, axis=axis), first, r)


def _truth(name: str) -> Callable[..., Any]:
    def op(o: Any, a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        _no_out(name, out)
        b = o.backend
        x = b.stop_gradient(_arr(o, a))
        shape = b.shape(x)
        nonzero = o.not_equal(x, 0)
        axes = _axes(axis, len(shape))
        if not axes:
            return b.stop_gradient(nonzero)
        count = o.sum(o.astype(nonzero, "int64"), axis=axes, keepdims=keepdims)
        if name == "any":
            return b.stop_gradient(o.greater(count, 0))
        return b.stop_gradient(o.equal(count, int(np.prod([shape[i] for i in axes]))))

    op.__name__ = name
    op.__doc__ = f"NumPy's {name} over ``axis``: a constant boolean array."
    return op


for _name in ("argmax", "argmin"):
    PINS[_name] = _index_of(_name)
for _name in ("any", "all"):
    PINS[_name] = _truth(_name)


def _is_complex(o: Any, x: Any) -> bool:
    return o.backend.dtype_name(x).startswith("complex")


@_op("real")
def real(o: Any, x: Any) -> Any:
    """The real part: ``x`` itself for a real array."""
    x = _arr(o, x)
    return o.own("real")(x) if _is_complex(o, x) else x


@_op("imag")
def imag(o: Any, x: Any) -> Any:
    """The imaginary part: zeros (a constant) for a real array."""
    x = _arr(o, x)
    return o.own("imag")(x) if _is_complex(o, x) else o.zeros_like(x)


@_op("conj")
def conj(o: Any, x: Any) -> Any:
    """The complex conjugate: ``x`` itself for a real array."""
    x = _arr(o, x)
    return o.own("conj")(x) if _is_complex(o, x) else x


PINS["conjugate"] = conj


@_op("copy")
def copy(o: Any, x: Any, order: str = "K") -> Any:
    """``x`` itself: unigrad's arrays are never changed in place, so a copy is the same value."""
    return _arr(o, x)

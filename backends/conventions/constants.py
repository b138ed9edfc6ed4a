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
            r = o.own(name)(o.reshape(x, (-1,)), 0)
            if keepdims:
                r = o.reshape(r, (1,) * ndim)
        else:
            r = o.own(name)(x, int(axis))
            if keepdims:
                r = o.expand_dims(r, int(axis))
        return b.stop_gradient(b.asarray(r, "int64"))

    op.__name__ = name
    op.__doc__ = f"NumPy's {name}: the first index of the extreme element, a constant (int64)."
    return op


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

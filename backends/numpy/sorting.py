"""Sorting (issue 16's structure family): argsort, sort, partition and nonzero.

sort's derivative is the permutation of a stable sort: tied elements keep their order (NaN
last, as NumPy's ``kind="stable"``), and the sorted array is a gather at those positions, so
the rule nests to any order. argsort and nonzero are integer constants.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends import layout
from unigrad.backends.numpy.elementwise import nondiff
from unigrad.backends.numpy.rearrange import constant, gather
from unigrad.backends.numpy.structural import pack, reshape
from unigrad.backends.numpy.tracer import primal

from unigrad.errors import ArgumentError, ArgumentTypeError


def _sort_input(name: str, a: Any, axis: Any, order: Any) -> tuple[Any, int]:
    if order is not None:
        raise ArgumentTypeError(f"unigrad.numpy.{name}(order=...) sorts structured arrays only")
    x = pack(a)
    if axis is None:
        return reshape(x, (-1,)), 0
    return x, layout.normalize_axis(name, axis, np.ndim(x))


def _stable_argsort(x: Any, axis: int) -> np.ndarray:
    return np.argsort(primal(x), axis=axis, kind="stable").astype(np.int64)


def argsort(
    a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None
) -> np.ndarray:
    """The indices that sort ``a`` along ``axis``, always stable (ties keep their order, NaN
    last): a constant integer array."""
    x, axis = _sort_input("argsort", a, axis, order)
    return _stable_argsort(x, axis)


def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None):
    """``a`` sorted along ``axis``; its derivative is the permutation of a stable sort."""
    x, axis = _sort_input("sort", a, axis, order)
    idx = _stable_argsort(x, axis)
    return gather(x, np.take_along_axis(layout.grid(np.shape(x)), idx, axis=axis))


def partition(
    a: Any, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None
) -> Any:
    """A partition of ``a`` around ``kth``: the full stable sort (NumPy leaves the order on
    each side of kth unspecified), with sort's derivative."""
    x, axis = _sort_input("partition", a, axis, order)
    layout.numpy_says("partition", np.partition, np.zeros(np.shape(x)[axis]), constant(kth))
    return sort(x, axis)


def _nonzero_impl(a: Any) -> tuple[np.ndarray, ...]:
    if np.ndim(a) == 0:
        raise ArgumentError(
            "unigrad.numpy.nonzero of a 0-d array: use atleast_1d(a).nonzero() as NumPy asks"
        )
    return tuple(i.astype(np.int64) for i in np.nonzero(a))


nonzero = nondiff("nonzero", _nonzero_impl)

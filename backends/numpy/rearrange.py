"""Rearranging, joining and splitting arrays (issue 16's structure family), with NumPy's
signatures.

A rearranging op reads each element of its result from one place of its input: ``layout``
gives those flat positions (NumPy's own op applied to a grid of positions), and the op is one
``getitem`` at them, whose derivative (``scatter_add``) nests to any order. Constants (pad's
fill values, diag's zeros) are appended to the flattened input and gathered the same way.
Joining and splitting are concatenate and basic slices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends import layout
from unigrad.backends.numpy.elementwise import astype, where
from unigrad.backends.numpy.structural import (
    concatenate,
    getitem,
    pack,
    reshape,
    sum,
    transpose,
)
from unigrad.backends.numpy.tracer import Tracer, primal

from unigrad.errors import ArgumentError, ArgumentTypeError


def gather(x: Any, positions: np.ndarray) -> Any:
    """The elements of ``x`` at the flat ``positions`` (an array of their shape)."""
    return getitem(reshape(x, (-1,)), positions)


def constant(x: Any) -> Any:
    """A data argument (repeats, shifts, indices) as a plain value: it carries no derivative."""
    return primal(x)


def _dtype(x: Any) -> np.dtype:
    return np.result_type(primal(x))


def flip(m: Any, axis: Any = None) -> Any:
    """Reverse the order of elements along ``axis`` (every axis when None)."""
    return gather(m, layout.positions("flip", np.flip, np.shape(m), axis))


def fliplr(m: Any) -> Any:
    """Reverse the order along axis 1."""
    return gather(m, layout.positions("fliplr", np.fliplr, np.shape(m)))


def flipud(m: Any) -> Any:
    """Reverse the order along axis 0."""
    return gather(m, layout.positions("flipud", np.flipud, np.shape(m)))


def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``."""
    return gather(m, layout.positions("rot90", np.rot90, np.shape(m), k, axes))


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """Shift elements along ``axis`` cyclically (the flattened array when None)."""
    return gather(a, layout.positions("roll", np.roll, np.shape(a), constant(shift), axis))


def tile(A: Any, reps: Any) -> Any:
    """``A`` repeated ``reps`` times along each axis."""
    return gather(A, layout.positions("tile", np.tile, np.shape(A), constant(reps)))


def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    """Each element repeated ``repeats`` times (of the flattened array when axis is None)."""
    shape = (int(np.size(primal(a))),) if axis is None else np.shape(a)
    pos = layout.positions("repeat", np.repeat, shape, constant(repeats), axis or 0)
    return gather(a, pos)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal of the (axis1, axis2) planes, as a last axis (NumPy's meaning)."""
    return gather(a, layout.positions("diagonal", np.diagonal, np.shape(a), offset, axis1, axis2))


def trace(
    a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
) -> Any:
    """The sum of the diagonal of the (axis1, axis2) planes."""
    no_out("trace", out)
    s = sum(diagonal(a, offset, axis1, axis2), -1)
    return s if dtype is None else astype(s, dtype)


def no_out(name: str, out: Any) -> None:
    """Refuse NumPy's ``out=``: arrays are never written in place."""
    if out is not None:
        raise ArgumentTypeError(f"unigrad.numpy.{name}(out=...): arrays cannot be written in place")


def diag(v: Any, k: int = 0) -> Any:
    """A matrix with ``v`` on its k-th diagonal (``v`` 1-D), or the k-th diagonal (``v`` 2-D)."""
    shape = np.shape(v)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ArgumentError("unigrad.numpy.diag: input must be 1-d or 2-d")
    source = concatenate([v, np.zeros(1, dtype=_dtype(v))])
    return gather(source, layout.diag_positions("diag", shape[0], k))


def tril(m: Any, k: int = 0) -> Any:
    """``m`` with the elements above the k-th diagonal zeroed (last two axes)."""
    mask = layout.tri_mask("tril", np.shape(m), k, lower=True)
    return where(mask, m, np.zeros((), dtype=_dtype(m)))


def triu(m: Any, k: int = 0) -> Any:
    """``m`` with the elements below the k-th diagonal zeroed (last two axes)."""
    mask = layout.tri_mask("triu", np.shape(m), k, lower=False)
    return where(mask, m, np.zeros((), dtype=_dtype(m)))


def pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """NumPy's pad in modes constant, edge, reflect, symmetric and wrap."""
    shape = np.shape(array)
    pos = layout.pad_positions("numpy", shape, pad_width, mode, kwargs)
    if mode != "constant":
        return gather(array, pos)
    dt = _dtype(array)
    values = kwargs.get("constant_values", 0)
    if isinstance(values, Tracer):  # a differentiated constant: one number, its derivative kept
        if np.size(primal(values)) != 1:
            raise ArgumentTypeError(
                "unigrad.numpy.pad: a differentiated constant_values must be one number"
            )
        consts = reshape(astype(values, dt), (1,))
        pos = np.minimum(pos, int(np.prod(shape, dtype=int)))
    else:
        consts = layout.constant_pairs("pad", values, len(shape)).reshape(-1).astype(dt)
    return gather(concatenate([reshape(array, (-1,)), consts]), pos)


# ----------------------------------------------------------------------- join and split


def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """``values`` joined after ``arr`` along ``axis`` (both flattened when None)."""
    if axis is None:
        return concatenate([reshape(arr, (-1,)), reshape(values, (-1,))])
    return concatenate([arr, values], axis=axis)


def _at_least(x: Any, n: int) -> Any:
    x = pack(x)
    s = np.shape(x)
    if len(s) >= n:
        return x
    if n == 1:
        return reshape(x, (1,))
    if n == 2:
        return reshape(x, (1, *s, *(1,) * (1 - len(s))))
    return reshape(x, {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}[len(s)])


def _atleast(n: int) -> Any:
    def op(*arys: Any) -> Any:
        out = tuple(_at_least(x, n) for x in arys)
        return out[0] if len(out) == 1 else out

    op.__name__ = f"atleast_{n}d"
    op.__doc__ = f"Each array with at least {n} dimension(s) (NumPy's placement of unit axes)."
    return op


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


def _joined(name: str, tup: Any, n: int, axis: Any, dtype: Any) -> Any:
    arrays = [_at_least(x, n) for x in tup]
    if not arrays:
        raise ArgumentError(f"unigrad.numpy.{name}: need at least one array to concatenate")
    if axis is None:
        axis = 0 if np.ndim(arrays[0]) == 1 else 1
    out = concatenate(arrays, axis=axis)
    return out if dtype is None else astype(out, dtype)


def hstack(tup: Any, *, dtype: Any = None) -> Any:
    """Join arrays along their second axis (the first, for 1-D arrays)."""
    return _joined("hstack", tup, 1, None, dtype)


def vstack(tup: Any, *, dtype: Any = None) -> Any:
    """Join arrays along their first axis, 1-D arrays as rows."""
    return _joined("vstack", tup, 2, 0, dtype)


row_stack = vstack


def column_stack(tup: Any) -> Any:
    """Join 1-D arrays as columns (and 2-D arrays as they are) along the second axis."""
    cols = []
    for x in tup:
        x = pack(x)
        s = np.shape(x)
        cols.append(reshape(x, (s[0] if s else 1, 1)) if len(s) < 2 else x)
    if not cols:
        raise ArgumentError("unigrad.numpy.column_stack: need at least one array to concatenate")
    return concatenate(cols, axis=1)


def _split(name: str, ary: Any, sections: Any, axis: Any = 0) -> list[Any]:
    shape = np.shape(ary)
    ax = layout.split_axis(name, len(shape), axis)
    sections = constant(sections)
    return [getitem(ary, idx) for idx in layout.split_slices(name, shape, sections, ax)]


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Equal sections, or pieces cut at the given indices, along ``axis``: a list of arrays."""
    return _split("split", ary, indices_or_sections, axis)


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """As split, and sections may differ in length by one (the first ones are longer)."""
    return _split("array_split", ary, indices_or_sections, axis)


def hsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """Split along axis 1 (axis 0 for 1-D arrays)."""
    return _split("hsplit", ary, indices_or_sections)


def vsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """Split along axis 0."""
    return _split("vsplit", ary, indices_or_sections)


def dsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """Split along axis 2."""
    return _split("dsplit", ary, indices_or_sections)


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """Move ``axis`` to just before position ``start`` (NumPy's older moveaxis)."""
    axes = layout.rollaxis_axes(np.ndim(a), axis, start)
    return a if axes is None else transpose(a, axes)

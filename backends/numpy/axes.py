"""Axis bookkeeping shared by the ops: axis arguments, batched axes and kept-dims shapes."""

from __future__ import annotations

from typing import Any

import numpy as np

_AxisError = getattr(getattr(np, "exceptions", np), "AxisError", None) or np.AxisError


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence, negatives allowed) as non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (axis,)
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise _AxisError(a, ndim)
        out.append(a % ndim)
    return tuple(out)


def batched_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Axes of a batched tangent that correspond to ``axis`` of the unbatched value."""
    return tuple(a + 1 for a in normalize_axes(axis, ndim))


def kept_shape(x: Any, axis: Any) -> tuple[int, ...]:
    """The shape of a reduction of ``x`` over ``axis`` with keepdims=True."""
    axes = normalize_axes(axis, np.ndim(x))
    return tuple(1 if i in axes else n for i, n in enumerate(np.shape(x)))

"""Cumulative sums and products, and differences (issue 16's structure family).

cumsum is a primitive whose cotangent is the reversed cumulative sum; cumprod is a scan of
multiplications (Hillis-Steele), so its derivative is exact where elements are 0 (no division)
at every order, as prod's is; diff is slices and a subtraction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends import layout
from unigrad.backends.numpy.elementwise import astype, multiply, not_equal, subtract
from unigrad.backends.numpy.rearrange import no_out
from unigrad.backends.numpy.structural import (
    broadcast_to,
    concatenate,
    getitem,
    moveaxis,
    pack,
    reshape,
)
from unigrad.backends.numpy.tracer import Primitive, primal


def _reversed(x: Any, axis: int) -> Any:
    return getitem(x, (slice(None),) * axis + (slice(None, None, -1),))


def _last(x: Any, start: int, stop: int) -> Any:
    return getitem(x, (Ellipsis, slice(start, stop)))


def _cumsum_impl(x: Any, axis: int) -> Any:
    return np.cumsum(x, axis=axis)


cumsum_p = Primitive("cumsum", _cumsum_impl)
cumsum_p.defvjp(lambda g, ans, x, axis: _reversed(cumsum_p(_reversed(g, axis), axis=axis), axis))
cumsum_p.defjvp(lambda t, ans, x, axis: cumsum_p(t, axis=axis + 1))


def _scan_input(name: str, a: Any, axis: Any, dtype: Any, out: Any) -> tuple[Any, int]:
    no_out(name, out)
    x = pack(a)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    else:
        axis = layout.normalize_axis(name, axis, np.ndim(x))
    return (x if dtype is None else astype(x, dtype)), axis


def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative sums along ``axis`` (of the flattened array when None)."""
    x, axis = _scan_input("cumsum", a, axis, dtype, out)
    return cumsum_p(x, axis=axis)


def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative products along ``axis``: a scan of multiplications, so the derivative is
    exact where elements are 0 (no division), at every order."""
    x, axis = _scan_input("cumprod", a, axis, dtype, out)
    last = np.ndim(x) - 1
    if axis != last:
        x = moveaxis(x, axis, -1)
    n = np.shape(x)[-1]
    d = 1
    while d < n:  # after each step, x[i] is the product of the 2d elements up to i
        tail = multiply(_last(x, d, n), _last(x, 0, n - d))
        x = concatenate([_last(x, 0, d), tail], axis=-1)
        d *= 2
    return x if axis == last else moveaxis(x, -1, axis)


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """The n-th difference along ``axis`` (``prepend``/``append`` joined first)."""
    x = pack(a)
    n, ax, edge = layout.diff_plan(n, np.shape(x), axis)
    if n == 0:
        return x
    parts = []
    for extra in (prepend, x, append):
        if extra is None:
            continue
        e = pack(extra)
        parts.append(broadcast_to(e, edge) if np.ndim(e) == 0 else e)
    if len(parts) > 1:
        x = concatenate(parts, axis=ax)
    lead = (slice(None),) * ax
    boolean = np.result_type(primal(x)) == np.bool_
    for _ in range(n):
        m = np.shape(x)[ax]
        hi = getitem(x, (*lead, slice(min(1, m), m)))
        lo = getitem(x, (*lead, slice(0, max(m - 1, 0))))
        x = not_equal(hi, lo) if boolean else subtract(hi, lo)
    return x

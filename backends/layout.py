"""Where each element of a rearranged array comes from: index arithmetic in plain NumPy, shared
by the reference engine and the conventions.

Rearranging ops (flip, roll, rot90, tile, repeat, pad, diagonal, diag, ...) read every element
of their result from one place of their input, or from a constant. NumPy's own op applied to a
grid of flat positions (``np.arange(size).reshape(shape)``) says which place, with NumPy's
argument handling, defaults and errors; the op is then one gather at those positions, whose
derivative (a scatter-add) every framework has at any order. Only shapes are read here, never
values, so this works under jit and tf.function alike.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from unigrad.errors import (
    ArgumentError,
    ArgumentTypeError,
    ArrayAxisError,
    ArrayIndexError,
    UnsupportedError,
)

#: the modes of ``pad`` that are gathers (constant mode gathers constants too)
PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def grid(shape: Sequence[int]) -> np.ndarray:
    """The flat position of each element of an array of ``shape``."""
    shape = tuple(int(n) for n in shape)
    return np.arange(int(np.prod(shape, dtype=int)), dtype=np.int64).reshape(shape)


def numpy_says(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; NumPy's complaint about the arguments, if any, is raised again
    as a unigrad error of the same kind, naming ``unigrad.numpy.<name>``."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError, IndexError) as exc:
        raise refusal(name, exc) from None


def refusal(name: str, exc: Exception) -> Exception:
    """The unigrad error for NumPy's ``exc`` about the arguments of op ``name``."""
    message = f"unigrad.numpy.{name}: {exc}"
    if isinstance(exc, ValueError) and isinstance(exc, IndexError):
        return ArrayAxisError(message)
    if isinstance(exc, IndexError):
        return ArrayIndexError(message)
    if isinstance(exc, TypeError):
        return ArgumentTypeError(message)
    return ArgumentError(message)


def positions(name: str, fn: Callable[..., Any], shape: Sequence[int], *args: Any, **kw: Any):
    """NumPy's ``fn`` applied to the position grid of ``shape``: where each element comes from."""
    return numpy_says(name, fn, grid(shape), *args, **kw)


def along_axis(shape: Sequence[int], axis: int) -> tuple[np.ndarray, int]:
    """(base, stride): the flat position of ``x[..., i, ...]`` (``i`` at ``axis``) is
    ``base + i * stride``, with ``base`` of ``shape`` and 0 along ``axis``."""
    g = grid(shape)
    stride = int(np.prod(shape[axis + 1 :], dtype=int))
    index = np.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - axis - 1))
    return g - index * stride, stride


def tri_mask(name: str, shape: Sequence[int], k: Any, lower: bool) -> np.ndarray:
    """The mask of ``tril`` (``lower``) or ``triu`` over the last two axes of ``shape``."""
    if len(shape) == 0:
        raise ArgumentError(f"unigrad.numpy.{name} needs an array of at least one dimension")
    n, m = (shape[-1], shape[-1]) if len(shape) == 1 else shape[-2:]
    k = numpy_says(name, operator.index, k)
    if lower:
        return np.tri(n, m, k, dtype=bool)
    return ~np.tri(n, m, k - 1, dtype=bool)


def diag_positions(name: str, n: int, k: Any) -> np.ndarray:
    """Where ``diag(v, k)`` reads each element from, ``v`` of length ``n``: ``n`` for zeros."""
    k = numpy_says(name, operator.index, k)
    size = n + abs(k)
    out = np.full((size, size), n, dtype=np.int64)
    i = np.arange(n)
    if k >= 0:
        out[i, i + k] = i
    else:
        out[i - k, i] = i
    return out


def constant_pairs(name: str, values: Any, ndim: int) -> np.ndarray:
    """``pad``'s constant_values as one (before, after) pair per axis (NumPy's broadcasting)."""
    x = np.asarray(values)
    if x.size == 1:
        return np.full((ndim, 2), x.reshape(-1)[0])
    if x.ndim < 3 and x.size == 2 and x.shape != (2, 1):
        x = x.reshape(-1)
    return numpy_says(name, np.broadcast_to, x, (ndim, 2))


def pad_positions(
    backend: str, shape: Sequence[int], pad_width: Any, mode: Any, kwargs: dict[str, Any]
) -> np.ndarray:
    """Where each element of ``np.pad(x, pad_width, mode, **kwargs)`` comes from.

    In constant mode, a fill position ``size + j`` stands for the j-th constant of the
    flattened (ndim, 2) table of constant_values (see ``constant_pairs``); the caller appends
    those constants to the flattened array and gathers. Other modes read the array only.
    """
    nd = len(shape)
    if not isinstance(mode, str) or mode not in PAD_MODES:
        raise UnsupportedError(
            backend,
            f"unigrad.numpy.pad(mode={mode!r})",
            f"the modes are {', '.join(PAD_MODES)} (each element of the result is an element "
            "of the array or a constant)",
        )
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"}}
    allowed["symmetric"] = allowed["reflect"]
    extra = sorted(set(kwargs) - allowed.get(mode, set()))
    if extra:
        raise ArgumentTypeError(f"unigrad.numpy.pad(mode={mode!r}) takes no {', '.join(extra)}")
    if kwargs.get("reflect_type", "even") != "even":
        raise UnsupportedError(
            backend,
            "unigrad.numpy.pad(reflect_type='odd')",
            "only reflect_type='even' (the default) is a rearrangement",
        )
    g = grid(shape)
    if mode != "constant":
        if g.size == 0:
            raise ArgumentError(f"unigrad.numpy.pad(mode={mode!r}) cannot extend an empty array")
        return numpy_says("pad", np.pad, g, pad_width, mode=mode)
    codes = -1 - np.arange(2 * nd, dtype=np.int64).reshape(nd, 2)
    out = numpy_says("pad", np.pad, g, pad_width, mode="constant", constant_values=codes)
    return np.where(out < 0, g.size - 1 - out, out)


def split_slices(name: str, shape: Sequence[int], sections: Any, axis: int) -> list[tuple]:
    """The index tuples of NumPy's ``array_split(x, sections, axis)``: one basic slice each
    (``split`` and its kin, unlike ``array_split``, refuse a count that does not divide)."""
    n = shape[axis]
    try:
        points = [0, *(operator.index(i) for i in sections), n]
    except TypeError:
        points = None
    if points is None:
        count = numpy_says(name, operator.index, sections)
        if count <= 0:
            raise ArgumentError(f"unigrad.numpy.{name}: number of sections must be larger than 0")
        if name != "array_split" and n % count:
            raise ArgumentError(
                f"unigrad.numpy.{name}: array split does not result in an equal division"
            )
        each, extra = divmod(n, count)
        sizes = [0] + extra * [each + 1] + (count - extra) * [each]
        points = [int(p) for p in np.cumsum(sizes)]
    lead = (slice(None),) * axis
    out = []
    for start, stop in itertools.pairwise(points):
        # bounds as Python slicing reads them, but never negative (MXNet must not see them)
        lo, hi, _ = slice(start, stop).indices(n)
        out.append((*lead, slice(lo, max(lo, hi))))
    return out


def split_axis(name: str, ndim: int, axis: Any) -> int:
    """The axis ``split`` and its relatives cut along (NumPy's rules and errors)."""
    if name == "hsplit":
        if ndim == 0:
            raise ArgumentError("unigrad.numpy.hsplit only works on arrays of 1 or more dimensions")
        return 1 if ndim > 1 else 0
    if name in ("vsplit", "dsplit"):
        need = 2 if name == "vsplit" else 3
        if ndim < need:
            raise ArgumentError(
                f"unigrad.numpy.{name} only works on arrays of {need} or more dimensions"
            )
        return 0 if name == "vsplit" else 2
    return normalize_axis(name, axis, ndim)


def normalize_axis(name: str, axis: Any, ndim: int) -> int:
    """``axis`` in [0, ndim), or NumPy's AxisError naming the op."""
    a = numpy_says(name, operator.index, axis)
    if not -ndim <= a < ndim:
        raise ArrayAxisError(
            f"unigrad.numpy.{name}: axis {a} is out of bounds for array of dimension {ndim}"
        )
    return a % ndim


def tensordot_axes(name: str, nda: int, ndb: int, axes: Any) -> tuple[list[int], list[int]]:
    """The contracted axes of ``tensordot(a, b, axes)`` of each operand, non-negative."""
    try:
        n = operator.index(axes)
    except TypeError:
        try:
            xa, xb = axes
        except (TypeError, ValueError):
            raise ArgumentError(
                f"unigrad.numpy.{name}: axes is an integer or a pair of axis lists"
            ) from None
        xa = [xa] if isinstance(xa, int | np.integer) else list(xa)
        xb = [xb] if isinstance(xb, int | np.integer) else list(xb)
    else:
        if n < 0 or n > min(nda, ndb):
            raise ArgumentError(f"unigrad.numpy.{name}: axes={n} does not fit operands of ranks "
                             f"{nda} and {ndb}")  # fmt: skip
        xa, xb = list(range(nda - n, nda)), list(range(n))
    if len(xa) != len(xb):
        raise ArgumentError(f"unigrad.numpy.{name}: {len(xa)} axes of a against {len(xb)} of b")
    return [normalize_axis(name, a, nda) for a in xa], [normalize_axis(name, b, ndb) for b in xb]


class TensordotPlan(NamedTuple):
    """tensordot as one matmul: permute a to (free_a, summed) and b to (summed, free_b)."""

    perm_a: tuple[int, ...]
    perm_b: tuple[int, ...]
    matrix_a: tuple[int, int]
    matrix_b: tuple[int, int]
    out: tuple[int, ...]


def tensordot_plan(sa: Sequence[int], sb: Sequence[int], axes: Any) -> TensordotPlan:
    """The permutations and matrix shapes of ``tensordot(a, b, axes)`` for shapes sa and sb."""
    xa, xb = tensordot_axes("tensordot", len(sa), len(sb), axes)
    if any(sa[i] != sb[j] for i, j in zip(xa, xb)):
        pairs = ", ".join(f"a axis {i} ({sa[i]}) with b axis {j} ({sb[j]})" for i, j in zip(xa, xb))
        raise ArgumentError(
            f"unigrad.numpy.tensordot: shape mismatch for sum: shapes {tuple(sa)} and "
            f"{tuple(sb)} contract {pairs}; choose axes whose lengths match"
        )
    fa = [i for i in range(len(sa)) if i not in xa]
    fb = [j for j in range(len(sb)) if j not in xb]
    k = int(np.prod([sa[i] for i in xa], dtype=int))
    m = int(np.prod([sa[i] for i in fa], dtype=int))
    n = int(np.prod([sb[j] for j in fb], dtype=int))
    out = (*(sa[i] for i in fa), *(sb[j] for j in fb))
    return TensordotPlan((*fa, *xa), (*xb, *fb), (m, k), (k, n), out)


def rollaxis_axes(n: int, axis: int, start: int) -> tuple[int, ...] | None:
    """The permutation of ``rollaxis`` on an n-d array (None: nothing moves)."""
    axis = normalize_axis("rollaxis", axis, n)
    given = numpy_says("rollaxis", operator.index, start)
    start = given + n if given < 0 else given
    if not 0 <= start < n + 1:
        raise ArrayAxisError(f"unigrad.numpy.rollaxis: start must be in [{-n}, {n}], got {given}")
    if axis < start:
        start -= 1
    if axis == start:
        return None
    axes = [i for i in range(n) if i != axis]
    axes.insert(start, axis)
    return tuple(axes)


def diff_plan(n: Any, shape: Sequence[int], axis: int) -> tuple[int, int, tuple[int, ...]]:
    """``diff``'s checked order, its axis, and the shape of a prepended or appended scalar."""
    n = numpy_says("diff", operator.index, n)
    if n < 0:
        raise ArgumentError(f"unigrad.numpy.diff: order must be non-negative but got {n}")
    if n and not shape:
        raise ArgumentError("unigrad.numpy.diff requires input that is at least one dimensional")
    if n == 0:
        return 0, axis, ()
    ax = normalize_axis("diff", axis, len(shape))
    return n, ax, tuple(1 if i == ax else m for i, m in enumerate(shape))


def einsum_from_sublists(args: Sequence[Any]) -> tuple[str, tuple]:
    """``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as ``("AB,BC->AC", (a, b))``.

    Labels 0-25 are 'A'-'Z' and 26-51 'a'-'z', as NumPy reads them, so an implicit output
    keeps NumPy's order; ``...`` (Ellipsis) stays itself.
    """
    pairs, out = (args[:-1], args[-1]) if len(args) % 2 else (args, None)

    def letters(sub: Any) -> str:
        try:
            labels = [k if k is Ellipsis else operator.index(k) for k in sub]
        except TypeError:
            raise ArgumentTypeError(
                "unigrad.numpy.einsum: a sublist holds integers from 0 to 51 and Ellipsis, "
                f"not {sub!r}"
            ) from None
        if any(k is not Ellipsis and not 0 <= k < 52 for k in labels):
            raise ArgumentError(
                f"unigrad.numpy.einsum: a sublist holds integers from 0 to 51 and Ellipsis, "
                f"not {sub!r}"
            )
        return "".join("..." if k is Ellipsis else chr(65 + k + 6 * (k >= 26)) for k in labels)

    spec = ",".join(letters(sub) for sub in pairs[1::2])
    if out is not None:
        spec += "->" + letters(out)
    return spec, tuple(pairs[0::2])

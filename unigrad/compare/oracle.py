"""The oracle of ``unigrad compare``: tolerances per dtype and the comparison of two results.

Tolerances (documented in the README): a cell passes where, elementwise,
``|got - ref| <= atol * scale + rtol * |ref|`` with ``scale = max(1, max |ref|)`` over the
array. Scaling atol by the reference's magnitude keeps float32 results that lose digits to
cancellation from failing a pure relative test. NaN and infinities are compared by position
(and sign): a NaN where the reference has a number, or the reverse, is ``nan_mismatch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.compare.records import Status

TOLERANCE = {
    "float64": {"rtol": 1e-9, "atol": 1e-12},
    "float32": {"rtol": 2e-5, "atol": 1e-5},
}
FD_TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}


def tolerance(dtype: str, override: dict[str, dict[str, float]] | None = None) -> dict:
    """The tolerance for ``dtype``, with a case's overrides applied."""
    tol = dict(TOLERANCE[dtype])
    if override and dtype in override:
        tol.update(override[dtype])
    return tol


def like(expected: Any, got: Any) -> Any:
    """Read an expected value in the structure of a result: nested lists under an array leaf
    are the array's rows, not a pytree."""
    if type(got) in (tuple, list) and type(expected) in (tuple, list) and len(got) == len(expected):
        return type(got)(like(e, g) for e, g in zip(expected, got))
    if type(got) is dict and type(expected) is dict:
        return {k: like(expected[k], got[k]) for k in got if k in expected}
    if type(got) in (tuple, list, dict):
        return expected
    return np.asarray(expected, dtype=np.float64)


@dataclass
class Verdict:
    """The comparison of a result with a reference: a status, where it failed, error sizes.

    The error sizes are None when the structures or shapes differ. ``leaf`` and ``index``
    locate the worst element: the first that fails, else the largest absolute error."""

    status: Status
    detail: str = ""
    max_abs: float | None = None
    max_rel: float | None = None
    ulp: float | None = None
    leaf: int | None = None
    index: tuple[int, ...] | None = None

    @property
    def passed(self) -> bool:
        """Whether the result agrees with the reference."""
        return self.status == Status.PASS


def number(v: Any) -> str:
    """A value as people write it: ``4.0``, ``nan``, ``-inf`` (never ``np.float64(4.0)``)."""
    a = np.asarray(v)
    return str(a[()] if a.ndim == 0 else a)


def _at(k: int, n_leaves: int, idx: tuple[int, ...]) -> str:
    """Where in a result: ``output 1 element [0, 2]``, or nothing for a lone scalar."""
    parts = [f"output {k}"] if n_leaves > 1 else []
    if idx:
        parts.append(f"element [{', '.join(map(str, idx))}]")
    return " ".join(parts) + ": " if parts else ""


def compare(
    got: Any, ref: Any, dtype: str, tol: dict[str, float], against: str = "reference"
) -> Verdict:
    """Compare two results (pytrees of arrays); return status and error measures.

    Shapes must match exactly. ``against`` names the second result in the message ("got 4.0,
    reference 5.0"). Overflow on the way (an error of 1e308 - -1e308) is an infinite error,
    computed without warnings.
    """
    with np.errstate(all="ignore"):
        return _compare(got, ref, dtype, tol, against)


def _compare(got: Any, ref: Any, dtype: str, tol: dict[str, float], against: str) -> Verdict:
    ref = like(ref, got)
    g_leaves = pytree.tree_leaves(got)
    r_leaves = pytree.tree_leaves(ref)
    if len(g_leaves) != len(r_leaves):
        return Verdict(
            Status.FAIL, f"structure differs: {len(g_leaves)} arrays, {against} {len(r_leaves)}"
        )
    n = len(g_leaves)
    worst = {"max_abs": 0.0, "max_rel": 0.0, "ulp": 0.0}
    status, detail = Status.PASS, ""
    where: dict[str, Any] = {"leaf": None, "index": None}
    for k, (g0, r0) in enumerate(zip(g_leaves, r_leaves)):
        g = np.asarray(g0, dtype=np.float64)
        r = np.asarray(r0, dtype=np.float64)
        if g.shape != r.shape:
            return Verdict(
                Status.FAIL, f"{_at(k, n, ())}got shape {g.shape}, {against} shape {r.shape}"
            )
        g_nan, r_nan = np.isnan(g), np.isnan(r)
        g_inf, r_inf = np.isinf(g), np.isinf(r)
        bad_pos = (g_nan != r_nan) | (g_inf != r_inf) | (g_inf & r_inf & (np.sign(g) != np.sign(r)))
        if bad_pos.any():
            idx = tuple(int(i) for i in np.argwhere(bad_pos)[0])
            if status == Status.PASS:
                where = {"leaf": k, "index": idx}
            status = Status.NAN_MISMATCH
            detail = (
                f"{_at(k, n, idx)}got {number(np.asarray(g0)[idx])}, "
                f"{against} {number(np.asarray(r0)[idx])}"
            )
            continue
        finite = np.isfinite(r)
        if not finite.any():
            continue
        err = np.where(finite, np.abs(g - r), 0.0)  # inf - inf (both infinite): masked out
        scale = max(1.0, float(np.max(np.abs(r[finite]))))
        allowed = tol["atol"] * scale + tol["rtol"] * np.abs(np.where(finite, r, 0.0))
        rel = err / np.maximum(np.abs(np.where(finite, r, 1.0)), np.finfo(np.float64).tiny)
        spacing = np.spacing(np.abs(np.where(finite, r, 1.0)).astype(dtype)).astype(np.float64)
        ulp = err / spacing  # an error of many ulps of a tiny reference: inf ulps
        if status == Status.PASS and (
            where["leaf"] is None or err.max(initial=0) > worst["max_abs"]
        ):
            i = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
            where = {"leaf": k, "index": tuple(int(v) for v in i)}
        worst["max_abs"] = max(worst["max_abs"], float(err.max(initial=0)))
        worst["max_rel"] = max(worst["max_rel"], float(np.where(r != 0, rel, 0).max(initial=0)))
        worst["ulp"] = max(worst["ulp"], float(ulp.max(initial=0)))
        over = err > allowed
        if over.any() and status == Status.PASS:
            i = np.unravel_index(int(np.argmax(np.where(over, err - allowed, -np.inf))), err.shape)
            idx = tuple(int(v) for v in i)
            where = {"leaf": k, "index": idx}
            status = Status.FAIL
            detail = (
                f"{_at(k, n, idx)}got {number(np.asarray(g0)[idx])}, "
                f"{against} {number(np.asarray(r0)[idx])}, "
                f"|diff| {err[idx]:.3g} > allowed {allowed[idx]:.3g}"
            )
    return Verdict(status, detail, **worst, **where)

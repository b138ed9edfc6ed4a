"""Issue 16, the linalg family: pinned meanings of the decompositions, written once over any
backend's op table (README, "Linear algebra").

- ``cholesky`` and ``eigh`` read one triangle of their input (NumPy's values), and their
  derivatives treat it as symmetric: the framework's op sees ``(x + x.T) / 2`` plus a constant
  that moves its value to the triangle NumPy reads, so every framework gets symmetric
  cotangents whatever its own rule does with the other triangle.
- ``qr`` of a matrix with fewer rows than columns is ``Q, U = qr(X)`` for its leading square
  block X and ``R = [U | Q.T @ Y]``: the derivative follows from the square case on every
  backend (JAX has none of its own there).
- ``svd``, ``eigh``: at repeated values the terms that pair equal values are 0 (see
  ``backends/numpy/decompositions.py``); where a framework's own rule gives NaN there the
  suite declares it (cases/opinfos/linalg.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends.conventions.core import LINALG_PINS, _arr, _op

from unigrad.errors import UnsupportedError


def _read_symmetric(o: Any, x: Any, lower: bool = True) -> Any:
    """The symmetric matrix NumPy reads from one triangle of ``x``, with the derivative of
    ``(x + x.T) / 2`` (a symmetric input is returned unchanged in value)."""
    top = o.backend.ops
    xt = top.swapaxes(x, -1, -2)
    sym = (x + xt) * 0.5
    tri = top.tril(x) + top.triu(xt, 1) if lower else top.triu(x) + top.tril(xt, -1)
    return sym + o.backend.stop_gradient(tri - sym)


@_op("cholesky", LINALG_PINS)
def cholesky(o: Any, x: Any, upper: bool = False) -> Any:
    """L with x = L @ L.T from x's lower triangle (L.T with ``upper``); symmetric derivative."""
    x = _arr(o.backend.ops, x)
    lower = o.own("cholesky")(_read_symmetric(o, x))
    return o.backend.ops.swapaxes(lower, -1, -2) if upper else lower


@_op("eigh", LINALG_PINS)
def eigh(o: Any, x: Any, UPLO: str = "L") -> tuple[Any, Any]:
    """Eigenvalues (ascending) and eigenvectors of the symmetric matrix read from one triangle."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', not {UPLO!r}")
    x = _arr(o.backend.ops, x)
    w, v = o.own("eigh")(_read_symmetric(o, x, UPLO == "L"))
    return w, v


@_op("qr", LINALG_PINS)
def qr(o: Any, x: Any, mode: str = "reduced") -> Any:
    """(Q, R) of x = Q @ R (R alone with mode='r'), LAPACK's signs; a wide matrix through its
    leading square block."""
    if mode not in ("reduced", "complete", "r"):
        raise UnsupportedError(
            o.backend.name, f"linalg.qr(mode={mode!r})", "use mode='reduced', 'complete' or 'r'"
        )
    top = o.backend.ops
    x = _arr(top, x)
    m, n = o.backend.shape(x)[-2:]
    own = o.own("qr")
    if m > n and mode == "complete":
        q, r = own(x, mode="complete")
    elif m >= n:
        q, r = own(x)
    else:
        q, u = own(x[..., :m])
        r = top.concatenate([u, top.matmul(top.swapaxes(q, -1, -2), x[..., m:])], axis=-1)
    return r if mode == "r" else (q, r)


# ------------------------------------------- eigh's and svd's rules at repeated values
#
# torch's and JAX's own rules divide by w[j] - w[i] (NaN at a repeated eigenvalue, even where
# the function differentiated does not depend on the basis of the eigenspace). These rules,
# written once over an op table, pin the terms that pair equal values to 0, as the engine
# does; the torch and JAX adapters attach them to their framework's op (a custom rule), and
# the rules call the pinned op again, so derivatives nest to any order.


def _t(o: Any, x: Any) -> Any:
    return o.swapaxes(x, -1, -2)


def _pair_inverse(o: Any, diff: Any, tie: Any = None) -> Any:
    """1 / diff, and 0 where ``tie`` (default: where diff is 0), with the double where: no NaN
    at any order."""
    if tie is None:
        tie = o.backend.stop_gradient(diff) == 0
    w = o.own("where")
    return w(tie, o.zeros_like(diff), 1.0 / w(tie, o.ones_like(diff), diff))


def _pairs(o: Any, w: Any, squares: bool = False) -> Any:
    """F[i, j] = 1 / (w[j] - w[i]) (of their squares with ``squares``), 0 where w[i] == w[j].

    Ties are found by comparing the values themselves: a compiler may fuse the difference of
    squares into a multiply-add, which leaves a residue instead of 0 on the diagonal."""
    wi, wj = o.expand_dims(w, -1), o.expand_dims(w, -2)
    return _pair_inverse(o, (wj - wi) * (wj + wi) if squares else wj - wi, _ties(o, w))


def _ties(o: Any, w: Any) -> Any:
    """The engine's ``ties`` (backends/numpy/decompositions.py) on a backend's values: w[i] and
    w[j] equal up to ``TIE_ULPS · n · eps · max|w|``."""
    from unigrad.backends.numpy.decompositions import TIE_ULPS

    w = o.backend.stop_gradient(w)
    n = o.backend.shape(w)[-1]
    eps = float(np.finfo(o.backend.dtype_name(w)).eps)
    scale = o.expand_dims(o.max(o.abs(w), axis=-1, keepdims=True), -1)
    gap = o.abs(o.expand_dims(w, -1) - o.expand_dims(w, -2))
    return gap <= scale * (TIE_ULPS * n * eps)


def _diag_of(o: Any, m: Any) -> Any:
    return o.diagonal(m, 0, -2, -1)


def eigh_jvp(o: Any, w: Any, v: Any, t: Any) -> tuple[Any, Any]:
    """Tangents of (w, v) for a tangent t of a symmetric matrix (t symmetrised)."""
    m = o.matmul(o.matmul(_t(o, v), (t + _t(o, t)) * 0.5), v)
    return _diag_of(o, m), o.matmul(v, _pairs(o, w) * m)


def eigh_vjp(o: Any, w: Any, v: Any, gw: Any, gv: Any) -> Any:
    """The cotangent of the symmetric matrix from those of (w, v)."""
    inner = o.expand_dims(gw, -1) * o.eye(w.shape[-1], dtype=o.backend.dtype_name(w))
    inner = inner + _pairs(o, w) * o.matmul(_t(o, v), gv)
    g = o.matmul(o.matmul(v, inner), _t(o, v))
    return (g + _t(o, g)) * 0.5


def svd_jvp(o: Any, u: Any, s: Any, vh: Any, t: Any) -> tuple[Any, Any, Any]:
    """Tangents of the reduced (u, s, vh) for a tangent t of the matrix."""
    v = _t(o, vh)
    m, n = t.shape[-2], t.shape[-1]
    ds = o.matmul(o.matmul(_t(o, u), t), v)
    f = _pairs(o, s, squares=True)
    dss = ds * o.expand_dims(s, -2)
    sds = o.expand_dims(s, -1) * ds
    du = o.matmul(u, f * (dss + _t(o, dss)))
    dv = o.matmul(v, f * (sds + _t(o, sds)))
    inv_s = o.expand_dims(_pair_inverse(o, s), -2)
    if m > n:
        tv = o.matmul(t, v)
        du = du + (tv - o.matmul(u, o.matmul(_t(o, u), tv))) * inv_s
    if n > m:
        tu = o.matmul(_t(o, t), u)
        dv = dv + (tu - o.matmul(v, o.matmul(_t(o, v), tu))) * inv_s
    return du, _diag_of(o, ds), _t(o, dv)


def svd_vjp(o: Any, u: Any, s: Any, vh: Any, gu: Any, gs: Any, gvh: Any) -> Any:
    """The cotangent of the matrix from those of the reduced (u, s, vh)."""
    v, gv = _t(o, vh), _t(o, gvh)
    m, n = u.shape[-2], v.shape[-2]
    f = _pairs(o, s, squares=True)
    j = f * o.matmul(_t(o, u), gu)
    k = f * o.matmul(_t(o, v), gv)
    eye = o.eye(s.shape[-1], dtype=o.backend.dtype_name(s))
    core = o.expand_dims(gs, -1) * eye
    core = core + (j + _t(o, j)) * o.expand_dims(s, -2) + o.expand_dims(s, -1) * (k + _t(o, k))
    g = o.matmul(o.matmul(u, core), vh)
    inv_s = o.expand_dims(_pair_inverse(o, s), -2)
    if m > n:
        g = g + o.matmul((gu - o.matmul(u, o.matmul(_t(o, u), gu))) * inv_s, vh)
    if n > m:
        g = g + o.matmul(u, _t(o, (gv - o.matmul(v, o.matmul(_t(o, v), gv))) * inv_s))
    return g


def completed_error(backend: str, what: str) -> UnsupportedError:
    """The error for a derivative of factors with completed columns (a full svd or a complete
    qr of a non-square matrix), the same on every backend."""
    return UnsupportedError(
        backend,
        f"the derivative of linalg.{what} of a non-square matrix",
        "the completed columns are arbitrary: use full_matrices=False or mode='reduced'",
    )

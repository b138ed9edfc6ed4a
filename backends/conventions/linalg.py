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

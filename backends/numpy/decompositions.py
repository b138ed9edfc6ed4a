"""Matrix decompositions on the engine (issue 16, linalg): slogdet, cholesky, eigh, svd, qr and
pinv, with derivative rules written with other primitives, so that they nest to any order.

A decomposition with several outputs is one primitive per output; each rule recomputes the
other outputs it needs by calling those primitives on its (possibly traced) argument, so a rule
is differentiated like any other composition of primitives.

Pinned conventions (README, "Linear algebra"):

- ``cholesky`` and ``eigh`` read one triangle of their input (NumPy's), and their derivatives
  treat the input as symmetric: a tangent ``T`` acts as ``(T + T.T) / 2``, and cotangents are
  symmetric. That is what torch, JAX and TensorFlow do.
- At repeated eigenvalues (``eigh``) or singular values (``svd``), the terms of the
  eigenvector (singular vector) derivative that pair two equal values are 0: within an
  eigenspace the basis is arbitrary, and unigrad lets it stand still. Every other term stays
  exact; the eigenvalues' and singular values' own derivatives are ``diag(V.T dA V)`` and
  ``diag(U.T dA V)``, exact for every symmetric function of them (their sum, a trace of a power).
- ``svd``'s singular vectors of a non-square matrix get ``dA V / s`` terms: 0 where s is 0.
- ``qr`` (and ``svd`` with full matrices) of a non-square matrix has derivatives only for the
  reduced factors; the completed columns are arbitrary: UnsupportedError.
- ``pinv``'s derivative holds the rank fixed (Golub and Pereyra's formula), as torch and JAX do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends.numpy.contractions import matmul, matrix_transpose
from unigrad.backends.numpy.elementwise import add, divide, multiply, subtract, where
from unigrad.backends.numpy.linalg import inv
from unigrad.backends.numpy.structural import (
    concatenate,
    diagonal,
    expand_dims,
    getitem,
    sum,
)
from unigrad.backends.numpy.tracer import Primitive, Tracer, primal

from unigrad.errors import UnsupportedError

T = matrix_transpose


def _dtype(x: Any) -> np.dtype:
    return np.result_type(primal(x))


def _sym(t: Any) -> Any:
    return multiply(add(t, T(t)), np.asarray(0.5, _dtype(t)))


def _diag(v: Any) -> Any:
    """A (stack of) diagonal matrices from the last axis of ``v``."""
    n = np.shape(primal(v))[-1]
    return multiply(expand_dims(v, -1), np.eye(n, dtype=_dtype(v)))


def _tril(x: Any, k: int = 0) -> Any:
    n, m = np.shape(primal(x))[-2:]
    return multiply(x, np.tri(n, m, k, dtype=_dtype(x)))


def _pair_inverse(diff: Any) -> Any:
    """``1 / diff`` with 0 where diff is exactly 0 (equal eigen/singular values, the diagonal):
    the pinned convention, with the double where so that no NaN reaches a derivative."""
    tie = primal(diff) == 0
    one = np.ones((), _dtype(diff))
    return where(tie, np.zeros((), _dtype(diff)), divide(one, where(tie, one, diff)))


#: eigen/singular values closer than this many units of n·eps·max|w| are one repeated value:
#: the computed values of a repeated one differ by rounding (about n·eps·max|w|)
TIE_ULPS = 32


def ties(w: np.ndarray) -> np.ndarray:
    """``T[i, j]``: whether w[i] and w[j] are one repeated value (equal up to the rounding of
    the decomposition: ``TIE_ULPS · n · eps · max|w|``); the diagonal is always a tie."""
    w = np.asarray(w)
    n = w.shape[-1]
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] if n else 0.0
    tol = TIE_ULPS * n * np.finfo(w.dtype).eps * scale
    return np.abs(w[..., :, None] - w[..., None, :]) <= tol


def _pairs(w: Any, squares: bool = False) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` (of their squares with ``squares``), 0 where w[i] and
    w[j] are one repeated value (``ties``: compared as values, not through their difference)."""
    wi, wj = expand_dims(w, -1), expand_dims(w, -2)
    tie = ties(primal(w))
    diff = subtract(wj, wi)
    if squares:
        diff = multiply(diff, add(wj, wi))
    one = np.ones((), _dtype(diff))
    return where(tie, np.zeros((), _dtype(diff)), divide(one, where(tie, one, diff)))


# --------------------------------------------------------------------------------- slogdet


def _logabsdet_impl(x: Any) -> Any:
    return np.linalg.slogdet(x)[1]


logabsdet = Primitive("logabsdet", _logabsdet_impl)
logabsdet.defvjp(lambda g, ans, x: multiply(expand_dims(expand_dims(g, -1), -1), T(inv(x))))
logabsdet.defjvp(lambda t, ans, x: _trace(matmul(inv(x), t)))


def _trace(x: Any) -> Any:
    return sum(diagonal(x), -1)


def slogdet(x: Any) -> tuple[Any, Any]:
    """(sign, log|det|) of a square matrix (or a stack); the sign has derivative 0."""
    sign = np.linalg.slogdet(primal(x))[0]
    return sign, logabsdet(x)


# -------------------------------------------------------------------------------- cholesky


def _phi(x: Any) -> Any:
    """The lower triangle with its diagonal halved."""
    n = np.shape(primal(x))[-1]
    mask = np.tri(n, dtype=_dtype(x)) - 0.5 * np.eye(n, dtype=_dtype(x))
    return multiply(x, mask)


def _cholesky_impl(x: Any) -> Any:
    return np.linalg.cholesky(x)


cholesky_p = Primitive("cholesky", _cholesky_impl)


def _cholesky_vjp(g: Any, ans: Any, x: Any) -> Any:
    li = inv(ans)
    return _sym(matmul(matmul(T(li), _phi(matmul(T(ans), g))), li))


def _cholesky_jvp(t: Any, ans: Any, x: Any) -> Any:
    li = inv(ans)
    return matmul(ans, _phi(matmul(matmul(li, _sym(t)), T(li))))


cholesky_p.defvjp(_cholesky_vjp)
cholesky_p.defjvp(_cholesky_jvp)


def cholesky(x: Any, upper: bool = False) -> Any:
    """The Cholesky factor L (x = L @ L.T) of a symmetric positive-definite matrix; with
    ``upper``, L.T. Only the lower triangle of x is read; the derivative treats x as symmetric."""
    lower = cholesky_p(x)
    return T(lower) if upper else lower


# ------------------------------------------------------------------------------------ eigh


def _eigh_impl(x: Any, part: int, UPLO: str) -> Any:
    return np.linalg.eigh(x, UPLO=UPLO)[part]


eigh_p = Primitive("eigh", _eigh_impl)


def _eigh_vjp(g: Any, ans: Any, x: Any, part: int, UPLO: str) -> Any:
    v = eigh_p(x, 1, UPLO)
    if part == 0:
        return matmul(multiply(v, expand_dims(g, -2)), T(v))
    w = eigh_p(x, 0, UPLO)
    inner = multiply(_pairs(w), matmul(T(v), g))
    return _sym(matmul(matmul(v, inner), T(v)))


def _eigh_jvp(t: Any, ans: Any, x: Any, part: int, UPLO: str) -> Any:
    v = eigh_p(x, 1, UPLO)
    m = matmul(matmul(T(v), _sym(t)), v)
    if part == 0:
        return diagonal(m)
    return matmul(v, multiply(_pairs(eigh_p(x, 0, UPLO)), m))


eigh_p.defvjp(_eigh_vjp)
eigh_p.defjvp(_eigh_jvp)


def eigh(x: Any, UPLO: str = "L") -> tuple[Any, Any]:
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix (or a stack)."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', not {UPLO!r}")
    return eigh_p(x, 0, UPLO), eigh_p(x, 1, UPLO)


# ------------------------------------------------------------------------------------- svd


def _svd_impl(x: Any, part: int, full: bool) -> Any:
    return np.linalg.svd(x, full_matrices=full)[part]


svd_p = Primitive("svd", _svd_impl)


def _svd_parts(x: Any, full: bool) -> tuple[Any, Any, Any]:
    return svd_p(x, 0, full), svd_p(x, 1, full), T(svd_p(x, 2, full))


def _full_check(x: Any, part: int, full: bool) -> None:
    m, n = np.shape(primal(x))[-2:]
    if full and part != 1 and m != n:
        raise UnsupportedError(
            "numpy",
            "the derivative of svd's U or Vh with full_matrices=True for a non-square matrix",
            "the completed columns are arbitrary: use full_matrices=False",
        )


def _squares(s: Any) -> Any:
    """``F[i, j] = 1 / (s[j]**2 - s[i]**2)``, 0 where s[i] == s[j]."""
    return _pairs(s, squares=True)


def _svd_vjp(g: Any, ans: Any, x: Any, part: int, full: bool) -> Any:
    _full_check(x, part, full)
    u, s, v = _svd_parts(x, False)
    m, n = np.shape(primal(x))[-2:]
    if part == 1:
        return matmul(multiply(u, expand_dims(g, -2)), T(v))
    if part == 0:
        j = multiply(_squares(s), matmul(T(u), g))
        core = matmul(multiply(add(j, T(j)), expand_dims(s, -2)), T(v))
        out = matmul(u, core)
        if m > n:
            rest = subtract(g, matmul(u, matmul(T(u), g)))
            out = add(out, matmul(multiply(rest, expand_dims(_pair_inverse(s), -2)), T(v)))
        return out
    gv = T(g)
    k = multiply(_squares(s), matmul(T(v), gv))
    out = matmul(matmul(u, multiply(expand_dims(s, -1), add(k, T(k)))), T(v))
    if n > m:
        rest = subtract(gv, matmul(v, matmul(T(v), gv)))
        out = add(out, matmul(u, T(multiply(rest, expand_dims(_pair_inverse(s), -2)))))
    return out


def _svd_jvp(t: Any, ans: Any, x: Any, part: int, full: bool) -> Any:
    _full_check(x, part, full)
    u, s, v = _svd_parts(x, False)
    m, n = np.shape(primal(x))[-2:]
    ds = matmul(matmul(T(u), t), v)
    if part == 1:
        return diagonal(ds)
    f = _squares(s)
    if part == 0:
        dss = multiply(ds, expand_dims(s, -2))
        du = matmul(u, multiply(f, add(dss, T(dss))))
        if m > n:
            tv = matmul(t, v)
            rest = subtract(tv, matmul(u, matmul(T(u), tv)))
            du = add(du, multiply(rest, expand_dims(_pair_inverse(s), -2)))
        return du
    sds = multiply(expand_dims(s, -1), ds)
    dv = matmul(v, multiply(f, add(sds, T(sds))))
    if n > m:
        tu = matmul(T(t), u)
        rest = subtract(tu, matmul(v, matmul(T(v), tu)))
        dv = add(dv, multiply(rest, expand_dims(_pair_inverse(s), -2)))
    return T(dv)


svd_p.defvjp(_svd_vjp)
svd_p.defjvp(_svd_jvp)


def svd(
    x: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """(U, S, Vh) with x = U @ diag(S) @ Vh, S descending; S alone without ``compute_uv``.

    ``hermitian`` is accepted for NumPy's signature; the general algorithm is used."""
    full = bool(full_matrices)
    if not compute_uv:
        return svd_p(x, 1, full)
    m, n = np.shape(primal(x))[-2:]
    if full and m != n and isinstance(x, Tracer):
        raise UnsupportedError(
            "numpy",
            "the derivative of linalg.svd(full_matrices=True) of a non-square matrix",
            "the completed columns are arbitrary: use full_matrices=False or compute_uv=False",
        )
    return svd_p(x, 0, full), svd_p(x, 1, full), svd_p(x, 2, full)


# -------------------------------------------------------------------------------------- qr


def _qr_impl(x: Any, part: int) -> Any:
    return np.linalg.qr(x, mode="reduced")[part]


qr_p = Primitive("qr", _qr_impl)


def _qr_vjp(g: Any, ans: Any, x: Any, part: int) -> Any:
    q, r = qr_p(x, 0), qr_p(x, 1)
    m = _negative_matmul_t(q, g) if part == 0 else matmul(g, T(r))
    n = subtract(m, _tril(subtract(m, T(m)), -1))
    out = matmul(q, n)
    if part == 0:
        out = add(out, g)
    return matmul(out, T(inv(r)))


def _negative_matmul_t(a: Any, b: Any) -> Any:
    """-(a.T @ b)."""
    return multiply(matmul(T(a), b), np.asarray(-1.0, _dtype(b)))


def _qr_jvp(t: Any, ans: Any, x: Any, part: int) -> Any:
    q, r = qr_p(x, 0), qr_p(x, 1)
    c = matmul(t, inv(r))
    p = matmul(T(q), c)
    low = _tril(p, -1)
    omega = subtract(low, T(low))
    if part == 0:
        return add(matmul(q, subtract(omega, p)), c)
    return matmul(subtract(p, omega), r)


qr_p.defvjp(_qr_vjp)
qr_p.defjvp(_qr_jvp)


def qr(x: Any, mode: str = "reduced") -> Any:
    """(Q, R) of x = Q @ R, Q with orthonormal columns, R upper triangular (LAPACK's signs);
    ``mode`` "reduced", "complete" or "r" (R alone)."""
    if mode not in ("reduced", "complete", "r"):
        raise UnsupportedError(
            "numpy", f"linalg.qr(mode={mode!r})", "use mode='reduced', 'complete' or 'r'"
        )
    m, n = np.shape(primal(x))[-2:]
    if mode == "complete" and m > n:
        if isinstance(x, Tracer):
            raise UnsupportedError(
                "numpy",
                "the derivative of linalg.qr(mode='complete') for a matrix with more rows than "
                "columns",
                "the completed columns of Q are arbitrary: use mode='reduced'",
            )
        return tuple(np.linalg.qr(x, mode="complete"))
    if m >= n:
        q, r = qr_p(x, 0), qr_p(x, 1)
    else:  # x = [X | Y] with X square: X = Q U, and R = [U | Q.T Y]
        left = getitem(x, (Ellipsis, slice(None), slice(0, m)))
        right = getitem(x, (Ellipsis, slice(None), slice(m, None)))
        q, u = qr_p(left, 0), qr_p(left, 1)
        r = concatenate([u, matmul(T(q), right)], axis=-1)
    return r if mode == "r" else (q, r)


# ------------------------------------------------------------------------------------ pinv


def _pinv_impl(x: Any, rcond: Any, hermitian: bool) -> Any:
    if rcond is None:  # NumPy's default, which changed in NumPy 2
        return np.linalg.pinv(x, hermitian=hermitian)
    return np.linalg.pinv(x, rcond=rcond, hermitian=hermitian)


pinv_p = Primitive("pinv", _pinv_impl)


def _eye_like(x: Any, n: int) -> Any:
    return np.eye(n, dtype=_dtype(x))


def _pinv_jvp(t: Any, ans: Any, x: Any, rcond: Any, hermitian: bool) -> Any:
    p = pinv_p(x, rcond, hermitian)
    m, n = np.shape(primal(x))[-2:]
    tt = T(t)
    first = matmul(matmul(p, t), p)
    left = subtract(_eye_like(x, m), matmul(x, p))  # m x m
    right = subtract(_eye_like(x, n), matmul(p, x))  # n x n
    second = matmul(matmul(matmul(p, T(p)), tt), left)
    third = matmul(matmul(right, tt), matmul(T(p), p))
    return add(subtract(second, first), third)


def _pinv_vjp(g: Any, ans: Any, x: Any, rcond: Any, hermitian: bool) -> Any:
    p = pinv_p(x, rcond, hermitian)
    m, n = np.shape(primal(x))[-2:]
    first = matmul(matmul(T(p), g), T(p))
    left = subtract(_eye_like(x, m), matmul(x, p))
    right = subtract(_eye_like(x, n), matmul(p, x))
    second = matmul(matmul(left, T(g)), matmul(p, T(p)))
    third = matmul(matmul(matmul(T(p), p), T(g)), right)
    return add(subtract(second, first), third)


pinv_p.defvjp(_pinv_vjp)
pinv_p.defjvp(_pinv_jvp)


def pinv(x: Any, rcond: Any = None, hermitian: bool = False) -> Any:
    """The Moore-Penrose pseudo-inverse; its derivative holds the rank fixed."""
    return pinv_p(x, rcond, bool(hermitian))

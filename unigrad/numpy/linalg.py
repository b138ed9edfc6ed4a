"""``unigrad.numpy.linalg``: norm, det, inv, solve and the decompositions (slogdet, cholesky,
eigh, svd, qr, pinv) on the backend in force; the decompositions return NumPy's named tuples."""

from __future__ import annotations

from typing import Any, NamedTuple


def _call(name: str, args: tuple, **kwargs: Any) -> Any:
    from unigrad.api.array import unwrap, wrap
    from unigrad.numpy import target

    impl, wrapping = target(args)
    fn = getattr(impl.ops.linalg, name)
    if not wrapping:
        return fn(*args, **kwargs)
    out = fn(*unwrap(args), **kwargs)
    if isinstance(out, tuple):  # a framework's own result type (torch's structseq)
        out = tuple(out)
    return wrap(out, impl)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector p-norm or Frobenius norm; the 2-norm's derivative at 0 is 0."""
    return _call("norm", (x,), ord=ord, axis=axis, keepdims=keepdims)


def det(x: Any) -> Any:
    """Determinant of a square matrix (or a stack of them)."""
    return _call("det", (x,))


def inv(x: Any) -> Any:
    """Inverse of a square matrix (or a stack of them)."""
    return _call("inv", (x,))


def solve(a: Any, b: Any) -> Any:
    """Solve a @ x = b for x."""
    return _call("solve", (a, b))


# issue 16: linalg


class SlogdetResult(NamedTuple):
    """``slogdet``'s result, as NumPy names it."""

    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """``eigh``'s result, as NumPy names it."""

    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    """``svd``'s result, as NumPy names it."""

    U: Any
    S: Any
    Vh: Any


class QRResult(NamedTuple):
    """``qr``'s result, as NumPy names it."""

    Q: Any
    R: Any


def slogdet(x: Any) -> SlogdetResult:
    """(sign, log|det|) of a square matrix (or a stack); the sign has derivative 0."""
    return SlogdetResult(*_call("slogdet", (x,)))


def cholesky(x: Any, upper: bool = False) -> Any:
    """Cholesky factor L of a symmetric positive-definite matrix (x = L @ L.T); L.T with
    ``upper``. Only the lower triangle is read; the derivative treats x as symmetric."""
    return _call("cholesky", (x,), upper=upper)


def eigh(x: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix. At repeated
    eigenvalues the eigenvectors' derivative leaves the eigenspace's basis still (README)."""
    return EighResult(*_call("eigh", (x,), UPLO=UPLO))


def svd(
    x: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """x = U @ diag(S) @ Vh (S descending); S alone without ``compute_uv``. At repeated
    singular values the vectors' derivative leaves the subspace's basis still (README)."""
    out = _call(
        "svd", (x,), full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian
    )
    return SVDResult(*out) if compute_uv else out


def qr(x: Any, mode: str = "reduced") -> Any:
    """x = Q @ R, Q with orthonormal columns, R upper triangular; R alone with mode='r'."""
    out = _call("qr", (x,), mode=mode)
    return out if mode == "r" else QRResult(*out)


def pinv(x: Any, rcond: Any = None, hermitian: bool = False) -> Any:
    """Moore-Penrose pseudo-inverse; its derivative holds the rank fixed."""
    return _call("pinv", (x,), rcond=rcond, hermitian=hermitian)


# the ops; the result types (EighResult, ...) are importable beside them
__all__ = [
    "cholesky",
    "det",
    "eigh",
    "inv",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
]

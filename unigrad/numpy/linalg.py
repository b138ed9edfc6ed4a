"""``unigrad.numpy.linalg``: norm, det, inv, solve on the backend in force."""

from __future__ import annotations

from typing import Any


def _linalg(args: tuple) -> Any:
    from unigrad.numpy import ops_for

    return ops_for(args).linalg


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector p-norm or Frobenius norm; the 2-norm's derivative at 0 is 0."""
    return _linalg((x,)).norm(x, ord=ord, axis=axis, keepdims=keepdims)


def det(x: Any) -> Any:
    """Determinant of a square matrix (or a stack of them)."""
    return _linalg((x,)).det(x)


def inv(x: Any) -> Any:
    """Inverse of a square matrix (or a stack of them)."""
    return _linalg((x,)).inv(x)


def solve(a: Any, b: Any) -> Any:
    """Solve a @ x = b for x."""
    return _linalg((a, b)).solve(a, b)


__all__ = ["det", "inv", "norm", "solve"]

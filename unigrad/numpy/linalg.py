"""``unigrad.numpy.linalg``: norm, det, inv, solve on the backend in force."""

from __future__ import annotations

from typing import Any


def _call(name: str, args: tuple, **kwargs: Any) -> Any:
    from unigrad.api.array import unwrap, wrap
    from unigrad.numpy import target

    impl, wrapping = target(args)
    fn = getattr(impl.ops.linalg, name)
    if not wrapping:
        return fn(*args, **kwargs)
    return wrap(fn(*unwrap(args), **kwargs), impl)


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


__all__ = ["det", "inv", "norm", "solve"]

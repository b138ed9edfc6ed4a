"""Testing helpers: ``check_grads`` (derivatives against central finite differences)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api.convert import to_numpy
from unigrad.api.switch import get_backend, use_backend
from unigrad.api.transforms import jacobian, jvp, vjp


class GradientCheckError(AssertionError):
    """A derivative disagrees with finite differences; the message names the worst element."""


def _flat64(args: Sequence[Any]) -> tuple[np.ndarray, Callable[[np.ndarray], list[Any]]]:
    leaves, treedef = pytree.tree_flatten(list(args))
    arrays = [np.asarray(to_numpy(x), dtype=np.float64) for x in leaves]
    shapes = [a.shape for a in arrays]
    sizes = [a.size for a in arrays]
    flat = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)

    def unflat(v: np.ndarray) -> list[Any]:
        out, pos = [], 0
        for shape, n in zip(shapes, sizes):
            out.append(v[pos : pos + n].reshape(shape))
            pos += n
        return pytree.tree_unflatten(treedef, out)

    return flat, unflat


def _eval_flat(f: Callable, unflat: Callable, backend: Any) -> Callable[[np.ndarray], np.ndarray]:
    def g(v: np.ndarray) -> np.ndarray:
        with use_backend(get_backend(backend)):
            out = f(*unflat(v))
        leaves = pytree.tree_leaves(out)
        return np.concatenate([np.asarray(to_numpy(o), np.float64).ravel() for o in leaves])

    return g


def numerical_jacobian(
    f: Callable, *args: Any, eps: float | None = None, backend: Any = None
) -> np.ndarray:
    """Central finite differences in float64: a (n_out, n_in) matrix over all leaves."""
    x, unflat = _flat64(args)
    g = _eval_flat(f, unflat, backend)
    f0 = g(x)
    jac = np.zeros((f0.size, x.size))
    base = eps if eps is not None else np.cbrt(np.finfo(np.float64).eps)
    for k in range(x.size):
        h = base * max(1.0, abs(x[k]))
        xp, xm = x.copy(), x.copy()
        xp[k] += h
        xm[k] -= h
        jac[:, k] = (g(xp) - g(xm)) / (2 * h)
    return jac


def assemble_jacobian(jac: Any, out_sizes: Sequence[int], in_sizes: Sequence[int]) -> np.ndarray:
    """A jacobian's blocks as one ``(sum(out_sizes), sum(in_sizes))`` float64 matrix.

    ``jac`` is a pytree with one block per (output leaf, input leaf), outputs outermost, as
    ``unigrad.jacobian`` (and ``unigrad.hessian``) return it; the sizes are the leaves' sizes.
    """
    n_leaves_out, n_leaves_in = len(out_sizes), len(in_sizes)
    blocks = [np.asarray(to_numpy(b), np.float64) for b in pytree.tree_leaves(jac)]
    if len(blocks) != n_leaves_out * n_leaves_in:
        raise GradientCheckError(
            f"jacobian has {len(blocks)} blocks, expected {n_leaves_out * n_leaves_in}"
        )
    rows = []
    for i in range(n_leaves_out):
        row = [
            blocks[i * n_leaves_in + j].reshape(out_sizes[i], in_sizes[j])
            for j in range(n_leaves_in)
        ]
        rows.append(np.concatenate(row, axis=1) if row else np.zeros((out_sizes[i], 0)))
    return np.concatenate(rows, axis=0) if rows else np.zeros((0, sum(in_sizes)))


def _compare(got: np.ndarray, want: np.ndarray, what: str, rtol: float, atol: float) -> None:
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    if got.shape != want.shape:
        raise GradientCheckError(f"{what}: shape {got.shape}, expected {want.shape}")
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    if (nan_got != nan_want).any():
        idx = tuple(int(i) for i in np.argwhere(nan_got != nan_want)[0])
        raise GradientCheckError(
            f"{what}: NaN positions differ, first at index {idx}: got {got[idx]}, "
            f"expected {want[idx]}"
        )
    ok = ~nan_got
    scale = np.maximum(np.abs(want), 1.0) if want.size else want
    err = np.where(ok, np.abs(got - want), 0.0)
    bad = err > atol + rtol * scale
    if bad.any():
        k = np.unravel_index(np.argmax(np.where(bad, err / (atol + rtol * scale), 0)), err.shape)
        idx = tuple(int(i) for i in k)
        raise GradientCheckError(
            f"{what} disagrees with central finite differences: worst element at index {idx} "
            f"(output, input): got {got[idx]!r}, expected {want[idx]!r}, abs error "
            f"{err[idx]:.3g} > tolerance {atol + rtol * scale[idx]:.3g}"
        )


def check_grads(
    f: Callable,
    *args: Any,
    order: int = 2,
    modes: Sequence[str] = ("rev", "fwd"),
    fast: bool = False,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    backend: Any = None,
    seed: int = 0,
) -> None:
    """Check the derivatives of ``f`` at ``args`` against central finite differences.

    Every argument is differentiated; arguments and outputs may be pytrees. ``order=2`` also
    checks the derivative of a vector-Jacobian product (reverse over reverse/forward).
    ``fast=True`` compares random projections u^T J v instead of the full Jacobian. Raises
    GradientCheckError naming the worst element and its index.
    """
    args64 = [pytree.tree_map(lambda a: np.asarray(to_numpy(a), np.float64), a) for a in args]
    x, unflat = _flat64(args64)
    g = _eval_flat(f, unflat, backend)
    f0 = g(x)
    in_leaves = pytree.tree_leaves(args64)
    in_sizes = [np.size(a) for a in in_leaves]
    with use_backend(get_backend(backend)):
        out0 = f(*args64)
    out_leaves = pytree.tree_leaves(out0)
    out_sizes = [int(np.size(to_numpy(o))) for o in out_leaves]
    nums = tuple(range(len(args64)))
    rng = np.random.default_rng(seed)
    if fast:
        v = rng.standard_normal(x.size)
        u = rng.standard_normal(f0.size)
        h = np.cbrt(np.finfo(np.float64).eps) * max(1.0, float(np.abs(x).max(initial=0)))
        fd = u @ ((g(x + h * v) - g(x - h * v)) / (2 * h))
        if "fwd" in modes:
            _, t = jvp(f, args64, unflat(v), backend=backend)
            jv = np.concatenate([np.ravel(to_numpy(a)) for a in pytree.tree_leaves(t)])
            _compare(np.array(u @ jv), np.array(fd), "jvp (projected)", rtol, atol)
        if "rev" in modes:
            _, fn = vjp(f, *args64, backend=backend)
            out_def = pytree.tree_flatten(out0)[1]
            ct, pos = [], 0
            for n, o in zip(out_sizes, out_leaves):
                ct.append(u[pos : pos + n].reshape(np.shape(to_numpy(o))))
                pos += n
            gs = fn(pytree.tree_unflatten(out_def, ct))
            uj = np.concatenate([np.ravel(to_numpy(a)) for a in pytree.tree_leaves(gs)])
            _compare(np.array(uj @ v), np.array(fd), "vjp (projected)", rtol, atol)
    else:
        want = numerical_jacobian(f, *args64, backend=backend)
        for mode in modes:
            jac = jacobian(f, argnums=nums, mode=mode, backend=backend)(*args64)
            got = assemble_jacobian(jac, out_sizes, in_sizes)
            _compare(got, want, f"{mode}-mode jacobian of {getattr(f, '__name__', f)}", rtol, atol)
    if order >= 2:
        u = rng.standard_normal(f0.size)
        out_def = pytree.tree_flatten(out0)[1]
        # the cotangent is built before differentiating: a framework may refuse to convert
        # even a constant array to NumPy inside its transforms (torch.func)
        ct, pos = [], 0
        for n, o in zip(out_sizes, out_leaves):
            ct.append(u[pos : pos + n].reshape(np.shape(to_numpy(o))))
            pos += n
        cotangent = pytree.tree_unflatten(out_def, ct)

        def vjp_u(*xs: Any) -> Any:
            _, fn = vjp(f, *xs, backend=backend)
            return fn(cotangent)

        vjp_u.__name__ = f"vjp of {getattr(f, '__name__', 'f')}"
        check_grads(
            vjp_u,
            *args64,
            order=order - 1,
            modes=modes,
            fast=fast,
            rtol=rtol * 10,
            atol=atol * 10,
            backend=backend,
            seed=seed + 1,
        )

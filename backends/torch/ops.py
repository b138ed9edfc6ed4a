"""Where torch departs from NumPy's op names, signatures or pinned meanings.

Everything else is found in ``torch`` under its NumPy name (torch accepts ``axis`` and
``keepdims``). torch's own ops already follow several pins (measured by the native catalogue):
see ``TorchBackend.native_pins``.
"""

from __future__ import annotations

from typing import Any

import torch
from unigrad.backends.conventions import linalg as linalg_rules


def reshape(x: Any, shape: Any) -> Any:
    return torch.reshape(x, (shape,) if isinstance(shape, int) else tuple(shape))


def transpose(x: Any, axes: Any = None) -> Any:
    return x.permute(*(axes if axes is not None else range(x.ndim - 1, -1, -1)))


def expand_dims(x: Any, axis: int) -> Any:
    return torch.unsqueeze(x, axis)


def squeeze(x: Any, axis: Any = None) -> Any:
    return torch.squeeze(x) if axis is None else torch.squeeze(x, axis)


# torch.amax and torch.amin split the derivative evenly among tied elements (the pin).
def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return torch.amax(x, dim=() if axis is None else axis, keepdim=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return torch.amin(x, dim=() if axis is None else axis, keepdim=keepdims)


amax, amin = max, min


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """torch.prod is exact with zeros (the pin) but reduces one axis at a time."""
    if axis is None:
        out = torch.prod(x.reshape(-1))
        return out.reshape((1,) * x.ndim) if keepdims else out
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in sorted((a % x.ndim for a in axes), reverse=True):
        x = torch.prod(x, dim=a, keepdim=keepdims)
    return x


def _all_axes(x: Any, axis: Any) -> Any:
    # torch takes keepdim only together with dim: no axis means every axis, named
    return tuple(range(x.ndim)) if axis is None else axis


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return torch.sum(x, dim=_all_axes(x, axis), keepdim=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if not (x.is_floating_point() or x.is_complex()):  # NumPy's mean of integers is float64
        x = x.to(torch.float64)
    return torch.mean(x, dim=_all_axes(x, axis), keepdim=keepdims)


def dot(a: Any, b: Any) -> Any:
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2:
        return torch.matmul(a, b)
    return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))


sigmoid = torch.sigmoid
softplus = torch.nn.functional.softplus  # returns x above 20: softplus'(800) = 1, the pin

power = torch.pow

equal = torch.eq  # torch.equal compares whole tensors


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return torch.logsumexp(x, dim=_all_axes(x, axis), keepdim=keepdims)


def argsort(x: Any, axis: int = -1) -> Any:
    """Stable, as unigrad's argsort and sort pin (torch's default sort is not)."""
    return torch.argsort(x, dim=axis, stable=True)


class nn:
    """unigrad.nn's kernels where torch's own op is faster and means the same."""

    @staticmethod
    def gather(x: Any, positions: Any) -> Any:
        """x.ravel()[positions] by torch.take, without the index grid of x's size that the
        generic getitem builds: 1.6x faster for a 200k x 64 table (bench_nn.py)."""
        return torch.take(x, torch.as_tensor(positions, device=x.device))

    @staticmethod
    def conv(x: Any, w: Any, stride: Any, pads: Any, dilation: Any) -> Any:
        """torch's convolution (cross-correlation, NCHW/OIHW as unigrad's): its gradient runs
        2.7-4.2x faster than the generic windows-and-matmul (benchmarks/bench_nn.py)."""
        if any(lo != hi for lo, hi in pads):
            x = torch.nn.functional.pad(x, [p for pair in reversed(pads) for p in pair])
            pads = ((0, 0),) * len(pads)
        fn = torch.nn.functional.conv1d if x.ndim == 3 else torch.nn.functional.conv2d
        return fn(x, w, None, stride, [lo for lo, _ in pads], dilation)


def _ops() -> Any:
    import unigrad

    return unigrad.get_backend("torch").ops


class _Eigh(torch.autograd.Function):
    """torch.linalg.eigh with the rules of conventions/linalg.py (torch's give NaN at a
    repeated eigenvalue); they call this function again, so derivatives nest."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Any) -> Any:
        return tuple(torch.linalg.eigh(a))

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx: Any, gw: Any, gv: Any) -> Any:
        (a,) = ctx.saved_tensors
        return linalg_rules.eigh_vjp(_ops(), *_Eigh.apply(a), gw, gv)

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (a,) = ctx.saved_tensors
        return linalg_rules.eigh_jvp(_ops(), *_Eigh.apply(a), t)


class _Svd(torch.autograd.Function):
    """The reduced torch.linalg.svd with the rules of conventions/linalg.py."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Any) -> Any:
        return tuple(torch.linalg.svd(a, full_matrices=False))

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx: Any, gu: Any, gs: Any, gvh: Any) -> Any:
        (a,) = ctx.saved_tensors
        return linalg_rules.svd_vjp(_ops(), *_Svd.apply(a), gu, gs, gvh)

    @staticmethod
    def jvp(ctx: Any, t: Any) -> Any:
        (a,) = ctx.saved_tensors
        return linalg_rules.svd_jvp(_ops(), *_Svd.apply(a), t)


class _Completed(torch.autograd.Function):
    """Factors with completed columns (full svd, complete qr of a tall matrix): values, and
    UnsupportedError for any derivative (the completed columns are arbitrary)."""

    generate_vmap_rule = True

    @staticmethod
    def forward(a: Any, fn: Any, what: str) -> Any:
        return fn(a)

    @staticmethod
    def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
        ctx.what = inputs[2]

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise linalg_rules.completed_error("torch", ctx.what)

    @staticmethod
    def jvp(ctx: Any, *tangents: Any) -> Any:
        raise linalg_rules.completed_error("torch", ctx.what)


class linalg:
    """torch.linalg's svd has no compute_uv and its pinv names NumPy's rcond rtol; eigh and
    svd get the rules of conventions/linalg.py (repeated values: their terms are 0)."""

    @staticmethod
    def qr(a: Any, mode: str = "reduced") -> Any:
        if mode == "complete" and a.shape[-2] > a.shape[-1]:
            full = lambda x: tuple(torch.linalg.qr(x, mode="complete"))  # noqa: E731
            return _Completed.apply(a, full, "qr(mode='complete')")
        return tuple(torch.linalg.qr(a, mode=mode))

    @staticmethod
    def eigh(a: Any, UPLO: str = "L") -> Any:
        return _Eigh.apply(a)  # the pin hands it a symmetric matrix

    @staticmethod
    def svd(
        a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
    ) -> Any:
        if not compute_uv:
            return torch.linalg.svdvals(a)
        if full_matrices and a.shape[-2] != a.shape[-1]:
            full = lambda x: tuple(torch.linalg.svd(x, full_matrices=True))  # noqa: E731
            return _Completed.apply(a, full, "svd(full_matrices=True)")
        return _Svd.apply(a)

    @staticmethod
    def pinv(a: Any, rcond: Any = None, hermitian: bool = False) -> Any:
        return torch.linalg.pinv(a, rtol=rcond, hermitian=hermitian)

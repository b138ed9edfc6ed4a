"""Where MXNet departs from NumPy in ``mxnet.np`` (the adapter's namespace).

MXNet's own clip, abs and relu already follow the pins; maximum ties (1, 0), max-reduction ties
[0, 1, 1], prod'([0, 2, 3]) = nan and nan for (x**0)'(0) are replaced by ``conventions.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as onp
from mxnet import autograd, npx
from mxnet import np as mnp

from unigrad.errors import UnsupportedError

npx.set_np()

relu = npx.relu
sigmoid = npx.sigmoid


def softplus(x: Any) -> Any:
    return npx.activation(x, act_type="softrelu")


def matmul(a: Any, b: Any) -> Any:
    """a @ b. Two matrices go through FullyConnected, which this MXNet build runs 1.3-1.9x
    faster than dot (benchmarks/bench_mxnet.py); other ranks through np.matmul."""
    if a.ndim == 2 and b.ndim == 2:
        return npx.fully_connected(a, b.T, no_bias=True, num_hidden=b.shape[1], flatten=False)
    return mnp.matmul(a, b)


def dot(a: Any, b: Any) -> Any:
    """NumPy's dot. MXNet's backward of dot with a 0-d operand fails on its own shapes
    (dot(1.5, C) for C of shape (2, 3, 4)): a product, as NumPy defines it."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return mnp.dot(a, b)


def sum(
    x: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False
) -> Any:
    """NumPy's sum, infinities included. mxnet.np.sum adds with Kahan compensation, whose
    correction term turns nan once a partial sum is infinite (sum([inf, 2]) is nan, as is
    sum([1e308, 1e308, 1])): where its result is nan, the sum is redone by a running sum
    (cumsum), whose nan then means what NumPy's does. The check costs one sync per sum."""
    s = mnp.sum(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims)
    if out is not None or onp.dtype(s.dtype).kind != "f":
        return s
    bad = mnp.isnan(s.detach())
    if not bool(bad.any()):
        return s
    if dtype is not None:
        x = x.astype(dtype)
    return mnp.where(bad, _running_sum(x, axis, keepdims), s)


def _running_sum(x: Any, axis: Any, keepdims: bool) -> Any:
    """The sum over ``axis`` as the last element of a cumsum, its gradient still 1 everywhere."""
    nd = x.ndim
    axes = range(nd) if axis is None else (axis,) if isinstance(axis, int) else axis
    axes = sorted({a % nd for a in axes}) if nd else []
    kept = [a for a in range(nd) if a not in axes]
    moved = mnp.transpose(x, kept + axes) if nd else x
    flat = moved.reshape((*[x.shape[a] for a in kept], -1))
    last = flat.ndim - 1  # MXNet's cumsum and take refuse axis=-1
    total = mnp.take(mnp.cumsum(flat, axis=last), mnp.array([flat.shape[last] - 1]), axis=last)
    total = total.reshape(total.shape[:last])
    if keepdims:
        total = total.reshape(tuple(1 if a in axes else n for a, n in enumerate(x.shape)))
    return total


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """NumPy's mean: of integers, float64 (mxnet.np.mean gives float32); infinities as in
    ``sum`` (mxnet.np.mean([inf, 2]) is nan)."""
    if onp.dtype(x.dtype).kind not in "fc":
        x = x.astype("float64")
    if x.size == 0:
        return mnp.mean(x, axis=axis, keepdims=keepdims)
    total = sum(x, axis=axis, keepdims=keepdims)
    return total / (x.size // total.size)


def argsort(x: Any, axis: int = -1) -> Any:
    """Stable, as unigrad's argsort and sort pin (MXNet's is not): NumPy's, on the values."""
    return mnp.array(onp.argsort(x.asnumpy(), axis=axis, kind="stable"), dtype="int64")


# mxnet.np.deg2rad and rad2deg call operators missing from this build, and its radians and
# degrees compute in float32 precision even for float64 arrays
def deg2rad(x: Any) -> Any:
    return x * (onp.pi / 180)


def rad2deg(x: Any) -> Any:
    return x * (180 / onp.pi)


radians, degrees = deg2rad, rad2deg


def floor_divide(x: Any, y: Any) -> Any:
    """NumPy's x // y (mxnet.np has none): the quotient that goes with x % y."""
    if onp.dtype(x.dtype).kind != "f":
        return mnp.floor(x / y).astype(x.dtype)
    return mnp.where(y == 0, x / y, mnp.round((x - mnp.remainder(x, y)) / y))


class linalg:
    """mxnet.np.linalg.solve takes only matrix right-hand sides; its svd takes only wide
    matrices and returns (U, S, Vh) without NumPy's options; its pinv has NumPy 1's cutoff."""

    @staticmethod
    def svd(
        a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
    ) -> Any:
        m, n = a.shape[-2:]
        if full_matrices and compute_uv and m != n:
            raise UnsupportedError(
                "mxnet",
                "linalg.svd(full_matrices=True) of a non-square matrix",
                "use full_matrices=False",
            )
        if m > n:
            ut, s, v = mnp.linalg.svd(mnp.swapaxes(a, -1, -2))
            u, vh = mnp.swapaxes(v, -1, -2), mnp.swapaxes(ut, -1, -2)
        else:
            u, s, vh = mnp.linalg.svd(a)
        if autograd.is_recording():
            from unigrad.backends.numpy.decompositions import ties

            tied = ties(s.asnumpy())
            if (tied.sum(axis=-1) > 1).any():  # a value tied with another than itself
                raise UnsupportedError(
                    "mxnet",
                    "derivatives of svd or eigh at repeated singular values or eigenvalues",
                    "MXNet's own rule gives wrong numbers there; use another backend",
                )
        return (u, s, vh) if compute_uv else s

    @staticmethod
    def slogdet(a: Any) -> Any:
        """The sign as a constant: MXNet's jvp of (sign, logabsdet) mixes the two. The constant
        stays on the recorded graph (plus 0 times a's sum), since MXNet refuses a backward
        through several outputs when one of them is not recorded."""
        sign, logabsdet = mnp.linalg.slogdet(a)
        return sign.detach() + 0 * a.sum(axis=(-2, -1)), logabsdet

    @staticmethod
    def pinv(a: Any, rcond: Any = None, hermitian: bool = False) -> Any:
        """Through svd: mxnet.np.linalg.pinv's gradient is wrong (off by 2 on a 3x3 matrix)."""
        if rcond is None:  # NumPy 2's default
            rcond = max(a.shape[-2:]) * float(onp.finfo(onp.dtype(a.dtype)).eps)
        u, s, vh = linalg.svd(a, full_matrices=False)
        keep = s.detach() > rcond * s.detach().max(axis=-1, keepdims=True)
        inv_s = mnp.where(keep, 1 / mnp.where(keep, s, mnp.ones_like(s)), mnp.zeros_like(s))
        return mnp.matmul(
            mnp.swapaxes(vh, -1, -2) * mnp.expand_dims(inv_s, -2), mnp.swapaxes(u, -1, -2)
        )

    @staticmethod
    def eigh(a: Any, UPLO: str = "L") -> Any:
        """Through svd of ``a + c I``, positive definite for a constant c past the spectral
        radius: mxnet.np.linalg.eigh's gradient is 0. The pin hands it a symmetric matrix."""
        n = a.shape[-1]
        c = mnp.sqrt((a.detach() ** 2).sum(axis=(-2, -1), keepdims=True)) + 1
        eye = mnp.eye(n, dtype=a.dtype)
        u, s, _ = linalg.svd(a + c * eye, full_matrices=False)
        return (s - c[..., 0])[..., ::-1], u[..., ::-1]

    @staticmethod
    def qr(a: Any, mode: str = "reduced") -> Any:
        raise UnsupportedError("mxnet", "linalg.qr", "mxnet.numpy has no working qr in MXNet 1.9")

    @staticmethod
    def solve(a: Any, b: Any) -> Any:
        if b.ndim == 1:
            return mnp.linalg.solve(a, b.reshape((-1, 1))).reshape(-1)
        return mnp.linalg.solve(a, b)


class nn:
    """unigrad.nn's kernels where MXNet's own op is faster and means the same."""

    @staticmethod
    def erf(x: Any) -> Any:
        """The error function (gelu's kernel): ``npx.erf``'s value, with the derivative
        2/sqrt(pi) exp(-x**2) computed in x's dtype: MXNet 1.9's own erf gradient is only
        float32-precise (1e-8 off in float64). Its second order is refused as MXNet's
        products' are (no rule for ``_backward_mul``), never a wrong number."""
        xd = x.detach()
        slope = mnp.exp(-(xd * xd)) * (2.0 / math.sqrt(math.pi))
        return (npx.erf(xd) - xd * slope) + x * slope

    @staticmethod
    def gather(x: Any, positions: Any) -> Any:
        """x.ravel()[positions] by np.take (positions are in range, none negative), without
        the generic getitem's index grid of x's size: 1.3x faster for a 200k x 64 table
        (bench_nn.py)."""
        return mnp.take(x.reshape(-1), mnp.array(positions, dtype="int64"))

    @staticmethod
    def conv(x: Any, w: Any, stride: Any, pads: Any, dilation: Any) -> Any:
        """npx.convolution (NCW/NCHW and OIW/OIHW, as unigrad's); uneven padding is added
        first. Its gradient runs 4.3x faster than the generic version (benchmarks/bench_nn.py)."""
        if any(lo != hi for lo, hi in pads):
            x = mnp.pad(x, ((0, 0), (0, 0), *pads))
            pads = ((0, 0),) * len(pads)
        return npx.convolution(
            x,
            w,
            kernel=w.shape[2:],
            stride=tuple(stride),
            dilate=tuple(dilation),
            pad=tuple(lo for lo, _ in pads),
            num_filter=w.shape[0],
            no_bias=True,
            layout="NCW" if x.ndim == 3 else "NCHW",
        )

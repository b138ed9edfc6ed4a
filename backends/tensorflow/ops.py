"""Where TensorFlow departs from NumPy in ``tf.experimental.numpy``, the adapter's namespace.

tf.experimental.numpy promotes dtypes as NumPy does (Python scalars weak); its ``round`` needs
NumPy behaviour switched on globally, and it has no linalg. TF's own ops already follow several
pins (see ``TensorflowBackend.native_pins``); the rest come from ``conventions.py``.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow.experimental.numpy as tnp
from unigrad.backends.conventions import linalg as linalg_rules

round = tf.round  # half to even, as NumPy
relu = tf.nn.relu  # relu'(0) = 0, the pin
sigmoid = tf.sigmoid
softplus = tf.math.softplus


def sqrt(x: Any) -> Any:
    """Square root whose derivative lets NaN flow like everywhere else.

    tf.sqrt's gradient turns 0 * inf into 0, so where(x > 0, sqrt(x), 0) would get 0 at x = 0
    where every other framework gets nan. The value is tf.sqrt's exactly; the derivative is
    that of pow(x, 0.5) (the stop_gradient term is zero in value), so its second derivative at
    0 is -inf as on the other backends (tf.sqrt's own gives nan there). At +inf, where the
    correction would be inf - inf, the value is tf.sqrt's and the derivative 0, its limit.
    """
    p = tf.pow(x, tf.constant(0.5, x.dtype))
    exact = tf.sqrt(x)
    at_inf = tf.equal(p, tf.constant(float("inf"), x.dtype))
    return tf.where(at_inf, tf.stop_gradient(exact), p + tf.stop_gradient(exact - p))


def argsort(x: Any, axis: int = -1) -> Any:
    """Stable, as unigrad's argsort and sort pin (their pin puts NaN last: TF would not)."""
    return tnp.argsort(x, axis, kind="stable")


def floor_divide(x: Any, y: Any) -> Any:
    """NumPy's x // y for floats: the quotient that goes with x % y. TF's floordiv is
    floor(x / y), so 1.0 // 0.1 is 10.0 there and 9.0 in NumPy (1.0 % 0.1 is 0.1 in both)."""
    if not x.dtype.is_floating:
        return tnp.floor_divide(x, y)
    return tf.where(y == 0, x / y, tf.round((x - tnp.remainder(x, y)) / y))


def _ops() -> Any:
    import unigrad

    return unigrad.get_backend("tensorflow").ops


@tf.custom_gradient
def _eigh(a: Any) -> Any:
    """tf.linalg.eigh with the rules of conventions/linalg.py: TF's own divides by a damped
    difference, whose second derivative at a repeated eigenvalue is of the order of 1e20. The
    rule calls this function again, so derivatives nest."""

    def grad(gw: Any, gv: Any) -> Any:
        return linalg_rules.eigh_vjp(_ops(), *_eigh(a), gw, gv)

    return tuple(tf.linalg.eigh(a)), grad


@tf.custom_gradient
def _svd(a: Any) -> Any:
    """The reduced svd in NumPy's order with the rules of conventions/linalg.py."""

    def grad(gu: Any, gs: Any, gvh: Any) -> Any:
        return linalg_rules.svd_vjp(_ops(), *_svd(a), gu, gs, gvh)

    s, u, v = tf.linalg.svd(a)
    return (u, s, tf.linalg.adjoint(v)), grad


def _completed(a: Any, what: str) -> Any:
    """Factors with completed columns: values, and UnsupportedError for any derivative."""

    @tf.custom_gradient
    def factors(x: Any) -> Any:
        def grad(*grads: Any) -> Any:
            raise linalg_rules.completed_error("tensorflow", what)

        if what.startswith("svd"):
            s, u, v = tf.linalg.svd(x, full_matrices=True)
            return (u, s, tf.linalg.adjoint(v)), grad
        return tuple(tf.linalg.qr(x, full_matrices=True)), grad

    return factors(a)


class linalg:
    """tf.experimental.numpy has no linalg."""

    det = tf.linalg.det
    inv = tf.linalg.inv
    # issue 16: linalg
    slogdet = tf.linalg.slogdet
    cholesky = tf.linalg.cholesky

    @staticmethod
    def eigh(a: Any, UPLO: str = "L") -> Any:
        return _eigh(a)  # the pin hands it a symmetric matrix

    @staticmethod
    def svd(
        a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
    ) -> Any:
        """NumPy's order (U, S, Vh); TF returns (S, U, V)."""
        if not compute_uv:
            return tf.linalg.svd(a, compute_uv=False)
        if full_matrices and a.shape[-2] != a.shape[-1]:
            return _completed(a, "svd(full_matrices=True)")
        return _svd(a)

    @staticmethod
    def qr(a: Any, mode: str = "reduced") -> Any:
        if mode == "complete" and a.shape[-2] > a.shape[-1]:
            return _completed(a, "qr(mode='complete')")
        return tf.linalg.qr(a)

    @staticmethod
    def pinv(a: Any, rcond: Any = None, hermitian: bool = False) -> Any:
        """NumPy's default cutoff, max(M, N) * eps (TF's is ten times that)."""
        if rcond is None:
            rcond = max(a.shape[-2:]) * float(tnp.finfo(a.dtype.as_numpy_dtype).eps)
        return tf.linalg.pinv(a, rcond=rcond)

    @staticmethod
    def solve(a: Any, b: Any) -> Any:
        if b.shape.rank == 1:
            return tf.squeeze(tf.linalg.solve(a, b[:, None]), -1)
        return tf.linalg.solve(a, b)


class nn:
    """unigrad.nn's kernels where TF's own op is faster and means the same."""

    @staticmethod
    def erf(x: Any) -> Any:
        """The error function (gelu's kernel): ``tf.math.erf``."""
        return tf.math.erf(x)

    @staticmethod
    def conv(x: Any, w: Any, stride: Any, pads: Any, dilation: Any) -> Any:
        """tf.nn.conv1d / conv2d, which take channels last on CPU: NCHW/OIHW are transposed in
        and out. Its gradient runs 3.4-3.9x faster than the generic version (bench_nn.py).

        TF's CPU kernels have no dilated backward pass, and tf.nn.convolution (which works
        around it) breaks TF's forward mode over its gradient: a dilated kernel is spelled out
        with zeros between its taps instead, which keeps every order of derivative."""
        nd = len(stride)
        x = tf.pad(x, [[0, 0], [0, 0], *pads])
        x = tf.transpose(x, (0, *range(2, nd + 2), 1))
        w = tf.transpose(w, (*range(2, nd + 2), 1, 0))
        for axis, d in enumerate(dilation):
            if d > 1:
                k = w.shape[axis]
                spread = tf.stack([w] + [tf.zeros_like(w)] * (d - 1), axis=axis + 1)
                spread = tf.reshape(spread, [*w.shape[:axis], k * d, *w.shape[axis + 1 :]])
                w = spread[(slice(None),) * axis + (slice(0, d * (k - 1) + 1),)]
        conv = tf.nn.conv1d if nd == 1 else tf.nn.conv2d
        y = conv(x, w, list(stride), "VALID")
        return tf.transpose(y, (0, nd + 1, *range(1, nd + 1)))

"""Where JAX departs from NumPy's op names: the neural-network ops live in ``jax.nn``.

Everything else is found in ``jax.numpy`` under its NumPy name; the pins JAX's own ops miss
(abs'(0) = 1, clip's 0.5 at the bounds, nan for the norm and for ``x**0`` at 0) come from
``conventions.py``. The adapter runs every op with 64-bit types on.
"""

import functools
from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special
from unigrad.backends.conventions import linalg as linalg_rules

relu = jax.nn.relu  # relu'(0) = 0, the pin
sigmoid = jax.nn.sigmoid
softplus = jax.nn.softplus


@jax.custom_jvp
def arctanh(x: Any) -> Any:
    return jnp.arctanh(x)


@arctanh.defjvp
def _arctanh_jvp(primals: Any, tangents: Any) -> Any:
    """1 / (1 - x**2) in one division: jnp.arctanh's rule is a product of two reciprocals, whose
    own derivative at x = 1 is -inf + inf = nan (the limit is +inf, as on every other backend)."""
    (x,), (t,) = primals, tangents
    return arctanh(x), t / (1 - x * x)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """jnp.mean, with NumPy's float64 for booleans (jnp.mean of a boolean array is float32 even
    with 64-bit types on; of integers it is float64)."""
    if x.dtype == jnp.bool_:
        x = x.astype(jnp.float64)
    return jnp.mean(x, axis=axis, keepdims=keepdims)


def _ops() -> Any:
    import unigrad

    return unigrad.get_backend("jax").ops


@jax.custom_jvp
def _eigh(a: Any) -> Any:
    return tuple(jax.numpy.linalg.eigh(a))


@_eigh.defjvp
def _eigh_jvp(primals: Any, tangents: Any) -> Any:
    out = _eigh(primals[0])
    return out, linalg_rules.eigh_jvp(_ops(), *out, tangents[0])


@jax.custom_jvp
def _svd(a: Any) -> Any:
    return tuple(jax.numpy.linalg.svd(a, full_matrices=False))


@_svd.defjvp
def _svd_jvp(primals: Any, tangents: Any) -> Any:
    out = _svd(primals[0])
    return out, linalg_rules.svd_jvp(_ops(), *out, tangents[0])


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _completed(a: Any, what: str) -> Any:
    """Factors with completed columns: values, and UnsupportedError for any derivative."""
    if what.startswith("svd"):
        return tuple(jax.numpy.linalg.svd(a, full_matrices=True))
    return tuple(jax.numpy.linalg.qr(a, mode="complete"))


@_completed.defjvp
def _completed_jvp(what: str, primals: Any, tangents: Any) -> Any:
    raise linalg_rules.completed_error("jax", what)


class linalg:
    """jax.numpy.linalg.pinv names NumPy's rcond rtol; eigh and svd get the rules of
    conventions/linalg.py, which pin the terms of repeated values to 0 (JAX's give NaN)."""

    @staticmethod
    def qr(a: Any, mode: str = "reduced") -> Any:
        if mode == "complete" and a.shape[-2] > a.shape[-1]:
            return _completed(a, "qr(mode='complete')")
        return jax.numpy.linalg.qr(a, mode=mode)

    @staticmethod
    def pinv(a: Any, rcond: Any = None, hermitian: bool = False) -> Any:
        return jax.numpy.linalg.pinv(a, rtol=rcond, hermitian=hermitian)

    @staticmethod
    def eigh(a: Any, UPLO: str = "L") -> Any:
        return _eigh(a)  # the pin hands it a symmetric matrix

    @staticmethod
    def svd(
        a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
    ) -> Any:
        m, n = a.shape[-2:]
        if not compute_uv:
            return jax.numpy.linalg.svd(a, compute_uv=False)
        if full_matrices and m != n:
            return _completed(a, "svd(full_matrices=True)")
        return _svd(a)


class nn:
    """unigrad.nn's kernels where JAX's own op is faster and means the same."""

    @staticmethod
    def erf(x: Any) -> Any:
        """The error function (gelu's kernel): JAX's own, ``jax.scipy.special.erf``."""
        return jax.scipy.special.erf(x)

    @staticmethod
    def conv(x: Any, w: Any, stride: Any, pads: Any, dilation: Any) -> Any:
        """lax's convolution (its default layout is NCHW/OIHW, as unigrad's), at full precision
        on every device: its compiled gradient runs 1.4x faster than the generic version on
        CPU (benchmarks/bench_nn.py) and compiles in less time."""
        if any(d > 1 for d in dilation) and any(s > 1 for s in stride):
            # XLA (jax 0.10.2) aborts the process compiling x's gradient for some strided and
            # dilated convolutions (x (2, 3, 6, 5), w (4, 3, 2, 3), stride (2, 1), padding
            # (1, 0), dilation (1, 2)): the dilation is spelled out in the kernel instead
            gaps = ((0, 0, 0), (0, 0, 0), *((0, 0, d - 1) for d in dilation))
            w = jax.lax.pad(w, jnp.zeros((), w.dtype), gaps)
            dilation = (1,) * len(dilation)
        return jax.lax.conv_general_dilated(
            x, w, stride, pads, rhs_dilation=dilation, precision=jax.lax.Precision.HIGHEST
        )

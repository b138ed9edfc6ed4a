"""Where JAX departs from NumPy's op names: the neural-network ops live in ``jax.nn``.

Everything else is found in ``jax.numpy`` under its NumPy name; the pins JAX's own ops miss
(abs'(0) = 1, clip's 0.5 at the bounds, nan for the norm and for ``x**0`` at 0) come from
``conventions.py``. The adapter runs every op with 64-bit types on.
"""

from typing import Any

import jax

relu = jax.nn.relu  # relu'(0) = 0, the pin
sigmoid = jax.nn.sigmoid
softplus = jax.nn.softplus


class linalg:
    """jax.numpy.linalg.pinv names NumPy's rcond rtol."""

    @staticmethod
    def pinv(a: Any, rcond: Any = None, hermitian: bool = False) -> Any:
        return jax.numpy.linalg.pinv(a, rtol=rcond, hermitian=hermitian)


class nn:
    """unigrad.nn's kernels where JAX's own op is faster and means the same."""

    @staticmethod
    def conv(x: Any, w: Any, stride: Any, pads: Any, dilation: Any) -> Any:
        """lax's convolution (its default layout is NCHW/OIHW, as unigrad's), at full precision
        on every device: its compiled gradient runs 1.4x faster than the generic version on
        CPU (benchmarks/bench_nn.py) and compiles in less time."""
        return jax.lax.conv_general_dilated(
            x, w, stride, pads, rhs_dilation=dilation, precision=jax.lax.Precision.HIGHEST
        )

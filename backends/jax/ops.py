"""Where JAX departs from NumPy's op names: the neural-network ops live in ``jax.nn``.

Everything else is found in ``jax.numpy`` under its NumPy name; the pins JAX's own ops miss
(abs'(0) = 1, clip's 0.5 at the bounds, nan for the norm and for ``x**0`` at 0) come from
``conventions.py``. The adapter runs every op with 64-bit types on.
"""

from typing import Any

import jax
import jax.numpy as jnp

relu = jax.nn.relu  # relu'(0) = 0, the pin
sigmoid = jax.nn.sigmoid
softplus = jax.nn.softplus


class nn:
    """unigrad.nn's kernels where JAX's own op is faster and means the same."""

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

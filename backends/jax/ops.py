"""Where JAX departs from NumPy's op names: the neural-network ops live in ``jax.nn``.

Everything else is found in ``jax.numpy`` under its NumPy name; the pins JAX's own ops miss
(abs'(0) = 1, clip's 0.5 at the bounds, nan for the norm and for ``x**0`` at 0) come from
``conventions.py``. The adapter runs every op with 64-bit types on.
"""

import jax

relu = jax.nn.relu  # relu'(0) = 0, the pin
sigmoid = jax.nn.sigmoid
softplus = jax.nn.softplus

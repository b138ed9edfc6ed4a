"""JAX adapter: jax.vjp/jvp/jacrev/jacfwd/hessian; gradients jit-compiled per function."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

CAPABILITIES = {**C.FULL, C.JIT: C.NATIVE}

SPEC = BackendSpec(
    name="jax",
    adapter="unigrad.backends.jax.backend:JaxBackend",
    module="jax",
    distribution="jax",
    install_hint="pip install 'unigrad[jax]'  (or `make env` in a unigrad checkout)",
    capabilities=CAPABILITIES,
    description="JAX (jax.vjp, jax.jvp, jit)",
)

"""JAX adapter: jax.vjp/jvp/jacrev/jacfwd/hessian; gradients jit-compiled per function."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

CAPABILITIES = {
    C.REVERSE: C.NATIVE,
    C.FORWARD: C.NATIVE,
    C.HIGHER_ORDER: C.NATIVE,
    C.FLOAT64: C.NATIVE,
    C.JIT: C.NATIVE,
    C.VECTORIZED_JACOBIAN: C.NATIVE,
    C.CUSTOM_GRADIENT: C.NATIVE,
}

SPEC = BackendSpec(
    name="jax",
    adapter="unigrad.backends.jax.backend:JaxBackend",
    module="jax",
    distribution="jax",
    install_hint="pip install 'unigrad[jax]'  (or `make env` in a unigrad checkout)",
    capabilities=CAPABILITIES,
    description="JAX (jax.vjp, jax.jvp, jit)",
)

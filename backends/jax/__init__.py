"""JAX adapter: jax.vjp/jvp/jacrev/jacfwd/hessian; whole transforms jit-compiled."""

from unigrad import capabilities as C
from unigrad.registry import IN_CHECKOUT, BackendSpec

SPEC = BackendSpec(
    name="jax",
    adapter="unigrad.backends.jax.backend:JaxBackend",
    install_hint=f"pip install 'unigrad[jax]'{IN_CHECKOUT}",
    capabilities={**C.FULL, C.JIT: C.NATIVE},
    description="JAX (jax.vjp, jax.jvp, jit)",
    array_modules=("jax", "jaxlib"),
)

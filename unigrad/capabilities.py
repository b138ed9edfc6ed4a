"""Capability names that backends declare as data, and the levels of support for each."""

from __future__ import annotations

# What a backend can do. Adapters declare a mapping {capability: level}; absent means no.
REVERSE = "reverse"  # vjp, grad
FORWARD = "forward"  # jvp
HIGHER_ORDER = "higher_order"  # derivatives of derivatives (hessian, hvp)
FLOAT64 = "float64"
JIT = "jit"  # the adapter compiles transforms where that is safe
VECTORIZED_JACOBIAN = "vectorized_jacobian"  # jacobian/hessian in one batched pass
CUSTOM_GRADIENT = "custom_gradient"

ALL = (REVERSE, FORWARD, HIGHER_ORDER, FLOAT64, JIT, VECTORIZED_JACOBIAN, CUSTOM_GRADIENT)

# Levels.
NATIVE = "native"
EMULATED = "emulated"  # built by unigrad from other primitives (e.g. jvp through vjps)
PARTIAL = "partial"  # works for some functions; the rest raise UnsupportedError

# Everything but compilation, natively: what a full autodiff framework declares.
FULL = {
    REVERSE: NATIVE,
    FORWARD: NATIVE,
    HIGHER_ORDER: NATIVE,
    FLOAT64: NATIVE,
    VECTORIZED_JACOBIAN: NATIVE,
    CUSTOM_GRADIENT: NATIVE,
}

# The transform names that need each capability; used by reports and the pytest marker.
TRANSFORM_NEEDS = {
    "grad": (REVERSE,),
    "value_and_grad": (REVERSE,),
    "vjp": (REVERSE,),
    "jvp": (FORWARD,),
    "jacobian": (REVERSE,),
    "jacobian_fwd": (FORWARD,),
    "hessian": (REVERSE, HIGHER_ORDER),
    "hvp": (REVERSE, HIGHER_ORDER),
}


SHORT = {
    REVERSE: "rev",
    FORWARD: "fwd",
    HIGHER_ORDER: "2nd",
    FLOAT64: "f64",
    JIT: "jit",
    VECTORIZED_JACOBIAN: "vjac",
    CUSTOM_GRADIENT: "cgrad",
}
LEGEND = (
    "rev reverse mode, fwd forward mode, 2nd higher order, f64 float64, jit compiled, "
    "vjac vectorised jacobians, cgrad custom gradients; * emulated, ~ partial"
)


def short(caps: dict[str, str]) -> str:
    """A compact form such as 'rev fwd* 2nd~ f64' (see LEGEND)."""
    mark = {NATIVE: "", EMULATED: "*", PARTIAL: "~"}
    return " ".join(SHORT[n] + mark.get(caps[n], "") for n in ALL if caps.get(n))

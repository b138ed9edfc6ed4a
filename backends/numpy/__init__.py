"""The reference backend: unigrad's own reverse- and forward-mode autodiff engine on NumPy."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

CAPABILITIES = {
    C.REVERSE: C.NATIVE,
    C.FORWARD: C.NATIVE,
    C.HIGHER_ORDER: C.NATIVE,
    C.FLOAT64: C.NATIVE,
    C.VECTORIZED_JACOBIAN: C.NATIVE,
    C.CUSTOM_GRADIENT: C.NATIVE,
}

SPEC = BackendSpec(
    name="numpy",
    adapter="unigrad.backends.numpy.backend:NumpyBackend",
    module="numpy",
    distribution="numpy",
    install_hint="pip install numpy",
    capabilities=CAPABILITIES,
    description="unigrad's reference engine (reverse and forward mode on NumPy)",
)

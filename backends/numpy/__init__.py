"""The reference backend: unigrad's own reverse- and forward-mode autodiff engine on NumPy."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

CAPABILITIES = dict(C.FULL)

SPEC = BackendSpec(
    name="numpy",
    adapter="unigrad.backends.numpy.backend:NumpyBackend",
    module="numpy",
    distribution="numpy",
    install_hint="pip install numpy",
    capabilities=CAPABILITIES,
    description="unigrad's reference engine (reverse and forward mode on NumPy)",
)

"""The reference backend: unigrad's own reverse- and forward-mode autodiff engine on NumPy."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

SPEC = BackendSpec(
    name="numpy",
    adapter="unigrad.backends.numpy.backend:NumpyBackend",
    capabilities=C.FULL,
    description="unigrad's reference engine (reverse and forward mode on NumPy)",
    array_modules=("numpy", "unigrad"),  # the engine's tracers live in unigrad,
)

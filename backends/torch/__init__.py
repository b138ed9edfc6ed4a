"""PyTorch adapter: torch.autograd for first order, torch.func for the rest."""

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
    name="torch",
    adapter="unigrad.backends.torch.backend:TorchBackend",
    module="torch",
    distribution="torch",
    install_hint="pip install 'unigrad[torch]'  (or `make env` in a unigrad checkout)",
    capabilities=CAPABILITIES,
    description="PyTorch (torch.autograd, torch.func)",
)

"""PyTorch adapter: torch.autograd for first order, torch.func for the rest."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

CAPABILITIES = dict(C.FULL)

SPEC = BackendSpec(
    name="torch",
    adapter="unigrad.backends.torch.backend:TorchBackend",
    module="torch",
    distribution="torch",
    install_hint="pip install 'unigrad[torch]'  (or `make env` in a unigrad checkout)",
    capabilities=CAPABILITIES,
    description="PyTorch (torch.autograd, torch.func)",
)

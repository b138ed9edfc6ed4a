"""PyTorch adapter: torch.autograd for first order, torch.func for the rest."""

from unigrad import capabilities as C
from unigrad.registry import IN_CHECKOUT, BackendSpec

SPEC = BackendSpec(
    name="torch",
    adapter="unigrad.backends.torch.backend:TorchBackend",
    install_hint=f"pip install 'unigrad[torch]'{IN_CHECKOUT}",
    capabilities=C.FULL,
    description="PyTorch (torch.autograd, torch.func)",
)

"""unigrad: one automatic-differentiation API over NumPy, PyTorch, JAX, TensorFlow and MXNet.

Importing unigrad imports no framework; each is imported the first time its backend is used.
"""

from unigrad._version import __version__
from unigrad.api.array import Array
from unigrad.api.convert import detach, native, stop_gradient, to_numpy
from unigrad.api.graph import trace_graph
from unigrad.api.switch import get_backend, set_backend, use_backend
from unigrad.api.transforms import (
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from unigrad.errors import (
    BackendUnavailableError,
    ComplexOutputError,
    DifferentiationTypeError,
    EscapedNumpyError,
    FrameworkError,
    OutputTypeError,
    ScalarOutputError,
    UnsupportedError,
    WorkerError,
)
from unigrad.registry import available_backends, backend_names


def __getattr__(name: str) -> object:
    """``unigrad.port`` is imported on first use (it imports no framework either)."""
    if name == "port":
        import importlib

        return importlib.import_module("unigrad.port")
    raise AttributeError(f"module 'unigrad' has no attribute {name!r}")


__all__ = [
    "Array",
    "BackendUnavailableError",
    "ComplexOutputError",
    "DifferentiationTypeError",
    "EscapedNumpyError",
    "FrameworkError",
    "OutputTypeError",
    "ScalarOutputError",
    "UnsupportedError",
    "WorkerError",
    "__version__",
    "available_backends",
    "backend_names",
    "detach",
    "get_backend",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "native",
    "set_backend",
    "stop_gradient",
    "to_numpy",
    "trace_graph",
    "use_backend",
    "value_and_grad",
    "vjp",
]

"""unigrad: one automatic-differentiation API over NumPy, PyTorch, JAX, TensorFlow and MXNet.

Importing unigrad imports no framework; each is imported the first time its backend is used.
"""

from ._version import __version__
from .errors import BackendUnavailableError, FrameworkError, UnsupportedError, WorkerError
from .registry import available_backends, backend_names
from .switch import get_backend, set_backend, use_backend

__all__ = [
    "BackendUnavailableError",
    "FrameworkError",
    "UnsupportedError",
    "WorkerError",
    "__version__",
    "available_backends",
    "backend_names",
    "get_backend",
    "set_backend",
    "use_backend",
]

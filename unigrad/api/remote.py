"""Transforms on a backend that runs in its own environment (MXNet), from this process.

The function travels by import path (``module:qualname``) to the backend's worker, which runs the
same transform there and sends NumPy arrays back. Errors come back as the same unigrad error
classes. A lambda, a closure, a function of ``__main__`` or a transform object cannot be
imported by the worker: that is an error naming the fix, before anything is sent.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from unigrad import errors
from unigrad.api.array import unwrap
from unigrad.api.call import fname


def import_path(f: Callable, backend: str) -> str:
    """``module:qualname`` of ``f``, checked to name ``f`` itself."""
    module = getattr(f, "__module__", None)
    qualname = getattr(f, "__qualname__", None)
    fix = (
        f"backend {backend!r} runs in its own environment, so unigrad sends your function to its "
        "worker by import path: define it with def at module level in an importable module "
        "(a file next to your code, not __main__), and pass that function"
    )
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise TypeError(f"{fix}; {fname(f)!r} is a lambda, a nested function or in __main__")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is not f:
        raise TypeError(
            f"{fix}; {module}:{qualname} does not name this object (a transform of a function, "
            "or a wrapped one, cannot be sent: write a module-level function that calls it)"
        )
    return f"{module}:{qualname}"


def run(backend: str, transform: str, f: Callable, args: tuple, options: dict[str, Any]) -> Any:
    """``transform`` of ``f`` at ``args`` in ``backend``'s worker; NumPy results."""
    from unigrad.workers import client

    target = import_path(f, backend)
    opts = {k: v for k, v in options.items() if v is not None}
    if "argnums" in opts and isinstance(opts["argnums"], tuple):
        opts["argnums"] = list(opts["argnums"])
    try:
        return client.call(backend, target, list(unwrap(args)), transform, opts)
    except errors.WorkerError as exc:
        raise _same_class(exc, backend) from None


def _same_class(exc: errors.WorkerError, backend: str) -> BaseException:
    """The unigrad error the worker raised, as that class; other errors stay WorkerError."""
    name = getattr(exc, "remote_type", None)
    cls = getattr(errors, name, None) if name else None
    if not (isinstance(cls, type) and issubclass(cls, errors.UnigradError)) or cls in (
        errors.UnsupportedError,
        errors.BackendUnavailableError,
        errors.WorkerError,
    ):
        return exc
    text = str(exc)
    prefix = f"{name} in the {backend} worker: "
    return cls(text[len(prefix) :] if text.startswith(prefix) else text)

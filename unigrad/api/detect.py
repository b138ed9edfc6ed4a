"""Find which framework an array belongs to from its type alone, without importing anything."""

from __future__ import annotations

from typing import Any

_BY_MODULE = {
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "tensorflow": "tensorflow",
    "keras": "tensorflow",
    "mxnet": "mxnet",
    "numpy": "numpy",
    "unigrad": "numpy",  # the reference engine's tracers
}


def framework_of(x: Any) -> str | None:
    """The backend name owning ``x``'s type ('numpy' for NumPy arrays), or None."""
    return _BY_MODULE.get(type(x).__module__.partition(".")[0])


def owning_backend(args: tuple) -> str | None:
    """The first non-NumPy framework among ``args`` (looking one level into lists)."""
    for a in args:
        if type(a) in (list, tuple):
            name = owning_backend(tuple(a[:1]))
        else:
            name = framework_of(a)
        if name is not None and name != "numpy":
            return name
    return None

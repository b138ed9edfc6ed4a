"""Find which backend an array belongs to from its type alone, without importing anything.

Each backend's spec names the top-level modules its array types live in
(``BackendSpec.array_modules``); a type's ``__module__`` is looked up there.
"""

from __future__ import annotations

from typing import Any

from unigrad import registry

_by_module: dict[str, str] = {}
_known: dict[str, registry.BackendSpec] | None = None


def _table() -> dict[str, str]:
    global _known
    specs = registry.specs()
    if _known is not specs or len(_by_module) < len(specs):
        _by_module.clear()
        for name, spec in reversed(list(specs.items())):  # built-ins win a shared module
            for m in spec.array_modules:
                _by_module[m] = name
        _known = specs
    return _by_module


def framework_of(x: Any) -> str | None:
    """The backend name owning ``x``'s type ('numpy' for NumPy arrays), or None."""
    return _table().get(type(x).__module__.partition(".")[0])


def owning_backend(args: tuple) -> str | None:
    """The first non-NumPy framework among ``args`` (looking into lists)."""
    for a in args:
        if type(a) in (list, tuple):
            name = owning_backend(tuple(a))
        else:
            name = framework_of(a)
        if name is not None and name != "numpy":
            return name
    return None

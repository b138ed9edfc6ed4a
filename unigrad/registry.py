"""Backend discovery: specs found through entry points, availability probed without imports.

Listing and resolving backends never imports a framework. A framework is imported the first
time a backend is actually used (``handle.impl``).
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from unigrad.errors import BackendUnavailableError

ENTRY_POINT_GROUP = "unigrad.backends"
#: how the built-in backends' install hints mention the project's own environments
IN_CHECKOUT = "  (or `make env` in a unigrad checkout)"

# Common misspellings people type; difflib covers the rest.
_ALIASES = {
    "pytorch": "torch",
    "tf": "tensorflow",
    "np": "numpy",
    "mx": "mxnet",
    "jnp": "jax",
    "reference": "numpy",
}


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here, its framework version, and where it runs."""

    available: bool
    version: str | None
    runs_in: str  # "process" or "worker"
    reason: str = ""


@dataclass(frozen=True)
class BackendSpec:
    """What unigrad knows about a backend before importing anything.

    ``adapter`` is an import path ``module:Class`` of the adapter class; ``module`` is the
    framework's import name (default: ``name``) and ``distribution`` its package name for the
    version (default: ``module``); ``install_hint`` is the command that installs it.
    """

    name: str
    adapter: str
    module: str = ""
    distribution: str = ""
    install_hint: str = ""
    capabilities: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    probe: Callable[[BackendSpec], Availability] | None = None
    #: top-level modules whose types are this backend's arrays (default: ``module``)
    array_modules: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        module = self.module or self.name
        dist = self.distribution or module
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "distribution", dist)
        if not self.array_modules:
            object.__setattr__(self, "array_modules", (module,))
        if not self.install_hint:
            object.__setattr__(self, "install_hint", f"pip install {dist}")

    def availability(self) -> Availability:
        """Probe whether this backend can run here, without importing its framework."""
        if self.probe is not None:
            return self.probe(self)
        if self.module in sys.modules or importlib.util.find_spec(self.module) is not None:
            return Availability(True, dist_version(self.distribution), "process")
        return Availability(False, None, "process", f"{self.module} is not installed")

    def load_adapter(self) -> Any:
        """Import the adapter class and return a new instance (this imports the framework)."""
        mod_name, _, cls_name = self.adapter.partition(":")
        cls = getattr(importlib.import_module(mod_name), cls_name)
        return cls(self)


def dist_version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` in this environment, or None."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


class BackendHandle:
    """The object ``get_backend()`` returns: name and metadata now, the framework on first use.

    Attribute access beyond the metadata is forwarded to the loaded adapter, so
    ``unigrad.get_backend().to_numpy(x)`` works; loading happens once, then ``impl`` is a plain
    attribute.
    """

    def __init__(self, spec: BackendSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.capabilities = dict(spec.capabilities)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<unigrad backend {self.name!r}>"

    @property
    def version(self) -> str | None:
        """The framework's version, read from package metadata."""
        return self.spec.availability().version

    @property
    def remote(self) -> bool:
        """Whether this backend runs in its own environment, reached through a worker."""
        if "_remote" not in self.__dict__:
            self.__dict__["_remote"] = self.spec.availability().runs_in == "worker"
        return self.__dict__["_remote"]

    def __getattr__(self, attr: str) -> Any:
        if attr == "impl":
            with self._lock:
                if "impl" not in self.__dict__:
                    self.__dict__["impl"] = _load(self.spec)
            return self.__dict__["impl"]
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(self.impl, attr)
        if inspect.ismethod(value):
            value = _unwrapping(value)
            self.__dict__[attr] = value  # the adapter is loaded once: forward without a lookup
        return value


def _unwrapping(method: Any) -> Any:
    """``method`` taking ``unigrad.Array``s (the arrays a differentiated function receives) as
    the framework's arrays they hold, anywhere in its arguments."""
    from unigrad.api.array import unwrap

    @functools.wraps(method)
    def forward(*args: Any, **kwargs: Any) -> Any:
        return method(*unwrap(args), **unwrap(kwargs))

    return forward


def _load(spec: BackendSpec) -> Any:
    avail = spec.availability()
    if not avail.available:
        raise BackendUnavailableError(
            spec.name, f"backend {spec.name!r} is not available: {avail.reason}", spec.install_hint
        )
    if avail.runs_in == "worker":
        raise BackendUnavailableError(
            spec.name,
            f"backend {spec.name!r} runs in its own environment ({avail.reason}), not in this "
            f"process ({sys.executable}). From here, the transforms (unigrad.grad(f, "
            f"backend={spec.name!r}), ...) run module-level functions in its worker, and "
            "unigrad compare and unigrad.testing.assert_agree use it too; unigrad.numpy ops "
            "and arrays of it exist only inside that environment.",
            "run code that needs its arrays with that environment's python",
        )
    try:
        return spec.load_adapter()
    except ImportError as exc:
        raise BackendUnavailableError(
            spec.name, f"backend {spec.name!r} failed to import: {exc}", spec.install_hint
        ) from exc


_specs: dict[str, BackendSpec] | None = None
_handles: dict[str, BackendHandle] = {}
_specs_lock = threading.Lock()


BUILTIN_ORDER = ("numpy", "torch", "jax", "tensorflow", "mxnet")


def _discover() -> dict[str, BackendSpec]:
    found: dict[str, BackendSpec] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        obj = ep.load()
        spec = getattr(obj, "spec", obj)
        if not isinstance(spec, BackendSpec):
            raise TypeError(
                f"entry point {ep.name!r} = {ep.value!r} in group {ENTRY_POINT_GROUP!r} must "
                "name a unigrad.registry.BackendSpec"
            )
        found[spec.name] = spec
    # Running from a source tree that was never installed: fall back to the built-ins.
    for name in BUILTIN_ORDER:
        if name not in found:
            found[name] = importlib.import_module(f"unigrad.backends.{name}").SPEC
    ordered = {name: found.pop(name) for name in BUILTIN_ORDER}
    ordered.update(sorted(found.items()))
    return ordered


def specs() -> dict[str, BackendSpec]:
    """All known backend specs by name, built-ins first. Imports no framework."""
    global _specs
    if _specs is None:
        with _specs_lock:
            if _specs is None:
                _specs = _discover()
    return _specs


def register(spec: BackendSpec) -> None:
    """Register a backend at run time (the entry-point group is the usual way)."""
    global _specs
    _specs = {**specs(), spec.name: spec}
    _handles.pop(spec.name, None)


def backend_names() -> list[str]:
    """Names of every known backend, available here or not."""
    return list(specs())


def check_name(name: str, origin: str = "") -> str:
    """Return ``name`` if it is a known backend, else raise ValueError with a suggestion."""
    known = specs()
    if name in known:
        return name
    where = f" (from {origin})." if origin else ""
    guess = _ALIASES.get(name.lower()) or next(
        iter(difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.5)), None
    )
    hint = f"; did you mean {guess!r}?" if guess else "."
    raise ValueError(f"{name!r} is not a backend{hint}{where} Valid backends: {', '.join(known)}.")


def handle(name: str, origin: str = "") -> BackendHandle:
    """The cached handle for backend ``name``; raises ValueError for an unknown name."""
    h = _handles.get(name)
    if h is None:
        spec = specs().get(check_name(name, origin))
        h = _handles.setdefault(name, BackendHandle(spec))
    return h


def available_backends() -> list[str]:
    """Names of the backends that can run here (in this process or through a worker)."""
    return [name for name, spec in specs().items() if spec.availability().available]

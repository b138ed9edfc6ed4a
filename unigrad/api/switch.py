"""The backend switch. Resolved on every call; the first match wins:

1. a ``backend=`` argument;
2. ``with unigrad.use_backend(name):`` (a context variable: thread- and async-safe);
3. ``unigrad.set_backend(name)``;
4. the ``UNIGRAD_BACKEND`` environment variable;
5. ``[tool.unigrad] backend = "..."`` in the nearest pyproject.toml, or a unigrad.toml;
6. the default, ``numpy``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

from unigrad import registry
from unigrad.api import config
from unigrad.registry import BackendHandle

DEFAULT = "numpy"
ENV_VAR = "UNIGRAD_BACKEND"

_context: contextvars.ContextVar[BackendHandle | None] = contextvars.ContextVar(
    "unigrad_backend", default=None
)
_global: BackendHandle | None = None

BackendLike = str | BackendHandle | None


def _as_handle(backend: str | BackendHandle, origin: str = "") -> BackendHandle:
    if isinstance(backend, BackendHandle):
        return backend
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a name such as 'torch', not {type(backend).__name__}")
    return registry.handle(backend, origin)


def get_backend(backend: BackendLike = None) -> BackendHandle:
    """The active backend (see the module docstring for the order). Imports no framework."""
    if backend is not None:
        return _as_handle(backend, "the backend= argument")
    h = _context.get()
    if h is not None:
        return h
    if _global is not None:
        return _global
    env = os.environ.get(ENV_VAR)
    if env:
        return _as_handle(env, f"the {ENV_VAR} environment variable")
    path, table = config.settings()
    name = table.get("backend")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise config.ConfigError(
                f"{path}: [tool.unigrad] backend must be a backend's name as a string, such as "
                f'backend = "torch", not {name!r}'
            )
        return _as_handle(name, f"[tool.unigrad] backend in {path}")
    return registry.handle(DEFAULT)


def set_backend(backend: BackendLike) -> None:
    """Set the process-wide backend; ``None`` clears it. Unknown names raise ValueError."""
    global _global
    _global = None if backend is None else _as_handle(backend, "set_backend()")


@contextlib.contextmanager
def use_backend(backend: str | BackendHandle) -> Iterator[BackendHandle]:
    """Use ``backend`` inside a ``with`` block (this thread / async task only)."""
    h = _as_handle(backend, "use_backend()")
    token = _context.set(h)
    try:
        yield h
    finally:
        _context.reset(token)


#: whether a transform is running the user's function (its values may be traced)
_transforming: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "unigrad_transforming", default=False
)


def activate(h: BackendHandle) -> tuple[contextvars.Token, contextvars.Token]:
    """Make ``h`` the active backend until ``deactivate(token)``, for a transform running the
    user's function: use_backend without the context manager, on the transforms' hot path."""
    return _context.set(h), _transforming.set(True)


def deactivate(token: tuple[contextvars.Token, contextvars.Token]) -> None:
    """Undo ``activate``."""
    _transforming.reset(token[1])
    _context.reset(token[0])


def in_transform() -> bool:
    """Whether a transform is running the user's function here (not a mere use_backend)."""
    return _transforming.get()


def in_context() -> BackendHandle | None:
    """The backend of the innermost ``use_backend`` or running transform, if any."""
    return _context.get()

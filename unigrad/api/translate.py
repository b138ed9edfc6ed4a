"""Turning errors from deep inside a framework into errors that say what the user did."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

import unigrad.backends as _BACKENDS
from unigrad.errors import FrameworkError

# (pattern in the framework's message, what it usually means for the user)
_HINTS = (
    (
        r"numpy\(\)|__array__|TracerArrayConversion|to numpy|NumPy array",
        "the function handed a traced value to NumPy (np.*), which cannot carry derivatives; "
        "use unigrad.numpy ops (or unigrad.detach(x) for a constant)",
    ),
    (
        r"[Cc]oncret|[Tt]racer|non-hashable|bool.*(tensor|Tensor|symbolic)",
        "the function turns a traced value into a Python value (float(x), int(x), if x > 0, "
        "a NumPy call) where the framework cannot give one; compute with unigrad.numpy ops "
        "(unigrad.numpy.where for a choice that depends on values)",
    ),
    (
        r"shape|size mismatch|incompatible|broadcast|dimension|cannot be multiplied|rank",
        "the shapes of the arrays do not fit together; check the shapes of your inputs",
    ),
    (
        r"dtype|type mismatch|expected scalar type|Double|Float|cannot compute",
        "arrays of different dtypes met; cast your inputs to one float dtype",
    ),
    (
        r"[Ss]ingular|not invertible|LinAlg",
        "a matrix is singular; derivatives through inv/solve/det need an invertible matrix",
    ),
)


def _framework_dirs(modules: tuple[str, ...]) -> list[str]:
    dirs = []
    for name in modules:
        mod = sys.modules.get(name)
        path = getattr(mod, "__file__", None)
        if path:
            dirs.append(os.path.dirname(path) + os.sep)
    return dirs


def is_framework_error(
    exc: BaseException, modules: tuple[str, ...], extra_dirs: tuple[str, ...] = ()
) -> bool:
    """True when ``exc`` was raised inside one of the framework packages ``modules``.

    ``extra_dirs`` adds folders that count as the framework too (the adapter's own folder:
    frameworks raise from C code, so the innermost Python frame is the adapter's call).
    """
    if type(exc).__module__.split(".")[0] in modules:
        return True
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    filename = last.tb_frame.f_code.co_filename
    dirs = (*_framework_dirs(modules), *extra_dirs)
    return any(filename.startswith(d) for d in dirs)


CAUSE = "(the framework's own error is attached as __cause__)"


def _headline(exc: BaseException) -> str:
    """The line of the framework's message that says what went wrong: its first, or for a
    message that is a C++ traceback (MXNet's "Traceback (most recent call last): ... File ...
    MXNetError: Check failed: ..."), its last, without a repeat of the class name."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    if not lines[0].startswith("Traceback") or len(lines) == 1:
        return lines[0]
    last = lines[-1]
    prefix = f"{type(exc).__name__}: "
    return last[len(prefix) :] if last.startswith(prefix) else last


def framework_error(exc: BaseException, impl: Any, what: str, fname: str) -> BaseException:
    """A FrameworkError for ``exc`` if it came from inside the framework, else ``exc`` itself."""
    modules = getattr(impl, "framework_modules", ())
    # the adapters and their op tables call into C code: their frames count as the framework's
    adapter = sys.modules.get(type(impl).__module__)
    extra = [os.path.dirname(_BACKENDS.__file__) + os.sep]
    if adapter is not None:
        extra.append(os.path.dirname(adapter.__file__) + os.sep)
    if not modules or not is_framework_error(exc, modules, tuple(extra)):
        return exc
    text = _headline(exc)
    if len(text) > 300:
        text = text[:300] + "..."
    hint = next((h for pat, h in _HINTS if re.search(pat, str(exc))), None)
    msg = (
        f"{what} of {fname} failed inside {impl.name}: {type(exc).__name__}: {text}"
        + (f"\n  likely cause: {hint}" if hint else "")
        + f"\n  {CAUSE}"
    )
    return FrameworkError(msg)


def foreign_framework_error(
    exc: BaseException, impl: Any, what: str, fname: str
) -> BaseException | None:
    """A FrameworkError for ``exc`` raised inside another framework than ``impl``'s (a torch
    tensor closed over by a function differentiated on numpy or JAX); None otherwise."""
    from unigrad import registry

    for name, spec in registry.specs().items():
        if name == impl.name or not spec.array_modules:
            continue
        if any(m in sys.modules for m in spec.array_modules) and is_framework_error(
            exc, tuple(spec.array_modules)
        ):
            return FrameworkError(
                f"{what} of {fname} on {impl.name} failed inside {name}: "
                f"{type(exc).__name__}: {_headline(exc)[:300]}\n  likely cause: an array of "
                f"{name} meets the values of {impl.name} (closed over, or made under another "
                "backend): convert it with unigrad.to_numpy(...) first, or pass it as an "
                f"argument\n  {CAUSE}"
            )
    return None

"""Transforms on a backend that runs in its own environment (MXNet), from this process.

The function travels by import path (``module:qualname``) to the backend's worker, which runs the
same transform there and sends NumPy arrays back. Errors come back as the same unigrad error
classes. A lambda, a closure, a function of ``__main__`` or a transform object cannot be
imported by the worker: that is an error naming the fix, before anything is sent; so is an
argument the wire cannot carry (a function, an open file, a torch tensor).

The worker's copy of the function's module is its own import, so the data the function reads
from its module (a global array, a config dict, set or changed by the program after import)
travels with each call: ``module_state`` finds the module-level names the function and the
helpers it calls read, and sends those whose values are data, which the worker binds in its
modules before calling. State held elsewhere (an object's attributes) is what the worker's
import made.
"""

from __future__ import annotations

import importlib
import io
import sys
import sysconfig
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from unigrad import errors
from unigrad.api.array import unwrap
from unigrad.api.call import arg_label, fname
from unigrad.api.environment import names_read
from unigrad.api.translate import CAUSE


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
    sent = [_sendable(a, f, i, "", backend) for i, a in enumerate(unwrap(args))]
    try:
        return client.call(backend, target, sent, transform, opts, state=module_state(f))
    except errors.WorkerError as exc:
        raise _same_class(exc, backend, target) from None


_SCALARS = (str, int, float, bool, type(None))
_FOLLOW = 3  # levels of helper functions followed from the sent function


def module_state(f: Callable) -> list[list[Any]]:
    """``[module, name, value]`` for each module-level name that ``f`` (and the helper
    functions it calls, defined in importable modules) reads whose value is data: what the
    worker binds in its own import of those modules before calling ``f``."""
    out: dict[tuple[str, str], Any] = {}
    _state_of(f, out, set(), _FOLLOW)
    return [[m, n, v] for (m, n), v in out.items()]


def _state_of(f: Any, out: dict, seen: set[int], depth: int) -> None:
    if not isinstance(f, types.FunctionType) or id(f) in seen or depth < 0:
        return
    seen.add(id(f))
    module = getattr(f, "__module__", None)
    if not module or module == "__main__":
        return
    g = f.__globals__
    names = names_read(f.__code__)
    for name in names:
        if name not in g:
            continue
        v = g[name]
        if isinstance(v, types.FunctionType):
            _state_of(v, out, seen, depth - 1)
        elif _is_data(v):
            out[(module, name)] = v
        elif isinstance(v, types.ModuleType) and _users(v):
            # othermod.NAME and othermod.helper(x): co_names holds the attributes read too
            for attr in names & set(vars(v)):
                w = vars(v)[attr]
                if isinstance(w, types.FunctionType):
                    _state_of(w, out, seen, depth - 1)
                elif _is_data(w):
                    out[(v.__name__, attr)] = w


def _users(m: types.ModuleType) -> bool:
    """Whether ``m`` is one of the user's modules (not the standard library, an installed
    package or unigrad), whose data may change after import."""
    path = getattr(m, "__file__", None)
    if not path or m.__name__ == "__main__" or m.__name__.partition(".")[0] == "unigrad":
        return False
    if "site-packages" in path or "dist-packages" in path:
        return False
    return not path.startswith(sysconfig.get_paths()["stdlib"])


def _is_data(v: Any, level: int = 3) -> bool:
    """Whether the wire carries ``v`` as it is (arrays, numbers, strings, and containers)."""
    if isinstance(v, np.ndarray):
        return not v.dtype.hasobject
    if isinstance(v, (np.generic, complex, *_SCALARS)):
        return True
    if level > 0 and type(v) in (list, tuple):
        return all(_is_data(e, level - 1) for e in v)
    if level > 0 and type(v) is dict:
        return all(_is_key(k) and _is_data(e, level - 1) for k, e in v.items())
    return False


def _is_key(k: Any) -> bool:
    return isinstance(k, _SCALARS) or (type(k) is tuple and all(isinstance(e, _SCALARS) for e in k))


def _sendable(v: Any, f: Callable, i: int, path: str, backend: str) -> Any:
    """``v`` as the wire carries it (NumPy arrays and numbers, strings, None, and lists,
    tuples and dicts of them); anything else is a TypeError naming the argument."""
    if isinstance(v, (np.ndarray, np.generic, *_SCALARS)):
        return v
    if isinstance(v, complex):
        return np.complex128(v)
    t = type(v)
    if t is list or t is tuple:
        return t(_sendable(e, f, i, f"{path}[{k}]", backend) for k, e in enumerate(v))
    if t is dict:
        return {k: _sendable(e, f, i, f"{path}[{k!r}]", backend) for k, e in v.items()}
    kind = f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__name__
    if isinstance(v, io.IOBase):
        kind = f"open file ({kind})"
    if callable(v):
        fix = (
            "a function cannot travel: define it at module level in your module and call it "
            "from your function (or pass its parameters as arrays)"
        )
    elif hasattr(v, "__array__") or hasattr(v, "numpy"):
        fix = "pass it as a NumPy array (unigrad.to_numpy(x), or np.asarray(x))"
    else:
        fix = (
            "pass its data as NumPy arrays, numbers or strings, or create the object inside "
            "your function's module (the worker imports that module)"
        )
    article = "an" if kind[0] in "aeiouAEIOU" else "a"
    raise TypeError(
        f"{arg_label(f, i, path)} of {fname(f)} is {article} {kind}, which cannot be sent to the "
        f"{backend} worker: backend {backend!r} runs in its own process, which receives NumPy "
        f"arrays, numbers, strings, None and lists, tuples and dicts of them. {fix[0].upper()}"
        f"{fix[1:]}."
    )


def _same_class(exc: errors.WorkerError, backend: str, target: str) -> BaseException:
    """The error the worker raised, as the same class (unigrad's errors and builtin exceptions);
    others stay WorkerError. A module the worker cannot import gets a hint."""
    same = getattr(exc, "remote", None)
    if same is None or isinstance(same, errors.WorkerError):
        return exc
    same.remote_traceback = getattr(exc, "remote_traceback", "")  # type: ignore[attr-defined]
    top = target.partition(":")[0].split(".")[0]
    if isinstance(same, ImportError) and f"'{top}'" in str(same):
        here = getattr(sys.modules.get(top), "__file__", None)
        where = f" (this process imported it from {here})" if here else ""
        return type(same)(
            f"{same} in the {backend} worker{where}. The worker imports your function's module "
            "as python -m would: from its working directory (this process's), then its own "
            "environment's packages and PYTHONPATH; a folder added to sys.path in this process "
            "is not seen there. Run from the folder that holds the module, install it, or add "
            "that folder to PYTHONPATH."
        )
    if not isinstance(same, errors.UnigradError):
        same.add_note(f"raised in the {backend} worker:\n{same.remote_traceback}")
    elif isinstance(same, errors.FrameworkError) and CAUSE in str(same):
        # the framework's error stayed in the worker: its traceback is what came back
        tb = same.remote_traceback  # type: ignore[attr-defined]
        same = type(same)(
            str(same).replace(
                CAUSE, f"(raised in the {backend} worker: its traceback is .remote_traceback)"
            )
        )
        same.remote_traceback = tb  # type: ignore[attr-defined]
    return same

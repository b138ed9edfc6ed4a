"""An exception raised in a worker, described for the wire and rebuilt as the same class.

The worker sends the class's module and name, its message, its simple attributes (an
``UnsupportedError``'s backend, capability and detail, ...) and, for builtin exceptions, their
arguments. The client rebuilds unigrad's own errors (every ``UnigradError`` subclass it can
import) and builtin exceptions as the same class; anything else stays a ``WorkerError``.
"""

from __future__ import annotations

import builtins
import importlib
from typing import Any

from unigrad.errors import UnigradError

_SIMPLE = (str, int, float, bool, type(None))


def describe(exc: BaseException) -> dict:
    """The fields of an error reply that name ``exc``'s class and carry what rebuilds it."""
    cls = type(exc)
    attrs = {k: v for k, v in vars(exc).items() if not k.startswith("_") and isinstance(v, _SIMPLE)}
    out = {"type": cls.__qualname__, "module": cls.__module__, "attrs": attrs}
    if cls.__module__ == "builtins" and all(isinstance(a, _SIMPLE) for a in exc.args):
        out["args"] = list(exc.args)
    return out


def exception_class(module: Any, qualname: Any) -> type[BaseException] | None:
    """The class ``module.qualname`` when it is a builtin exception or one of unigrad's."""
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    if module == "builtins":
        cls = getattr(builtins, qualname, None)
        ok = isinstance(cls, type) and issubclass(cls, Exception)
        return cls if ok else None
    if module != "unigrad" and not module.startswith("unigrad."):
        return None
    try:
        obj: Any = importlib.import_module(module)
    except Exception:  # a module of the other environment (it imports MXNet): no such class here
        return None
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, type) and issubclass(obj, UnigradError) else None


def rebuild(reply: dict) -> BaseException | None:
    """The exception an error reply describes, as its own class; None when it is not one that
    can be rebuilt here."""
    cls = exception_class(reply.get("module"), reply.get("type"))
    if cls is None:
        return None
    message = str(reply.get("error", ""))
    if issubclass(cls, UnigradError):
        # their constructors differ (UnsupportedError takes backend, capability, detail): set
        # the message and the attributes the worker sent instead of calling them
        exc = cls.__new__(cls)
        BaseException.__init__(exc, message)
        attrs = reply.get("attrs")
        if isinstance(attrs, dict):
            vars(exc).update({k: v for k, v in attrs.items() if isinstance(k, str)})
        return exc
    args = reply.get("args")
    try:
        return cls(*args) if isinstance(args, list) else cls(message)
    except Exception:
        return cls(message)

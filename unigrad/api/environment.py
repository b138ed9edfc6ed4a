"""What a function reads besides its arguments, so that a compiled transform never goes stale.

A compiler (jax.jit, tf.function) bakes in every value the function reads from outside its
arguments: a global NumPy array, a closed-over dict, an attribute of ``self``. Called again after
that value changed, the compiled transform would return the old numbers, where the same function
run eagerly returns the new ones. ``Environment`` finds those values when a transform is
compiled (the function's globals by name, its closure, the attributes of a bound method's
``self``, one or two levels into containers, and the helper functions it calls) and fingerprints
them on every call; a changed fingerprint makes unigrad compile again.

Arrays are fingerprinted by their contents (a CRC of their bytes), so a large array closed over
costs a pass over its memory per call: pass large data as an argument instead, which costs
nothing.
"""

from __future__ import annotations

import functools
import types
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

_SKIP = (types.ModuleType, type, types.BuiltinFunctionType, types.BuiltinMethodType)
_MAX_ITEMS = 64  # entries of one container looked into
_DEPTH = 3  # helper functions followed
Getter = Callable[[], Any]


class Environment:
    """The outside values a function reads, as getters re-read on every call."""

    __slots__ = ("getters",)

    def __init__(self, f: Callable[..., Any]) -> None:
        self.getters: list[Getter] = []
        _collect(f, self.getters, set(), _DEPTH)

    def fingerprint(self) -> tuple:
        """The current state of every outside value (equal fingerprints: nothing changed)."""
        return tuple(_fingerprint(g()) for g in self.getters)

    def __bool__(self) -> bool:
        return bool(self.getters)


def _fingerprint(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        if v.dtype.hasobject:
            return id(v)
        data = np.ascontiguousarray(v).reshape(-1)  # 1-d: a 0-d array cannot be viewed as bytes
        return (id(v), v.shape, v.dtype.str, zlib.crc32(data.view(np.uint8)))
    if isinstance(v, int | float | complex | str | bytes | bool | np.generic) or v is None:
        return (type(v), v)
    if isinstance(v, dict | list | tuple):
        return (id(v), len(v))
    return id(v)


def _collect(f: Any, out: list[Getter], seen: set[int], depth: int) -> None:
    if id(f) in seen or depth < 0:
        return
    seen.add(id(f))
    if isinstance(f, functools.partial):
        _collect(f.func, out, seen, depth)
        for v in (*f.args, *f.keywords.values()):
            _value(lambda v=v: v, out, seen, depth)
        return
    if isinstance(f, types.MethodType):
        _value(lambda s=f.__self__: s, out, seen, depth)
        f = f.__func__
    if not isinstance(f, types.FunctionType):
        if callable(f) and hasattr(f, "__dict__") and not isinstance(f, _SKIP):
            _value(lambda s=f: s, out, seen, depth)  # a callable object: its attributes
            _collect(type(f).__call__, out, seen, depth - 1)
        return
    g = f.__globals__
    for name in names_read(f.__code__):
        if name in g:
            _value(lambda g=g, name=name: g.get(name), out, seen, depth)
    for cell in f.__closure__ or ():
        _value(lambda cell=cell: _cell(cell), out, seen, depth)


def names_read(code: types.CodeType) -> set[str]:
    """The global names ``code`` reads, its lambdas' and comprehensions' included."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):  # lambdas and comprehensions inside the function
            names |= names_read(c)
    return names


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _value(get: Getter, out: list[Getter], seen: set[int], depth: int, level: int = 2) -> None:
    """Add ``get`` if its value is data; look into containers and objects; follow functions."""
    v = get()
    if isinstance(v, _SKIP) or (
        callable(v) and isinstance(v, types.FunctionType | functools.partial)
    ):
        if isinstance(v, types.FunctionType | functools.partial):
            _collect(v, out, seen, depth - 1)
        return
    if isinstance(v, types.MethodType):
        _collect(v, out, seen, depth - 1)
        return
    out.append(get)
    if level <= 0 or id(v) in seen:
        return
    if isinstance(v, dict):
        seen.add(id(v))
        for k in list(v)[:_MAX_ITEMS]:
            _value(lambda get=get, k=k: _item(get(), k), out, seen, depth, level - 1)
    elif isinstance(v, list | tuple):
        seen.add(id(v))
        for i in range(min(len(v), _MAX_ITEMS)):
            _value(lambda get=get, i=i: _item(get(), i), out, seen, depth, level - 1)
    elif _plain_object(v):
        seen.add(id(v))
        for k in list(vars(v))[:_MAX_ITEMS]:
            _value(lambda get=get, k=k: _attr(get(), k), out, seen, depth, level - 1)


def _plain_object(v: Any) -> bool:
    """An object whose attributes are data: not an array, not a proxy with computed attributes."""
    cls = type(v)
    if not hasattr(v, "__dict__") or hasattr(cls, "__getattr__"):
        return False  # __getattr__ (an op table, a handle) computes attributes: reading them acts
    return not (hasattr(cls, "shape") and hasattr(cls, "dtype"))


def _item(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return None


def _attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, None)

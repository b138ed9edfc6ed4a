"""What the ``unigrad port`` command is given, read: functions by import path (and which
framework each is written for), parameters, inputs and layouts.

A function is ``[framework=]module:function``. Without ``framework=`` it is told from the
function: a torch module or a Keras model is itself; a function by the framework modules (and
models) that its code, and the module-level functions it calls, refer to. A module that
cannot be imported here because MXNet is missing holds an MXNet function, run in MXNet's
worker.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from typing import Any

from unigrad.port.layout import transform_of
from unigrad.port.params import framework_of_object, is_model

ROOTS = {
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "flax": "jax",
    "tensorflow": "tensorflow",
    "keras": "tensorflow",
    "tf_keras": "tensorflow",
    "mxnet": "mxnet",
    "numpy": "numpy",  # only when no other framework is referred to
}


class TargetError(ValueError):
    """A command-line argument that cannot be read; the message says what to write."""


def _framework_of_value(value: Any) -> str | None:
    if isinstance(value, types.ModuleType):
        return ROOTS.get(value.__name__.split(".")[0])
    fw = framework_of_object(value)
    if fw:
        return fw
    module = getattr(value, "__module__", None)
    return ROOTS.get(module.split(".")[0]) if isinstance(module, str) else None


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def frameworks_used(fn: Any, depth: int = 3, seen: set[int] | None = None) -> set[str]:
    """The frameworks that ``fn``'s code refers to, following the functions of its own
    module that it calls (``depth`` levels)."""
    seen = set() if seen is None else seen
    code = getattr(fn, "__code__", None)
    if code is None or id(fn) in seen:
        return set()
    seen.add(id(fn))
    found: set[str] = set()
    module = getattr(fn, "__module__", None)
    for name in _names(code):
        value = fn.__globals__.get(name)
        if value is None:
            continue
        fw = _framework_of_value(value)
        if fw:
            found.add(fw)
        elif depth and callable(value) and getattr(value, "__module__", None) == module:
            found |= frameworks_used(getattr(value, "__wrapped__", value), depth - 1, seen)
    return found


def working_directory_first() -> None:
    """Put the working directory first on ``sys.path``, as ``python -m`` does, so that the
    command's modules import their neighbours (``from mymodel import Net``)."""
    cwd = os.getcwd()
    if not sys.path or sys.path[0] not in ("", cwd):
        sys.path.insert(0, cwd)


def read_function(spec: str) -> tuple[str | None, Any]:
    """``(framework or None, the function, model or MXNet import path)`` for one argument."""
    from unigrad.workers.targets import resolve

    working_directory_first()
    label, sep, path = spec.partition("=")
    if not sep:
        label, path = "", spec
    try:
        obj = resolve(path)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "mxnet":
            return label or "mxnet", path
        raise TargetError(f"cannot import {path.partition(':')[0]!r}: {exc}") from exc
    except (ImportError, AttributeError, ValueError) as exc:
        raise TargetError(f"{path}: {exc}") from exc
    if label:
        return label, obj
    if is_model(obj):
        return framework_of_object(obj), obj
    found = frameworks_used(obj)
    if len(found) > 1:
        found.discard("numpy")
    if len(found) != 1:
        what = f"it refers to {', '.join(sorted(found))}" if found else "it refers to none"
        raise TargetError(
            f"cannot tell which framework {path} is written in ({what}): write it as "
            f"FRAMEWORK={path}, e.g. torch={path}"
        )
    return found.pop(), obj


def labelled(specs: list[str]) -> dict[str, Any]:
    """The ``functions`` of a port check from the command line's arguments (a second function
    of one framework is labelled ``torch:2``)."""
    out: dict[str, Any] = {}
    for spec in specs:
        label, obj = read_function(spec)
        assert label is not None
        base, n = label, 2
        while label in out:
            label, n = f"{base}:{n}", n + 1
        out[label] = obj
    return out


def read_value(spec: str, what: str) -> Any:
    """``--params`` or ``--inputs``: a file path, or ``module:attr`` (a value, or a function
    of no arguments that returns one)."""
    from unigrad.workers.targets import resolve

    if Path(spec).exists() or ":" not in spec:
        return spec
    working_directory_first()
    try:
        value = resolve(spec)
    except (ImportError, AttributeError, ValueError) as exc:
        raise TargetError(f"--{what} {spec}: {exc}") from exc
    return value() if callable(value) and not is_model(value) else value


def read_layout(specs: list[str]) -> dict[str, dict[str, Any]]:
    """``--layout FRAMEWORK:PATTERN=TRANSFORM`` (``transpose``, ``2,3,1,0`` or ``None``), or
    ``module:attr`` naming a layout dict; several are merged in order."""
    from unigrad.workers.targets import resolve

    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if "=" not in spec:
            working_directory_first()
            try:
                value = resolve(spec)
            except (ImportError, AttributeError, ValueError) as exc:
                raise TargetError(f"--layout {spec}: {exc}") from exc
            if not isinstance(value, dict):
                raise TargetError(f"--layout {spec} is a {type(value).__name__}, not a dict")
            for key, entries in value.items():
                out.setdefault(key, {}).update(entries)
            continue
        left, _, transform = spec.partition("=")
        framework, sep, pattern = left.partition(":")
        if not sep or not pattern:
            raise TargetError(
                f"--layout {spec}: write FRAMEWORK:PATTERN=TRANSFORM, e.g. "
                "tensorflow:*.weight=transpose or jax:conv1.weight=2,3,1,0"
            )
        value: Any = transform.strip()
        if value.lower() == "none":  # as it is
            value = None
        elif value.replace(",", "").replace(" ", "").isdigit():
            value = tuple(int(i) for i in value.split(","))
        try:
            transform_of(value, f"--layout {spec}")
        except ValueError as exc:
            raise TargetError(str(exc)) from exc
        out.setdefault(framework.strip(), {})[pattern.strip()] = value
    return out

"""Functions named by import path (``module:attr``): finding them, and calling a transform of one.

``resolve`` is how a worker finds what an ``invoke`` request names, and how ``unigrad graph``
finds its function. ``call`` is what a worker runs for ``unigrad.workers.client.call``.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any


def _import_top(name: str, folder: Path) -> None:
    """Import the top-level module or package ``name`` from ``folder`` if it is there."""
    if name in sys.modules:
        return
    spec = importlib.machinery.PathFinder.find_spec(name, [str(folder)])
    if spec is None or spec.loader is None:
        return  # not there, or a bare folder (a namespace portion), which must not hide a module
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def resolve(target: str, folder: str | Path | None = None) -> Any:
    """The object at import path ``module:attr`` (``attr`` may be dotted).

    As with ``python -m``, the module is looked up in ``folder`` (default: the working
    directory) first, then on ``sys.path``; ``sys.path`` itself is left alone. Raises
    ``ValueError`` for a malformed path, ``ImportError`` when the module cannot be imported and
    ``AttributeError`` when it has no such attribute.
    """
    mod_name, sep, attr = target.partition(":")
    if not sep or not mod_name or not attr:
        raise ValueError(f"give the target as module:attr (e.g. mymod:f), not {target!r}")
    _import_top(mod_name.split(".")[0], Path(folder) if folder is not None else Path.cwd())
    obj: Any = importlib.import_module(mod_name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise AttributeError(f"{mod_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def call(payload: dict) -> Any:
    """Run a transform of the function at ``payload["target"]``; return NumPy results.

    ``payload``: ``backend``, ``target``, ``args``, ``transform`` (a name of
    ``unigrad.api.dispatch.TRANSFORMS``, default "value") and ``options`` (``argnums``,
    ``has_aux``, ``mode``, ``tangents``, ``cotangent``); ``state``: ``[module, name, value]``
    triples bound in those modules first (the caller's module data, as it is now).
    """
    import unigrad
    from unigrad.api.dispatch import apply

    opts = dict(payload.get("options") or {})
    argnums = opts.get("argnums")
    fun = resolve(payload["target"], os.getcwd())
    for module, name, value in payload.get("state") or ():
        setattr(importlib.import_module(module), name, value)
    out = apply(
        payload.get("transform", "value"),
        fun,
        payload.get("args", []),
        tuple(argnums) if isinstance(argnums, list) else argnums,
        payload["backend"],
        tangents=opts.get("tangents"),
        cotangents=opts.get("cotangent"),
        has_aux=opts.get("has_aux", False),
        mode=opts.get("mode", "auto"),
    )
    return unigrad.to_numpy(out)

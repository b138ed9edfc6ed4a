"""Native runs on MXNet: ``autograd.record`` and ``backward`` with the cotangents as head
gradients, in MXNet's own environment.

From the main environment the function travels by import path (``module:function``, or the
function itself when it is defined at module level) to MXNet's worker, which runs ``serve``;
inside ``.venv-mxnet`` it runs in process. The module is imported only where MXNet is, so
keep ``import mxnet`` inside the function or in a module of its own. The worker looks the
module up as ``python -m`` would, the caller's working directory first. MXNet's gradient of a
parameter the output does not use is zeros (it cannot say None), and no knobs apply.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.port.frameworks import Raw, cast_input, cotangents
from unigrad.port.paths import flatten

SERVE = "unigrad.port.frameworks.mxnet:serve"


def target_of(entry: Any) -> str:
    """The import path of an MXNet native function (a ``module:function`` string, or a
    module-level function)."""
    if isinstance(entry, str):
        if ":" not in entry:
            raise ValueError(f"give MXNet's function as module:function, not {entry!r}")
        return entry
    from unigrad.api.remote import import_path

    return import_path(entry, "mxnet")


def _in_process() -> bool:
    from unigrad import registry

    return registry.specs()["mxnet"].availability().runs_in == "process"


class NativeError(Exception):
    """The native function raised in MXNet's worker: its type and message."""


def run(
    entry: Any,
    params: Any,
    inputs: Any,
    dtype: str,
    want_grad: bool,
    knobs: dict[str, Any],
    timeout: float = 120.0,
) -> Raw:
    """One run of ``entry`` in MXNet (through its worker when it runs in another
    environment)."""
    payload = {"params": params, "inputs": inputs, "dtype": dtype, "grad": want_grad}
    if _in_process() and not isinstance(entry, str):
        reply = _run(entry, payload)
    else:
        from unigrad.workers.client import get_worker

        reply = get_worker("mxnet").invoke(
            SERVE, {**payload, "target": target_of(entry), "folder": os.getcwd()}, timeout=timeout
        )
    if reply.get("error"):
        raise NativeError(reply["error"])
    grads = reply.get("grads")
    return Raw(reply["outputs"], None if grads is None else list(grads), {})


def serve(payload: dict) -> dict:
    """The worker's side: run the function at ``payload["target"]``; its error comes back as
    text (``{"error": "TypeError: ..."}``), so that it is reported, not raised."""
    from unigrad.workers.targets import resolve

    folder = payload.get("folder")
    if folder and folder not in sys.path:  # as python -m: the function's neighbours import
        sys.path.insert(0, folder)
    try:
        return _run(resolve(payload["target"], folder), payload)
    except Exception as exc:  # the user's function failed: a reported result, not a crash
        return {"error": f"{type(exc).__name__}: {exc}"}


def _run(fn: Any, payload: dict) -> dict:
    from mxnet import autograd
    from mxnet import np as mnp

    dtype = payload["dtype"]
    leaves, treedef = pytree.tree_flatten(payload["params"])
    ts = [mnp.array(cast_input(a, dtype), dtype=dtype) for a in leaves]
    for t in ts:
        t.attach_grad()
    xs = pytree.tree_map(lambda a: _array(a, dtype), payload["inputs"])
    with autograd.record():
        out = fn(pytree.tree_unflatten(treedef, ts), xs)
        flat = flatten(out, "output", what="the outputs")
    outputs = {k: v.asnumpy() if hasattr(v, "asnumpy") else np.asarray(v) for k, v in flat.items()}
    if not payload["grad"]:
        return {"outputs": outputs}
    cts = cotangents(outputs)
    heads = [(v, mnp.array(cts[k], dtype=cts[k].dtype)) for k, v in flat.items() if k in cts]
    if heads:
        autograd.backward([h for h, _ in heads], head_grads=[c for _, c in heads])
    return {"outputs": outputs, "grads": [t.grad.asnumpy() for t in ts]}


def _array(a: Any, dtype: str) -> Any:
    from mxnet import np as mnp

    arr = cast_input(a, dtype)
    return mnp.array(arr, dtype=arr.dtype)

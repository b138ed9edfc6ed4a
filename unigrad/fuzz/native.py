"""Each framework's own op for an entry of the per-op table (``unigrad fuzz --native``).

The op is found, in order: the entry's ``OpInfo.native`` (``{"torch": "torch.clamp"}``); the
names below, where a framework spells a NumPy op differently (TensorFlow's ``reduce_max``,
``asin``); the framework's NumPy-like namespace under the NumPy name. Arguments that are NumPy
arrays or Python floats become the framework's arrays, and torch reads ``axis``/``keepdims`` as
``dim``/``keepdim``, so that the program means the same on each framework; what the op then
returns, and how the framework differentiates it, is the framework's own.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

#: where each framework's NumPy-like namespace lives
NAMESPACES = {
    "torch": ("torch", "torch.linalg"),
    "jax": ("jax.numpy", "jax.numpy.linalg"),
    "tensorflow": ("tensorflow.math", "tensorflow.linalg", "tensorflow"),
    "mxnet": ("mxnet.numpy", "mxnet.numpy.linalg"),
}
_TF_REDUCE = {
    n: f"tensorflow.math.reduce_{n}" for n in ("sum", "mean", "prod", "max", "min", "std")
}
#: NumPy names a framework spells differently (its own op, not unigrad's)
RENAMES = {
    "torch": {
        "max": "torch.amax",
        "min": "torch.amin",
        "relu": "torch.relu",
        "softplus": "torch.nn.functional.softplus",
        "linalg.norm": "torch.linalg.norm",
        "power": "torch.pow",
    },
    "jax": {
        "relu": "jax.nn.relu",
        "sigmoid": "jax.nn.sigmoid",
        "softplus": "jax.nn.softplus",
        "logsumexp": "jax.scipy.special.logsumexp",
    },
    "tensorflow": {
        **_TF_REDUCE,
        "var": "tensorflow.math.reduce_variance",
        "logsumexp": "tensorflow.math.reduce_logsumexp",
        "arcsin": "tensorflow.math.asin",
        "arccos": "tensorflow.math.acos",
        "arctan": "tensorflow.math.atan",
        "arcsinh": "tensorflow.math.asinh",
        "arccosh": "tensorflow.math.acosh",
        "arctanh": "tensorflow.math.atanh",
        "power": "tensorflow.math.pow",
        "clip": "tensorflow.clip_by_value",
        "relu": "tensorflow.nn.relu",
        "matmul": "tensorflow.linalg.matmul",
        "where": "tensorflow.where",
        "linalg.norm": "tensorflow.norm",
    },
    "mxnet": {
        "relu": "mxnet.npx.relu",
        "sigmoid": "mxnet.npx.sigmoid",
    },
}


class NativeUnavailable(LookupError):
    """The framework has no op under any name unigrad knows for this entry."""


def native_name(backend: str, op: str) -> str:
    """The dotted path of ``backend``'s own op for the table's entry ``op``."""
    from unigrad.fuzz.program import opinfo

    declared = opinfo(op).native.get(backend)
    if declared:
        return declared
    if op in RENAMES.get(backend, {}):
        return RENAMES[backend][op]
    leaf = op.split(".")[-1]
    for ns in NAMESPACES.get(backend, ()):
        if op.startswith("linalg.") != ns.endswith("linalg"):
            continue
        try:
            module = importlib.import_module(ns)
        except ImportError:  # a framework of another environment (MXNet): the worker found it
            return f"{ns}.{leaf}"
        if hasattr(module, leaf):
            return f"{ns}.{leaf}"
    raise NativeUnavailable(f"{backend} has no op for {op!r} that unigrad knows")


def is_adapter(path: str) -> bool:
    """Whether ``path`` is one of unigrad's adapters around a framework's op (it takes
    unigrad's arguments as they are; ``unigrad/nn/native.py``)."""
    return path.startswith("unigrad.")


def adapter_source(paths: list[str]) -> str:
    """The source of the adapters ``paths`` and of the module's helpers they name, for a
    script that runs without unigrad."""
    import inspect

    seen: dict[str, str] = {}

    def add(fn: Any) -> None:
        if fn.__name__ in seen:
            return
        seen[fn.__name__] = inspect.getsource(fn)
        module = inspect.getmodule(fn)
        codes = [fn.__code__]
        while codes:
            code = codes.pop()
            codes.extend(c for c in code.co_consts if inspect.iscode(c))
            for name in code.co_names:
                helper = getattr(module, name, None)
                if inspect.isfunction(helper) and helper.__module__ == fn.__module__:
                    add(helper)

    for path in paths:
        add(_lookup(path))
    return "\n\n".join(reversed(seen.values()))


def _lookup(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError:  # a nested attribute (tensorflow.math.reduce_max is fine)
        head, _, attr = module.rpartition(".")
        return getattr(getattr(importlib.import_module(head), attr), name)


def _converter(backend: str) -> Callable[[Any], Any]:
    if backend == "torch":
        import torch

        return lambda v: torch.as_tensor(np.asarray(v))
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.asarray
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.constant
    if backend == "mxnet":
        import mxnet

        return lambda v: mxnet.np.array(np.asarray(v), dtype=np.asarray(v).dtype)
    return np.asarray


@functools.cache
def native_op(backend: str, op: str) -> Callable[..., Any]:
    """``backend``'s own op for ``op``, taking NumPy constants as the framework's arrays."""
    fn = _lookup(native_name(backend, op))
    conv = _converter(backend)

    def call(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_constant(a, conv, backend) for a in args)
        if backend == "torch" and not is_adapter(native_name(backend, op)):
            kwargs = {
                {"axis": "dim", "keepdims": "keepdim"}.get(k, k): v for k, v in kwargs.items()
            }
        return fn(*args, **kwargs)

    call.__name__ = native_name(backend, op)
    return call


def _constant(a: Any, conv: Callable[[Any], Any], backend: str) -> Any:
    if isinstance(a, np.ndarray):
        return conv(a)
    if backend == "torch" and isinstance(a, float):
        return conv(np.float64(a))
    return a


def resolver(backend: str) -> Callable[[str], Callable[..., Any]]:
    """Op name -> the framework's own op (for ``Program.function``)."""
    return lambda op: native_op(backend, op)

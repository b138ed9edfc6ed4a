"""One native run per framework: the framework's arrays in, its own autodiff idiom, NumPy out.

Each module here has ``run(entry, params, inputs, dtype, want_grad, knobs) -> Raw``: ``entry``
is the user's native function ``f(params, inputs)`` or a model, ``params`` a NumPy pytree in
the framework's layout, ``inputs`` a NumPy pytree (floats are cast to ``dtype``, integers kept).
The gradient is that of the output when it is one scalar, else of ``sum(c * output)`` with a
fixed random ``c`` per output leaf (``cotangents``), the same in every framework. ``knobs``
ask a run to change a known porting choice (``{"gelu": "flip"}``, ``{"epsilon": 1e-5}``) for
the diagnosis (``{"epsilon": None}`` only records the epsilons used); ``Raw.hits`` counts
where a knob took effect, and under ``"knob=value"`` the values it found there.
"""

from __future__ import annotations

import contextvars
import importlib
import inspect
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

#: the knobs whose changed function is running now: a changed function that calls another
#: (Keras's gelu calls ``tf.nn.gelu``) changes the argument once, not once per layer
_CHANGING: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "unigrad_port_changing", default=frozenset()
)

FRAMEWORKS = ("numpy", "torch", "jax", "tensorflow", "mxnet")
#: the knobs each framework's runs understand (the MXNet worker's understand none)
KNOBS = {
    "numpy": (),
    "torch": ("epsilon", "gelu"),
    "jax": ("epsilon", "gelu"),
    "tensorflow": ("epsilon", "gelu"),
    "mxnet": (),
}


@dataclass
class Raw:
    """What one run gives: outputs as ``{path: array}``; the gradient of each parameter leaf,
    in ``pytree.tree_flatten`` order of the params given, None where the framework says the
    output does not depend on it; how often each knob took effect."""

    outputs: dict[str, np.ndarray]
    grads: list[np.ndarray | None] | None = None
    hits: dict[str, int] = field(default_factory=dict)


def runner(framework: str) -> ModuleType:
    """The module that runs native functions of ``framework``."""
    return importlib.import_module(f"unigrad.port.frameworks.{framework}")


def is_float(a: np.ndarray) -> bool:
    """Whether ``a`` holds floating-point numbers (outputs that carry a gradient)."""
    return np.issubdtype(np.asarray(a).dtype, np.floating)


def cotangents(outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The weight of each float output leaf in the differentiated scalar.

    One scalar output: 1 (its plain gradient). Otherwise a standard normal array per leaf,
    seeded by its path and shaped like it, so that every framework differentiates the same
    ``sum(c * output)``.
    """
    floats = {p: np.asarray(v) for p, v in outputs.items() if is_float(v)}
    if len(floats) == 1 and next(iter(floats.values())).shape == ():
        return {p: np.ones((), v.dtype) for p, v in floats.items()}
    return {
        p: np.random.default_rng(zlib.crc32(p.encode())).standard_normal(v.shape).astype(v.dtype)
        for p, v in floats.items()
    }


def cast_input(a: Any, dtype: str) -> np.ndarray:
    """An input leaf as NumPy: floats in ``dtype``, anything else as it is."""
    arr = np.asarray(a)
    return arr.astype(dtype) if np.issubdtype(arr.dtype, np.floating) else arr


def key_error_hint(exc: BaseException, params: Any) -> str:
    """For a KeyError on the params: which keys the function was given."""
    if isinstance(exc, KeyError) and isinstance(params, dict) and exc.args:
        keys = ", ".join(map(str, list(params)[:12]))
        return f" (the function asked for {exc.args[0]!r}; the params it was given hold: {keys})"
    return ""


class Patch:
    """Attributes replaced for the length of a ``with`` block, restored afterwards."""

    def __init__(self) -> None:
        self._undo: list[tuple[Any, str, Any]] = []

    def set(self, obj: Any, name: str, value: Any) -> None:
        """Replace ``obj.name`` until the block ends."""
        self._undo.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def __enter__(self) -> Patch:
        return self

    def __exit__(self, *exc: Any) -> None:
        for obj, name, old in reversed(self._undo):
            setattr(obj, name, old)
        self._undo.clear()


def rebinding(
    fn: Callable[..., Any],
    argument: str,
    change: Callable[[Any], Any],
    hits: dict[str, int],
    knob: str,
) -> Callable[..., Any]:
    """``fn`` with one argument changed on every call (given by position, by keyword or left
    to its default), counting the calls under ``knob`` in ``hits``. A call made from inside
    another changed function of the same knob is left as it is: the outer one changed it."""
    sig = inspect.signature(fn)

    def changed(*args: Any, **kwargs: Any) -> Any:
        busy = _CHANGING.get()
        if knob in busy:
            return fn(*args, **kwargs)
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        was = bound.arguments[argument]
        bound.arguments[argument] = change(was)
        hits[knob] = hits.get(knob, 0) + 1
        hits[f"{knob}={was!r}"] = hits.get(f"{knob}={was!r}", 0) + 1
        token = _CHANGING.set(busy | {knob})
        try:
            return fn(*bound.args, **bound.kwargs)
        finally:
            _CHANGING.reset(token)

    return changed

"""Native runs on TensorFlow: a ``tf.GradientTape`` watching the parameter tensors; a Keras 3
model through ``stateless_call`` with its ``trainable_weights``.

Keras computes in its layers' dtype: a model built in float32 cannot be checked in float64
(it would round the float64 parameters silently), so that is an error that says how to build
it. Knobs: ``epsilon`` sets the ``epsilon`` of the model's normalisation layers; ``gelu``
flips every GELU (Keras's activations and ops, ``tf.nn.gelu``, and layers whose activation is
GELU) between exact and tanh-approximate.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from unigrad import pytree
from unigrad.port.bind import call_with_inputs
from unigrad.port.frameworks import Patch, Raw, cast_input, cotangents, rebinding
from unigrad.port.params import is_model, keras_weights
from unigrad.port.paths import check_same, check_shapes, flatten

#: the knobs of the run in progress and where they record their hits (``call_model`` applies
#: them to the layers of each model it runs)
_ACTIVE: contextvars.ContextVar[tuple[dict, dict] | None] = contextvars.ContextVar(
    "unigrad_port_keras_knobs", default=None
)


class KerasDtypeError(TypeError):
    """A Keras model asked to compute in another dtype than its weights'."""


def call_model(model: Any, params: Any, args: tuple, kwargs: dict) -> Any:
    """``model(*args, **kwargs)`` with ``params`` as its trainable weights (``port.call``)."""
    if not model.built:
        raise ValueError(
            f"the Keras model {model.name!r} is not built: give it a keras.Input or call it "
            "once on an example batch, so that its weights exist"
        )
    own = keras_weights(model)
    given = flatten(params, what="the parameters")
    what = f"the Keras model {model.name!r}"
    check_same(own, given, what, "Keras weights are named layer.weight (see load_params)")
    check_shapes(
        {p: tuple(v.shape) for p, v in own.items()},
        {p: tuple(t.shape) for p, t in given.items()},
        what,
    )
    for p, v in own.items():
        got = tf.as_dtype(given[p].dtype).name
        if got != v.dtype:
            raise KerasDtypeError(
                f"{what} holds {v.dtype} weights ({p}) and computes in its layers' dtype, so "
                f"{got} parameters would be rounded to {v.dtype}: build the model with "
                f"dtype={got!r} on its layers (or keras.config.set_floatx({got!r}) before "
                f"building it) to check {got}; a port check takes "
                "{'float32': model32, 'float64': model64} for a framework"
            )
    trainable = [given[p] for p in own]
    non_trainable = [v.value for v in model.non_trainable_variables]
    with _layer_knobs(model):
        out, _ = model.stateless_call(trainable, non_trainable, *args, **kwargs)
    return out


@contextlib.contextmanager
def _layer_knobs(model: Any) -> Iterator[None]:
    """The active knobs applied to ``model``'s layers (their epsilon, their activation)."""
    active = _ACTIVE.get()
    if active is None:
        yield
        return
    knobs, hits = active
    with Patch() as patch:
        for layer in model._flatten_layers(include_self=True):
            was = getattr(layer, "epsilon", None)
            if "epsilon" in knobs and isinstance(was, float):
                if knobs["epsilon"] is not None:
                    patch.set(layer, "epsilon", knobs["epsilon"])
                hits["epsilon"] = hits.get("epsilon", 0) + 1
                hits[f"epsilon={was!r}"] = hits.get(f"epsilon={was!r}", 0) + 1
            if knobs.get("gelu") == "flip" and getattr(layer, "activation", None) is _gelu():
                patch.set(layer, "activation", keras.activations.gelu)  # the flipping one
        yield


def _gelu() -> Any:
    """Keras's own GELU activation (the original, while the knob replaces the module's)."""
    from keras.src.activations import activations

    return activations.gelu


def _not(approximate: Any) -> bool:
    return not approximate


@contextlib.contextmanager
def knobs_applied(knobs: dict[str, Any], hits: dict[str, int]) -> Iterator[None]:
    """Apply the diagnosis knobs for the length of the block: GELU functions here, and the
    layers of every model that ``call_model`` runs meanwhile."""
    token = _ACTIVE.set((knobs, hits) if knobs else None)
    try:
        with Patch() as patch:
            if knobs.get("gelu") == "flip":
                flipped = rebinding(_gelu(), "approximate", _not, hits, "gelu")
                patch.set(keras.activations, "gelu", flipped)
                ops_gelu = rebinding(keras.ops.gelu, "approximate", _not, hits, "gelu")
                patch.set(keras.ops, "gelu", ops_gelu)
                patch.set(tf.nn, "gelu", rebinding(tf.nn.gelu, "approximate", _not, hits, "gelu"))
            yield
    finally:
        _ACTIVE.reset(token)


def _tensor(a: Any, dtype: str) -> tf.Tensor:
    return tf.convert_to_tensor(cast_input(a, dtype))


def _numpy(x: Any) -> np.ndarray:
    return np.asarray(x.numpy()) if hasattr(x, "numpy") else np.asarray(x)


def run(
    entry: Any, params: Any, inputs: Any, dtype: str, want_grad: bool, knobs: dict[str, Any]
) -> Raw:
    """One run of ``entry`` (a function of (params, inputs), or a Keras model)."""
    leaves, treedef = pytree.tree_flatten(params)
    ts = [_tensor(a, dtype) for a in leaves]
    xs = pytree.tree_map(lambda a: _tensor(a, dtype), inputs)
    p = pytree.tree_unflatten(treedef, ts)
    hits: dict[str, int] = {}
    with knobs_applied(knobs, hits), tf.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        out = call_with_inputs(entry, p, xs) if is_model(entry) else entry(p, xs)
        flat = flatten(out, "output", what="the outputs")
    outputs = {k: _numpy(v) for k, v in flat.items()}
    if not want_grad:
        return Raw(outputs, None, hits)
    cts = cotangents(outputs)
    heads = [
        (v, tf.constant(cts[k], v.dtype)) for k, v in flat.items() if k in cts and tf.is_tensor(v)
    ]
    if not heads:
        return Raw(outputs, [None] * len(ts), hits)
    gs = tape.gradient([h for h, _ in heads], ts, output_gradients=[c for _, c in heads])
    return Raw(outputs, [None if g is None else _numpy(g) for g in gs], hits)

"""The example models in Keras 3 (on TensorFlow), one per dtype, and planted bugs.

Keras computes in its layers' dtype, so each loss picks the model built in its parameters'
dtype. Layers carry torch's attribute names, so that their weights have torch's paths.

The MLP's GELU is written here: TensorFlow's exact GELU (``tf.nn.gelu``, which Keras's
``"gelu"`` calls) rounds its constant 1/sqrt(2) to float32, so in float64 it is only float32
accurate (relative errors up to 1.7e-7), which a float64 port check reports.
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np

import unigrad.port


@keras.saving.register_keras_serializable(package="unigrad_port")
def exact_gelu(x: Any) -> Any:
    """x * Phi(x), with 1/sqrt(2) in the dtype of ``x`` (as a NumPy constant: Keras, like
    TensorFlow, would round a Python float to float32 first)."""
    half_sqrt2 = np.asarray(2**-0.5, dtype=keras.backend.standardize_dtype(x.dtype))
    return 0.5 * x * keras.ops.erfc(-x * half_sqrt2)


@functools.cache
def mlp_model(
    dtype: str = "float32", epsilon: float | None = 1e-5, gelu: Any = exact_gelu
) -> keras.Model:
    """The MLP; ``epsilon=None`` keeps Keras's default layer-norm epsilon (1e-3);
    ``gelu="gelu"`` is Keras's own."""
    norm = {} if epsilon is None else {"epsilon": epsilon}
    return keras.Sequential(
        [
            keras.Input((5,), dtype=dtype),
            keras.layers.Dense(8, name="fc1", dtype=dtype),
            keras.layers.LayerNormalization(name="ln", dtype=dtype, **norm),
            keras.layers.Activation(gelu, dtype=dtype),
            keras.layers.Dense(3, name="fc2", dtype=dtype),
        ],
        name="mlp",
    )


@functools.cache
def cnn_model(dtype: str = "float32") -> keras.Model:
    """The CNN, on NHWC images."""
    return keras.Sequential(
        [
            keras.Input((6, 6, 1), dtype=dtype),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv1", dtype=dtype),
            keras.layers.GlobalAveragePooling2D(dtype=dtype),
            keras.layers.Dense(3, name="fc", dtype=dtype),
        ],
        name="cnn",
    )


def _dtype(params: dict[str, Any]) -> str:
    return next(iter(params.values())).dtype.name


def _cross_entropy(y: Any, logits: Any) -> Any:
    losses = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    return keras.ops.mean(losses)


def mlp_loss(params: dict[str, Any], batch: dict[str, Any]) -> Any:
    """Mean cross-entropy of the MLP."""
    logits = unigrad.port.call(mlp_model(_dtype(params)), params, batch["x"])
    return _cross_entropy(batch["y"], logits)


def mlp_loss_default_epsilon(params: dict[str, Any], batch: dict[str, Any]) -> Any:
    """Planted bug: the port's LayerNormalization keeps Keras's default epsilon (1e-3), where
    torch's model has 1e-5."""
    logits = unigrad.port.call(mlp_model(_dtype(params), None), params, batch["x"])
    return _cross_entropy(batch["y"], logits)


def cnn_loss(params: dict[str, Any], batch: dict[str, Any]) -> Any:
    """Mean cross-entropy of the CNN; the images come as NCHW."""
    x = keras.ops.transpose(batch["x"], (0, 2, 3, 1))
    logits = unigrad.port.call(cnn_model(_dtype(params)), params, x)
    return _cross_entropy(batch["y"], logits)

"""The example models written in JAX, kernels as (in, out) and HWIO, and planted bugs."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp


def _cross_entropy(logits: jax.Array, y: jax.Array) -> jax.Array:
    return -jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1)[:, 0]


def _layer_norm(h: jax.Array, scale: jax.Array, offset: jax.Array, eps: float) -> jax.Array:
    mean = h.mean(axis=-1, keepdims=True)
    var = ((h - mean) ** 2).mean(axis=-1, keepdims=True)
    return (h - mean) / jnp.sqrt(var + eps) * scale + offset


def mlp_logits(p: dict[str, Any], x: jax.Array, approximate: bool = False) -> jax.Array:
    """The MLP's logits (``approximate``: JAX's default, the tanh GELU)."""
    h = _layer_norm(x @ p["fc1.weight"] + p["fc1.bias"], p["ln.weight"], p["ln.bias"], 1e-5)
    return jax.nn.gelu(h, approximate=approximate) @ p["fc2.weight"] + p["fc2.bias"]


def mlp_loss(p: dict[str, Any], batch: dict[str, Any]) -> jax.Array:
    """Mean cross-entropy of the MLP."""
    return _cross_entropy(mlp_logits(p, batch["x"]), batch["y"]).mean()


def mlp_loss_default_gelu(p: dict[str, Any], batch: dict[str, Any]) -> jax.Array:
    """Planted bug: ``jax.nn.gelu``'s default is the tanh approximation; torch's is exact."""
    h = _layer_norm(
        batch["x"] @ p["fc1.weight"] + p["fc1.bias"], p["ln.weight"], p["ln.bias"], 1e-5
    )
    logits = jax.nn.gelu(h) @ p["fc2.weight"] + p["fc2.bias"]
    return _cross_entropy(logits, batch["y"]).mean()


def cnn_logits(p: dict[str, Any], x_nchw: jax.Array) -> jax.Array:
    """The CNN's logits; the images come as NCHW and are convolved as NHWC."""
    x = jnp.transpose(x_nchw, (0, 2, 3, 1))
    h = jax.lax.conv_general_dilated(
        x, p["conv1.weight"], (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    h = jax.nn.relu(h + p["conv1.bias"]).mean(axis=(1, 2))
    return h @ p["fc.weight"] + p["fc.bias"]


def cnn_loss(p: dict[str, Any], batch: dict[str, Any]) -> jax.Array:
    """Mean cross-entropy of the CNN."""
    return _cross_entropy(cnn_logits(p, batch["x"]), batch["y"]).mean()


def cnn_loss_sum(p: dict[str, Any], batch: dict[str, Any]) -> jax.Array:
    """Planted bug: the cross-entropy summed over the batch where torch takes its mean."""
    return _cross_entropy(cnn_logits(p, batch["x"]), batch["y"]).sum()

"""Weights, batches and layouts of the example models (NumPy only; imports no framework).

The MLP: 5 features -> ``fc1`` (8) -> layer norm ``ln`` (epsilon 1e-5) -> exact GELU -> ``fc2``
(3 classes), mean cross-entropy over a batch of 4. The CNN: one channel 6x6 images (NCHW) ->
``conv1`` (4 filters, 3x3) -> ReLU -> mean over the image -> ``fc`` (3 classes), mean
cross-entropy over a batch of 2. Weights are named and laid out as torch's ``state_dict``.
"""

from __future__ import annotations

import numpy as np

#: torch's Linear weight is (out, in); JAX and Keras kernels here are (in, out)
MLP_LAYOUT = {"jax": {"fc*.weight": "transpose"}, "tensorflow": {"fc*.weight": "transpose"}}
#: torch's Conv2d weight is (out, in, h, w); JAX's HWIO and Keras's kernels are (h, w, in, out)
CNN_LAYOUT = {
    side: {"conv1.weight": (2, 3, 1, 0), "fc.weight": "transpose"} for side in ("jax", "tensorflow")
}


def mlp_params(seed: int = 0, dtype: str = "float64") -> dict[str, np.ndarray]:
    """The MLP's weights, as torch's ``state_dict`` names and lays them out."""
    rng = np.random.default_rng(seed)
    params = {
        "fc1.weight": rng.normal(size=(8, 5)) / np.sqrt(5),
        "fc1.bias": rng.normal(size=8) * 0.1,
        "ln.weight": 1.0 + rng.normal(size=8) * 0.1,
        "ln.bias": rng.normal(size=8) * 0.1,
        "fc2.weight": rng.normal(size=(3, 8)) / np.sqrt(8),
        "fc2.bias": rng.normal(size=3) * 0.1,
    }
    return {k: v.astype(dtype) for k, v in params.items()}


def mlp_batch(seed: int = 1) -> dict[str, np.ndarray]:
    """Four examples of five features, and their class labels."""
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(4, 5)), "y": np.array([0, 2, 1, 2])}


def cnn_params(seed: int = 0, dtype: str = "float64") -> dict[str, np.ndarray]:
    """The CNN's weights, as torch's ``state_dict`` names and lays them out."""
    rng = np.random.default_rng(seed)
    params = {
        "conv1.weight": rng.normal(size=(4, 1, 3, 3)) / 3.0,
        "conv1.bias": rng.normal(size=4) * 0.1,
        "fc.weight": rng.normal(size=(3, 4)) / 2.0,
        "fc.bias": rng.normal(size=3) * 0.1,
    }
    return {k: v.astype(dtype) for k, v in params.items()}


def cnn_batch(seed: int = 1) -> dict[str, np.ndarray]:
    """Two one-channel 6x6 images (NCHW) and their class labels."""
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=(2, 1, 6, 6)), "y": np.array([1, 0])}

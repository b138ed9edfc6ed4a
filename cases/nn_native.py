"""unigrad.nn's pinned meanings beside each framework's own op (the native catalogue).

Where frameworks differ on a neural-network op, unigrad.nn pins one meaning; the pinned version
is judged like any case and must agree everywhere. ``native`` holds each framework's own op,
differentiated with that framework's idiom; ``unigrad compare`` reports what each returns,
without failing the run.
"""

import numpy as np

import unigrad.nn as unn
import unigrad.numpy as unp
from unigrad.case import Case

SRC = "README, unigrad.nn: what unigrad pins and what each framework does"

# one 2x2 window whose four values tie (N, C, H, W)
TIED = np.ones((1, 1, 2, 2))
# a row with a small variance (6.7e-5): there each framework's default epsilon shows
NEAR_CONSTANT = np.array([[1.0, 1.01, 1.02]])
WEIGHTS = np.array([[0.5, -1.0, 2.0]])


def _torch_pool(x):
    import torch

    return torch.nn.functional.max_pool2d(x, 2)


def _jax_pool(x):
    import jax

    return jax.lax.reduce_window(x, -np.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def _tf_pool(x):
    import tensorflow as tf

    nhwc = tf.transpose(x, (0, 2, 3, 1))
    return tf.nn.max_pool2d(nhwc, 2, 2, "VALID")


def _mx_pool(x):
    from mxnet import npx

    return npx.pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max")


def _torch_ln(x):
    import torch

    w = torch.as_tensor(WEIGHTS, dtype=x.dtype)
    return torch.nn.functional.layer_norm(x, (x.shape[-1],)) * w  # eps 1e-5


def _jax_ln(x):
    import jax

    return jax.nn.standardize(x, axis=-1) * WEIGHTS  # epsilon 1e-5


def _keras_ln(x):
    import tensorflow as tf

    layer = tf.keras.layers.LayerNormalization(axis=-1, dtype=x.dtype)  # epsilon 1e-3
    return layer(x) * tf.constant(WEIGHTS, dtype=x.dtype)


def _mx_ln(x):
    from mxnet import np as mnp
    from mxnet import npx

    n = x.shape[-1]
    gamma, beta = mnp.ones(n, dtype=x.dtype), mnp.zeros(n, dtype=x.dtype)
    return npx.layer_norm(x, gamma, beta, axis=-1) * mnp.array(WEIGHTS, dtype=x.dtype)


CASES = [
    Case(
        id="nn.max_pool2d_ties",
        source=SRC + ": max-pool ties",
        function=lambda x: unp.sum(unn.max_pool2d(x, 2)),
        inputs=(TIED,),
        transforms=("value", "grad"),
        expected={"value": 1.0, "grad": np.full((1, 1, 2, 2), 0.25)},
        native={"torch": _torch_pool, "jax": _jax_pool, "tensorflow": _tf_pool, "mxnet": _mx_pool},
        no_finite_differences="tied maxima: the derivative is a convention",
        notes="unigrad shares a tied window's derivative evenly; the catalogue shows which "
        "element each framework gives it all to.",
    ),
    Case(
        id="nn.layer_norm_default_eps",
        source=SRC + ": each framework's default layer-norm epsilon",
        function=lambda x: unp.sum(unn.layer_norm(x) * WEIGHTS),
        inputs=(NEAR_CONSTANT,),
        transforms=("value", "grad"),
        native={"torch": _torch_ln, "jax": _jax_ln, "tensorflow": _keras_ln, "mxnet": _mx_ln},
        notes="unigrad pins eps = 1e-5 (torch, jax.nn.standardize, MXNet); Keras defaults to "
        "1e-3, which changes the gradient where the variance is small.",
    ),
]

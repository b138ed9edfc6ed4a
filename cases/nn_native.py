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
from unigrad.nn import native as native_nn

SRC = "README, unigrad.nn: what unigrad pins and what each framework does"

# one 2x2 window whose four values tie (N, C, H, W)
TIED = np.ones((1, 1, 2, 2))
# a row with a small variance (6.7e-5): there each framework's default epsilon shows
NEAR_CONSTANT = np.array([[1.0, 1.01, 1.02]])
WEIGHTS = np.array([[0.5, -1.0, 2.0]])


def _torch_pool(x):
    return native_nn.torch_max_pool2d(x, 2)


def _jax_pool(x):
    return native_nn.jax_max_pool2d(x, 2)


def _tf_pool(x):
    return native_nn.tensorflow_max_pool2d(x, 2)


def _mx_pool(x):
    return native_nn.mxnet_max_pool2d(x, 2)


def _torch_ln(x):
    import torch

    return native_nn.torch_layer_norm(x) * torch.as_tensor(WEIGHTS, dtype=x.dtype)  # eps 1e-5


def _jax_ln(x):
    return native_nn.jax_layer_norm(x) * WEIGHTS  # jax.nn.standardize, epsilon 1e-5


def _keras_ln(x):
    import tensorflow as tf

    return native_nn.keras_layer_norm(x) * tf.constant(WEIGHTS, dtype=x.dtype)  # epsilon 1e-3


def _mx_ln(x):
    from mxnet import np as mnp

    return native_nn.mxnet_layer_norm(x) * mnp.array(WEIGHTS, dtype=x.dtype)  # eps 1e-5


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

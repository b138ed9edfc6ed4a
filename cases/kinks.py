"""Kinks and edge points: the convention unigrad.numpy pins, and each framework's own op.

The pinned version is judged like any case and must agree everywhere. ``native`` holds each
framework's own op; ``unigrad compare`` differentiates it with that framework's idiom and
reports where they differ (the native catalogue), without failing the run.
"""

import numpy as np

import unigrad.nn as unn
import unigrad.numpy as unp
from unigrad.case import Case
from unigrad.compare.native import op

SRC = "README, Derivatives at kinks (measured in float64 on CPU)"


def natives(torch, jax, tf, mx):
    return {"torch": torch, "jax": jax, "tensorflow": tf, "mxnet": mx}


def same(name_torch, name_jax, name_tf, name_mx):
    return natives(
        op("torch", name_torch),
        op("jax.numpy", name_jax),
        op("tensorflow", name_tf),
        op("mxnet.numpy", name_mx),
    )


def _clip(mod, name):
    f = op(mod, name)
    return lambda x: f(x, 0.0, 1.0)


def _pow0(x):
    return x**0.0


def _where_sqrt(mod, sqrt_mod=None):
    where, sqrt = op(mod, "where"), op(sqrt_mod or mod, "sqrt")
    return lambda x: where(x > 0, sqrt(x), x * 0.0)


def _torch_softplus(x):
    import torch

    return torch.nn.functional.softplus(x)


def _mx_softplus(x):
    from mxnet import npx

    return npx.activation(x, act_type="softrelu")


def _torch_gelu(x):
    import torch

    return torch.nn.functional.gelu(x)


def _jax_gelu(x):
    import jax

    return jax.nn.gelu(x)  # approximate=True by default


def _tf_gelu(x):
    import tensorflow as tf

    return tf.nn.gelu(x)  # approximate=False by default


CASES = [
    Case(
        id="kink.abs_at_0",
        source=SRC + ": abs'(0)",
        function=unp.abs,
        inputs=(0.0,),
        transforms=("value", "grad"),
        expected={"grad": 0.0},
        native=same("abs", "abs", "abs", "abs"),
    ),
    Case(
        id="kink.maximum_tie",
        source=SRC + ": maximum(x, y) at a tie",
        function=unp.maximum,
        inputs=(1.0, 1.0),
        argnums=(0, 1),
        transforms=("value", "grad"),
        expected={"grad": (0.5, 0.5)},
        native=same("maximum", "maximum", "maximum", "maximum"),
    ),
    Case(
        id="kink.max_reduction_ties",
        source=SRC + ": max-reduction of [1, 3, 3]",
        function=unp.max,
        inputs=(np.array([1.0, 3.0, 3.0]),),
        transforms=("value", "grad"),
        expected={"grad": [0.0, 0.5, 0.5]},
        native=natives(
            op("torch", "max"),
            op("jax.numpy", "max"),
            op("tensorflow", "reduce_max"),
            op("mxnet.numpy", "max"),
        ),
    ),
    Case(
        id="kink.clip_bounds",
        source=SRC + ": clip(x, 0, 1) at the boundaries",
        function=lambda x: unp.sum(unp.clip(x, 0.0, 1.0)),
        inputs=(np.array([0.0, 1.0]),),
        transforms=("value", "grad"),
        expected={"grad": [1.0, 1.0]},
        native=natives(
            _clip("torch", "clamp"),
            _clip("jax.numpy", "clip"),
            _clip("tensorflow", "clip_by_value"),
            _clip("mxnet.numpy", "clip"),
        ),
    ),
    Case(
        id="kink.norm_at_0",
        source=SRC + ": ||x||_2' at 0",
        function=unp.linalg.norm,
        inputs=(np.zeros(3),),
        transforms=("value", "grad"),
        expected={"grad": [0.0, 0.0, 0.0]},
        native=natives(
            op("torch.linalg", "norm"),
            op("jax.numpy.linalg", "norm"),
            op("tensorflow", "norm"),
            op("mxnet.numpy.linalg", "norm"),
        ),
    ),
    Case(
        id="kink.pow0_at_0",
        source=SRC + ": x**0.0 at 0",
        function=lambda x: unp.power(x, 0.0),
        inputs=(0.0,),
        transforms=("value", "grad"),
        expected={"value": 1.0, "grad": 0.0},
        native=natives(_pow0, _pow0, _pow0, _pow0),
    ),
    Case(
        id="kink.prod_with_zero",
        source=SRC + ": prod' of [0, 2, 3]",
        function=unp.prod,
        inputs=(np.array([0.0, 2.0, 3.0]),),
        transforms=("value", "grad"),
        expected={"grad": [6.0, 0.0, 0.0]},
        native=natives(
            op("torch", "prod"),
            op("jax.numpy", "prod"),
            op("tensorflow", "reduce_prod"),
            op("mxnet.numpy", "prod"),
        ),
    ),
    Case(
        id="kink.floor",
        source=SRC + ": floor'",
        function=lambda x: unp.sum(unp.floor(x)),
        inputs=(np.array([0.5, 1.5]),),
        transforms=("value", "grad"),
        expected={"grad": [0.0, 0.0]},
        native=same("floor", "floor", "floor", "floor"),
    ),
    Case(
        id="kink.where_sqrt_at_0",
        source=SRC + ": where(x > 0, sqrt(x), 0)' at 0",
        function=lambda x: unp.where(x > 0, unp.sqrt(x), 0.0),
        inputs=(0.0,),
        transforms=("value", "grad"),
        expected={"grad": np.nan},
        no_finite_differences="the derivative is nan by definition here",
        native=natives(
            _where_sqrt("torch"),
            _where_sqrt("jax.numpy"),
            _where_sqrt("tensorflow", "tensorflow.math"),
            _where_sqrt("mxnet.numpy"),
        ),
        notes="where keeps its mathematical meaning: nan from the branch not taken flows.",
    ),
    Case(
        id="kink.double_where_at_0",
        source="the safe double-where pattern",
        function=lambda x: unp.where(x > 0, unp.sqrt(unp.where(x > 0, x, 1.0)), 0.0),
        inputs=(0.0,),
        transforms=("value", "grad"),
        expected={"value": 0.0, "grad": 0.0},
        notes="The inner where keeps sqrt away from 0, so no nan reaches the gradient.",
    ),
    Case(
        id="kink.softplus_large_x",
        source="found while testing: softplus at x = 800",
        function=unp.softplus,
        inputs=(800.0,),
        transforms=("value", "grad"),
        expected={"value": 800.0, "grad": 1.0},
        native=natives(
            _torch_softplus,
            op("jax.nn", "softplus"),
            op("tensorflow.math", "softplus"),
            _mx_softplus,
        ),
    ),
    Case(
        id="kink.gelu_default",
        source="found while testing: each framework's default gelu",
        function=unn.gelu,
        inputs=(1.0,),
        transforms=("value", "grad"),
        expected={"value": 0.8413447460685429, "grad": 1.0833154705876864},
        native={"torch": _torch_gelu, "jax": _jax_gelu, "tensorflow": _tf_gelu},
        notes="unigrad.nn.gelu is the exact erf form, torch's and TF's default; the catalogue "
        "shows that jax.nn.gelu defaults to the tanh approximation.",
    ),
]

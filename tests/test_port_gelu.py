"""Issue 13, a tester's findings: every GELU mismatch between torch and Keras is diagnosed as
the GELU variant (Keras's gelu calls ``tf.nn.gelu``: the variant must be flipped once, not
once per layer of the call), in float32 and in float64, where TensorFlow's exact GELU is
float32-accurate only."""

from __future__ import annotations

import functools

import keras
import torch
import torch.nn.functional as F

from unigrad import port
from unigrad.port.examples import data
from unigrad.port.examples import keras_models as K
from unigrad.port.examples import torch_models as T


def torch_gelu(approximate: str):
    def loss(p, batch):
        h = batch["x"] @ p["fc1.weight"].T + p["fc1.bias"]
        return F.gelu(h, approximate=approximate).sum()

    return loss


def keras_ops_gelu(p, batch):
    h = batch["x"] @ p["fc1.weight"] + p["fc1.bias"]
    return keras.ops.sum(keras.ops.gelu(h))  # Keras's ops default: the tanh approximation


def tanh_activation(x):
    return keras.activations.gelu(x, approximate=True)


@functools.cache
def keras_mlp(dtype: str, gelu):
    return K.mlp_model(dtype, 1e-5, gelu)


def keras_mlp_loss(gelu):
    def loss(p, batch):
        dtype = next(iter(p.values())).dtype.name
        logits = port.call(keras_mlp(dtype, gelu), p, batch["x"])
        return keras.ops.mean(
            keras.losses.sparse_categorical_crossentropy(batch["y"], logits, from_logits=True)
        )

    return loss


def torch_mlp_loss(approximate: str):
    model = T.MLP()
    model.act = torch.nn.GELU(approximate=approximate)

    def loss(p, batch):
        return F.cross_entropy(port.call(model, p, batch["x"]), batch["y"])

    return loss


def diagnoses(report):
    return {(x.dtype, x.diagnosis) for x in report.failures}


def check_gelu_named(report, uses: str, flipped: str):
    assert not report.passed
    assert {x.dtype for x in report.failures} == {"float32", "float64"}
    prefix = f"GELU variant: tensorflow uses {uses}; with {flipped} it agrees with torch"
    for x in report.failures:
        assert x.diagnosis.startswith(prefix), (x.dtype, x.name, x.diagnosis)


def test_keras_ops_gelu_in_a_function_is_named():
    params = {k: v for k, v in data.mlp_params().items() if k.startswith("fc1")}
    report = port.compare(
        {"torch": torch_gelu("none"), "tensorflow": keras_ops_gelu},
        params,
        data.mlp_batch(),
        layout={"tensorflow": {"fc1.weight": "transpose"}},
        dtypes="both",
    )
    check_gelu_named(report, "the tanh approximation", "the exact GELU (erf)")
    # flipped to TensorFlow's exact GELU, float64 agrees to float32's tolerance, and says so
    (text,) = {d for t, d in diagnoses(report) if t == "float64"}
    assert "float32's tolerance" in text and "1/sqrt(2)" in text


def test_a_keras_activation_calling_gelu_with_approximate_is_named():
    report = port.compare(
        {"torch": T.mlp_loss, "tensorflow": keras_mlp_loss(tanh_activation)},
        data.mlp_params(),
        data.mlp_batch(),
        layout=data.MLP_LAYOUT,
        dtypes="both",
    )
    check_gelu_named(report, "the tanh approximation", "the exact GELU (erf)")
    assert not any(d.startswith("precision") for _, d in diagnoses(report))


def test_torch_tanh_against_a_keras_model_with_gelu_is_named():
    report = port.compare(
        {"torch": torch_mlp_loss("tanh"), "tensorflow": keras_mlp_loss("gelu")},
        data.mlp_params(),
        data.mlp_batch(),
        layout=data.MLP_LAYOUT,
        dtypes="both",
    )
    check_gelu_named(report, "the exact GELU (erf)", "the tanh approximation")

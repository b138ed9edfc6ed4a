"""Issue 13: the example MLP and CNN, written natively in torch.nn, JAX and Keras 3, agree in
float32 and float64; with one porting bug planted, the check fails on exactly the leaves it
touches and the diagnosis names the bug."""

from __future__ import annotations

import pytest

from unigrad import port
from unigrad.compare.records import Status
from unigrad.port.examples import data
from unigrad.port.examples import jax_models as J
from unigrad.port.examples import keras_models as K
from unigrad.port.examples import torch_models as T

PARAMS = [f"grad {p}" for p in data.mlp_params()]
MLP = ["value output", *PARAMS]
CNN = ["value output", *(f"grad {p}" for p in data.cnn_params())]


def mlp(**functions):
    return port.compare(
        functions, data.mlp_params(), data.mlp_batch(), layout=data.MLP_LAYOUT, dtypes="both"
    )


def cnn(**functions):
    return port.compare(
        functions, data.cnn_params(), data.cnn_batch(), layout=data.CNN_LAYOUT, dtypes="both"
    )


def failing(report, framework, dtype="float64"):
    return [x.name for x in report.failures if (x.framework, x.dtype) == (framework, dtype)]


def test_the_mlp_port_agrees_in_both_dtypes():
    report = mlp(torch=T.mlp_loss, jax=J.mlp_loss, tensorflow=K.mlp_loss)
    assert report.passed, report.table(only_failing=True)
    assert report.references == {"float32": "torch", "float64": "torch"}
    leaves = {(x.framework, x.dtype): [] for x in report.leaves}
    for x in report.leaves:
        leaves[(x.framework, x.dtype)].append(x.name)
    assert leaves == {(f, d): MLP for f in ("jax", "tensorflow") for d in ("float32", "float64")}
    grad = next(x for x in report.leaves if x.name == "grad fc1.weight" and x.framework == "jax")
    assert grad.layout == "transpose" and grad.shape == (8, 5)  # judged in torch's layout
    assert grad.max_abs < 1e-14 and grad.index is not None


def test_the_cnn_port_agrees_in_both_dtypes():
    report = cnn(torch=T.cnn_loss, jax=J.cnn_loss, tensorflow=K.cnn_loss)
    assert report.passed, report.table(only_failing=True)
    assert len(report.leaves) == len(CNN) * 2 * 2


def test_a_kernel_left_in_torchs_layout_fails_on_that_leaf_alone():
    # the Keras port's layout forgets fc2: its (3, 8) weight does not fit the (8, 3) kernel
    report = port.compare(
        {"torch": T.mlp_loss, "tensorflow": K.mlp_loss},
        data.mlp_params(),
        data.mlp_batch(),
        layout={"tensorflow": {"fc1.weight": "transpose"}},
        dtypes="both",
    )
    for dtype in ("float32", "float64"):
        assert failing(report, "tensorflow", dtype) == ["grad fc2.weight"]
    leaf = report.failures[0]
    assert "shapes are a transpose" in leaf.detail and "(8, 3)" in leaf.detail
    assert "layout['tensorflow']['fc2.weight'] = 'transpose'" in leaf.diagnosis
    assert "the gradient then agrees" in leaf.diagnosis
    assert "judged with fc2.weight permuted" in report.leaves[0].note


def test_a_conv_kernel_transposed_instead_of_permuted_is_named():
    # 'transpose' reverses (out, in, h, w) to (w, h, in, out): the 3x3 kernel fits, mirrored
    wrong = {"tensorflow": {"conv1.weight": "transpose", "fc.weight": "transpose"}}
    report = port.compare(
        {"torch": T.cnn_loss, "tensorflow": K.cnn_loss},
        data.cnn_params(),
        data.cnn_batch(),
        layout=wrong,
    )
    assert failing(report, "tensorflow") == CNN  # the value and every gradient change
    fix = "layout['tensorflow']['conv1.weight'] = (2, 3, 1, 0) makes it agree"
    assert all(fix in x.diagnosis for x in report.failures)
    assert any(fix in f for f in report.findings)


def test_keras_default_layer_norm_epsilon_is_named():
    report = mlp(torch=T.mlp_loss, jax=J.mlp_loss, tensorflow=K.mlp_loss_default_epsilon)
    for dtype in ("float32", "float64"):
        assert failing(report, "jax", dtype) == []
        assert failing(report, "tensorflow", dtype) == MLP
    said = {x.diagnosis for x in report.failures}
    assert said == {"normalisation epsilon: tensorflow has 0.001; with 1e-05 it agrees with torch"}


def test_a_sum_where_torch_takes_the_mean_is_named():
    report = cnn(torch=T.cnn_loss, jax=J.cnn_loss_sum)
    for dtype in ("float32", "float64"):
        assert failing(report, "jax", dtype) == CNN
    said = {x.diagnosis for x in report.failures}
    assert said == {
        "scale: jax is 2 times torch: a sum where torch takes a mean "
        "(2 = the size of inputs.x axis 0)"
    }


def test_jax_default_gelu_is_named():
    report = mlp(torch=T.mlp_loss, jax=J.mlp_loss_default_gelu)
    assert failing(report, "jax") == MLP
    # in float32 the loss itself is within tolerance (1e-5 relative); its gradients are not
    assert failing(report, "jax", "float32") == PARAMS
    assert {x.diagnosis for x in report.failures} == {
        "GELU variant: jax uses the tanh approximation; with the exact GELU (erf) it agrees "
        "with torch"
    }


def test_float32_inside_a_float64_port_is_named():
    """TensorFlow's exact GELU rounds 1/sqrt(2) to float32, so Keras's own "gelu" is float32
    accurate in float64; the example writes its own."""

    def stock_gelu(params, batch):
        model = K.mlp_model(K._dtype(params), 1e-5, "gelu")
        return K._cross_entropy(batch["y"], port.call(model, params, batch["x"]))

    report = mlp(torch=T.mlp_loss, tensorflow=stock_gelu)
    assert failing(report, "tensorflow", "float32") == []
    assert failing(report, "tensorflow", "float64") == MLP
    assert all(x.diagnosis.startswith("precision: ") for x in report.failures)


def test_assert_port_shows_the_failing_leaves():
    from unigrad.testing import assert_port

    with pytest.raises(AssertionError) as info:
        assert_port(
            {"torch": T.cnn_loss, "jax": J.cnn_loss_sum},
            data.cnn_params(),
            data.cnn_batch(),
            layout=data.CNN_LAYOUT,
            dtypes="float64",
        )
    text = str(info.value)
    assert text.startswith("port check failed: 5 of 5 leaves disagree against torch")
    assert "grad conv1.weight" in text and "a sum where torch takes a mean" in text
    assert "scalar: 2.109455817855927 vs 1.0547279089279635 (torch)" in text
    ok = assert_port(
        {"torch": T.cnn_loss, "jax": J.cnn_loss},
        data.cnn_params(),
        data.cnn_batch(),
        layout=data.CNN_LAYOUT,
    )
    assert ok.passed and all(x.status == Status.PASS for x in ok.leaves)

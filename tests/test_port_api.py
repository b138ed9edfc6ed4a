"""Issue 13: ``unigrad.port.compare`` as a user calls it: native functions and models, layouts,
what a failure looks like, and the mistakes in its arguments that get a clear error."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

from unigrad import port
from unigrad.compare.records import Status
from unigrad.port.examples import data
from unigrad.port.examples import keras_models as K
from unigrad.port.examples import torch_models as T

RNG = np.random.default_rng(0)
W = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
X = RNG.normal(size=(4, 3))


def torch_fn(p, x):
    return torch.tanh(x @ p["w"] + p["b"]).sum()


def jax_fn(p, x):
    return jnp.tanh(x @ p["w"] + p["b"]).sum()


def tf_fn(p, x):
    return tf.reduce_sum(tf.tanh(x @ p["w"] + p["b"]))


def numpy_fn(p, x):
    return np.sum(np.tanh(x @ p["w"] + p["b"]))


def test_native_functions_of_a_pytree_agree_in_every_framework():
    report = port.compare(
        {"numpy": numpy_fn, "torch": torch_fn, "jax": jax_fn, "tensorflow": tf_fn},
        params=W,
        inputs=X,
    )
    assert report.passed, report.table()
    assert report.references == {"float64": "numpy"} and report.dtypes == ["float64"]
    assert {x.framework for x in report.leaves} == {"torch", "jax", "tensorflow"}
    assert [x.name for x in report.leaves[:3]] == ["value output", "grad w", "grad b"]


def test_the_dtype_defaults_to_the_parameters_own():
    params32 = {k: v.astype("float32") for k, v in W.items()}
    report = port.compare({"torch": torch_fn, "jax": jax_fn}, params32, X)
    assert report.dtypes == ["float32"] and report.passed
    assert all(x.value.dtype == np.float32 for x in report.leaves)


def test_a_function_that_raises_is_a_reported_failure_with_its_message():
    def jax_broken(p, x):
        return jnp.tanh(x @ p["w"].T).sum()  # (4, 3) @ (2, 3)

    report = port.compare({"torch": torch_fn, "jax": jax_broken, "tensorflow": tf_fn}, W, X)
    assert not report.passed
    rows = [x for x in report.leaves if x.framework == "jax"]
    assert {x.status for x in rows} == {Status.ERROR} and len(rows) == 3
    assert "dot_general requires contracting dimensions to have the same shape" in rows[0].detail
    assert "jax float64" in report.errors
    assert all(x.passed for x in report.leaves if x.framework == "tensorflow")
    assert "jax float64 raised: TypeError" in report.table()


def test_a_missing_parameter_names_what_the_function_was_given():
    def jax_typo(p, x):
        return jnp.tanh(x @ p["weight"] + p["b"]).sum()

    report = port.compare({"torch": torch_fn, "jax": jax_typo}, W, X)
    detail = report.failures[0].detail
    assert "KeyError: 'weight'" in detail and "the params it was given hold: w, b" in detail


def test_when_the_reference_raises_the_next_one_judges():
    def torch_broken(p, x):
        raise RuntimeError("not ported yet")

    report = port.compare({"torch": torch_broken, "jax": jax_fn, "tensorflow": tf_fn}, W, X)
    assert report.references == {"float64": "jax"}
    assert {x.status for x in report.leaves if x.framework == "torch"} == {Status.ERROR}
    assert all(x.passed for x in report.leaves if x.framework == "tensorflow")
    assert report.errors == {"torch float64": "RuntimeError: not ported yet"}


def test_when_every_function_raises_nothing_passes():
    def broken(p, x):
        raise ValueError("no")

    report = port.compare({"torch": broken, "jax": broken}, W, X)
    assert report.references == {"float64": None} and not report.passed
    assert {x.status for x in report.leaves} == {Status.ERROR}


def test_a_model_given_directly_compares_its_outputs_and_projected_gradients():
    report = port.compare(
        {"torch": T.mlp, "tensorflow": {d: K.mlp_model(d) for d in ("float32", "float64")}},
        data.mlp_params(),
        data.mlp_batch()["x"],
        layout=data.MLP_LAYOUT,
        dtypes="both",
    )
    assert report.passed, report.table(only_failing=True)
    out = report.leaves[0]
    assert out.name == "value output" and out.shape == (4, 3)
    assert any("sum(c * output)" in n for n in report.notes)


def test_a_float32_keras_model_cannot_be_checked_in_float64():
    report = port.compare(
        {"torch": T.mlp, "tensorflow": K.mlp_model("float32")},
        data.mlp_params(),
        data.mlp_batch()["x"],
        layout=data.MLP_LAYOUT,
        dtypes="both",
    )
    assert [x for x in report.failures if x.dtype == "float32"] == []
    message = report.errors["tensorflow float64"]
    assert "holds float32 weights" in message and "dtype='float64'" in message


def test_mismatched_parameter_paths_list_the_missing_and_the_extra():
    params = data.mlp_params()
    params["fc3.weight"] = params.pop("fc2.weight")
    with pytest.raises(port.PortStructureError) as info:
        port.compare({"torch": T.mlp, "jax": lambda p, x: x}, params, data.mlp_batch()["x"])
    text = str(info.value)
    assert "missing from the shared parameters (1): fc2.weight" in text
    assert "extra, the torch module MLP has no such parameter (1): fc3.weight" in text


def test_keras_names_are_torch_names_and_mismatches_say_so():
    model = K.mlp_model("float64")
    assert list(port.load_params(model)) == list(data.mlp_params())
    params = data.mlp_params()
    params["ln.gamma"] = params.pop("ln.weight")
    with pytest.raises(port.PortStructureError, match=r"missing .*: ln\.weight(.|\n)*ln\.gamma"):
        port.compare(
            {"torch": T.mlp, "tensorflow": model},
            params,
            data.mlp_batch()["x"],
            layout=data.MLP_LAYOUT,
        )


def test_buffers_in_the_shared_parameters_are_named_as_buffers():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    with pytest.raises(port.PortStructureError, match="1.running_mean.* are buffers"):
        port.compare({"torch": net, "torch:copy": net}, net.state_dict(), X)


def test_outputs_of_another_structure_fail_on_the_outputs_that_differ():
    def torch_pair(p, x):
        return torch_fn(p, x), torch.tanh(x @ p["w"])

    def jax_one(p, x):
        return (jax_fn(p, x),)

    report = port.compare({"torch": torch_pair, "jax": jax_one}, W, X)
    bad = [x for x in report.failures if x.transform == "value"]
    assert [x.path for x in bad] == ["output.1"]
    assert "torch returns output.1, jax does not" in bad[0].detail


def test_a_parameter_the_port_does_not_use_is_noted():
    def jax_no_bias(p, x):
        return jnp.tanh(x @ p["w"]).sum()

    report = port.compare({"torch": torch_fn, "jax": jax_no_bias}, W, X, transforms="grad")
    bias = next(x for x in report.leaves if x.path == "b")
    assert bias.status == Status.FAIL
    assert np.all(bias.value == 0)
    assert [x.transform for x in report.leaves] == ["grad", "grad"]

    def torch_no_bias(p, x):
        return torch.tanh(x @ p["w"]).sum()

    report = port.compare(
        {
            "torch": torch_no_bias,
            "tensorflow": lambda p, x: (
                tf_fn({"w": p["w"], "b": 0.0 * p["b"]}, x) - tf.reduce_sum(0.0 * p["b"])
            ),
        },
        W,
        X,
    )
    bias = next(x for x in report.leaves if x.path == "b")
    assert bias.passed and "torch computes no gradient for b" in bias.note


def test_outputs_in_another_axis_order_are_named():
    images = RNG.normal(size=(2, 3, 4, 5))  # NCHW

    def torch_map(p, x):
        return x * p["scale"][None, :, None, None]

    def jax_map(p, x):  # the port returns NHWC
        return jnp.transpose(x, (0, 2, 3, 1)) * p["scale"]

    report = port.compare(
        {"torch": torch_map, "jax": jax_map}, {"scale": np.ones(3)}, images, transforms="value"
    )
    (leaf,) = report.failures
    assert "got shape (2, 4, 5, 3), torch shape (2, 3, 4, 5)" in leaf.detail
    assert leaf.diagnosis == (
        "layout: jax's array agrees with torch's after the axes permuted by (0, 3, 1, 2): "
        "channels last (NHWC) where the reference has channels first (NCHW)"
    )


def test_a_layout_can_be_a_pair_of_callables():
    def jax_flat(p, x):  # this port keeps w flattened, and its transpose at that
        return jnp.tanh(x @ p["w"].reshape(2, 3).T + p["b"]).sum()

    layout = {"jax": {"w": (lambda a: a.T.reshape(-1), lambda g: g.reshape(2, 3).T)}}
    report = port.compare({"torch": torch_fn, "jax": jax_flat}, W, X, layout=layout)
    assert report.passed, report.table()
    assert report.leaves[1].layout == "custom"


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"tensorflw": {"w": "transpose"}}, "neither one of the functions compared"),
        ({"jax": {"v*": "transpose"}}, r"matches no shared parameter; the paths are: w, b"),
        ({"jax": {"*": (1, 0)}}, r"permutes 2 axes, but 'b' has 1 \(shape \(2,\)\)"),
        ({"jax": {"w": np.transpose}}, "give a pair \\(to_framework, gradient_back\\)"),
        ({"jax": {"w": "flip"}}, "use 'transpose', a permutation"),
        ({"jax": {"w": (0, 0)}}, "is not a permutation of 0..1"),
    ],
)
def test_layout_mistakes_are_clear_errors(layout, message):
    with pytest.raises(ValueError, match=message):
        port.compare({"torch": torch_fn, "jax": jax_fn}, W, X, layout=layout)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"functions": {"torch": torch_fn}}, "two or more native implementations"),
        ({"functions": {"pytorh": torch_fn, "jax": jax_fn}}, "did you mean 'torch'"),
        ({"reference": "tensorflow"}, "reference='tensorflow' is not one of torch, jax"),
        ({"params": {"w": np.ones((3, 2), int)}}, "parameter 'w' holds int64"),
        ({"dtypes": "float16"}, "dtypes are float64, float32"),
        ({"transforms": ("value", "hessian")}, "transforms are value, grad, not 'hessian'"),
    ],
)
def test_argument_mistakes_are_clear_errors(kwargs, message):
    args = {"functions": {"torch": torch_fn, "jax": jax_fn}, "params": W, "inputs": X, **kwargs}
    with pytest.raises(ValueError, match=message):
        port.compare(args.pop("functions"), args.pop("params"), args.pop("inputs"), **args)


def test_two_functions_of_one_framework_and_per_dtype_functions():
    def torch_again(p, x):
        return torch.tanh(x @ p["w"] + p["b"]).sum()

    report = port.compare(
        {"torch": torch_fn, "torch:rewrite": {"float32": torch_again, "float64": torch_again}},
        W,
        X,
        dtypes=("float32", "float64"),
    )
    assert report.passed and {x.framework for x in report.leaves} == {"torch:rewrite"}


def test_load_params_reads_every_source(tmp_path):
    torch_net = T.MLP()
    from_module = port.load_params(torch_net)
    assert list(from_module) == list(data.mlp_params())
    state = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)).state_dict()
    assert list(port.load_params(state)) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
    ]  # num_batches_tracked, an integer counter, is left out
    torch.save(torch_net.state_dict(), tmp_path / "mlp.pt")
    from_file = port.load_params(tmp_path / "mlp.pt")
    assert all(np.array_equal(from_file[k], from_module[k]) for k in from_module)
    saved = port.save_params(tmp_path / "mlp", torch_net)
    assert saved.name == "mlp.npz"
    assert all(np.array_equal(port.load_params(saved)[k], from_module[k]) for k in from_module)
    nested = port.load_params({"enc": {"w": np.ones(2)}, "dec": [np.zeros(1)]})
    assert list(nested) == ["enc.w", "dec.0"]
    model = K.mlp_model("float64")
    model.save_weights(tmp_path / "mlp.weights.h5")
    fresh = keras.models.clone_model(model)
    weights = port.load_params(tmp_path / "mlp.weights.h5", model=fresh)
    assert all(np.array_equal(weights[k], v) for k, v in port.load_params(model).items())
    with pytest.raises(ValueError, match="give the Keras model"):
        port.load_params(tmp_path / "mlp.weights.h5")
    (tmp_path / "mlp.json").write_text("{}")
    with pytest.raises(ValueError, match="parameters are read from .npz"):
        port.load_params(tmp_path / "mlp.json")
    with pytest.raises(FileNotFoundError, match="no such parameter file"):
        port.load_params(tmp_path / "missing.npz")


def test_unigrad_port_imports_no_framework():
    import subprocess
    import sys

    code = (
        "import sys, unigrad\n"
        "unigrad.port.compare, unigrad.port.load_params\n"
        "import unigrad.testing\n"
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_jax_keeps_the_users_64_bit_setting():
    port.compare({"torch": torch_fn, "jax": jax_fn}, W, X)
    assert not jax.config.jax_enable_x64

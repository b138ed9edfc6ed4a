"""Issue 14: functions written the way users write them give the same derivatives on every
backend, in float32 and float64, checked against finite differences of a plain-NumPy twin.

MXNet runs these in its own environment (``make test`` runs this file in .venv-mxnet) and, from
the main environment, through its worker (test_through_the_mxnet_worker).
"""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
from tests import user_functions
from tests.user_functions import FUNCTIONS
from unigrad import pytree

TOL = {"float32": dict(rtol=2e-4, atol=2e-4), "float64": dict(rtol=1e-6, atol=1e-7)}


def cast(tree, dtype, exclude=()):
    return pytree.tree_map(lambda a: np.asarray(a, dtype=dtype), tree)


def finite_differences(f, x, eps=1e-6):
    leaves, tdef = pytree.tree_flatten(x)
    leaves = [np.asarray(v, dtype=np.float64) for v in leaves]
    out = []
    for k, leaf in enumerate(leaves):
        g = np.zeros_like(leaf)
        for i in np.ndindex(leaf.shape):
            hi = [v.copy() for v in leaves]
            lo = [v.copy() for v in leaves]
            hi[k][i] += eps
            lo[k][i] -= eps
            up = f(pytree.tree_unflatten(tdef, hi), np)
            down = f(pytree.tree_unflatten(tdef, lo), np)
            g[i] = (up - down) / (2 * eps)
        out.append(g)
    return pytree.tree_unflatten(tdef, out)


def point(name):
    return FUNCTIONS[name][1](np.random.default_rng(sum(map(ord, name))))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_user_functions_agree_with_finite_differences(name, backend, dtype):
    f, _ = FUNCTIONS[name]
    x0 = point(name)
    x = cast(x0, "float32" if name == "mixed_dtypes" else dtype)
    value, g = unigrad.value_and_grad(f, backend=backend)(x)
    want = finite_differences(f, x)
    got = unigrad.to_numpy(g)
    for a, b, leaf in zip(pytree.tree_leaves(got), pytree.tree_leaves(want), pytree.tree_leaves(x)):
        assert a.shape == np.shape(leaf)
        assert a.dtype == np.asarray(leaf).dtype, "the gradient keeps its input's dtype"
        np.testing.assert_allclose(a, b, **TOL[dtype if name != "mixed_dtypes" else "float32"])
    np.testing.assert_allclose(
        unigrad.to_numpy(value), f(pytree.tree_map(np.float64, x), np), **TOL["float32"]
    )
    if name == "mixed_dtypes":
        assert unigrad.to_numpy(value).dtype == np.float64, "float32 with float64 data is float64"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_through_the_mxnet_worker(name):
    """From the main environment, backend='mxnet' runs the function in the MXNet worker."""
    if "mxnet" not in unigrad.available_backends():
        pytest.skip("MXNet's environment is not built here (make env builds it)")
    f, _ = FUNCTIONS[name]
    x = cast(point(name), "float64")
    got = unigrad.to_numpy(unigrad.grad(f, backend="mxnet")(x))
    want = finite_differences(f, x)
    for a, b in zip(pytree.tree_leaves(got), pytree.tree_leaves(want)):
        np.testing.assert_allclose(a, b, **TOL["float64"])


@pytest.mark.parametrize("name", ["numpy", "torch", "jax", "tensorflow", "mxnet"])
def test_module_data_changed_at_run_time_reaches_every_backend(name, monkeypatch):
    """The MXNet worker imports the function's module itself: a batch rebound, changed in
    place, or a setting changed by the program after import was silently its import-time value
    there (gradient [1, 2, 3] where every other backend gave [12, 22, 32])."""
    if name not in unigrad.available_backends():
        pytest.skip(f"{name} is not available here")
    g = unigrad.grad(user_functions.loss_of_module_data, backend=name)
    w = np.ones(3)
    np.testing.assert_allclose(unigrad.to_numpy(g(w)), [1.0, 2.0, 3.0])
    monkeypatch.setattr(user_functions, "BATCH", np.array([10.0, 20.0, 30.0]))
    monkeypatch.setitem(user_functions.SETTINGS, "l2", 1.0)  # read by a helper function
    np.testing.assert_allclose(unigrad.to_numpy(g(w)), [12.0, 22.0, 32.0])
    user_functions.BATCH[0] = 100.0  # in place
    np.testing.assert_allclose(unigrad.to_numpy(g(w)), [102.0, 22.0, 32.0])
    # read as another module's attributes (user_config.shift(w), user_config.SCALE inside it),
    # and a dict keyed by numbers: MXNet's worker kept their import-time values
    h = unigrad.grad(user_functions.loss_of_other_modules_data, backend=name)
    np.testing.assert_allclose(unigrad.to_numpy(h(w)), [2.0, 2.0, 2.0])
    from tests import user_config

    monkeypatch.setattr(user_config, "SCALE", 3.0)
    monkeypatch.setattr(user_config, "OFFSET", np.full(3, 0.5))
    monkeypatch.setitem(user_functions.BY_INDEX, 0, 2.0)
    monkeypatch.setitem(user_functions.BY_INDEX, (1, 2), 1.0)
    # d/dw [2 * sum((3 (w - 0.5))**2) + sum(w)] = 36 (w - 0.5) + 1
    np.testing.assert_allclose(unigrad.to_numpy(h(w)), [19.0, 19.0, 19.0])


@pytest.mark.parametrize("op", ["mean", "var", "std"])
def test_statistics_of_integers_are_float64_as_in_numpy(op, backend):
    """NumPy's mean, var and std of integers are float64 (TensorFlow's var raised, torch's mean
    refused a Long tensor)."""
    import unigrad.numpy as unp

    data = np.array([[1, 2, 4], [7, 11, 16]])
    with unigrad.use_backend(backend):
        for kw in ({}, {"axis": 1}, {"keepdims": True}):
            got = unigrad.to_numpy(getattr(unp, op)(unp.asarray(data), **kw))
            want = getattr(np, op)(data, **kw)
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, want, rtol=1e-12)
        # an accuracy, (pred > 0).mean(): JAX's own mean of booleans is float32
        flags = data > 4
        got = unigrad.to_numpy(getattr(unp, op)(unp.asarray(flags)))
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, getattr(np, op)(flags), rtol=1e-12)

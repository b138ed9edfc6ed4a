"""Repeated calls of one transform: later calls (compiled, and through the fast path for
arrays alone or in lists and dicts) give what the first call gives, and fall back to the full
path, with its messages, when the arguments change."""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from unigrad.errors import DifferentiationTypeError

from .conftest import have


def as_np(x):
    return unigrad.to_numpy(x)


def loss(params, X, Y):
    W, b = params
    return unp.sum((X @ W + b - Y) ** 2)


def exact(params, X, Y):
    W, b = params
    r = 2 * (X @ W + b - Y)
    return [X.T @ r, r.sum(axis=0)]


def data(dtype="float64", shift=0.0):
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 2)).astype(dtype) + shift, np.zeros(2, dtype) + shift]
    return params, rng.standard_normal((4, 3)).astype(dtype), rng.standard_normal((4, 2))


def test_parameters_in_a_list_give_the_first_calls_answer_every_call(backend):
    g = unigrad.grad(loss, backend=backend)
    for k in range(4):  # new values each call: a fast path that kept old ones would fail
        params, X, Y = data(shift=0.5 * k)
        got = as_np(g(params, X, Y))
        assert type(got) is list and len(got) == 2
        for a, b in zip(got, exact(params, X, Y)):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_changed_structure_or_leaf_type_takes_the_full_path(backend):
    g = unigrad.grad(loss, backend=backend)
    params, X, Y = data()
    for _ in range(3):
        g(params, X, Y)
    # a tuple instead of a list: the result has the argument's structure
    got = as_np(g(tuple(params), X, Y))
    assert type(got) is tuple
    np.testing.assert_allclose(got[0], exact(params, X, Y)[0], rtol=1e-6)
    # a dict of parameters, then the list again
    vg = unigrad.value_and_grad(lambda p, X, Y: loss([p["W"], p["b"]], X, Y), backend=backend)
    for _ in range(3):
        value, got = vg({"W": params[0], "b": params[1]}, X, Y)
        assert sorted(got) == ["W", "b"]
        np.testing.assert_allclose(as_np(got["b"]), exact(params, X, Y)[1], rtol=1e-6)
        np.testing.assert_allclose(float(as_np(value)), float(loss_np(params, X, Y)), rtol=1e-6)
    # the backend's own arrays in place of NumPy's
    impl = unigrad.get_backend(backend).impl
    native = [impl.asarray(p) for p in params]
    for _ in range(2):
        got = as_np(g(native, X, Y))
        np.testing.assert_allclose(got[0], exact(params, X, Y)[0], rtol=1e-6)


def loss_np(params, X, Y):
    W, b = params
    return np.sum((X @ W + b - Y) ** 2)


def test_an_integer_leaf_gets_the_first_calls_message(backend):
    g = unigrad.grad(loss, backend=backend)
    params, X, Y = data()
    for _ in range(3):
        g(params, X, Y)
    with pytest.raises(DifferentiationTypeError, match=r"argument 0 \('params'\)\[1\]"):
        g([params[0], np.zeros(2, dtype=np.int64)], X, Y)
    got = as_np(g(params, X, Y))  # and the next good call is right again
    np.testing.assert_allclose(got[1], exact(params, X, Y)[1], rtol=1e-6)


def test_float32_parameters_keep_float32_gradients_every_call(backend):
    g = unigrad.grad(loss, backend=backend)
    params, X, Y = data("float32")
    for _ in range(3):
        got = as_np(g(params, X, Y))
        assert [a.dtype for a in got] == [np.float32, np.float32]
    params64, X64, Y64 = data("float64")
    got = as_np(g(params64, X64, Y64))
    assert [a.dtype for a in got] == [np.float64, np.float64]


def test_a_numpy_scalar_constant_means_the_same_every_call(backend):
    # a NumPy float64 scalar is not weak: float32 times it is float64, on every call
    vg = unigrad.value_and_grad(lambda x, c: unp.sum(x * c), backend=backend)
    x = np.arange(3, dtype=np.float32)
    dtypes = set()
    for _ in range(4):
        value, grad = vg(x, np.float64(2.0))
        dtypes.add(as_np(value).dtype)
        assert as_np(grad).dtype == np.float32
        np.testing.assert_allclose(as_np(grad), [2.0, 2.0, 2.0])
    assert dtypes == {np.dtype("float64")}


def sin_times_x(x):
    return unp.sum(unp.sin(x) * x)


@pytest.mark.parametrize("kind", ["grad", "value_and_grad", "jacobian", "hessian"])
@pytest.mark.parametrize("first", ["numpy", "torch", "jax", "tensorflow"])
def test_a_transform_made_once_runs_on_the_backend_of_each_call(kind: str, first: str) -> None:
    """The backend is resolved on every call: a transform called under one backend (compiled
    there) and then under another ran the first backend's program again (silently for
    numpy -> jax) or failed inside the second framework."""
    x = np.array([1.0, 2.0, 3.0])
    d1 = np.sin(x) + x * np.cos(x)
    exact = np.diag(2 * np.cos(x) - x * np.sin(x)) if kind == "hessian" else d1
    fun = getattr(unigrad, kind)(sin_times_x)
    others = [b for b in ("numpy", "torch", "jax", "tensorflow") if b != first]
    for name in (first, *others):
        if not have(name):
            continue
        with unigrad.use_backend(name):
            for _ in range(3):  # past every backend's compile_after
                got = fun(x)
                got = got[1] if kind == "value_and_grad" else got
                if name != "numpy":
                    assert unigrad.get_backend(name).is_array(got), (name, type(got))
                np.testing.assert_allclose(as_np(got), exact, rtol=1e-12, atol=1e-12)

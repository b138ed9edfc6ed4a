"""unigrad.api.dispatch.apply: a transform by name means what the unigrad API means."""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from unigrad.api.dispatch import TRANSFORMS, apply


def f(x, y):
    return unp.sum(unp.sin(x) * y**2)


X = np.array([0.3, 1.2])
Y = np.array([2.0, -1.0])


def np_(v):
    return unigrad.to_numpy(v)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_each_name_is_the_api_call(backend):
    args = [X, Y]
    direct = {
        "grad": unigrad.grad(f, (0, 1), backend=backend)(X, Y),
        "value_and_grad": unigrad.value_and_grad(f, (0, 1), backend=backend)(X, Y),
        "jacobian": unigrad.jacobian(f, (0, 1), backend=backend)(X, Y),
        "hessian": unigrad.hessian(f, (0, 1), backend=backend)(X, Y),
    }
    for name, want in direct.items():
        got = np_(apply(name, f, args, (0, 1), backend))
        leaves = unigrad.pytree.tree_leaves
        assert len(leaves(got)) == len(leaves(np_(want))), name
        for g, w in zip(leaves(got), leaves(np_(want))):
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=name)
    value = apply("value", f, args, backend=backend)
    assert unigrad.get_backend(backend).dtype_name(value) == "float64"  # a backend array
    np.testing.assert_allclose(np_(value), np.sum(np.sin(X) * Y**2), rtol=1e-12)


def test_directional_transforms_hold_the_other_arguments_constant():
    t = np.array([1.0, 0.5])
    _, tout = apply("jvp", f, [X, Y], 0, "numpy", tangents=[t])
    np.testing.assert_allclose(np_(tout), np.sum(np.cos(X) * Y**2 * t), rtol=1e-12)
    _, (gy,) = apply("vjp", f, [X, Y], 1, "numpy", cotangents=np.float64(2.0))
    np.testing.assert_allclose(np_(gy), 2 * 2 * np.sin(X) * Y, rtol=1e-12)
    (hv,) = apply("hvp", f, [X, Y], 0, "numpy", tangents=[t])
    np.testing.assert_allclose(np_(hv), -np.sin(X) * Y**2 * t, rtol=1e-12)
    # every argument by default; cotangents may be computed from the output
    out, (gx, gy) = apply("vjp", f, [X, Y], cotangents=lambda o: np.ones_like(np_(o)))
    np.testing.assert_allclose(np_(out), np.sum(np.sin(X) * Y**2), rtol=1e-12)
    np.testing.assert_allclose(np_(gx), np.cos(X) * Y**2, rtol=1e-12)
    np.testing.assert_allclose(np_(gy), 2 * np.sin(X) * Y, rtol=1e-12)


def test_bad_requests_say_what_to_do():
    with pytest.raises(ValueError, match="unknown transform 'gradd'; use one of value, grad"):
        apply("gradd", f, [X, Y])
    with pytest.raises(ValueError, match="jvp needs tangents"):
        apply("jvp", f, [X, Y])
    with pytest.raises(ValueError, match="vjp needs cotangents"):
        apply("vjp", f, [X, Y])
    with pytest.raises(ValueError, match=r"argnums \[2\] out of range for 2"):
        apply("hvp", f, [X, Y], 2, tangents=[X])
    assert set(TRANSFORMS) >= {"value", "grad", "jacobian", "hessian", "vjp", "jvp", "hvp"}

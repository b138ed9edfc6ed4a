"""MXNet in-process, inside .venv-mxnet: its habits normalised and its gaps declared honestly.

``make test`` runs this file (and test_api.py on mxnet) with .venv-mxnet's python; in the main
environment MXNet is not importable and the module is skipped.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mxnet")

from unigrad.backends.mxnet import second_order

import unigrad
import unigrad.numpy as unp

B = "mxnet"


def test_second_order_lists_match_what_the_probe_derives():
    found = second_order.probe()
    ok = {op for op, s in found.items() if s == "ok"}
    wrong = {op for op, s in found.items() if s.startswith("wrong")}
    refused = {op for op, s in found.items() if s.startswith("refused")}
    assert ok == second_order.SUPPORTED
    assert refused == second_order.REFUSED_BY_MXNET | {"prod"}
    assert wrong == {"arcsinh", "arccosh"}
    assert wrong <= second_order.NO_SECOND_ORDER


def test_wrong_second_derivatives_are_refused_not_returned():
    with pytest.raises(unigrad.UnsupportedError, match="arcsinh"):
        unigrad.hessian(unp.arcsinh, backend=B)(0.5)
    h = unigrad.to_numpy(unigrad.hessian(unp.sin, backend=B)(0.5))
    assert np.isclose(h, -np.sin(0.5))


def test_refused_operator_is_named():
    with pytest.raises(unigrad.UnsupportedError, match="_backward_npi_broadcast_mul"):
        unigrad.hvp(lambda x: x * x, (0.5,), (1.0,), backend=B)


def test_float64_is_kept():
    g = unigrad.grad(lambda x: unp.sum(x * x), backend=B)(np.array([1.0, 2.0]))
    assert unigrad.get_backend(B).dtype_name(g) == "float64"


def test_no_stale_gradients_between_calls():
    g = unigrad.grad(lambda x, y: unp.sum(x * y), argnums=(0, 1), backend=B)
    g(np.ones(2), np.full(2, 5.0))
    _, gy = unigrad.grad(lambda x, y: unp.sum(x * 2.0), argnums=(0, 1), backend=B)(
        np.ones(2), np.full(2, 5.0)
    )
    np.testing.assert_array_equal(unigrad.to_numpy(gy), [0.0, 0.0])


def test_integer_inputs_are_refused_not_silently_differentiated():
    with pytest.raises(TypeError, match="floating-point"):
        unigrad.grad(lambda x: unp.sum(x * 2.0), backend=B)(np.arange(3))


def test_constant_and_unconnected_functions_give_zeros():
    g = unigrad.grad(lambda x: unp.ones((), dtype="float64") * 3.0, backend=B)(np.ones(2))
    np.testing.assert_array_equal(unigrad.to_numpy(g), [0.0, 0.0])


def test_non_scalar_heads_are_not_summed():
    with pytest.raises(ValueError, match="scalar"):
        unigrad.grad(lambda x: x * x, backend=B)(np.ones(3))


def test_nested_transforms_are_refused_not_zero():
    with pytest.raises(unigrad.UnsupportedError, match="nested"):
        unigrad.grad(unigrad.grad(unp.sin, backend=B), backend=B)(0.5)


def test_jvp_and_forward_jacobian_are_emulated_correctly():
    x = np.array([0.3, 0.7])
    _, t = unigrad.jvp(unp.sin, (x,), (np.array([1.0, 2.0]),), backend=B)
    np.testing.assert_allclose(unigrad.to_numpy(t), np.cos(x) * [1.0, 2.0], rtol=1e-12)
    j = unigrad.jacobian(unp.tanh, mode="fwd", backend=B)(x)
    np.testing.assert_allclose(unigrad.to_numpy(j), np.diag(1 - np.tanh(x) ** 2), rtol=1e-12)

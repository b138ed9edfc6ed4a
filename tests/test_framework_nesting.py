"""Issue 16's engine-correctness items about frameworks, on every backend: third-order nesting
of ``dot`` and ``outer``, a jacobian inside a vjp, and the derivative of ``0 ** y`` in y.

Each is checked against central finite differences (``check_grads``) where the backend has the
order; MXNet, which cannot nest transforms, must say so with ``UnsupportedError``.
"""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from unigrad.testing import check_grads

from .conftest import allow_gap, as_np

R = np.random.default_rng(16)
A, B, V, W = (
    R.standard_normal((2, 3)),
    R.standard_normal((3, 4)),
    R.standard_normal(3),
    R.standard_normal(2),
)


@pytest.mark.parametrize(
    ("op", "args"),
    [
        ("dot", (A, B)),
        ("dot", (A, V)),
        ("dot", (V, V * 2.0)),
        ("outer", (V, W)),
    ],
    ids=["dot-matrix", "dot-matrix-vector", "dot-vectors", "outer"],
)
def test_third_order_nesting(backend, op, args):
    # TensorFlow once raised "returned too few gradients" here
    with allow_gap(backend, "higher_order"):
        check_grads(getattr(unp, op), *args, order=3, backend=backend)


def vjp_with_cotangent(x, y, v):
    """The vjp of dot as a function of the point and of the cotangent (HIPS autograd's form
    of a higher-order check: the cotangent is differentiated too)."""
    return unigrad.vjp(unp.dot, x, y)[1](v)


def test_vjp_differentiated_in_its_cotangent(backend):
    with allow_gap(backend, "higher_order"):
        check_grads(vjp_with_cotangent, A, V, R.standard_normal(2), order=2, backend=backend)


def inner_jacobian(x):
    return unigrad.jacobian(lambda z: unp.sin(z) * z)(x)


def inner_hessian(x):
    return unigrad.hessian(lambda z: unp.sum(unp.sin(z) * z**2))(x)


@pytest.mark.parametrize("f", [inner_jacobian, inner_hessian], ids=["jacobian", "hessian"])
def test_jacobian_inside_vjp(backend, f):
    # TensorFlow failed differentiating a (vectorised) jacobian under a forward accumulator
    with allow_gap(backend, "higher_order"):
        check_grads(f, V, order=2, backend=backend)
        out, vjp_fn = unigrad.vjp(f, V, backend=backend)
        ct = R.standard_normal(np.shape(as_np(out)))
        (g,) = vjp_fn(ct)
        (want,) = unigrad.vjp(f, V, backend="numpy")[1](ct)
        np.testing.assert_allclose(as_np(g), want, rtol=1e-12)


def zero_to_the_y(y):
    return unp.power(0.0, y)


def zero_to_the_y_operator(y):
    return 0.0**y


@pytest.mark.parametrize("f", [zero_to_the_y, zero_to_the_y_operator], ids=["power", "**"])
def test_zero_base_has_derivative_zero_in_the_exponent(backend, dtype, f):
    # NaN once on TensorFlow (jvp), MXNet (jvp and vjp) and torch (second order)
    y = np.asarray(0.14, dtype)
    assert float(as_np(unigrad.grad(f, backend=backend)(y))) == 0.0
    assert float(as_np(unigrad.jvp(f, (y,), (np.ones((), dtype),), backend=backend)[1])) == 0.0
    (g,) = unigrad.vjp(f, y, backend=backend)[1](np.ones((), dtype))
    assert float(as_np(g)) == 0.0
    ys = np.array([0.14, 0.5, 2.0], dtype)
    (g,) = unigrad.vjp(lambda v: f(v), ys, backend=backend)[1](np.ones(3, dtype))
    np.testing.assert_array_equal(as_np(g), np.zeros(3))
    with allow_gap(backend, "higher_order"):
        assert float(as_np(unigrad.hessian(f, backend=backend)(y))) == 0.0
        assert float(as_np(unigrad.hvp(f, (y,), (np.ones((), dtype),), backend=backend)[0])) == 0.0
        if dtype == "float64":
            check_grads(f, 0.14, order=2, backend=backend)

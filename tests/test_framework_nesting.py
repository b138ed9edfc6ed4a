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


# einsum forms the engine once got wrong: '...' not first, and an index repeated in one operand
EINSUMS = [
    ("j...k,lj...->lk...", [(2, 2), (2, 2, 2)]),
    ("jk...,lj...->lk...", [(2, 3), (4, 2, 5)]),
    ("...k,...nk->...", [(3, 4), (3, 2, 4)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
]


@pytest.mark.parametrize(("spec", "shapes"), EINSUMS, ids=[s for s, _ in EINSUMS])
def test_einsum_vjp_and_second_order_agree_with_the_engine(backend, spec, shapes):
    xs = [R.standard_normal(s) for s in shapes]
    f = lambda *a: unp.einsum(spec, *a)  # noqa: E731
    out, vjp_fn = unigrad.vjp(f, *xs, backend=backend)
    np.testing.assert_allclose(as_np(out), np.einsum(spec, *xs), rtol=1e-12)
    ct = R.standard_normal(np.shape(as_np(out)))
    want = unigrad.vjp(f, *xs, backend="numpy")[1](ct)
    for got, w in zip(vjp_fn(ct), want):
        np.testing.assert_allclose(as_np(got), as_np(w), rtol=1e-12, atol=1e-12)
    check_grads(f, *xs, order=1, backend=backend)
    with allow_gap(backend, "higher_order"):
        check_grads(lambda *a: unp.sin(f(*a)), *xs, order=2, backend=backend)


def test_std_of_one_element_has_derivative_zero_on_every_backend(backend, dtype):
    # NaN once on all five backends
    one = np.ones((), dtype)
    out, t = unigrad.jvp(unp.std, (np.asarray(3.5, dtype),), (one,), backend=backend)
    assert float(as_np(out)) == 0.0 and float(as_np(t)) == 0.0
    g = unigrad.grad(unp.std, backend=backend)(np.array([3.5], dtype))
    np.testing.assert_array_equal(as_np(g), [0.0])
    x = np.array([[1.0], [2.0], [-3.0]], dtype)
    for mode in ("fwd", "rev"):
        j = unigrad.jacobian(lambda v: unp.std(v, axis=1), mode=mode, backend=backend)(x)
        np.testing.assert_array_equal(as_np(j), np.zeros((3, 3, 1)))
    with allow_gap(backend, "higher_order"):
        h = unigrad.hessian(lambda v: unp.sum(unp.std(v, axis=1)), backend=backend)(x)
        np.testing.assert_array_equal(as_np(h), np.zeros((3, 1, 3, 1)))

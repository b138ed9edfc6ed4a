"""What users write on the reference engine: arrays built from traced values, reductions of
lists, comparisons, NumPy's inner, and NumPy's ufuncs and methods on traced values."""

from __future__ import annotations

import numpy as np
import pytest
from unigrad.backends.numpy import ops

import unigrad
import unigrad.numpy as unp
from unigrad.testing import check_grads

N = unigrad.to_numpy


# ----------------------------------------------------------- arrays from traced values


@pytest.mark.parametrize("build", [unp.asarray, ops.array], ids=["unp.asarray", "array"])
def test_arrays_built_from_traced_scalars(build):
    assert N(unigrad.grad(lambda x: unp.sum(build([[x, x], [x**2, x]])))(3.0)) == 9.0
    j = N(unigrad.jacobian(lambda x: build([x, x**2]))(3.0))
    np.testing.assert_array_equal(j, [1.0, 6.0])
    # tuples, NumPy and Python numbers mixed in, and two levels of nesting
    f = lambda x, y: build(((x, 2.0), (np.float64(3.0), x * y)))  # noqa: E731
    np.testing.assert_array_equal(N(f(1.5, 2.0)), [[1.5, 2.0], [3.0, 3.0]])
    check_grads(f, 1.5, 2.0, order=2)
    jf = N(unigrad.jacobian(lambda v: build([v[0] * v[1], [v[1]][0]]), mode="fwd")(np.ones(2)))
    np.testing.assert_array_equal(jf, [[1.0, 1.0], [0.0, 1.0]])


def test_arrays_from_traced_values_keep_numpy_dtypes():
    x32 = np.float32(3.0)
    assert unigrad.grad(lambda x: unp.sum(unp.asarray([x, x])))(x32).dtype == np.float32
    out = unigrad.vjp(lambda x: unp.asarray([x, 2.0]), x32)[0]
    assert np.result_type(N(out)) == np.float64  # as np.asarray([np.float32(3), 2.0])
    g = unigrad.grad(lambda x: unp.sum(unp.asarray([x, x], dtype="float32")))(3.0)
    assert g == 2.0 and g.dtype == np.float64


@pytest.mark.parametrize(
    "name,fn,want",
    [
        ("mean", lambda x: unp.mean([x, x + 2]), 1.0),
        ("sum", lambda x: unp.sum([x, x**2]), 1.0 + 2 * 1.5),
        ("prod", lambda x: unp.prod([x, x, 2.0]), 4 * 1.5),
        ("max", lambda x: unp.max([x, 2 * x]), 2.0),
        ("min", lambda x: unp.min((x, 2 * x)), 1.0),
        ("std", lambda x: unp.std([x, 3 * x]), 1.0),
        ("var", lambda x: unp.var([x, 3 * x]), 2 * 1.5),
        ("logsumexp", lambda x: unp.logsumexp([x, x]), 1.0),
        ("sin", lambda x: unp.sum(unp.sin([[x], [x]])), 2 * np.cos(1.5)),
        ("maximum", lambda x: unp.sum(unp.maximum([x, -x], 0.0)), 1.0),
    ],
)
def test_ops_take_lists_of_traced_values(name, fn, want):
    assert np.isclose(N(unigrad.grad(fn)(1.5)), want, rtol=1e-14)
    check_grads(fn, 1.5, order=2)


def test_sum_of_a_list_of_two_arguments():
    g = unigrad.grad(lambda x, y: unp.sum([x, y]) * y, argnums=(0, 1))(2.0, 3.0)
    assert tuple(N(g)) == (3.0, 8.0)


# -------------------------------------------------------------------------- comparisons


def test_comparisons_are_constants_the_reductions_accept():
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0])

    def f(x, y):
        c = x < y
        assert type(c) is np.ndarray and c.dtype == bool  # a plain constant, not traced
        n = unp.sum(c) + unp.sum(x >= y) + unp.mean(np.less(x, y)) + unp.sum(unp.isnan(x))
        return n * unp.sum(x * y)

    gx, gy = unigrad.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(N(gx), (1 + 2 + 1 / 3) * y)
    np.testing.assert_array_equal(N(gy), (1 + 2 + 1 / 3) * x)
    h = unigrad.hessian(lambda v: unp.sum(v > 0.5) * unp.sum(v**2))(x)
    np.testing.assert_array_equal(N(h), 2 * 2 * np.eye(3))


def test_comparison_ufuncs_and_operators_from_either_side():
    x = np.array([0.0, 1.0, 2.0])

    def f(v):
        checks = [
            np.ones(3) < v,
            np.greater(v, 1.0),
            np.equal(v, v),
            v != 1.0,
            v >= 1.0,
            np.isfinite(v),
            np.logical_and(v > 0, np.signbit(-v)),
        ]
        for c in checks:
            assert type(c) is np.ndarray and c.dtype == bool
        return unp.sum(checks[0] * v) + len({v, v})

    np.testing.assert_array_equal(N(unigrad.grad(f)(x)), [0.0, 0.0, 1.0])


# ------------------------------------------------------------------------------- inner


def test_inner_is_numpy_inner():
    a = np.arange(3.0)
    np.testing.assert_array_equal(N(unp.inner(1.5, a)), [0.0, 1.5, 3.0])
    np.testing.assert_array_equal(N(unp.inner(a, 1.5)), [0.0, 1.5, 3.0])
    rng = np.random.default_rng(0)
    for sa, sb in [((2, 3), (4, 3)), ((3,), (3,)), ((3,), (2, 4, 3)), ((2, 2, 3), (3,))]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        got = N(unp.inner(a, b))
        assert np.shape(got) == np.inner(a, b).shape
        np.testing.assert_allclose(got, np.inner(a, b), rtol=1e-14)
        check_grads(unp.inner, a, b, order=2)
    check_grads(unp.inner, 1.5, a, order=2)
    with pytest.raises(ValueError, match="inner: the last axes differ"):
        unigrad.grad(lambda x: unp.sum(unp.inner(x, np.ones((4, 2)))))(np.ones((2, 3)))


# ------------------------------------------------------------------ methods and ufuncs


def test_numpy_functions_call_the_methods_of_traced_values():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])

    def f(v):
        return (
            np.sum(v, axis=0, keepdims=True).sum()
            + np.mean(v) * np.max(v, axis=1).sum()
            + np.std(v, ddof=1)
            + v.var(axis=0).sum()
            + v.T.reshape(6).dot(np.arange(6.0))
            + v.flatten()[::-1][0]
            + np.prod(v[0])
        )

    check_grads(f, x, order=2)
    with pytest.raises(TypeError, match="does not take initial"):
        unigrad.grad(lambda v: np.sum(v, initial=1.0))(x)
    with pytest.raises(TypeError, match="out="):
        unigrad.grad(lambda v: np.sum(v, out=np.zeros(())))(x)


def test_squeeze_of_a_longer_axis_is_a_clear_error():
    with pytest.raises(ValueError, match="axis 1 has size 3"):
        unigrad.grad(lambda v: unp.sum(unp.squeeze(v, 1)))(np.ones((2, 3)))

"""Pinned answers of the reference engine where a naive rule gives NaN or drops information:
std at zero variance, x**y at x = 0, complex outputs."""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from unigrad.errors import UnigradError
from unigrad.testing import check_grads

N = unigrad.to_numpy


# ------------------------------------------------------------------ std at zero variance


def test_std_of_one_element_has_derivative_zero():
    out, t = unigrad.jvp(unp.std, (3.5,), (1.0,))
    assert N(out) == 0.0 and N(t) == 0.0
    assert N(unigrad.grad(unp.std)(np.array([3.5]))) == [0.0]
    assert N(unigrad.hessian(unp.std)(np.array([3.5]))) == [[0.0]]
    d3 = unigrad.grad(unigrad.grad(unigrad.grad(lambda x: unp.std(x[None]))))
    assert N(d3(3.5)) == 0.0


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_std_over_a_length_one_axis_has_derivative_zero(mode):
    x = np.array([[1.0], [2.0], [-3.0]])
    j = N(unigrad.jacobian(lambda v: unp.std(v, axis=1), mode=mode)(x))
    np.testing.assert_array_equal(j, np.zeros((3, 3, 1)))
    h = N(unigrad.hessian(lambda v: unp.sum(unp.std(v, axis=1, keepdims=True)))(x))
    np.testing.assert_array_equal(h, np.zeros((3, 1, 3, 1)))


def test_std_of_equal_values_is_pinned_to_zero_and_elsewhere_unchanged():
    np.testing.assert_array_equal(N(unigrad.grad(unp.std)(np.full(3, 2.0))), [0.0, 0.0, 0.0])
    # mixed groups: the zero-variance row gets 0, the other row its usual derivative
    x = np.array([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0]])
    check_grads(lambda v: unp.std(v[1:], axis=1), x, order=3)
    g = N(unigrad.grad(lambda v: unp.sum(unp.std(v, axis=1)))(x))
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])
    d = x[1] - x[1].mean()
    np.testing.assert_allclose(g[1], d / (3 * x[1].std()), rtol=1e-14)
    # ddof past the number of elements stays NaN, as in NumPy
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(N(unp.std(np.array([3.5]), ddof=1)))


# ----------------------------------------------------------------------- x ** y at x = 0


@pytest.mark.parametrize("base", [0.0, np.zeros(3), np.zeros(3, np.float32)])
def test_derivative_of_zero_to_the_y_is_zero_at_first_and_second_order(base):
    y = np.full(np.shape(base), 0.14, dtype=np.result_type(base))
    f = lambda y: unp.sum(unp.power(base, y))  # noqa: E731
    g = N(unigrad.grad(f)(y))
    assert np.all(g == 0) and np.result_type(g) == np.result_type(base)
    assert np.all(N(unigrad.hessian(f)(y)) == 0)
    assert np.all(N(unigrad.jacobian(unigrad.grad(f), mode="rev")(y)) == 0)
    ones = np.ones_like(y)
    assert np.all(N(unigrad.jvp(f, (y,), (ones,))[1]) == 0)
    _, t2 = unigrad.jvp(lambda v: unigrad.jvp(f, (v,), (ones,))[1], (y,), (ones,))
    assert np.all(N(t2) == 0)


def test_hessian_of_x_to_the_y_at_x_zero_keeps_the_y_direction_finite():
    f = lambda x, y: unp.power(x, y)  # noqa: E731
    with np.errstate(all="ignore"):
        h = unigrad.hessian(f, argnums=(0, 1))(0.0, 0.14)
        hv = unigrad.hvp(f, (0.0, 0.14), (0.0, 1.0))
    assert N(h[1][1]) == 0.0  # d2/dy2 0**y = 0; the x partials are infinite
    assert N(hv[1]) == 0.0
    # where the x partial is finite nothing changes
    check_grads(f, np.array([0.5, 1.5]), np.array([0.14, 2.5]), order=2)


def test_a_zero_cotangent_meets_an_infinite_partial_as_ieee_and_every_framework_do():
    # 0 * inf is nan in both modes, as for sqrt and in torch, JAX and TensorFlow (the where
    # pattern's pin); the engine's power rule gave 0 here, and its jacobians kept a zero
    # direction zero (so its reverse jacobian of where(x > 0, sqrt(x), 0) at 0 was 0, not nan)
    with np.errstate(all="ignore"):
        assert np.isnan(N(unigrad.grad(lambda x: 0.0 * x**0.5)(0.0)))
        assert np.isnan(N(unigrad.grad(lambda x: 0.0 * unp.sqrt(x))(0.0)))
        f = lambda v: unp.stack([v[0] ** 0.5, v[1]])  # noqa: E731
        rev = N(unigrad.jacobian(f, mode="rev")(np.zeros(2)))
        fwd = N(unigrad.jacobian(f, mode="fwd")(np.zeros(2)))
        auto = N(unigrad.jacobian(f)(np.zeros(2)))  # reverse, as on every backend
        w = lambda v: unp.where(v > 0, unp.sqrt(v), 0.0)  # noqa: E731
        where_rev = N(unigrad.jacobian(w, mode="rev")(np.array([0.0, 4.0])))
        hv_sqrt = N(
            unigrad.hvp(
                lambda v: unp.sum(unp.sqrt(v)), (np.array([0.0, 4.0]),), (np.array([0.0, 1.0]),)
            )
        )
        hv_pow = N(
            unigrad.hvp(lambda v: unp.sum(v**0.5), (np.array([0.0, 4.0]),), (np.array([0.0, 1.0]),))
        )
    np.testing.assert_array_equal(rev, [[np.inf, 0.0], [np.nan, 1.0]])
    np.testing.assert_array_equal(fwd, [[np.inf, np.nan], [0.0, 1.0]])
    np.testing.assert_array_equal(auto, rev)
    np.testing.assert_array_equal(where_rev, [[np.nan, 0.0], [np.nan, 0.25]])
    np.testing.assert_array_equal(hv_sqrt[0], [np.nan, -0.03125])
    np.testing.assert_array_equal(hv_pow[0], hv_sqrt[0])  # the same function, spelled otherwise


# ------------------------------------------------------------------------ complex values


@pytest.mark.parametrize(
    "transform",
    [
        lambda f: unigrad.grad(f)(1.5),
        lambda f: unigrad.value_and_grad(f)(1.5),
        lambda f: unigrad.hessian(f)(1.5),
        lambda f: unigrad.hvp(f, (1.5,), (1.0,)),
    ],
    ids=["grad", "value_and_grad", "hessian", "hvp"],
)
def test_gradient_of_a_complex_output_is_refused(transform):
    with pytest.raises(TypeError, match=r"real-valued output.*complex128.*real part.*abs") as e:
        transform(lambda x: x * (1 + 2j))
    assert isinstance(e.value, UnigradError)


def test_real_functions_of_complex_values_agree_with_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    ours = {
        "abs": lambda x: unp.abs(x * (1 + 1j)) ** 3,
        "real": lambda x: (unp.exp(x * (0.5 + 2j))).real,
        "np.real": lambda x: np.real(unp.sin(x * (1 + 2j))),
        "imag": lambda x: (x * x * (1 + 2j)).imag,
    }
    theirs = {
        "abs": lambda x: jnp.abs(x * (1 + 1j)) ** 3,
        "real": lambda x: jnp.real(jnp.exp(x * (0.5 + 2j))),
        "np.real": lambda x: jnp.real(jnp.sin(x * (1 + 2j))),
        "imag": lambda x: jnp.imag(x * x * (1 + 2j)),
    }
    for name, f in ours.items():
        with jax.enable_x64(True):
            g = float(jax.grad(theirs[name])(1.3))
            h = float(jax.hessian(theirs[name])(1.3))
            _, t = jax.jvp(theirs[name], (1.3,), (1.0,))
        np.testing.assert_allclose(N(unigrad.grad(f)(1.3)), g, rtol=1e-13, err_msg=name)
        np.testing.assert_allclose(N(unigrad.hessian(f)(1.3)), h, rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(N(unigrad.jvp(f, (1.3,), (1.0,))[1]), t, rtol=1e-13)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobian_and_vjp_of_a_complex_output(mode):
    c = np.array([1 + 2j, -0.5 + 1j])
    j = N(unigrad.jacobian(lambda x: x * c, mode=mode)(np.ones(2)))
    np.testing.assert_array_equal(j, np.diag(c))
    # a cotangent w of a complex output pairs as Re(w * J) (JAX's convention)
    _, fn = unigrad.vjp(lambda x: x * c, np.ones(2))
    np.testing.assert_array_equal(N(fn(np.array([1 + 1j, 2j]))[0]), [-1.0, -2.0])

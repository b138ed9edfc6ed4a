"""Issue 16, the elementwise family: pinned derivatives at edge points, NumPy's values and
keywords, the operators ``%``, ``//`` and ``divmod``, and NumPy's functions on the arrays a
function receives, on every backend (README, "Derivatives at kinks").

The per-op table (cases/opinfos/elementwise.py, run by tests/test_ops.py) checks values and
derivatives at ordinary points; this file checks what is exact by convention.
"""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from unigrad.errors import UnigradError

from .conftest import allow_gap, as_np

INF, NAN = np.inf, np.nan


def grads(f, args, backend, dtype="float64"):
    args = tuple(np.asarray(a, dtype=dtype) for a in args)
    out = unigrad.grad(f, argnums=tuple(range(len(args))), backend=backend)(*args)
    return [as_np(g) for g in out]


# ------------------------------------------------------------------- % and //


def mod_of_sum(x, y):
    return unp.sum(x % y)


def test_remainder_derivatives_are_one_and_minus_the_quotient(backend, dtype):
    x = np.array([5.5, -1.5, 7.0, 0.3])
    y = np.array([2.0, 2.0, -2.5, 0.1])
    # -(x // y) in the dtype: 0.3 // 0.1 is 2 in float64 (0.3 % 0.1 is 0.0999...), 3 in float32
    want_y = -np.floor_divide(x.astype(dtype), y.astype(dtype))
    for f in (
        mod_of_sum,
        lambda a, b: unp.sum(unp.remainder(a, b)),
        lambda a, b: unp.sum(unp.mod(a, b)),
    ):
        gx, gy = grads(f, (x, y), backend, dtype)
        np.testing.assert_array_equal(gx, np.ones(4))
        np.testing.assert_array_equal(gy, want_y.astype(dtype))


def test_remainder_at_its_jumps_and_with_a_python_divisor(backend):
    # x / y an integer: the value is 0 (NumPy's) and the derivatives stay 1 and -(x // y)
    x, y = np.array([2.0, -3.0, 4.5]), np.array([1.0, 1.5, -1.5])
    np.testing.assert_array_equal(
        as_np(
            unigrad.jvp(
                unp.remainder, (x, y), (np.zeros_like(x), np.ones_like(y)), backend=backend
            )[0]
        ),
        np.remainder(x, y),
    )
    gx, gy = grads(mod_of_sum, (x, y), backend)
    np.testing.assert_array_equal(gx, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(gy, -np.floor_divide(x, y))
    g = as_np(unigrad.grad(lambda v: unp.sum(v % 1.5), backend=backend)(x))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])
    g = as_np(unigrad.grad(lambda v: unp.sum(7.0 % v), backend=backend)(np.array([2.0, -3.0])))
    np.testing.assert_array_equal(g, -np.floor_divide(7.0, [2.0, -3.0]))


def test_floor_divide_is_numpys_and_a_constant(backend, dtype):
    x = np.array([1.0, -1.0, 5.5, -5.5, 0.7], dtype=dtype)
    y = np.array([0.1, 0.1, 2.0, 2.0, -0.2], dtype=dtype)
    # TensorFlow's and MXNet's own floor(x / y) give 10 for 1 // 0.1; NumPy gives 9
    with unigrad.use_backend(backend):
        np.testing.assert_array_equal(as_np(unp.floor_divide(x, y)), np.floor_divide(x, y))
    value, _ = unigrad.value_and_grad(lambda a: unp.sum(a // y), backend=backend)(x)
    assert float(as_np(value)) == float(np.sum(np.floor_divide(x, y)))
    gx, gy = grads(lambda a, b: unp.sum(unp.floor_divide(a, b) * a), (x, y), backend, dtype)
    np.testing.assert_array_equal(gx, np.floor_divide(x, y))  # d(q * x)/dx = q: q is constant
    np.testing.assert_array_equal(gy, np.zeros(5, dtype))


def divmod_sum(x, y):
    q, r = divmod(x, y)
    return unp.sum(q * 10.0 + r)


def test_divmod_and_reflected_operators(backend):
    x, y = np.array([5.5, -1.5]), np.array([2.0, 0.75])
    gx, gy = grads(divmod_sum, (x, y), backend)
    np.testing.assert_array_equal(gx, [1.0, 1.0])
    np.testing.assert_array_equal(gy, -np.floor_divide(x, y))
    g = as_np(unigrad.grad(lambda v: unp.sum(divmod(9.0, v)[1]), backend=backend)(y))
    np.testing.assert_array_equal(g, -np.floor_divide(9.0, y))


# ------------------------------------------------------------- kinks and edge points


@pytest.mark.parametrize("op", ["arctan2", "hypot"])
def test_derivative_zero_at_the_origin(backend, op):
    f = getattr(unp, op)
    x = np.array([0.0, -0.0, 3.0])
    y = np.array([0.0, 0.0, 4.0])
    value = as_np(unigrad.jvp(f, (x, y), (np.ones_like(x), np.ones_like(y)), backend=backend)[0])
    np.testing.assert_array_equal(value, getattr(np, op)(x, y))  # arctan2(0, -0) is pi
    g0, g1 = grads(lambda a, b: unp.sum(f(a, b)), (x, y), backend)
    np.testing.assert_array_equal(g0[:2], [0.0, 0.0])
    np.testing.assert_array_equal(g1[:2], [0.0, 0.0])
    # away from the origin: d/dy arctan2(y, x) = x / r**2, d/dx = -y / r**2 (here y=3, x=4)
    want = [4 / 25, -3 / 25] if op == "arctan2" else [0.6, 0.8]
    np.testing.assert_allclose([g0[2], g1[2]], want, rtol=1e-14)
    with allow_gap(backend, "higher_order"):
        h = as_np(unigrad.hessian(lambda v: f(v[0], v[1]), backend=backend)(np.zeros(2)))
        np.testing.assert_array_equal(h, np.zeros((2, 2)))


def test_fmax_fmin_ignore_nan_and_split_ties(backend):
    x = np.array([1.0, 2.0, NAN, 1.5, NAN, 3.0])
    y = np.array([1.0, -1.0, 0.5, NAN, NAN, 4.0])
    for op, win in (("fmax", [0.5, 1, 0, 1, 1, 0]), ("fmin", [0.5, 0, 0, 1, 1, 1])):
        f = getattr(unp, op)
        value = as_np(
            unigrad.jvp(f, (x, y), (np.zeros_like(x), np.zeros_like(y)), backend=backend)[0]
        )
        np.testing.assert_array_equal(value, getattr(np, op)(x, y))
        gx, gy = grads(lambda a, b, f=f: unp.sum(f(a, b) * 1.0), (x, y), backend)
        np.testing.assert_array_equal(gx, win)  # two NaN: the first argument, as maximum's
        np.testing.assert_array_equal(gy, 1 - np.array(win))


def test_logaddexp_at_infinities(backend):
    x = np.array([-INF, INF, -INF, INF, 1.0, 0.0])
    y = np.array([1.0, 2.0, -INF, INF, 1.0, 800.0])
    for op in ("logaddexp", "logaddexp2"):
        f = getattr(unp, op)
        value = as_np(
            unigrad.jvp(f, (x, y), (np.zeros_like(x), np.zeros_like(y)), backend=backend)[0]
        )
        np.testing.assert_array_equal(value, getattr(np, op)(x, y))
        gx, gy = grads(lambda a, b, f=f: unp.sum(f(a, b)), (x, y), backend)
        small = 2.0**-800 / (1 + 2.0**-800) if op == "logaddexp2" else 0.0  # exp(-800) is 0
        np.testing.assert_allclose(gx, [0.0, 1.0, 1.0, 1.0, 0.5, small], rtol=1e-12, atol=0)
        np.testing.assert_allclose(gy, [1.0, 0.0, 0.0, 0.0, 0.5, 1.0 - small], rtol=1e-12, atol=0)


def sinc_sum(x):
    return unp.sum(unp.sinc(x))


def test_sinc_derivatives_at_zero_are_exact(backend, dtype):
    x = np.zeros(1, dtype)
    with unigrad.use_backend(backend):
        assert float(as_np(unp.sinc(x))[0]) == 1.0
    np.testing.assert_array_equal(as_np(unigrad.grad(sinc_sum, backend=backend)(x)), [0.0])
    with allow_gap(backend, "higher_order"):
        h = as_np(unigrad.hessian(sinc_sum, backend=backend)(x))
        np.testing.assert_allclose(
            h, [[-(np.pi**2) / 3]], rtol=1e-6 if dtype == "float32" else 1e-14
        )
        d3 = as_np(unigrad.jacobian(unigrad.hessian(sinc_sum), backend=backend)(x))
        np.testing.assert_array_equal(d3, np.zeros((1, 1, 1)))  # exactly 0, not 1e-17


def test_sinc_near_zero_has_accurate_derivatives(backend):
    # sin(u)/u differentiated by the quotient rule cancels catastrophically near 0
    x = np.array([1e-9, -1e-5, 0.3, 0.32])
    g = as_np(unigrad.grad(sinc_sum, backend=backend)(x))
    u = np.pi * x
    want = np.pi * (u * np.cos(u) - np.sin(u)) / u**2
    # near 0, the series: d/du sin(u)/u = sum_k (-1)**k 2k u**(2k-1) / (2k+1)!
    want[:2] = np.pi * sum(
        (-1) ** k * 2 * k * u[:2] ** (2 * k - 1) / np.prod(np.arange(1.0, 2 * k + 2))
        for k in range(1, 5)
    )
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-20)


def test_nan_to_num_defaults_keywords_and_derivative(backend, dtype):
    x = np.array([1.0, NAN, INF, -INF, -2.0], dtype=dtype)
    big = np.finfo(dtype).max
    value = as_np(unigrad.jvp(unp.nan_to_num, (x,), (np.zeros_like(x),), backend=backend)[0])
    np.testing.assert_array_equal(value, [1.0, 0.0, big, -big, -2.0])
    value = as_np(
        unigrad.jvp(
            lambda v: unp.nan_to_num(v, nan=7.0, posinf=8.0, neginf=-9.0),
            (x,),
            (x,),
            backend=backend,
        )[0]
    )
    np.testing.assert_array_equal(value, np.nan_to_num(x, nan=7.0, posinf=8.0, neginf=-9.0))
    g = as_np(
        unigrad.grad(
            lambda v: unp.sum(unp.nan_to_num(v, posinf=1.0, neginf=-1.0) * 3.0), backend=backend
        )(x)
    )
    np.testing.assert_array_equal(g, [3.0, 0.0, 0.0, 0.0, 3.0])


def test_fabs_is_abs(backend):
    g = as_np(
        unigrad.grad(lambda v: unp.sum(unp.fabs(v)), backend=backend)(np.array([0.0, -2.0, 3.0]))
    )
    np.testing.assert_array_equal(g, [0.0, -1.0, 1.0])


# ------------------------------------------------ NumPy's functions on the arrays received


def numpy_spelling(x, y):
    return np.sum(
        np.remainder(x, y) + np.mod(x, 2.0) + np.floor_divide(x, y) + np.arctan2(x, y)
        + np.hypot(x, y) + np.log2(y) + np.log10(y) + np.exp2(x) + np.logaddexp(x, y)
        + np.logaddexp2(x, y) + np.fmax(x, y) + np.fmin(x, y) + np.fabs(x) + np.sinc(x)
        + np.nan_to_num(x) + np.deg2rad(x) + np.rad2deg(x) + np.radians(x) + np.degrees(x)
    )  # fmt: skip


def unp_spelling(x, y):
    return unp.sum(
        unp.remainder(x, y) + unp.mod(x, 2.0) + unp.floor_divide(x, y) + unp.arctan2(x, y)
        + unp.hypot(x, y) + unp.log2(y) + unp.log10(y) + unp.exp2(x) + unp.logaddexp(x, y)
        + unp.logaddexp2(x, y) + unp.fmax(x, y) + unp.fmin(x, y) + unp.fabs(x) + unp.sinc(x)
        + unp.nan_to_num(x) + unp.deg2rad(x) + unp.rad2deg(x) + unp.radians(x) + unp.degrees(x)
    )  # fmt: skip


def test_numpy_functions_on_received_arrays_mean_unp_ops(backend):
    x, y = np.array([0.7, -1.3, 2.2]), np.array([0.9, 1.7, 0.4])
    want = grads(unp_spelling, (x, y), "numpy")
    got = grads(numpy_spelling, (x, y), backend)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    assert float(as_np(unigrad.value_and_grad(numpy_spelling, backend=backend)(x, y)[0])) == (
        pytest.approx(float(numpy_spelling(x, y)), rel=1e-12)
    )


def test_ops_outside_transforms_keep_numpys_values(backend):
    x, y = np.array([0.7, -1.3, 2.2]), np.array([0.9, -1.7, 0.4])
    with unigrad.use_backend(backend):
        for name in ("remainder", "floor_divide", "arctan2", "hypot", "fmax", "logaddexp"):
            np.testing.assert_allclose(
                as_np(getattr(unp, name)(x, y)), getattr(np, name)(x, y), rtol=1e-12, err_msg=name
            )


# ------------------------------------------------------------- broadcasting operands


def _fd(f, x, h=1e-6):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("arctan2", 0.5),
        ("hypot", 2.0),
        ("fmax", 0.1),
        ("fmin", 0.1),
        ("logaddexp", 0.3),
        ("logaddexp2", 0.3),
        ("arctan2", np.array([[0.5], [-2.0]])),
    ],
)
def test_binary_ops_broadcast_scalars_and_shapes(backend, name, other):
    # MXNet refused boolean masks of two shapes (its & and |): every pair is broadcast first
    x = np.array([0.5, -1.2, 2.0, 0.3])

    def f(v):
        return unp.sum(getattr(unp, name)(v, other))

    def ref(v):
        return float(np.sum(getattr(np, name)(v, other)))

    g = as_np(unigrad.grad(f, backend=backend)(x))
    np.testing.assert_allclose(g, _fd(ref, x), rtol=1e-6, atol=1e-8)
    with pytest.raises(UnigradError):
        unigrad.grad(lambda v: unp.sum(getattr(unp, name)(v, np.ones(3))), backend=backend)(x)

"""Issue 8: derivatives at kinks and edge points are the same on every backend.

Each pinned point is checked on each backend at first order and, where the backend has it,
second order. The conventions are documented in the README ("Derivatives at kinks").
"""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp

from .conftest import allow_gap, as_np


def g(f, x, backend, argnums=0):
    return as_np(unigrad.grad(f, argnums=argnums, backend=backend)(x))


def h(f, x, backend):
    return as_np(unigrad.hessian(f, backend=backend)(x))


def test_abs_relu_at_zero(backend):
    assert g(unp.abs, 0.0, backend) == 0.0
    assert g(unp.absolute, 0.0, backend) == 0.0
    assert g(unp.relu, 0.0, backend) == 0.0
    assert g(unp.abs, -2.0, backend) == -1.0 and g(unp.relu, 2.0, backend) == 1.0


def test_piecewise_constant_ops_have_zero_derivative(backend):
    for op in (unp.sign, unp.floor, unp.ceil, unp.round):
        assert g(lambda x, op=op: op(x) * 1.0 + 0.0 * x, 0.3, backend) == 0.0
    d = unigrad.grad(lambda x: unp.sum(unp.floor(x)), backend=backend)(np.array([0.5, 1.5]))
    np.testing.assert_array_equal(as_np(d), [0.0, 0.0])  # zeros, never None


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_elementwise_extremes_split_ties(backend, op):
    f = getattr(unp, op)
    gx, gy = unigrad.grad(f, argnums=(0, 1), backend=backend)(1.0, 1.0)
    assert (float(as_np(gx)), float(as_np(gy))) == (0.5, 0.5)
    gx, gy = unigrad.grad(f, argnums=(0, 1), backend=backend)(2.0, 1.0)
    want = (1.0, 0.0) if op == "maximum" else (0.0, 1.0)
    assert (float(as_np(gx)), float(as_np(gy))) == want


@pytest.mark.parametrize(
    "op,x,want",
    [
        ("max", [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
        ("min", [1.0, 1.0, 3.0], [0.5, 0.5, 0.0]),
        ("max", [2.0, 2.0, 2.0, 2.0], [0.25, 0.25, 0.25, 0.25]),
    ],
)
def test_reductions_split_ties_evenly(backend, op, x, want):
    np.testing.assert_array_equal(g(getattr(unp, op), np.array(x), backend), want)


def test_reduction_ties_along_an_axis(backend):
    x = np.array([[1.0, 3.0, 3.0], [5.0, 4.0, 5.0]])
    d = g(lambda v: unp.sum(unp.multiply(unp.max(v, axis=1), np.array([1.0, 2.0]))), x, backend)
    np.testing.assert_array_equal(d, [[0.0, 0.5, 0.5], [1.0, 0.0, 1.0]])


def test_clip_counts_its_bounds_as_inside(backend):
    d = g(lambda v: unp.sum(unp.clip(v, 0.0, 1.0)), np.array([0.0, 0.5, 1.0, 1.5, -0.5]), backend)
    np.testing.assert_array_equal(d, [1.0, 1.0, 1.0, 0.0, 0.0])


def test_norm_at_zero(backend):
    np.testing.assert_array_equal(g(unp.linalg.norm, np.zeros(3), backend), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(g(unp.linalg.norm, np.array([3.0, 4.0]), backend), [0.6, 0.8])


def test_power_of_a_constant(backend):
    if backend in ("numpy", "torch"):  # the ** operator: the engine pins it, torch natively
        assert g(lambda x: x**0.0, 0.0, backend) == 0.0
    assert g(lambda x: unp.power(x, 0.0), 0.0, backend) == 0.0
    assert g(lambda x: unp.power(x, 0), 0.0, backend) == 0.0
    assert g(lambda x: unp.power(x, 3.0), 2.0, backend) == 12.0
    assert g(lambda x: unp.power(x, 1.0), 0.0, backend) == 1.0


def test_prod_with_zeros_is_exact(backend):
    np.testing.assert_array_equal(g(unp.prod, np.array([0.0, 2.0, 3.0]), backend), [6, 0, 0])
    np.testing.assert_array_equal(g(unp.prod, np.array([0.0, 0.0, 3.0]), backend), [0, 0, 0])
    m = np.array([[0.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(
        g(lambda v: unp.sum(unp.prod(v, axis=0)), m, backend), [[3.0, 4.0], [0.0, 2.0]]
    )


def test_prod_second_derivatives_with_zeros(backend):
    # TensorFlow's own reduce_prod gave zeros and an asymmetric hessian here (a tester found it)
    with allow_gap(backend, "higher_order"):
        np.testing.assert_array_equal(
            h(unp.prod, np.array([0.0, 0.0, 3.0]), backend), [[0, 3, 0], [3, 0, 0], [0, 0, 0]]
        )
        np.testing.assert_array_equal(
            h(unp.prod, np.array([0.0, 2.0, 3.0]), backend), [[0, 3, 2], [3, 0, 0], [2, 0, 0]]
        )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_where_keeps_its_meaning_and_the_double_where_pattern(backend):
    # NaN from the branch not taken still flows ...
    naive = g(lambda x: unp.where(x > 0, unp.sqrt(x), 0.0), 0.0, backend)
    assert np.isnan(naive)
    # the same for x**0.5 (the reference engine gave 0: its power rule dropped a zero cotangent)
    assert np.isnan(g(lambda x: unp.where(x > 0, x**0.5, 0.0), 0.0, backend))
    halves = np.array([0.5, 0.5])
    v = np.array([0.0, 4.0])
    got = unigrad.grad(
        lambda x: unp.sum(unp.where(x > 0, unp.power(x, halves), 0.0)), backend=backend
    )(v)
    np.testing.assert_array_equal(unigrad.to_numpy(got), [np.nan, 0.25])
    # ... and the safe pattern keeps the unused branch away from the singular point
    safe = g(lambda x: unp.where(x > 0, unp.sqrt(unp.where(x > 0, x, 1.0)), 0.0), 0.0, backend)
    assert safe == 0.0


def test_second_order_at_kinks(backend):
    with allow_gap(backend, "higher_order"):
        assert h(unp.abs, 0.0, backend) == 0.0
        assert h(unp.relu, 0.0, backend) == 0.0
        assert h(lambda x: unp.clip(x, 0.0, 1.0), 1.0, backend) == 0.0
        np.testing.assert_array_equal(
            h(unp.max, np.array([1.0, 3.0, 3.0]), backend), np.zeros((3, 3))
        )
        assert h(lambda x: unp.power(x, 0.0), 0.0, backend) == 0.0
        assert h(lambda x: unp.maximum(x, 1.0), 1.0, backend) == 0.0
        # the 2-norm's derivative at 0 is the constant 0: its second derivative there is 0
        np.testing.assert_array_equal(h(unp.linalg.norm, np.zeros(3), backend), np.zeros((3, 3)))


_NAN_FUNCTIONS = {
    "`maximum(x, 0.5)`": lambda x: unp.sum(unp.maximum(x, 0.5)),
    "`minimum(x, 0.5)`": lambda x: unp.sum(unp.minimum(x, 0.5)),
    "`maximum(x, nan)`": lambda x: unp.sum(unp.maximum(x, unp.asarray([np.nan] * 3))),
    "`max(x)`": lambda x: unp.max(x),
    "`clip(x, -1, 1.5)`": lambda x: unp.sum(unp.clip(x, -1.0, 1.5)),
    "`abs(x)`": lambda x: unp.sum(unp.abs(x)),
}


def _nan_table() -> dict[str, dict[str, list[float]]]:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = text.split("<!-- nan-input table -->")[1].split("<!-- end of the nan-input table -->")[
        0
    ]
    rows = [r.strip().strip("|").split("|") for r in block.strip().splitlines()]
    names = ["numpy", "torch", "jax", "tensorflow", "mxnet"]
    table = {}
    for row in rows[2:]:
        cells = [c.strip() for c in row]
        table[cells[0]] = {
            b: [float(v) for v in c.strip("[]").split(",")] for b, c in zip(names, cells[1:])
        }
    return table


def test_the_readme_table_of_derivatives_at_a_nan_input_is_what_each_backend_gives(backend):
    table = _nan_table()
    assert sorted(table) == sorted(_NAN_FUNCTIONS)
    x = np.array([np.nan, 1.0, 2.0])
    # the same everywhere
    np.testing.assert_array_equal(g(lambda x: unp.sum(unp.fmax(x, 0.5)), x, backend), [0, 1, 1])
    if backend not in table[next(iter(table))]:
        return  # the table holds the five built-in backends (an installed one is not in it)
    for name, f in _NAN_FUNCTIONS.items():
        with np.errstate(invalid="ignore"):
            got = g(f, x, backend)
        np.testing.assert_array_equal(got, table[name][backend], err_msg=f"{name} on {backend}")

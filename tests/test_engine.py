"""Issue 3: the reference engine (numpy backend) against finite differences, autograd and itself."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import unigrad
import unigrad.numpy as unp
from unigrad.testing import GradientCheckError, check_grads

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)


def values(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_subnormal=False))


def _checker(x, y):
    """A fixed condition of the broadcast shape (a condition on x would flip at x = 0)."""
    shape = np.broadcast_shapes(np.shape(x), np.shape(y))
    return np.indices(shape).sum(0) % 2 == 0 if shape else np.True_


# (name, function, domain): every op of the namespace, checked first and second order.
UNARY = [
    ("exp", unp.exp, (-2, 2)),
    ("log", unp.log, (0.3, 3)),
    ("log1p", unp.log1p, (-0.5, 2)),
    ("expm1", unp.expm1, (-2, 2)),
    ("sqrt", unp.sqrt, (0.3, 3)),
    ("sin", unp.sin, (-3, 3)),
    ("cos", unp.cos, (-3, 3)),
    ("tan", unp.tan, (-1.2, 1.2)),
    ("arcsin", unp.arcsin, (-0.9, 0.9)),
    ("arccos", unp.arccos, (-0.9, 0.9)),
    ("arctan", unp.arctan, (-3, 3)),
    ("sinh", unp.sinh, (-2, 2)),
    ("cosh", unp.cosh, (-2, 2)),
    ("tanh", unp.tanh, (-2, 2)),
    ("arcsinh", unp.arcsinh, (-3, 3)),
    ("arccosh", unp.arccosh, (1.2, 3)),
    ("arctanh", unp.arctanh, (-0.9, 0.9)),
    ("abs", unp.abs, (0.2, 2)),
    ("sigmoid", unp.sigmoid, (-4, 4)),
    ("softplus", unp.softplus, (-4, 4)),
    ("relu", unp.relu, (0.2, 2)),
    ("square", unp.square, (-2, 2)),
    ("reciprocal", unp.reciprocal, (0.5, 2)),
    ("negative", unp.negative, (-2, 2)),
    ("power_const", lambda x: unp.power(x, 2.5), (0.3, 2)),
    ("clip_inside", lambda x: unp.clip(x, -5.0, 5.0), (-2, 2)),
]


@pytest.mark.parametrize("name,fn,dom", UNARY, ids=[u[0] for u in UNARY])
@SETTINGS
@given(data=st.data())
def test_unary_ops_first_and_second_order(name, fn, dom, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    x = data.draw(values(shape, *dom))
    check_grads(fn, x, order=2)


BINARY = [
    ("add", unp.add, (-2, 2), (-2, 2)),
    ("subtract", unp.subtract, (-2, 2), (-2, 2)),
    ("multiply", unp.multiply, (-2, 2), (-2, 2)),
    ("divide", unp.divide, (-2, 2), (0.5, 2)),
    ("power", unp.power, (0.5, 2), (-2, 2)),
    ("maximum", unp.maximum, (-2, -0.5), (0.5, 2)),
    ("minimum", unp.minimum, (-2, -0.5), (0.5, 2)),
    ("where", lambda x, y: unp.where(_checker(x, y), x, y), (-2, 2), (-2, 2)),
]


@pytest.mark.parametrize("name,fn,dx,dy", BINARY, ids=[b[0] for b in BINARY])
@SETTINGS
@given(data=st.data())
def test_binary_ops_broadcast_first_and_second_order(name, fn, dx, dy, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    x = data.draw(values(shapes.input_shapes[0], *dx))
    y = data.draw(values(shapes.input_shapes[1], *dy))
    check_grads(fn, x, y, order=2)


REDUCTIONS = [
    ("sum", unp.sum),
    ("mean", unp.mean),
    ("prod", unp.prod),
    ("max", unp.max),
    ("min", unp.min),
    ("var", unp.var),
    ("std", unp.std),
    ("logsumexp", unp.logsumexp),
    ("norm", lambda x, axis=None, keepdims=False: unp.linalg.norm(x, axis=axis, keepdims=keepdims)),
]


@pytest.mark.parametrize("name,fn", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@SETTINGS
@given(data=st.data())
def test_reductions_with_axis_and_keepdims(name, fn, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    # distinct values keep max/min/std away from their kinks
    x = np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape)
    x = x[tuple(slice(None) for _ in shape)] * data.draw(st.sampled_from([1.0, -1.0]))
    perm = data.draw(st.permutations(range(x.size)))
    x = x.ravel()[list(perm)].reshape(shape)
    axes = [None, 0, -1] + ([(0, len(shape) - 1)] if len(shape) > 1 else [])
    axis = data.draw(st.sampled_from(axes))
    keepdims = data.draw(st.booleans())
    check_grads(lambda v: fn(v, axis=axis, keepdims=keepdims), x, order=2)


def test_shape_and_indexing_ops():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    check_grads(lambda v: unp.reshape(v, (6, 4)) * 2.0, x)
    check_grads(lambda v: unp.transpose(v, (2, 0, 1)) ** 2, x)
    check_grads(lambda v: unp.swapaxes(v, 0, 2) ** 2, x)
    check_grads(lambda v: unp.moveaxis(v, 0, -1) ** 2, x)
    check_grads(lambda v: unp.squeeze(unp.expand_dims(v, 1), 1) ** 2, x)
    check_grads(lambda v: unp.ravel(v) ** 3, x)
    check_grads(lambda v: unp.broadcast_to(v[0, 0], (3, 4)) ** 2, x)
    check_grads(lambda v: v[1, ::2, 1:] ** 2, x)
    check_grads(lambda v: v[np.array([0, 1, 0]), 1] ** 2, x)  # repeated index accumulates
    check_grads(lambda v: v[v > 0] ** 2, x)
    check_grads(lambda v: v[..., None, 2] ** 2, x)
    check_grads(lambda a, b: unp.stack([a, b], axis=1) ** 2, x[0], x[1])
    check_grads(lambda a, b: unp.concatenate([a, b * 2.0], axis=-1) ** 2, x[0], x[1])
    check_grads(lambda v: unp.where(v > 0, v**2, unp.sin(v)), x)
    check_grads(lambda v: unp.diagonal(v[0, :, :3]) ** 2, x)


def test_contractions_and_linalg():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    s = rng.standard_normal((2, 3, 4))
    v = rng.standard_normal(4)
    check_grads(unp.matmul, a, b)
    check_grads(unp.matmul, s, b)
    check_grads(unp.matmul, a, v)
    check_grads(unp.matmul, v, b)
    check_grads(unp.matmul, v, v)
    check_grads(unp.matmul, s, v)
    check_grads(unp.matmul, v, s.transpose(0, 2, 1))
    check_grads(unp.dot, a, b)
    check_grads(unp.dot, s, rng.standard_normal((3, 4, 2)))
    check_grads(unp.outer, v, a[0])
    check_grads(unp.inner, a, v)
    check_grads(lambda x, y: unp.einsum("ij,jk->ik", x, y), a, b)
    check_grads(lambda x, y: unp.einsum("bij,jk->bik", x, y), s, b)
    check_grads(lambda x, y: unp.einsum("ij,j", x, y), a, v)
    check_grads(lambda x, y: unp.einsum("...j,j->...", x, y), s, v)
    check_grads(lambda x: unp.einsum("ij->", x), a)
    check_grads(lambda x: unp.trace(x), rng.standard_normal((3, 3)))
    m = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    check_grads(unp.linalg.inv, m)
    check_grads(unp.linalg.det, m, order=3)
    check_grads(unp.linalg.solve, m, rng.standard_normal(3))
    check_grads(unp.linalg.solve, m, rng.standard_normal((3, 2)))
    check_grads(lambda x: unp.linalg.norm(x), a)
    check_grads(lambda x: unp.linalg.norm(x, ord=1), v + 3.0)
    check_grads(lambda x: unp.linalg.norm(x, ord=3), v)
    check_grads(lambda x: unp.linalg.norm(x, axis=1), a)


def test_fast_mode_uses_projections_and_reports_index():
    x = np.array([0.3, -1.2, 2.0])
    check_grads(lambda v: unp.sin(v) * v, x, fast=True)

    def wrong(v):  # value is sin, derivative claims 2*cos: a planted bug
        return unp.sin(v) + unp.sin(v) - unigrad.detach(unp.sin(v))

    with pytest.raises(GradientCheckError, match=r"worst element at index \(\d+, \d+\)"):
        check_grads(wrong, x, order=1)
    with pytest.raises(GradientCheckError, match="projected"):
        check_grads(wrong, x, order=1, fast=True)


# ------------------------------------------------------------------ pinned edge points


def d(f, x):
    return unigrad.to_numpy(unigrad.grad(f)(x))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_edge_points():
    assert d(lambda x: unp.abs(x), 0.0) == 0.0
    assert d(lambda x: unp.relu(x), 0.0) == 0.0
    assert d(lambda x: unp.sign(x), 0.3) == 0.0
    assert d(lambda x: unp.floor(x) + unp.ceil(x) + unp.round(x), 0.3) == 0.0
    gx, gy = unigrad.to_numpy(unigrad.grad(unp.maximum, argnums=(0, 1))(1.0, 1.0))
    assert (gx, gy) == (0.5, 0.5)
    gx, gy = unigrad.to_numpy(unigrad.grad(unp.minimum, argnums=(0, 1))(1.0, 1.0))
    assert (gx, gy) == (0.5, 0.5)
    np.testing.assert_array_equal(d(unp.max, np.array([1.0, 3.0, 3.0])), [0, 0.5, 0.5])
    np.testing.assert_array_equal(d(unp.min, np.array([1.0, 1.0, 3.0])), [0.5, 0.5, 0])
    np.testing.assert_array_equal(
        d(lambda x: unp.sum(unp.clip(x, 0.0, 1.0)), np.array([0.0, 1.0, 2.0])), [1, 1, 0]
    )
    np.testing.assert_array_equal(d(lambda x: unp.linalg.norm(x), np.zeros(3)), [0, 0, 0])
    assert d(lambda x: x**0.0, 0.0) == 0.0
    assert d(lambda x: unp.power(x, 0), 0.0) == 0.0
    np.testing.assert_array_equal(d(unp.prod, np.array([0.0, 2.0, 3.0])), [6, 0, 0])
    np.testing.assert_array_equal(d(unp.prod, np.array([0.0, 0.0, 3.0])), [0, 0, 0])
    # where keeps its mathematical meaning: NaN from the branch not taken still flows ...
    assert np.isnan(d(lambda x: unp.where(x > 0, unp.sqrt(x), 0.0), 0.0))
    # ... and the double-where pattern avoids it
    safe = lambda x: unp.where(x > 0, unp.sqrt(unp.where(x > 0, x, 1.0)), 0.0)  # noqa: E731
    assert d(safe, 0.0) == 0.0


def test_prod_hessian_with_zeros_is_exact():
    h = unigrad.to_numpy(unigrad.hessian(unp.prod)(np.array([0.0, 2.0, 3.0])))
    np.testing.assert_array_equal(h, [[0, 3, 2], [3, 0, 0], [2, 0, 0]])


# ------------------------------------------------------------------- autograd agreement

SMOOTH = {
    "poly": lambda x: unp.sum(x**3 - 2 * x**2 + x),
    "trig": lambda x: unp.sum(unp.sin(x) * unp.cos(2 * x) + unp.tanh(x)),
    "exp_log": lambda x: unp.sum(unp.log1p(unp.exp(x)) + unp.expm1(x / 3)),
    "matmul": lambda x: unp.sum(unp.tanh(unp.reshape(x, (2, 3)) @ np.ones((3, 2)) * 0.3)),
    "lse": lambda x: unp.logsumexp(x * 1.5),
    "norm": lambda x: unp.linalg.norm(x) ** 3,
    "prod": lambda x: unp.prod(x / 2 + 1.5),
}


@pytest.mark.parametrize("name", SMOOTH)
def test_agrees_with_hips_autograd(name):
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    f = SMOOTH[name]
    x = np.linspace(-0.9, 1.1, 6)

    def in_autograd(v):  # the same function, with autograd.numpy behind the unp names
        src = {
            "poly": lambda v: anp.sum(v**3 - 2 * v**2 + v),
            "trig": lambda v: anp.sum(anp.sin(v) * anp.cos(2 * v) + anp.tanh(v)),
            "exp_log": lambda v: anp.sum(anp.log1p(anp.exp(v)) + anp.expm1(v / 3)),
            "matmul": lambda v: anp.sum(anp.tanh(anp.reshape(v, (2, 3)) @ np.ones((3, 2)) * 0.3)),
            "lse": lambda v: anp.log(anp.sum(anp.exp(v * 1.5))),
            "norm": lambda v: anp.sqrt(anp.sum(v * v)) ** 3,
            "prod": lambda v: anp.prod(v / 2 + 1.5),
        }[name]
        return src(v)

    ours = unigrad.to_numpy(unigrad.grad(f)(x))
    theirs = ag.grad(in_autograd)(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    ours_h = unigrad.to_numpy(unigrad.hessian(f)(x))
    theirs_h = ag.hessian(in_autograd)(x)
    np.testing.assert_allclose(ours_h, theirs_h, rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------------- nesting and batching


def test_any_order_and_mixed_modes():
    f = unp.sin
    d3 = unigrad.grad(unigrad.grad(unigrad.grad(f)))
    assert np.isclose(unigrad.to_numpy(d3(0.7)), -np.cos(0.7), rtol=1e-14)
    d5 = unigrad.grad(unigrad.grad(d3))
    assert np.isclose(unigrad.to_numpy(d5(0.7)), np.cos(0.7), rtol=1e-14)
    # a jvp of a vjp: d/dx [vjp(f)(x)(u)] along t equals u * f''(x) * t
    x, u, t = 0.7, 1.5, 2.0

    def vjp_u(x):
        _, fn = unigrad.vjp(f, x)
        return fn(u)[0]

    _, tangent = unigrad.jvp(vjp_u, (x,), (t,))
    assert np.isclose(unigrad.to_numpy(tangent), u * -np.sin(x) * t, rtol=1e-14)


def test_hvp_matches_hessian_times_vector():
    rng = np.random.default_rng(2)
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    f = lambda x: unp.sum(unp.sin(x) * x**2) + unp.prod(x)  # noqa: E731
    (hv,) = unigrad.hvp(f, (x,), (v,))
    h = unigrad.hessian(f)(x)
    np.testing.assert_allclose(unigrad.to_numpy(hv), unigrad.to_numpy(h) @ v, rtol=1e-12)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobian_and_hessian_run_one_vectorised_pass(mode):
    calls = []

    def f(x):
        calls.append(1)
        return unp.tanh(x) * unp.sum(x**2)

    x = np.linspace(-1, 1, 50)
    j = unigrad.jacobian(f, mode=mode)(x)
    assert np.shape(j) == (50, 50) and len(calls) == 1
    calls.clear()
    unigrad.hessian(lambda x: unp.sum(f(x)))(x)
    assert len(calls) == 1


# ------------------------------------------------------------------------ dtypes, detach


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtypes_are_kept(dtype):
    x = np.linspace(0.1, 1, 4).astype(dtype)
    f = lambda x: unp.sum(unp.sin(x) * x**2 / 3.0 + unp.exp(-x))  # noqa: E731
    assert unigrad.grad(f)(x).dtype == dtype
    assert unigrad.jacobian(lambda x: unp.tanh(x) * 2.0)(x).dtype == dtype
    assert unigrad.hessian(f)(x).dtype == dtype
    (hv,) = unigrad.hvp(f, (x,), (np.ones(4, dtype),))
    assert hv.dtype == dtype


def test_python_floats_are_float64():
    assert unigrad.grad(lambda x: x * x)(3.0).dtype == np.float64


@pytest.mark.parametrize("bad", [np.arange(3), np.array([True, False]), np.ones(2) * 1j, 3])
def test_integer_bool_complex_inputs_raise_type_error(bad):
    with pytest.raises(TypeError, match=r"argument 0 \('x'\).*floating-point"):
        unigrad.grad(lambda x: unp.sum(x * 1.0))(bad)


def test_detach_is_constant_at_every_order():
    f = lambda x: x * unigrad.detach(x)  # noqa: E731
    assert unigrad.to_numpy(unigrad.grad(f)(3.0)) == 3.0
    assert unigrad.to_numpy(unigrad.hessian(f)(3.0)) == 0.0
    assert unigrad.to_numpy(unigrad.grad(unigrad.grad(unigrad.grad(f)))(3.0)) == 0.0
    g = lambda x: unp.sum(x**2 * unp.stop_gradient(x))  # noqa: E731
    np.testing.assert_array_equal(unigrad.to_numpy(unigrad.grad(g)(np.arange(4.0))), [0, 2, 8, 18])


# --------------------------------------------------------------------------- bad input


def test_shape_mismatch_names_op_and_arguments():
    with pytest.raises(ValueError, match=r"unigrad.numpy.matmul\(array\(2, 4\).*array\(3, 2\)"):
        unigrad.grad(lambda x: unp.sum(x @ np.ones((3, 2))))(np.ones((2, 4)))


def test_unsupported_op_says_what_to_use():
    with pytest.raises(TypeError, match="unigrad.numpy"):
        unigrad.grad(lambda x: np.sum(np.fft.fft(x)).real)(np.ones(4))
    with pytest.raises(TypeError, match="unigrad.numpy.cbrt"):
        unigrad.grad(lambda x: np.cbrt(x))(1.0)
    with pytest.raises(AttributeError, match="unigrad.numpy has no op 'fft'"):
        unp.fft


def test_non_scalar_grad_names_the_fix():
    with pytest.raises(ValueError, match="scalar.*sum.*vjp.*jacobian"):
        unigrad.grad(lambda x: x * 2)(np.ones(3))


# ------------------------------------------------------------------------------ graph


def test_graph_tree_and_dot():
    g = unigrad.trace_graph(lambda x, y: x**2 + x * y + y**2, 3.0, 4.0)
    tree = g.tree()
    assert "input x" in tree and "input y" in tree and "multiply" in tree and "power" in tree
    assert tree.splitlines()[1].strip().startswith("#6 add")
    dot = g.dot()
    assert dot.startswith("digraph") and dot.count("->") == 9


def test_graph_cli(tmp_path):
    (tmp_path / "seedmod.py").write_text("def f(x, y):\n    return x**2 + x*y + y**2\n")
    dot = tmp_path / "f.dot"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "unigrad.cli",
            "graph",
            "seedmod:f",
            "3.0",
            "4.0",
            "--dot",
            str(dot),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert "input x  shape=() dtype=float64" in out and dot.read_text().startswith("digraph")
    bad = subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "graph", "seedmod:nope", "1.0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "has no 'nope'" in bad.stderr

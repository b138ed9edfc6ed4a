"""Issue 16, the structure family: what tests/test_ops.py's table cannot say.

NumPy's signatures and keyword names, the pinned conventions (sort's stable permutation at
ties, cumprod exact with zeros, NumPy's diagonal and trace), second order through the ops,
compiled paths, errors, and MXNet's fixed failures. Every test runs on each in-process backend
(MXNet inside .venv-mxnet).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp

from .conftest import allow_gap, as_np

RNG = np.random.default_rng(16)


def grad(f, *args, backend, argnums=0):
    return as_np(unigrad.grad(f, argnums=argnums, backend=backend)(*args))


# --------------------------------------------------------------- NumPy's meaning, values


def test_diagonal_and_trace_take_numpys_axes(backend):
    x = RNG.standard_normal((3, 4, 2))
    got = as_np(unigrad.vjp(unp.diagonal, x, backend=backend)[0])
    np.testing.assert_allclose(got, np.diagonal(x))  # axes 0 and 1, not the last two
    assert got.shape == (2, 3)
    tr = unigrad.vjp(lambda v: unp.trace(v, offset=1, axis1=2, axis2=0), x, backend=backend)[0]
    np.testing.assert_allclose(as_np(tr), np.trace(x, offset=1, axis1=2, axis2=0))
    # d trace / dx is the indicator of the diagonal
    want = np.zeros_like(x)
    i = np.arange(3)
    want[i, i, :] = 1.0
    np.testing.assert_array_equal(grad(lambda v: unp.sum(unp.trace(v)), x, backend=backend), want)


def test_methods_of_arrays_a_function_receives(backend):
    x = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])

    def f(v):
        return (
            v.cumsum(1).sum()
            + (v.repeat(2, axis=0) ** 2).sum()
            + v.diagonal().sum()
            + v.trace(offset=1)
            + (v.cumprod() * 0.5).sum()
            + v.clip(1.0, 3.0).sum()
        )

    want = as_np(unigrad.grad(f, backend="numpy")(x))
    np.testing.assert_allclose(grad(f, x, backend=backend), want)
    with pytest.raises(TypeError, match=r"in place.*unigrad\.numpy\.sort"):
        unigrad.grad(lambda v: v.sort(), backend=backend)(x)


def test_split_gives_a_list_and_atleast_a_tuple(backend):
    x = np.arange(12.0).reshape(6, 2)
    out, vjp_fn = unigrad.vjp(lambda v: unp.split(v, [1, 4]), x, backend=backend)
    assert isinstance(out, list) and [as_np(p).shape for p in out] == [(1, 2), (3, 2), (2, 2)]
    (ct,) = vjp_fn([np.full((1, 2), 1.0), np.full((3, 2), 2.0), np.full((2, 2), 3.0)])
    np.testing.assert_array_equal(as_np(ct)[:, 0], [1, 2, 2, 2, 3, 3])
    both = unigrad.vjp(lambda a, b: unp.atleast_2d(a, b), 1.5, np.ones(3), backend=backend)[0]
    assert isinstance(both, tuple) and [as_np(p).shape for p in both] == [(1, 1), (1, 3)]


def test_pad_modes_match_numpy_and_refuse_the_others(backend):
    x = RNG.standard_normal((2, 3))
    for mode in ("constant", "edge", "reflect", "symmetric", "wrap"):
        got = unigrad.vjp(lambda v, m=mode: unp.pad(v, ((1, 2), (2, 1)), mode=m), x,
                          backend=backend)[0]  # fmt: skip
        np.testing.assert_allclose(as_np(got), np.pad(x, ((1, 2), (2, 1)), mode=mode))
    with pytest.raises(unigrad.UnsupportedError, match="constant, edge, reflect"):
        unigrad.grad(lambda v: unp.sum(unp.pad(v, 1, mode="mean")), backend=backend)(x)
    # a differentiated fill value gets its derivative: one per padded element
    g = grad(lambda c: unp.sum(unp.pad(x, 1, constant_values=c)), 0.5, backend=backend, argnums=0)
    assert float(g) == np.pad(x, 1).size - x.size


def test_partition_is_a_valid_partition(backend):
    x = RNG.standard_normal((4, 7))
    for kth in (0, 3, (1, 5)):
        got = as_np(unigrad.vjp(lambda v, k=kth: unp.partition(v, k), x, backend=backend)[0])
        ref = np.partition(x, kth)
        for k in np.atleast_1d(kth):
            np.testing.assert_array_equal(got[:, k], ref[:, k])
            assert (got[:, :k] <= got[:, k : k + 1]).all()
            assert (got[:, k + 1 :] >= got[:, k : k + 1]).all()


def test_linspace_is_differentiable_in_start_and_stop(backend):
    def f(a, b):
        return unp.sum(unp.linspace(a, b, 5) * np.arange(5.0))

    ga, gb = grad(f, 1.0, 3.0, backend=backend, argnums=(0, 1))
    t = np.linspace(0, 1, 5)  # y_i = a + (b - a) t_i
    np.testing.assert_allclose([ga, gb], [np.sum((1 - t) * np.arange(5)), np.sum(t * np.arange(5))])
    y, step = unigrad.vjp(lambda a: unp.linspace(a, 2.0, 4, retstep=True), 0.5, backend=backend)[0]
    np.testing.assert_allclose(as_np(y), np.linspace(0.5, 2.0, 4))
    assert float(as_np(step)) == 0.5


# ---------------------------------------------------------------------- the pinned ones


def test_sort_derivative_at_ties_is_the_stable_permutation(backend):
    x = np.array([3.0, 1.0, 3.0, 2.0, 1.0])
    w = np.array([1.0, 10.0, 100.0, 1000.0, 10000.0])
    g = grad(lambda v: unp.sum(unp.sort(v) * w), x, backend=backend)
    # sorted slot k receives input argsort(x, stable)[k]: ties keep their input order
    np.testing.assert_array_equal(g[np.argsort(x, kind="stable")], w)
    np.testing.assert_array_equal(g, [1000.0, 1.0, 10000.0, 100.0, 10.0])
    # so sort(x)[-1] is not max(x) at a tie: max splits its derivative, sort picks the last
    np.testing.assert_array_equal(
        grad(lambda v: unp.sort(v)[-1], x, backend=backend), [0, 0, 1, 0, 0]
    )


def test_argsort_is_stable_with_nan_last(backend):
    b = unigrad.get_backend(backend)
    x = np.array([np.inf, 1.0, np.nan, -np.inf, np.inf, np.nan, 1.0])
    np.testing.assert_array_equal(as_np(unp.sort(b.asarray(x))), np.sort(x))
    idx = as_np(unp.argsort(b.asarray(x)))
    np.testing.assert_array_equal(idx, np.argsort(x, kind="stable"))
    assert idx.dtype == np.int64
    ties = RNG.integers(0, 3, (4, 40)).astype(float)
    np.testing.assert_array_equal(
        as_np(unp.argsort(b.asarray(ties), axis=1)), np.argsort(ties, axis=1, kind="stable")
    )
    np.testing.assert_array_equal(
        as_np(unp.argsort(b.asarray(ties), axis=None)), np.argsort(ties, axis=None, kind="stable")
    )


def test_cumprod_is_exact_with_zeros(backend, dtype):
    x = np.array([2.0, 0.0, 3.0, 0.5, 0.0, 4.0], dtype=dtype)
    g = grad(lambda v: unp.sum(unp.cumprod(v)), x, backend=backend)
    # d/dx_j sum_i prod_{k<=i} x_k = sum_{i>=j} prod_{k<=i, k!=j} x_k: 2 + 2*3 + 2*3*0.5 at
    # j = 1, where dividing the products by x_j would give 0/0
    np.testing.assert_array_equal(g, [1.0, 11.0, 0.0, 0.0, 0.0, 0.0])
    with allow_gap(backend, "higher_order"):
        h = as_np(unigrad.hessian(lambda v: unp.sum(unp.cumprod(v)), backend=backend)(x))
        ref = as_np(unigrad.hessian(lambda v: unp.sum(unp.cumprod(v)))(x.astype(float)))
        assert np.isfinite(h).all()
        np.testing.assert_allclose(h, ref, rtol=1e-5)


# Second order through each op: sum(sin(op(x)) * w) is not linear, unlike the suite's loss.
SECOND_ORDER = {
    "tensordot": lambda x: unp.tensordot(x, x, axes=([1], [1])),
    "tile": lambda x: unp.tile(x, (2, 1)),
    "repeat": lambda x: unp.repeat(x, [2, 1, 0], axis=1),
    "tril": lambda x: unp.tril(x, -1) + unp.triu(x, 1),
    "diag": lambda x: unp.diag(unp.diag(x, 1)),
    "roll": lambda x: unp.roll(x, (1, 2), axis=(0, 1)),
    "rot90": lambda x: unp.rot90(unp.flip(x, 0)),
    "pad": lambda x: unp.pad(x, ((0, 1), (2, 0)), mode="reflect"),
    "kron": lambda x: unp.kron(x, x[:1]),
    "cross": lambda x: unp.cross(x[:, :3], x[::-1, :3] ** 2),
    "diff": lambda x: unp.diff(x, n=2, axis=1, append=0.5),
    "cumsum": lambda x: unp.cumsum(x, axis=0),
    "cumprod": lambda x: unp.cumprod(x, axis=1),
    "sort": lambda x: unp.sort(x, axis=None),
    "stacks": lambda x: unp.hstack([x, x**2]) + unp.vstack([x[0], x[1]]).sum(),
    "split": lambda x: unp.array_split(x, 2, axis=1)[1],
    "linspace": lambda x: unp.linspace(x[0], x[1], 4, axis=1),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_through_the_op(backend, name):
    x = np.array([[0.3, -1.2, 0.8], [1.1, 0.4, -0.6]])
    op = SECOND_ORDER[name]
    shape = as_np(unigrad.vjp(op, x)[0]).shape
    w = np.cos(np.arange(int(np.prod(shape)))).reshape(shape)

    def f(v):
        return unp.sum(unp.sin(op(v)) * w)

    ref = as_np(unigrad.hessian(f)(x))
    with allow_gap(backend, "higher_order"):
        np.testing.assert_allclose(as_np(unigrad.hessian(f, backend=backend)(x)), ref, atol=1e-12)


# -------------------------------------------------- keyword names and one-argument where


def test_numpys_keyword_names(backend):
    x = np.array([[-1.0, 0.5], [2.0, 0.25]])
    lo = grad(lambda v: unp.sum(unp.clip(v, a_min=0.0, a_max=1.0)), x, backend=backend)
    np.testing.assert_array_equal(lo, [[0, 1], [0, 1]])
    new = grad(lambda v: unp.sum(unp.clip(v, min=0.0, max=1.0)), x, backend=backend)
    np.testing.assert_array_equal(new, lo)
    np.testing.assert_array_equal(
        grad(lambda v: unp.sum(unp.clip(v, None, a_max=1.0)), x, backend=backend),
        [[1, 1], [0, 1]],
    )
    s = unigrad.vjp(lambda v: unp.swapaxes(v[None], axis1=0, axis2=2), x, backend=backend)[0]
    assert as_np(s).shape == (2, 2, 1)
    w = grad(lambda v: unp.sum(unp.where(condition=v > 0.4, x=v, y=v**2)), x, backend=backend)
    np.testing.assert_array_equal(w, [[-2, 1], [1, 0.5]])
    with pytest.raises(TypeError, match="a_min or min"):
        unp.clip(x, a_min=0.0, min=0.0, a_max=1.0)
    with pytest.raises(ValueError, match="both x and y"):
        unp.where(x > 0, x)


def test_one_argument_where_gives_constant_indices(backend):
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])

    def f(v):
        rows, cols = unp.where(v != 0)
        return unp.sum(v[rows, cols] ** 2) + unp.sum(rows * 0.0)

    np.testing.assert_array_equal(grad(f, x, backend=backend), 2 * x)
    rows, cols = unp.where(unigrad.get_backend(backend).asarray(x))
    np.testing.assert_array_equal(as_np(rows), [0, 1, 1])
    np.testing.assert_array_equal(as_np(cols), [1, 0, 2])
    assert as_np(rows).dtype == np.int64
    out, vjp_fn = unigrad.vjp(lambda v: v[unp.nonzero(v)] * 2.0, x, backend=backend)
    np.testing.assert_array_equal(as_np(out), [3.0, 4.0, -2.0])
    np.testing.assert_array_equal(as_np(vjp_fn(np.ones(3))[0]), 2.0 * (x != 0))


def test_einsum_sublist_form(backend):
    a, b = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    np.testing.assert_allclose(
        as_np(unp.einsum(unigrad.get_backend(backend).asarray(a), [0, 1], b, [1, 2], [0, 2])),
        a @ b,
    )

    def f(x, y):  # implicit output, labels past 25, and Ellipsis
        return unp.sum(unp.einsum(x, [Ellipsis, 30, 1], y, [1, 40]) ** 2)

    ref = unigrad.grad(f, argnums=(0, 1))(a, b)
    got = unigrad.grad(f, argnums=(0, 1), backend=backend)(a, b)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(as_np(g), as_np(r))
    assert np.allclose(as_np(unp.einsum(a, [0, 1], b, [1, 2])), np.einsum(a, [0, 1], b, [1, 2]))


# ----------------------------------------------------------------------------- errors


def test_bad_arguments_get_numpys_errors_naming_the_op(backend):
    x = np.ones((2, 3))
    cases = [
        (lambda v: unp.split(v, 4, axis=1), ValueError, "equal division"),
        (lambda v: unp.diag(v[None]), ValueError, "1-d or 2-d"),
        (lambda v: unp.diagonal(v, axis1=0, axis2=0), ValueError, "diagonal"),
        (lambda v: unp.flip(v, 2), unigrad.errors.ArrayAxisError, "flip: axis 2"),
        (lambda v: unp.cross(v[:, :1], v), ValueError, "dimension must be 2 or 3"),
        (lambda v: unp.tensordot(v, v, axes=([0], [0, 1])), ValueError, "tensordot"),
        (lambda v: unp.diff(v, n=-1), ValueError, "non-negative"),
        (lambda v: unp.partition(v, 5), ValueError, "partition"),
        (lambda v: unp.cumsum(v, out=v), TypeError, "in place"),
    ]
    for f, kind, match in cases:
        with pytest.raises(kind, match=match):
            unigrad.vjp(f, x, backend=backend)


# ------------------------------------------------------------------ compiled transforms


def test_compiled_calls_match_the_first(backend):
    """jax compiles from the first call, tensorflow from the second: the ops hold there, and
    those that read values (nonzero, an index array) run eagerly with the same answer."""
    x = np.array([3.0, 1.0, 3.0, np.nan, 2.0, 1.0])

    def f(v):
        s = unp.sort(v)
        rows = unp.where(v > 1.5)  # NaN > 1.5 is False
        return unp.sum(s[:4] * np.arange(4.0)) + unp.sum(unp.cumprod(v[:3])) + unp.sum(v[rows])

    g = unigrad.grad(f, backend=backend)
    first = as_np(g(x))
    np.testing.assert_array_equal(first, [9.0, 12.0, 4.0, 0.0, 3.0, 1.0])
    for _ in range(2):
        np.testing.assert_array_equal(as_np(g(x)), first)


# -------------------------------------------------------------------------------- MXNet


def test_mxnet_dot_with_a_scalar_and_einsum_on_an_empty_batch(backend):
    if backend != "mxnet":
        pytest.skip("MXNet's failures (issue 16); the other backends run the same code above")
    c = np.arange(24.0).reshape(2, 3, 4)
    ga, gc = unigrad.grad(lambda a, m: unp.sum(unp.dot(a, m)), argnums=(0, 1), backend="mxnet")(
        1.5, c
    )
    assert float(as_np(ga)) == c.sum()
    np.testing.assert_array_equal(as_np(gc), np.full(c.shape, 1.5))
    z, w = np.zeros((0, 2, 3)), np.ones((0, 3, 2))
    f = lambda a, b: unp.einsum("bij,bjk->bik", a, b)  # noqa: E731
    out, tout = unigrad.jvp(f, (z, w), (z, w), backend="mxnet")
    assert as_np(out).shape == as_np(tout).shape == (0, 2, 2)
    grads = unigrad.grad(lambda a, b: unp.sum(f(a, b)), argnums=(0, 1), backend="mxnet")(z, w)
    assert [as_np(q).shape for q in grads] == [(0, 2, 3), (0, 3, 2)]


def test_mxnet_vjp_through_negative_integer_indices_does_not_crash():
    """A vjp through x[[0, -1]] killed MXNet's process ("double free"): run it in a process of
    its own, so that a crash fails this test instead of the run."""
    pytest.importorskip("mxnet")
    code = textwrap.dedent(
        """
        import numpy as np, unigrad
        x = np.arange(12.0).reshape(3, 4)
        for index in ([0, -1], np.array([-1, -3]), (np.array([-1, 0]), -1), (-1, slice(-3, None))):
            out, vjp = unigrad.vjp(lambda v: v[index], x, backend="mxnet")
            (g,) = vjp(np.ones(unigrad.to_numpy(out).shape))
            want = np.zeros_like(x)
            np.add.at(want, index, 1.0)
            assert (unigrad.to_numpy(g) == want).all(), (index, g)
        print("ok")
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-2000:]


def test_cross_of_two_component_vectors(backend):
    a, b = RNG.standard_normal((4, 2)), RNG.standard_normal((4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 2 deprecates 2-vectors
        for x, y in ((a, b), (b, a), (a, a)):
            got = unigrad.vjp(lambda u, v: unp.cross(u, v), x, y, backend=backend)[0]
            np.testing.assert_allclose(as_np(got), np.cross(x, y))

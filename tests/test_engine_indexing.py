"""Indexing on the reference engine: NumPy's result for every kind of index, in both modes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import unigrad
import unigrad.numpy as unp
from unigrad.testing import check_grads

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5, 3))
MASK = RNG.standard_normal((4, 5)) > 0

INDICES = {
    "int-slice-list (separated)": (3, slice(2, None), [1, 2]),
    "slice-slice-list": (slice(None), slice(2, None), [1, 2]),
    "list-slice-None-list": ([0, 1], slice(None), None, [1, 2]),
    "None-list-list": (None, [0, 1], [1, 2]),
    "list-None-list": ([0, 1], None, [1, 2]),
    "ellipsis-list-list": (Ellipsis, [0, 1], [1, 2]),
    "list-ellipsis-list": ([0, 1], Ellipsis, [1, 2]),
    "int-ellipsis-list": (1, Ellipsis, [1, 2]),
    "negative list": ([-1, -4, 2], slice(None), -1),
    "2-d array, slice, array": (np.array([[0, -1], [2, 3]]), slice(1, 4), np.array([0, 2])),
    "0-d array": (np.array(1), slice(None), [1, 2]),
    "nested lists": ([[0, 1], [1, 0]], slice(None), [[0], [2]]),
    "repeated": (slice(None), [1, 1, 1], slice(None)),
    "reversed": (slice(None, None, -1),),
    "negative steps": (slice(3, 0, -2), slice(None, None, -1)),
    "5:1:-2": (slice(5, 1, -2),),
    "2-d mask": (MASK,),
    "2-d mask, int": (MASK, 1),
    "int, mask": (1, MASK[1]),
    "slice, mask, list (separated)": (slice(None), MASK[0], [0]),
    "bool list": ([True, False, True, True],),
    "bool scalar, list": (True, [0, 1]),
    "ellipsis-None-int": (Ellipsis, None, 2),
    "three lists": ([2, 0], [4, -5], [0, 0]),
}


def _np_index(idx):
    return tuple(np.asarray(i) if isinstance(i, list) else i for i in idx)


@pytest.mark.parametrize("idx", INDICES.values(), ids=INDICES.keys())
def test_index_matches_numpy_in_both_modes(idx):
    want = X[_np_index(idx)]
    t = RNG.standard_normal(X.shape)
    out, tangent = unigrad.jvp(lambda v: v[idx], (X,), (t,))
    assert np.shape(out) == want.shape and np.shape(tangent) == want.shape
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(tangent, t[_np_index(idx)])
    ct = RNG.standard_normal(want.shape)
    _, fn = unigrad.vjp(lambda v: v[idx], X)
    scattered = np.zeros_like(X)
    np.add.at(scattered, _np_index(idx), ct)
    (g,) = fn(ct)
    np.testing.assert_array_equal(g, scattered)
    fwd = unigrad.jacobian(lambda v: v[idx], mode="fwd")(X)
    rev = unigrad.jacobian(lambda v: v[idx], mode="rev")(X)
    assert fwd.shape == want.shape + X.shape
    np.testing.assert_array_equal(fwd, rev)


@st.composite
def mixed_indices(draw):
    """An array and an index mixing ints, slices (negative steps too), integer arrays with
    negative entries, None and an Ellipsis, in any arrangement NumPy accepts."""
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4))
    adv_shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    items, dims = [], list(shape)
    ellipsis_at = draw(st.none() | st.integers(0, len(shape)))
    for k, n in enumerate(dims[: draw(st.integers(2, len(shape)))]):
        if ellipsis_at == k:
            items.append(Ellipsis)
            break
        kind = draw(st.sampled_from(["int", "slice", "array"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            items.append(draw(st.slices(n)))
        else:
            items.append(draw(hnp.arrays(np.int64, adv_shape, elements=st.integers(-n, n - 1))))
        if draw(st.integers(0, 4)) == 0:
            items.append(None)
    x = np.arange(float(np.prod(shape))).reshape(shape) / 7.0 - 1.0
    return x, tuple(items)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(mixed_indices())
def test_generated_indices_match_numpy_in_both_modes(case):
    x, idx = case
    want = x[idx]
    t = np.cos(np.arange(x.size)).reshape(x.shape)
    out, tangent = unigrad.jvp(lambda v: v[idx], (x,), (t,))
    assert np.shape(out) == want.shape and np.shape(tangent) == want.shape
    np.testing.assert_array_equal(tangent, t[idx])
    ct = np.sin(np.arange(want.size)).reshape(want.shape)
    scattered = np.zeros_like(x)
    np.add.at(scattered, idx, ct)
    (g,) = unigrad.vjp(lambda v: v[idx], x)[1](ct)
    np.testing.assert_array_equal(g, scattered)
    rev = unigrad.jacobian(lambda v: v[idx], mode="rev")(x)
    np.testing.assert_array_equal(unigrad.jacobian(lambda v: v[idx], mode="fwd")(x), rev)


@pytest.mark.parametrize(
    "name", ["int-slice-list (separated)", "list-None-list", "negative list", "2-d mask"]
)
def test_index_second_order(name):
    idx = INDICES[name]
    check_grads(lambda v: v[idx] ** 3, X, order=2)
    # forward over forward: d2/ds2 of sum(x[idx]**3) along t is 6 * sum(x[idx] * t[idx]**2)
    t = RNG.standard_normal(X.shape)

    def along_t(v):
        return unigrad.jvp(lambda w: unp.sum(w[idx] ** 3), (v,), (t,))[1]

    _, second = unigrad.jvp(along_t, (X,), (t,))
    i = _np_index(idx)
    np.testing.assert_allclose(second, 6 * np.sum(X[i] * t[i] ** 2), rtol=1e-12)


def test_issue_case_separated_advanced_indices():
    x = np.arange(120.0).reshape(5, 6, 4)
    _, t = unigrad.jvp(lambda v: v[3, 2:, [1, 3]], (x,), (np.ones_like(x),))
    assert np.shape(t) == (2, 4) == x[3, 2:, [1, 3]].shape
    j = unigrad.jacobian(lambda v: v[3, 2:, [1, 3]], mode="fwd")(x)
    assert j.shape == (2, 4, 5, 6, 4)
    assert j[1, 2, 3, 4, 3] == 1.0 and j.sum() == 8


@pytest.mark.parametrize(
    "idx",
    [10, -4, [0, 3], np.array([-4]), (slice(None), 5), (0, [5]), [True, False], 1.5],
    ids=[
        "int",
        "negative int",
        "list",
        "negative array",
        "second axis",
        "list, second axis",
        "short mask",
        "float",
    ],
)
def test_bad_index_raises_index_error(idx):
    x = np.ones((3, 4)) if isinstance(idx, tuple) else np.ones(3)
    for transform in (
        lambda f: unigrad.grad(lambda v: unp.sum(f(v)))(x),
        lambda f: unigrad.jvp(f, (x,), (x,)),
        lambda f: unigrad.jacobian(f, mode="rev")(x),
        lambda f: unigrad.hessian(lambda v: unp.sum(f(v) ** 2))(x),
    ):
        with pytest.raises(IndexError, match=r"unigrad.numpy.getitem"):
            transform(lambda v: v[idx])


def test_traced_integer_index_is_a_constant():
    x = np.array([1.0, 2.0, 3.0])
    g = unigrad.grad(lambda v: v[unp.astype(v[0] * 0 + 2, "int64")] * v[[1]].sum())(x)
    np.testing.assert_array_equal(g, [0.0, 3.0, 2.0])

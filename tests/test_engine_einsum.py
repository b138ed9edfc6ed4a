"""The reference engine's einsum: every NumPy form, differentiated at any order in both modes."""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from unigrad.testing import check_grads

# (subscripts, operand shapes): '...' anywhere, diagonals, implicit outputs, broadcasting.
SPECS = [
    ("j...k,lj...->lk...", [(2, 2), (2, 2, 2)]),  # issue 16: the vjp was off by up to 1.14
    ("j...k,lj...->lk...", [(2, 3), (4, 2, 5)]),
    ("jk...,lj...->lk...", [(2, 3), (4, 2, 5)]),  # issue 16: a reshape error
    ("jk...,lj...->lk...", [(2, 3, 5), (4, 2, 5)]),
    ("...k,...nk->...", [(3, 4), (3, 2, 4)]),  # issue 16: second order raised
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("iii->i", [(2, 2, 2)]),
    ("ij,jj->i", [(2, 3), (3, 3)]),
    ("bii,bi->b", [(2, 3, 3), (2, 3)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("Ba,ac", [(2, 3), (3, 4)]),  # implicit output in NumPy's order: 'Bc'
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # a unit axis broadcasts
    ("...ij,...j->...i", [(4, 1, 2, 3), (5, 3)]),
    ("i...,i...", [(2, 3), (2, 1)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    (",i->i", [(), (3,)]),
]
IDS = [f"{s}-{'x'.join(map(str, shapes[0]))}" for s, shapes in SPECS]


def _operands(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize("spec,shapes", SPECS, ids=IDS)
def test_einsum_values_and_derivatives_to_second_order(spec, shapes):
    xs = _operands(shapes)
    got = unigrad.to_numpy(unp.einsum(spec, *xs))
    want = np.einsum(spec, *xs)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    check_grads(lambda *a: unp.einsum(spec, *a), *xs, order=2)


@pytest.mark.parametrize("spec,shapes", SPECS, ids=IDS)
def test_einsum_vjp_agrees_with_jax(spec, shapes):
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    xs = _operands(shapes, seed=1)
    ct = np.random.default_rng(2).standard_normal(np.shape(np.einsum(spec, *xs)))
    _, fn = unigrad.vjp(lambda *a: unp.einsum(spec, *a), *xs)
    ours = unigrad.to_numpy(fn(ct))
    with jax.enable_x64(True):
        _, jfn = jax.vjp(lambda *a: jnp.einsum(spec, *a), *xs)
        theirs = [np.asarray(t) for t in jfn(ct)]
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "spec,shapes",
    [SPECS[0], SPECS[2], SPECS[4], SPECS[7], SPECS[10]],
    ids=["ellipsis-middle", "ellipsis-last", "ellipsis-summed", "iij", "bii"],
)
def test_einsum_third_order_and_forward_over_forward(spec, shapes):
    xs = _operands(shapes, seed=3)
    f = lambda *a: unp.sum(unp.sin(unp.einsum(spec, *a)))  # noqa: E731
    check_grads(f, *xs, order=3, fast=True)
    # forward over forward: the jvp of a jvp equals t2^T H t1, from the reverse-mode hessian
    rng = np.random.default_rng(4)
    t1 = [rng.standard_normal(s) for s in shapes]
    t2 = [rng.standard_normal(s) for s in shapes]

    def jvp_t1(*a):
        return unigrad.jvp(f, a, tuple(t1))[1]

    _, second = unigrad.jvp(jvp_t1, tuple(xs), tuple(t2))
    nums = tuple(range(len(xs)))
    h = unigrad.hessian(f, argnums=nums)(*xs)
    want = sum(
        np.tensordot(t2[i], np.tensordot(unigrad.to_numpy(h[i][j]), t1[j], t1[j].ndim), t2[i].ndim)
        for i in nums
        for j in nums
    )
    np.testing.assert_allclose(unigrad.to_numpy(second), want, rtol=1e-10, atol=1e-12)


def test_einsum_sublist_form():
    a, b = _operands([(2, 3), (3, 4)])
    got = unp.einsum(a, [0, 1], b, [1, 2], [0, 2])
    np.testing.assert_allclose(unigrad.to_numpy(got), a @ b, rtol=1e-14)
    np.testing.assert_allclose(unigrad.to_numpy(unp.einsum(a, [0, 1], b, [1, 2])), a @ b)
    check_grads(lambda x, y: unp.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b, order=2)
    c = _operands([(5, 2, 3)])[0]
    check_grads(lambda x: unp.einsum(x, [Ellipsis, 0, 0], [Ellipsis, 0]), c[..., :2, :2])
    check_grads(lambda x, y: unp.einsum(x, [Ellipsis, 1], y, [1, 2], [Ellipsis, 2]), c, b)


def test_einsum_diagonal_gradients_are_exact():
    a = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(
        unigrad.to_numpy(unigrad.grad(lambda x: unp.einsum("ii", x))(a)), np.eye(3)
    )
    w = np.array([1.0, 2.0, 3.0])
    g = unigrad.to_numpy(unigrad.grad(lambda x: unp.sum(unp.einsum("ii->i", x) * w))(a))
    np.testing.assert_array_equal(g, np.diag(w))
    j = unigrad.to_numpy(unigrad.jacobian(lambda x: unp.einsum("ii->i", x), mode="fwd")(a))
    np.testing.assert_array_equal(j, np.einsum("ik,jk->ijk", np.eye(3), np.eye(3)).reshape(3, 3, 3))


@pytest.mark.parametrize(
    "args,match",
    [
        (("ij->", np.ones(3)), "does not fit an operand of 1 axes"),
        (("...i->i", np.ones((2, 3))), r"needs '\.\.\.'"),
        (("ij,jk->ik", np.ones((2, 3))), "2 operand subscripts for 1 operands"),
        (("i1->i", np.ones((2, 2))), "letters"),
        ((np.ones(2), [0, 99]), "integers from 0 to 51"),
        (("ij,jk->ik", np.ones((2, 3)), np.ones((4, 2))), "einsum"),
    ],
)
def test_einsum_bad_subscripts_raise_value_errors(args, match):
    with pytest.raises(ValueError, match=match):
        unigrad.grad(lambda x: unp.sum(unp.einsum(*args[:1], *args[1:]) * x))(1.0)

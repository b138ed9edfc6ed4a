"""A transform called again sees the current values its function reads from outside its
arguments, on every backend: compilers (jax.jit, tf.function) bake those values in, and unigrad
compiles again when they change (a tester found stale gradients on jax and TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp

X = np.array([1.0, 2.0, 3.0])
STATE = {"scale": 1.0}
MODE = "train"


def loss_global(w):
    return unp.sum((X * w) ** 2)


def loss_dict(w):
    return unp.sum(w * w) * STATE["scale"]


def loss_flag(w):
    return unp.sum(w * w) if MODE == "train" else unp.sum(w)


def _helper(w):
    return X * w


def loss_through_a_helper(w):
    return unp.sum(_helper(w))


class Model:
    def __init__(self) -> None:
        self.c = 1.0
        self.W = np.ones(3)

    def loss(self, w):
        return unp.sum(self.W * w) * self.c


@pytest.fixture(autouse=True)
def _reset():
    global X, MODE
    X, MODE = np.array([1.0, 2.0, 3.0]), "train"
    STATE["scale"] = 1.0
    yield


def first(g, w):
    return float(unigrad.to_numpy(g(w))[0])


W = np.ones(3)


def test_a_rebound_global_array(backend):
    global X
    g = unigrad.grad(loss_global, backend=backend)
    seen = []
    for _ in range(4):
        seen.append(first(g, W))
        X = X * 2
    assert seen == [2.0, 8.0, 32.0, 128.0]


def test_a_global_array_changed_in_place(backend):
    g = unigrad.grad(loss_global, backend=backend)
    seen = []
    for _ in range(3):
        seen.append(first(g, W))
        X[:] = X * 2
    assert seen == [2.0, 8.0, 32.0]


def test_a_dict_entry_a_flag_and_a_helper(backend):
    global MODE
    gd = unigrad.grad(loss_dict, backend=backend)
    gf = unigrad.grad(loss_flag, backend=backend)
    gh = unigrad.grad(loss_through_a_helper, backend=backend)
    d, f, h = [], [], []
    for k in range(3):
        d.append(first(gd, W))
        f.append(first(gf, W))
        h.append(first(gh, W))
        STATE["scale"] *= 2
        MODE = "eval" if k == 0 else "train"
        _rebind_x()
    assert d == [2.0, 4.0, 8.0]
    assert f == [2.0, 1.0, 2.0]
    assert h == [1.0, 2.0, 4.0]


def _rebind_x():
    global X
    X = X * 2


def test_attributes_of_self_and_a_closure(backend):
    m = Model()
    gm = unigrad.grad(m.loss, backend=backend)
    scale = [1.0]

    def closure(w):
        return unp.sum(w) * scale[0]

    gc = unigrad.grad(closure, backend=backend)
    seen_m, seen_c = [], []
    for _ in range(3):
        seen_m.append(first(gm, W))
        seen_c.append(first(gc, W))
        m.c *= 2
        scale[0] *= 3
    assert seen_m == [1.0, 2.0, 4.0]
    assert seen_c == [1.0, 3.0, 9.0]

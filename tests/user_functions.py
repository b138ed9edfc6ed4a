"""Functions written the way users write them (issue 14), at module level so that the MXNet
worker can import them. Each takes ``np_``: ``unigrad.numpy`` when differentiated, plain NumPy for
the finite-difference reference.
"""

from __future__ import annotations

import numpy as np

import unigrad.numpy as unp
from tests import user_config

rng = np.random.default_rng(14)
X = rng.normal(size=(8, 3))
LABELS = np.array([0, 1, 2, 2, 1, 0, 1, 2])
Y = np.eye(3)[LABELS]
Y_BIN = (LABELS > 0).astype(float)
MASK = np.array([True, False, True, True])
DATA32 = rng.normal(size=(5, 3)).astype(np.float32)


def softmax_cross_entropy(W, np_=unp):
    """Closed-over NumPy data combined with the parameters through operators and methods."""
    z = X @ W
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np_.log(np_.exp(z).sum(axis=1, keepdims=True))
    return -(Y * logp).sum() / len(X)


def logistic_regression(params, np_=unp):
    """Parameters in a dict; data on the left and on the right of operators."""
    z = X @ params["w"] + params["b"]
    p = 1.0 / (1.0 + np_.exp(-z))
    return (
        -np_.mean(Y_BIN * np_.log(p) + (1 - Y_BIN) * np_.log(1.0 - p))
        + 0.1 * (params["w"] ** 2).sum()
    )


def indexing(v, np_=unp):
    """Negative steps, integer lists and arrays, masks, None and ..., and mixed indices."""
    m = v.reshape(2, 2)
    return (
        (v[::-1][1:3] * np.array([2.0, -1.0])).sum()
        + (v[[0, 2]] ** 2).sum()
        + (v[np.array([3, 1])] * v[-1]).sum()
        + v[MASK].sum()
        + v[None, ...][0, 1] * m[..., 0][1]
        + m[1:, ::-1][0, 0]
        + (m.T * np.array([[1.0, 2.0], [3.0, 4.0]])).sum()
        + v[5:1:-2].sum()
    )


def mixed_advanced_index(x, np_=unp):
    """x[3, 2:, [1, 3]] on a (5, 6, 4) array has NumPy's shape (2, 4)."""
    part = x[3, 2:, [1, 3]]
    return (part * np.arange(8.0).reshape(2, 4)).sum()


def built_from_scalars(v, np_=unp):
    """Arrays built from traced scalars, and reductions of lists."""
    a = np_.asarray([[v[0], v[1]], [v[1] ** 2, v[0] * v[1]]])
    b = np_.array([v[0] * 3.0, v[1]])
    return (
        np_.sum(a * np.array([[1.0, 2.0], [3.0, 4.0]]))
        + np_.mean([v[0], v[1] + 2.0])
        + np_.sum(np_.stack([v[0], v[1] ** 3]))
        + (b @ b)
    )


def comparisons(v, np_=unp):
    """Comparisons are constants; their sums have derivative 0."""
    count = np_.sum(v > 0.1) + np_.sum(v < v[::-1])
    return (v * v).sum() * 0.5 + count * 0.0 + np_.where(v > 0.0, v, 0.5 * v).sum()


def mixed_dtypes(w, np_=unp):
    """float64 data with a float32 parameter: float64 values, a float32 gradient."""
    return ((np.ones((4, 3)) @ w) * 0.5).sum() + (DATA32 @ w).sum()


def power_operator_at_zero(x, np_=unp):
    """The pins hold for operators too: x ** 0.0 has derivative 0, also at 0."""
    return (x**0.0).sum() + (x**2).sum()


W33 = rng.normal(size=(3, 3))


def numpy_functions(x, np_=unp):
    """NumPy's own functions on the arrays the function receives carry derivatives."""
    m = x.reshape(3, 3)
    return (
        np.sum(np.dot(m, W33) * m)
        + np.mean(np.where(m > 0, m, 0.5 * m))
        + np.stack([m, 2.0 * m]).sum()
        + np.concatenate([m, m * m], axis=1).sum()
        + np.trace(m @ m)
        + np.clip(m, -0.5, 0.5).sum()
        + np.linalg.norm(m)
        + np.add.reduce(m**2).sum()
        + np.multiply.accumulate(m, axis=1).sum()
        + np.max(m)
        + np.reshape(m, (9,))[2] * np.transpose(m)[0, 1]
        + (np.round(m, 1) * m).sum()
        + (np.copy(m) * m).sum()
        + np.shape(m)[0] * np.size(m) * np.ndim(m) * m[1, 1]
    )


def array_methods(x, np_=unp):
    """The methods users call on arrays, and %, // and divmod."""
    m = x.reshape(3, 3)
    q, r = divmod(m, 0.7)
    return (
        (m.clip(-1, 1) * m.copy()).sum()
        + (m.diagonal() ** 2).sum()
        + (m.round(1) * m).sum()
        + (m.swapaxes(0, 1) * W33).sum()
        + m.trace() * 2.0
        + (m * m.all() + m * (m > -10).all(axis=1, keepdims=True)).sum()
        + (m * m.any(axis=0)).sum()
        + m.ravel()[m.argmax()] * 3.0
        + m[m.argmin(axis=0), 0].sum()
        + (m.cumsum(axis=0) ** 2).sum()
        + (m.repeat(2) ** 2).sum()
        + (m.conj() * m.real + m.imag).sum()
        + ((m % 0.7) * m).sum()
        + ((m // 0.7) * m).sum()
        + (q * m + r * r).sum()
        + (5.0 % (m * m + 1.0)).sum()
    )


def constant_ops(x, np_=unp):
    """unigrad.numpy's argmax, argmin, any and all (constants) beside the values."""
    m = x.reshape(3, 3)
    return (
        m.ravel()[np_.argmax(m)]
        + (m * np_.argmin(m, axis=1, keepdims=True)).sum()
        + (m * np_.any(m > 1.0, axis=0)).sum()
        + (m * np_.all(m > -1.0, axis=1, keepdims=True)).sum()
        + (np_.real(m) * np_.conj(m) + np_.imag(m)).sum()
    )


def keepdims_without_axis(x, np_=unp):
    """Reductions that keep every axis without naming one (normalizing by a whole-array sum)."""
    m = x.reshape(2, 3)
    centred = m - np_.mean(m, keepdims=True)
    return (
        (m / np_.sum(m * m, keepdims=True)).sum()
        + (centred * m.mean(keepdims=True)).sum()
        + (m * np_.max(m, keepdims=True) + m * m.sum(keepdims=True)).sum()
        + (m * np_.var(m, keepdims=True) + np_.std(m, keepdims=True) * m).sum()
        + (m * np_.prod(m, keepdims=True)).sum()
    )


FUNCTIONS = {
    "softmax_cross_entropy": (softmax_cross_entropy, lambda r: r.normal(size=(3, 3))),
    "logistic_regression": (
        logistic_regression,
        lambda r: {"w": r.normal(size=3), "b": np.float64(r.normal())},
    ),
    "indexing": (indexing, lambda r: r.normal(size=4)),
    "mixed_advanced_index": (mixed_advanced_index, lambda r: r.normal(size=(5, 6, 4))),
    "built_from_scalars": (built_from_scalars, lambda r: r.normal(size=2)),
    "comparisons": (comparisons, lambda r: r.normal(size=4)),
    "mixed_dtypes": (mixed_dtypes, lambda r: r.normal(size=3)),
    "power_operator_at_zero": (power_operator_at_zero, lambda r: np.array([0.0, 1.5, -2.0])),
    "numpy_functions": (numpy_functions, lambda r: r.normal(size=9)),
    "array_methods": (array_methods, lambda r: r.normal(size=9)),
    "constant_ops": (constant_ops, lambda r: r.normal(size=9)),
    "keepdims_without_axis": (keepdims_without_axis, lambda r: r.normal(size=6)),
}


# ------------------------------------------------- functions the worker tests send to MXNet


def complex_output(x, np_=unp):
    """A complex value: MXNet 1.9 has none."""
    return x * (1 + 2j)


def with_a_constant(x, c=None, np_=unp):
    """A differentiated x beside a non-differentiated argument c."""
    return np_.sum(x * x)


def raises_value_error(x, np_=unp):
    raise ValueError("raised by the user's function")


def raises_key_error(x, np_=unp):
    return {"a": x}["b"]


def reshaped_determinant(x, np_=unp):
    """MXNet has no second order for reshape: its hessian is a declared gap."""
    return np_.sum(np_.linalg.det(x.reshape(2, 2)))


def numpy_median(x, np_=unp):
    """np.median has no unigrad op: unsupported on every backend."""
    return np.median(x)


#: module data a program sets or changes after import (a new batch, a setting): see
#: test_module_data_changed_at_run_time_reaches_every_backend
BATCH = np.array([1.0, 2.0, 3.0])
SETTINGS = {"l2": 0.0}


def _penalty(w):
    return SETTINGS["l2"] * (w**2).sum()


def loss_of_module_data(w):
    return (w * BATCH).sum() + _penalty(w)


#: a setting keyed by numbers, not strings
BY_INDEX = {0: 1.0, (1, 2): 0.0}


def loss_of_other_modules_data(w):
    return unp.sum(user_config.shift(w) ** 2) * BY_INDEX[0] + unp.sum(w) * BY_INDEX[(1, 2)]


def bad_reshape(x):
    return unp.sum(unp.reshape(x, (4, 4)))

"""Functions written the way users write them (issue 14), at module level so that the MXNet
worker can import them. Each takes ``np_``: ``unigrad.numpy`` when differentiated, plain NumPy for
the finite-difference reference.
"""

from __future__ import annotations

import numpy as np

import unigrad.numpy as unp

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
}

"""The benchmark workloads, each written once per idiom, and a side-by-side timer."""

from __future__ import annotations

import gc
import itertools
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

BATCH, SIZES = 256, (784, 512, 512, 10)


def best_of(fns: dict[str, Callable[[], Any]], repeat: int = 7, number: int | None = None):
    """Time each callable, interleaved round by round; return {name: best seconds per call}."""
    for fn in fns.values():  # warm up (compilation, caches)
        fn()
        fn()
    if number is None:
        t0 = time.perf_counter()
        next(iter(fns.values()))()
        one = max(time.perf_counter() - t0, 1e-7)
        number = max(1, int(0.02 / one))
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.disable()
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            dt = (time.perf_counter() - t0) / number
            gc.enable()
            best[name] = min(best[name], dt)
    return best


def ratio(a: Callable[[], Any], b: Callable[[], Any], rounds: int = 21) -> float:
    """Median over rounds of time(a) / time(b), the two timed back to back in alternating order.

    Both sides see the same machine state within a round, so drift from other load on a
    shared machine cancels out of each ratio; the median drops rounds hit by a spike.
    """
    for fn in (a, b):
        fn()
        fn()
    t0 = time.perf_counter()
    b()
    number = max(1, int(0.01 / max(time.perf_counter() - t0, 1e-7)))

    def timed(fn: Callable[[], Any]) -> float:
        gc.disable()
        t = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t
        gc.enable()
        return dt

    ratios = []
    for k in range(rounds):
        if k % 2:
            tb, ta = timed(b), timed(a)
        else:
            ta, tb = timed(a), timed(b)
        ratios.append(ta / tb)
    return float(np.median(ratios))


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes traced by tracemalloc while ``fn`` runs (its inputs excluded)."""
    fn()
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    out = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del out
    return peak


def seed_f(x: Any, y: Any) -> Any:
    """Seed 000: x**2 + x*y + y**2."""
    return x**2 + x * y + y**2


def mlp_data(
    dtype: str = "float32", seed: int = 0
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in itertools.pairwise(SIZES):
        params.append((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype))
        params.append(np.zeros(n_out, dtype=dtype))
    X = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
    labels = rng.integers(0, SIZES[-1], BATCH)
    Y = np.eye(SIZES[-1], dtype=dtype)[labels]
    return params, X, Y


def mlp_loss(np_like: Any) -> Callable[..., Any]:
    """The MLP loss written against a NumPy-like namespace (unigrad.numpy or autograd.numpy)."""

    def loss(params: list, X: Any, Y: Any) -> Any:
        W1, b1, W2, b2, W3, b3 = params
        h1 = np_like.tanh(X @ W1 + b1)
        h2 = np_like.tanh(h1 @ W2 + b2)
        z = h2 @ W3 + b3
        lse = np_like.logsumexp(z, axis=1, keepdims=True)
        return -np_like.sum(Y * (z - lse)) / X.shape[0]

    return loss


def mlp_loss_unigrad() -> Callable[..., Any]:
    import unigrad.numpy as unp

    return mlp_loss(unp)


def mlp_hand(params: list, X: np.ndarray, Y: np.ndarray) -> tuple[Any, list]:
    """Hand-written NumPy backprop of the same loss."""
    W1, b1, W2, b2, W3, b3 = params
    n = X.shape[0]
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    loss = -np.sum(Y * (z - m - np.log(s))) / n
    dz = (e / s - Y) / n
    dW3, db3 = h2.T @ dz, dz.sum(axis=0)
    da2 = (dz @ W3.T) * (1 - h2 * h2)
    dW2, db2 = h1.T @ da2, da2.sum(axis=0)
    da1 = (da2 @ W2.T) * (1 - h1 * h1)
    dW1, db1 = X.T @ da1, da1.sum(axis=0)
    return loss, [dW1, db1, dW2, db2, dW3, db3]


def hessian_f(np_like: Any) -> Callable[[Any], Any]:
    """sum(sin(x) * x**2), the Hessian workload."""
    return lambda x: np_like.sum(np_like.sin(x) * x**2)

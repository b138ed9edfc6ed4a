"""unigrad.nn's kernels: each framework's own op against unigrad's generic version.

An adapter's ``nn`` departures replace a generic kernel (backends/conventions/nn.py) only where
the framework's op is faster; this measures the gradient of ``sum(kernel(x, w)**2)`` both ways
through the facade (compiled where the backend compiles), side by side in alternating order, and
prints generic time / native time (above 1: the native kernel is faster). Run it with
``.venv/bin/python benchmarks/bench_nn.py`` (and with ``.venv-mxnet/bin/python`` for MXNet).
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from unigrad.backends.conventions import nn as generic

import unigrad
import unigrad.numpy as unp
from unigrad.api.array import wrap

CONV = dict(stride=(1, 1), pads=((1, 1), (1, 1)), dilation=(1, 1))


def _conv_loss(native: bool) -> Callable[..., Any]:
    def loss(x: Any, w: Any) -> Any:
        b = x._b if hasattr(x, "_b") else unigrad.get_backend("numpy").impl
        xs, ws = getattr(x, "native", x), getattr(w, "native", w)
        table = b.ops.nn
        if native:
            y = table.conv(xs, ws, CONV["stride"], CONV["pads"], CONV["dilation"])
        else:
            y = generic.conv(table, xs, ws, CONV["stride"], CONV["pads"], CONV["dilation"])
        y = wrap(y, b) if b.wraps_arrays else y
        return unp.sum(y * y)

    return loss


def _take_loss(native: bool, ids: np.ndarray) -> Callable[..., Any]:
    positions = (ids[:, None] * 64 + np.arange(64)).reshape(-1)

    def loss(table: Any) -> Any:
        b = table._b
        ops = b.ops.nn
        t = table.native
        rows = ops.gather(t, positions) if native else generic.gather(ops, t, positions)
        return unp.sum(wrap(rows, b) ** 2)

    return loss


def ratio(slow: Callable[[], Any], fast: Callable[[], Any], rounds: int = 7, n: int = 5) -> float:
    """Median over rounds of (time of slow) / (time of fast), each round both back to back."""
    slow(), fast()
    out = []
    for k in range(rounds):
        times = {}
        for name, fn in (("s", slow), ("f", fast)) if k % 2 else (("f", fast), ("s", slow)):
            t = time.perf_counter()
            for _ in range(n):
                fn()
            times[name] = time.perf_counter() - t
        out.append(times["s"] / times["f"])
    return statistics.median(out)


def main() -> dict[str, float]:
    """generic / native time per backend and kernel."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 32, 32)).astype("float32")
    w = rng.standard_normal((32, 16, 3, 3)).astype("float32")
    table = rng.standard_normal((200_000, 64)).astype("float32")  # an embedding table
    ids = rng.integers(0, 200_000, 256)
    results = {}
    for backend in ("torch", "jax", "tensorflow", "mxnet"):
        spec = unigrad.registry.specs()[backend]
        if importlib.util.find_spec(spec.module) is None:
            continue
        pairs = {
            "conv2d": [unigrad.grad(_conv_loss(v), (0, 1), backend=backend) for v in (0, 1)],
            "take": [unigrad.grad(_take_loss(v, ids), backend=backend) for v in (0, 1)],
        }
        args = {"conv2d": (x, w), "take": (table,)}
        for kernel, (gen, nat) in pairs.items():
            a = args[kernel]
            # to_numpy waits for the result (JAX dispatches asynchronously)
            results[f"{backend} {kernel}"] = ratio(
                lambda g=gen, a=a: unigrad.to_numpy(g(*a)),
                lambda g=nat, a=a: unigrad.to_numpy(g(*a)),
            )
    return results


if __name__ == "__main__":
    for name, r in main().items():
        print(f"{name:24s} generic / native: {r:6.2f}")

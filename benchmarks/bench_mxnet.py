"""MXNet speed facts for the adapter (run with .venv-mxnet/bin/python): dot vs FullyConnected,
and what MXNet's OpenMP pool does to NumPy in the same process. Ratios, side by side."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as onp


def best(fn, n=20, repeat=7):
    fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t) / n)
    return min(out)


def matmul_paths() -> None:
    from mxnet import autograd, npx
    from mxnet import np as mnp

    npx.set_np()
    a = mnp.array(onp.random.default_rng(0).standard_normal((256, 784)), dtype="float32")
    b = mnp.array(onp.random.default_rng(1).standard_normal((784, 512)), dtype="float32")
    bt = b.T.copy()

    def dot():
        mnp.dot(a, b).wait_to_read()

    def fc():
        npx.fully_connected(a, bt, no_bias=True, num_hidden=512, flatten=False).wait_to_read()

    def fc_with_transpose():
        npx.fully_connected(a, b.T, no_bias=True, num_hidden=512, flatten=False).wait_to_read()

    def grad(path):
        x = a.copy()
        x.attach_grad()
        with autograd.record():
            y = path(x).sum()
        y.backward()
        x.grad.wait_to_read()

    t_dot, t_fc, t_fct = best(dot), best(fc), best(fc_with_transpose)
    g_dot = best(lambda: grad(lambda x: mnp.dot(x, b)), n=5)
    g_fc = best(
        lambda: grad(
            lambda x: npx.fully_connected(x, b.T, no_bias=True, num_hidden=512, flatten=False)
        ),
        n=5,
    )
    print(f"forward  dot / FullyConnected:               {t_dot / t_fc:6.2f}")
    print(f"forward  dot / FullyConnected(transpose b):  {t_dot / t_fct:6.2f}")
    print(f"gradient dot / FullyConnected(transpose b):  {g_dot / g_fc:6.2f}")


def numpy_next_to_mxnet() -> None:
    def timed(imports: str, env: dict) -> float:
        code = (
            f"import time, numpy as np\n{imports}\n"
            "a = np.random.rand(256, 256)\n"
            "for _ in range(5): a @ a; np.tanh(a)\n"
            "t = time.perf_counter()\n"
            "for _ in range(200): a @ a; np.tanh(a)\n"
            "print((time.perf_counter() - t) / 200)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1])

    alone = timed("", {})
    beside = timed("import mxnet; from mxnet import np as mnp; mnp.ones(3).wait_to_read()", {})
    worker_env = {"OMP_NUM_THREADS": "1", "MXNET_ENGINE_TYPE": "NaiveEngine"}
    beside_set = timed(
        "import mxnet; from mxnet import np as mnp; mnp.ones(3).wait_to_read()", worker_env
    )
    print(f"NumPy work beside MXNet / NumPy alone (default threads): {beside / alone:6.2f}")
    print(
        f"NumPy work beside MXNet with the worker's thread settings / alone: "
        f"{beside_set / alone:6.2f}"
    )


if __name__ == "__main__":
    matmul_paths()
    numpy_next_to_mxnet()

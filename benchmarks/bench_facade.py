"""The facade's cost over each framework's best native idiom (issue 4's targets).

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_facade.py``. The same inputs go to
both sides, measured side by side in this one process. JAX runs with 64-bit types on for
both, so that both compute in float64 as unigrad promises for Python floats.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from typing import Any

import numpy as np
import workloads as w

import unigrad

# The seed call as users make it: NumPy values in, NumPy values out, on both sides.
SEED_INPUTS = (np.asarray(3.0), np.asarray(4.0))


def jax_rows() -> list[tuple]:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    x, y = SEED_INPUTS
    jitted = jax.jit(jax.grad(w.seed_f, argnums=(0, 1)))
    ours = unigrad.grad(w.seed_f, argnums=(0, 1), backend="jax")

    def native() -> list:
        return [np.asarray(g) for g in jitted(x, y)]

    def facade() -> Any:
        return unigrad.to_numpy(ours(x, y))

    assert np.allclose(facade(), native())
    r = w.ratio(facade, native)
    rows = [("jax seed call, NumPy in and out: unigrad / jax.jit(jax.grad)", r, "<= 1.3")]

    params, X, Y = w.mlp_data("float32")
    params = [jnp.asarray(p) for p in params]
    X, Y = jnp.asarray(X), jnp.asarray(Y)

    class _Jnp:  # jax.numpy with jax.nn.logsumexp, which unigrad.numpy maps to
        def __getattr__(self, name):
            return jax.nn.logsumexp if name == "logsumexp" else getattr(jnp, name)

    native_mlp = jax.jit(jax.grad(w.mlp_loss(_Jnp())))
    ours_mlp = unigrad.grad(w.mlp_loss_unigrad(), backend="jax")
    for a, b in zip(ours_mlp(params, X, Y), native_mlp(params, X, Y)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    r = w.ratio(lambda: ours_mlp(params, X, Y), lambda: native_mlp(params, X, Y))
    rows.append(("jax MLP grad: unigrad / jax.jit(jax.grad)", r, "<= 1.05"))
    return rows


def torch_rows() -> list[tuple]:
    import torch

    x, y = SEED_INPUTS

    def native() -> list:
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.tensor(y, requires_grad=True)
        return [g.numpy() for g in torch.autograd.grad(w.seed_f(xt, yt), (xt, yt))]

    ours = unigrad.grad(w.seed_f, argnums=(0, 1), backend="torch")

    def facade() -> Any:
        return unigrad.to_numpy(ours(x, y))

    assert np.allclose(facade(), native())
    r = w.ratio(facade, native)
    rows = [("torch seed call, NumPy in and out: unigrad / torch.autograd.grad", r, "<= 1.3")]

    params, X, Y = w.mlp_data("float32")
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    X, Y = torch.tensor(X), torch.tensor(Y)
    loss = w.mlp_loss(_TorchNp)

    def native_mlp() -> tuple:
        return torch.autograd.grad(loss(tp, X, Y), tp)

    ours_mlp = unigrad.grad(w.mlp_loss_unigrad(), backend="torch")
    plain = [p.detach() for p in tp]
    r = w.ratio(lambda: ours_mlp(plain, X, Y), native_mlp)
    rows.append(("torch MLP grad: unigrad / torch.autograd.grad", r, "<= 1.05"))
    return rows


class _TorchNp:
    """The few NumPy names the MLP loss uses, on torch."""

    @staticmethod
    def tanh(x):
        import torch

        return torch.tanh(x)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        import torch

        return torch.sum(x) if axis is None else torch.sum(x, dim=axis, keepdim=keepdims)

    @staticmethod
    def logsumexp(x, axis, keepdims):
        import torch

        return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def tf_rows() -> list[tuple]:
    import tensorflow as tf

    x, y = SEED_INPUTS

    @tf.function
    def compiled(x, y):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            z = w.seed_f(x, y)
        return tape.gradient(z, [x, y])

    def native() -> list:
        return [g.numpy() for g in compiled(x, y)]

    ours = unigrad.grad(w.seed_f, argnums=(0, 1), backend="tensorflow")

    def facade() -> Any:
        return unigrad.to_numpy(ours(x, y))

    assert np.allclose(facade(), native())
    r = w.ratio(facade, native)
    rows = [("tensorflow seed call, NumPy in and out: unigrad / tape in tf.function", r, "<= 1.3")]

    params, X, Y = w.mlp_data("float32")
    tparams = [tf.constant(p) for p in params]
    X, Y = tf.constant(X), tf.constant(Y)

    class _TfNp:
        tanh = staticmethod(tf.tanh)

        @staticmethod
        def logsumexp(x, axis, keepdims):
            return tf.reduce_logsumexp(x, axis=axis, keepdims=keepdims)

        @staticmethod
        def sum(x, axis=None, keepdims=False):
            return tf.reduce_sum(x, axis=axis, keepdims=keepdims)

    loss = w.mlp_loss(_TfNp)

    @tf.function
    def native_mlp(params, X, Y):
        with tf.GradientTape() as tape:
            tape.watch(params)
            value = loss(params, X, Y)
        return tape.gradient(value, params)

    ours_mlp = unigrad.grad(w.mlp_loss_unigrad(), backend="tensorflow")
    r = w.ratio(lambda: ours_mlp(tparams, X, Y), lambda: native_mlp(tparams, X, Y))
    rows.append(("tensorflow MLP grad: unigrad / tape in tf.function", r, "<= 1.05"))
    return rows


def main() -> list[tuple[str, float, str, bool]]:
    rows = []
    for fn in (jax_rows, torch_rows, tf_rows):
        for name, value, target in fn():
            limit = float(target.split()[-1])
            rows.append((name, value, target, value <= limit))
    return rows


if __name__ == "__main__":
    import sys

    from bench_engine import report

    sys.exit(0 if report("facade overhead over native idioms", main()) else 1)

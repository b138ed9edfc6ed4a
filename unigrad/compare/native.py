"""Derivatives of a framework's own ops, taken with that framework's own idiom.

Used by the native section of ``unigrad compare``: there, disagreement between frameworks is
the finding. The result is what the framework returns, None included (TF's answer for an
unconnected gradient), with nothing normalised.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np


def op(module: str, name: str) -> Callable[..., Any]:
    """A framework op, imported when first called (case files load in every environment)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = f"{module}.{name}"
    return call


def native_grad(backend: str, fn: Callable[..., Any], xs: list[np.ndarray]) -> list[Any]:
    """d sum(fn(*xs)) / d xs with the framework's own autodiff; None where it says None."""
    if backend == "torch":
        import torch

        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        out = fn(*ts)
        grads = torch.autograd.grad(out.sum(), ts, allow_unused=True)
        return [None if g is None else g.detach().numpy() for g in grads]
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        with jax.enable_x64(True):
            args = [jnp.asarray(x, dtype=jnp.float64) for x in xs]
            grads = jax.grad(lambda *a: jnp.sum(fn(*a)), argnums=tuple(range(len(xs))))(*args)
            return [np.asarray(g) for g in grads]
    if backend == "tensorflow":
        import tensorflow as tf

        ts = [tf.constant(x, dtype=tf.float64) for x in xs]
        with tf.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            out = tf.reduce_sum(fn(*ts))
        return [None if g is None else g.numpy() for g in tape.gradient(out, ts)]
    if backend == "mxnet":
        from mxnet import autograd, npx
        from mxnet import np as mnp

        npx.set_np()
        ts = [mnp.array(x, dtype=np.float64) for x in xs]
        for t in ts:
            t.attach_grad()
        with autograd.record():
            out = fn(*ts)
        out.backward()  # MXNet sums a non-scalar head itself
        return [t.grad.asnumpy() for t in ts]
    raise ValueError(f"no native idiom for backend {backend!r}")

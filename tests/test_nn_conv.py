"""unigrad.nn's convolution at configurations where a framework's own kernel failed."""

from __future__ import annotations

import numpy as np

import unigrad
import unigrad.nn as unn

from .conftest import as_np


def conv_loss(x, w):
    y = unn.conv2d(x, w, stride=(2, 1), padding=(1, 0), dilation=(1, 2))
    return (y**2).sum()


def test_strided_dilated_conv2d_gradient_matches_the_engine(backend):
    # jax 0.10.2's XLA aborted the process compiling this gradient with lax's dilated kernel
    r = np.random.default_rng(3)
    x, w = r.standard_normal((2, 3, 6, 5)), r.standard_normal((4, 3, 2, 3))
    want = unigrad.grad(conv_loss, argnums=(0, 1), backend="numpy")(x, w)
    got = unigrad.grad(conv_loss, argnums=(0, 1), backend=backend)(x, w)
    for g, e in zip(got, want):
        np.testing.assert_allclose(as_np(g), as_np(e), rtol=1e-9, atol=1e-9)

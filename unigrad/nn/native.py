"""Each framework's own pooling and layer norm, behind ``unigrad.nn``'s arguments.

``max_pool2d`` takes ``unigrad.nn.max_pool2d``'s arguments; ``layer_norm`` the per-op table's,
``(x, weight, bias, axis=..., eps=...)``. No framework op takes them as they are: JAX has no
max-pool function (its ``lax.reduce_window`` is the op), TensorFlow pools NHWC, MXNet's
``npx.pooling`` and ``npx.layer_norm`` take other arguments, torch's ``layer_norm`` a normalized
shape, and Keras's ``LayerNormalization`` is a layer. These adapters only move axes and padding
into the framework's own op, which computes the values and, differentiated with the framework's
idiom, the derivatives: the native catalogue (``cases/nn_native.py``) and ``unigrad fuzz --native``
measure them.

Each adapter imports its framework itself and uses nothing of unigrad, so that a native repro
script can carry its source (and the helpers it names) and run where unigrad is not installed.
"""

from __future__ import annotations

import numbers
from typing import Any


def _pair(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, numbers.Integral) else (int(v[0]), int(v[1]))


def _pool_pads(padding: Any, sizes: Any, kernel: Any, stride: Any) -> list[tuple[int, int]]:
    """(before, after) per spatial axis, as unigrad.nn reads ``padding`` (an int, one per axis,
    (before, after) pairs, 'valid', or 'same' with the odd pixel at the end)."""
    if isinstance(padding, str):
        if padding.lower() not in ("valid", "same"):
            raise ValueError(f"padding must be an int, pairs, 'same' or 'valid', not {padding!r}")
        if padding.lower() == "valid":
            return [(0, 0), (0, 0)]
        pads = []
        for n, k, s in zip(sizes, kernel, stride):
            total = max((-(-int(n) // s) - 1) * s + k - int(n), 0)
            pads.append((total // 2, total - total // 2))
        return pads
    if isinstance(padding, numbers.Integral):
        pads = [(int(padding), int(padding))] * 2
    else:
        pads = [_pair(p) for p in padding]
    if any(max(p) > k - 1 for p, k in zip(pads, kernel)):
        raise ValueError(f"padding {padding!r} leaves a window with no input (kernel {kernel})")
    return pads


def _pool(x: Any, kernel_size: Any, stride: Any, padding: Any) -> tuple:
    """(kernel, stride, (before, after) per spatial axis) of a pool over x (N, C, H, W)."""
    kernel = _pair(kernel_size)
    step = kernel if stride is None else _pair(stride)
    return kernel, step, _pool_pads(padding, x.shape[2:], kernel, step)


def _axes(axis: Any, ndim: int) -> list[int]:
    axes = [axis] if isinstance(axis, numbers.Integral) else list(axis)
    if any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"axis {axis!r} is out of range for {ndim} dimensions")
    return sorted(int(a) % ndim for a in axes)


def torch_max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """torch.nn.functional.max_pool2d; padding it cannot take (uneven, or over half the
    kernel) is -inf added first with torch.nn.functional.pad."""
    import torch

    kernel, step, ((top, bottom), (left, right)) = _pool(x, kernel_size, stride, padding)
    if top == bottom and left == right and 2 * top <= kernel[0] and 2 * left <= kernel[1]:
        return torch.nn.functional.max_pool2d(x, kernel, step, padding=(top, left))
    x = torch.nn.functional.pad(x, (left, right, top, bottom), value=float("-inf"))
    return torch.nn.functional.max_pool2d(x, kernel, step)


def jax_max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """jax.lax.reduce_window with lax.max from -inf (JAX's max pool; NCHW as given)."""
    import jax
    import jax.numpy as jnp

    kernel, step, pads = _pool(x, kernel_size, stride, padding)
    return jax.lax.reduce_window(
        x,
        jnp.array(-jnp.inf, x.dtype),
        jax.lax.max,
        (1, 1, *kernel),
        (1, 1, *step),
        ((0, 0), (0, 0), *pads),
    )


def tensorflow_max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """tf.nn.max_pool2d on NHWC ('VALID', after tf.pad with -inf where unigrad pads)."""
    import tensorflow as tf

    kernel, step, ((top, bottom), (left, right)) = _pool(x, kernel_size, stride, padding)
    nhwc = tf.transpose(x, (0, 2, 3, 1))
    if top or bottom or left or right:
        edges = [[0, 0], [top, bottom], [left, right], [0, 0]]
        nhwc = tf.pad(nhwc, edges, constant_values=float("-inf"))
    return tf.transpose(tf.nn.max_pool2d(nhwc, kernel, step, "VALID"), (0, 3, 1, 2))


def mxnet_max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """mxnet.npx.pooling(pool_type='max'); uneven padding is -inf concatenated first."""
    from mxnet import np as mnp
    from mxnet import npx

    kernel, step, ((top, bottom), (left, right)) = _pool(x, kernel_size, stride, padding)
    if top == bottom and left == right:
        return npx.pooling(x, kernel=kernel, stride=step, pad=(top, left), pool_type="max")
    for axis, before, after in ((2, top, bottom), (3, left, right)):
        parts = []
        for n in (before, None, after):
            if n is None:
                parts.append(x)
            elif n:
                shape = list(x.shape)
                shape[axis] = n
                parts.append(mnp.full(tuple(shape), float("-inf"), dtype=x.dtype))
        x = mnp.concatenate(parts, axis=axis)
    return npx.pooling(x, kernel=kernel, stride=step, pool_type="max")


def torch_layer_norm(
    x: Any, weight: Any = None, bias: Any = None, axis: Any = -1, eps: float = 1e-5
) -> Any:
    """torch.nn.functional.layer_norm over ``axis`` (moved last), with its own weight and bias."""
    import torch

    axes = _axes(axis, x.ndim)
    rest = [a for a in range(x.ndim) if a not in axes]
    order = rest + axes
    moved = x.permute(order)
    y = torch.nn.functional.layer_norm(
        moved, [x.shape[a] for a in axes], weight=weight, bias=bias, eps=eps
    )
    return y.permute([order.index(a) for a in range(x.ndim)])


def jax_layer_norm(
    x: Any, weight: Any = None, bias: Any = None, axis: Any = -1, eps: float = 1e-5
) -> Any:
    """jax.nn.standardize over ``axis``, times weight plus bias."""
    import jax

    axes = _axes(axis, x.ndim)
    y = jax.nn.standardize(x, axis=tuple(axes), epsilon=eps)
    spread = [n if a in axes else 1 for a, n in enumerate(x.shape)]
    if weight is not None:
        y = y * weight.reshape(spread)
    if bias is not None:
        y = y + bias.reshape(spread)
    return y


def keras_layer_norm(
    x: Any, weight: Any = None, bias: Any = None, axis: Any = -1, eps: Any = None
) -> Any:
    """Keras's LayerNormalization layer over ``axis`` (its default epsilon, 1e-3, unless eps is
    given), times weight plus bias (the layer's own gamma and beta are variables, not inputs)."""
    import tensorflow as tf

    axes = _axes(axis, len(x.shape))
    options = {} if eps is None else {"epsilon": eps}
    layer = tf.keras.layers.LayerNormalization(
        axis=axes, center=False, scale=False, dtype=x.dtype.name, **options
    )
    y = layer(x)
    spread = [n if a in axes else 1 for a, n in enumerate(x.shape)]
    if weight is not None:
        y = y * tf.reshape(weight, spread)
    if bias is not None:
        y = y + tf.reshape(bias, spread)
    return y


def mxnet_layer_norm(
    x: Any, weight: Any = None, bias: Any = None, axis: Any = -1, eps: float = 1e-5
) -> Any:
    """mxnet.npx.layer_norm over one axis: several axes are moved last and merged first; weight
    and bias are its gamma and beta."""
    from mxnet import np as mnp
    from mxnet import npx

    axes = _axes(axis, x.ndim)
    if len(axes) == 1:  # reshaping its output segfaults MXNet 1.9.1's backward under floor
        gamma = mnp.ones(x.shape[axes[0]], dtype=x.dtype) if weight is None else weight
        beta = mnp.zeros(x.shape[axes[0]], dtype=x.dtype) if bias is None else bias
        return npx.layer_norm(x, gamma, beta, axis=axes[0], eps=eps)
    rest = [a for a in range(x.ndim) if a not in axes]
    order = rest + axes
    moved = mnp.transpose(x, order)
    n = 1
    for a in axes:
        n *= x.shape[a]
    flat = moved.reshape((*moved.shape[: len(rest)], n))
    gamma = mnp.ones(n, dtype=x.dtype) if weight is None else weight.reshape(n)
    beta = mnp.zeros(n, dtype=x.dtype) if bias is None else bias.reshape(n)
    y = npx.layer_norm(flat, gamma, beta, axis=-1, eps=eps).reshape(moved.shape)
    return mnp.transpose(y, [order.index(a) for a in range(x.ndim)])

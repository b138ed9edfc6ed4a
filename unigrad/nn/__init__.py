"""``import unigrad.nn as unn``: the neural-network ops, with one meaning on every backend.

Each op runs where ``unigrad.numpy``'s ops run (the backend of its ``Array`` arguments, else the
running transform, else the framework of its native array arguments, else the active backend)
and resolves through that backend's ``nn`` op table: unigrad's generic version
(``backends/conventions/nn.py``), with the framework's own kernel where it is faster and means
the same. What each op pins (layout, defaults, ties) is in the README, "Neural-network ops".
"""

from __future__ import annotations

from typing import Any

#: name -> one-line description: every op of unigrad.nn
OPS: dict[str, str] = {
    "softmax": "exp(x) / sum(exp(x)) over axis, computed stably.",
    "log_softmax": "x - logsumexp(x) over axis, computed stably.",
    "softmax_cross_entropy": "-sum(labels * log_softmax(logits)) over axis; labels are "
    "probabilities (one-hot rows included) of the logits' shape.",
    "sigmoid_cross_entropy": "Binary cross-entropy of sigmoid(logits) against labels, "
    "elementwise, stable at large |logits|.",
    "one_hot": "indices.shape + (n,) with 1 at each index; IndexError outside [0, n).",
    "take": "NumPy's take (embedding lookups): derivative to a only.",
    "take_along_axis": "NumPy's take_along_axis: derivative to arr only.",
    "gelu": "x * Phi(x), the exact (erf) form: torch's and TF's default, not jax.nn.gelu's "
    "tanh approximation.",
    "layer_norm": "(x - mean) / sqrt(var + eps) over axis, times weight plus bias; eps = 1e-5.",
    "conv1d": "Cross-correlation, x (N, C, L) with w (O, C, K): torch's layout.",
    "conv2d": "Cross-correlation, x (N, C, H, W) with w (O, C, KH, KW): torch's layout.",
    "max_pool2d": "Maximum of each window of x (N, C, H, W); ties share the derivative evenly.",
    "avg_pool2d": "Mean of each window of x (N, C, H, W); zero padding counts by default.",
}


def _call(name: str, arrays: tuple, **kwargs: Any) -> Any:
    """Run op ``name`` on the backend its arguments (and array keywords) pick."""
    from unigrad.api.array import unwrap, wrap
    from unigrad.numpy import target

    impl, wrapping = target((*arrays, *kwargs.values()))
    fn = getattr(impl.ops.nn, name)
    if not wrapping:
        return fn(*arrays, **kwargs)
    return wrap(fn(*unwrap(arrays), **unwrap(kwargs)), impl)


def softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Any:
    """exp(x) / sum(exp(x)) over ``axis`` (an int, a tuple of ints or None: all axes).

    Computed after subtracting the (constant) maximum, so large logits do not overflow.
    """
    return _call("softmax", (x,), axis=axis)


def log_softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Any:
    """x - logsumexp(x) over ``axis``, computed stably (-inf where a logit is -inf)."""
    return _call("log_softmax", (x,), axis=axis)


def softmax_cross_entropy(logits: Any, labels: Any, axis: int = -1) -> Any:
    """The cross-entropy of softmax(logits) against ``labels``, one loss per example.

    ``labels`` are probabilities with the shape of ``logits`` along the class ``axis``: one-hot
    rows (``one_hot(classes, n)``) or soft labels. The result has the shape of ``logits``
    without ``axis``; take its mean for the usual batch loss. A masked class (logit -inf)
    adds 0 where its label is 0, +inf where it is not.
    """
    return _call("softmax_cross_entropy", (logits, labels), axis=axis)


def sigmoid_cross_entropy(logits: Any, labels: Any) -> Any:
    """-z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), elementwise, for logits x and labels z
    of one shape; exact at large |x| (no overflow, no cancellation)."""
    return _call("sigmoid_cross_entropy", (logits, labels))


def one_hot(indices: Any, n: int, dtype: Any = float) -> Any:
    """Integer ``indices`` as one-hot rows: shape ``indices.shape + (n,)``, float64 unless
    ``dtype`` is given. An index outside [0, n) raises IndexError (no all-zero row)."""
    return _call("one_hot", (indices,), n=n, dtype=dtype)


def take(a: Any, indices: Any, axis: int | None = None) -> Any:
    """NumPy's take: ``a``'s entries at integer ``indices`` along ``axis`` (the flattened ``a``
    when None). ``take(table, ids, axis=0)`` is an embedding lookup. The derivative reaches
    ``a`` only; an index outside [-n, n) raises IndexError."""
    return _call("take", (a, indices), axis=axis)


def take_along_axis(arr: Any, indices: Any, axis: int | None) -> Any:
    """NumPy's take_along_axis: ``indices`` has ``arr``'s number of dimensions and picks along
    ``axis`` (``take_along_axis(log_p, labels[:, None], 1)`` picks each row's class). The
    derivative reaches ``arr`` only; an index out of range raises IndexError."""
    return _call("take_along_axis", (arr, indices), axis=axis)


def gelu(x: Any) -> Any:
    """GELU, x * Phi(x) = x / 2 * (1 + erf(x / sqrt(2))), elementwise: the exact form, as
    ``torch.nn.functional.gelu`` and ``tf.nn.gelu`` by default. ``jax.nn.gelu`` defaults to
    the tanh approximation (derivative 1.08296 at 1, not 1.08332); pass
    ``approximate=False`` there to match."""
    return _call("gelu", (x,))


def layer_norm(
    x: Any,
    axis: int | tuple[int, ...] = -1,
    eps: float = 1e-5,
    weight: Any = None,
    bias: Any = None,
) -> Any:
    """(x - mean) / sqrt(var + eps) over ``axis`` (biased variance), then ``* weight + bias``,
    each of the shape of the normalized axes. eps = 1e-5 as torch, MXNet and
    jax.nn.standardize (Keras: 1e-3, Flax: 1e-6)."""
    return _call("layer_norm", (x,), axis=axis, eps=eps, weight=weight, bias=bias)


def conv1d(
    x: Any,
    w: Any,
    bias: Any = None,
    stride: int | tuple[int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int] = 1,
) -> Any:
    """Cross-correlation of x (N, C, L) with w (O, C, K), plus ``bias`` (O,): (N, O, L_out).

    ``padding``: an int (both sides), ``((before, after),)``, 'valid' or 'same' (output length
    ceil(L / stride), the odd pixel padded at the end).
    """
    return _call("conv1d", (x, w), bias=bias, stride=stride, padding=padding, dilation=dilation)


def conv2d(
    x: Any,
    w: Any,
    bias: Any = None,
    stride: int | tuple[int, int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, int] = 1,
) -> Any:
    """Cross-correlation of x (N, C, H, W) with w (O, C, KH, KW), plus ``bias`` (O,).

    torch's layout (NCHW / OIHW). ``padding``: an int, a pair (one per axis, both sides), two
    (before, after) pairs, 'valid' or 'same' (output size ceil(size / stride), the odd pixel
    padded at the end, as TF and JAX do).
    """
    return _call("conv2d", (x, w), bias=bias, stride=stride, padding=padding, dilation=dilation)


def max_pool2d(
    x: Any, kernel_size: int | tuple[int, int], stride: Any = None, padding: Any = 0
) -> Any:
    """The maximum of each window of x (N, C, H, W); ``stride`` defaults to ``kernel_size``.

    Tied maxima in a window share its derivative evenly (torch, JAX and TF give it all to one).
    Padding is -inf, at most ``kernel_size - 1`` per side, or 'same' / 'valid'.
    """
    return _call("max_pool2d", (x,), kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(
    x: Any,
    kernel_size: int | tuple[int, int],
    stride: Any = None,
    padding: Any = 0,
    count_include_pad: bool = True,
) -> Any:
    """The mean of each window of x (N, C, H, W); ``stride`` defaults to ``kernel_size``.

    Padding is 0 and counts in the divisor (torch's default); ``count_include_pad=False``
    divides by the input pixels in the window only (TF's and Keras's 'same').
    """
    return _call(
        "avg_pool2d",
        (x,),
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        count_include_pad=count_include_pad,
    )


__all__ = [*OPS, "OPS"]

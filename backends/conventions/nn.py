"""The neural-network ops behind ``unigrad.nn``, written once over any backend's op table.

Each function takes the backend's ``nn`` table (``o``) first and computes with the backend's
main table (``o.backend.ops``, the ops behind ``unigrad.numpy``, pins included): every backend,
the reference engine too, runs the same composition of its own differentiable ops, so the
derivatives are right at every order wherever the backend has them. ``NN_PINS`` hold every public
op (its meaning: layout, defaults, ties, what a label is); ``NN_FALLBACKS`` hold the kernels the
pins are built on (``conv``, ``gather``): an adapter replaces one with its framework's own op
(an ``nn`` class in its departures) where that is measurably faster and means the same.

The pins (README, "Neural-network ops: unigrad.nn"): softmax and log_softmax subtract a constant
row maximum; ``softmax_cross_entropy`` takes probabilities (one-hot rows included) with the shape
of the logits, and a class whose logit is -inf contributes 0 where its label is 0 (0 log 0 = 0);
``sigmoid_cross_entropy`` is computed without cancellation at large |logits|; ``one_hot`` and the
gathers raise IndexError for an index out of range (never a zero row, a clamp or a wrap past -n);
``layer_norm``'s eps defaults to 1e-5 (torch's, MXNet's and jax.nn.standardize's); convolutions
and pools use torch's layout, (N, C, spatial...) inputs and (O, C, kernel...) weights, and 'same'
padding puts the odd pixel at the end (TF's and JAX's rule, at every stride); max-pool splits
the derivative evenly among tied maxima, as the max reduction does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from unigrad.backends.conventions.core import _arr
from unigrad.backends.conventions.core import _op as core_op

from unigrad.errors import ArrayIndexError, OpArgumentError

#: unigrad.nn's ops, with unigrad's meaning, on every backend
NN_PINS: dict[str, Callable[..., Any]] = {}
#: the kernels the pins are built on; an adapter's ``nn`` departures replace them where faster
NN_FALLBACKS: dict[str, Callable[..., Any]] = {}


def _op(name: str, table: dict[str, Callable[..., Any]] = NN_PINS) -> Callable:
    return core_op(name, table)


# ------------------------------------------------------------------------------- helpers


def _floats(o: Any, *xs: Any) -> list[Any]:
    """``xs`` as the backend's arrays of one dtype (NumPy's promotion); integers become float64."""
    from unigrad.backends.optable import operands

    b = o.backend
    out = operands(b, list(xs))
    if b.dtype_name(out[0]) not in ("float16", "bfloat16", "float32", "float64"):
        out = [b.asarray(v, "float64") for v in out]
    return out


def _shape(o: Any, x: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in o.backend.shape(x))


def _size(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


def _axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) as sorted non-negative axes of ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if _is_int(axis) else axis
    if not isinstance(items, tuple | list) or not all(_is_int(a) for a in items):
        raise OpArgumentError(f"{op}: axis must be an int or a tuple of ints, not {axis!r}")
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise OpArgumentError(
                f"{op}: axis {a} is out of range for an array of {ndim} dimension(s)"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise OpArgumentError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def _shift(o: Any, x: Any, axes: tuple[int, ...]) -> Any:
    """The maximum over ``axes`` as a constant (0 where it is not finite): subtracting it keeps
    exp from overflowing and changes neither softmax nor its derivatives."""
    b = o.backend
    top = b.ops
    m = top.own("max")(b.stop_gradient(x), axis=axes, keepdims=True)
    return top.own("where")(top.isfinite(m), m, top.zeros_like(m))


def _indices(o: Any, indices: Any, op: str) -> np.ndarray:
    """Integer indices as a NumPy array (indices are constants: no derivative reaches them)."""
    b = o.backend
    if isinstance(indices, np.ndarray | np.generic | list | tuple | int):
        idx = np.asarray(indices)
    elif b.is_array(indices):
        idx = np.asarray(b.to_numpy(b.stop_gradient(indices)))
    else:
        idx = np.asarray(indices)
    if idx.size == 0 and idx.dtype.kind == "f":
        return idx.astype(np.int64)
    if idx.dtype.kind not in "iu":
        raise OpArgumentError(
            f"{op}: indices must be integers, not {idx.dtype}; cast them with .astype(int)"
        )
    return idx.astype(np.int64)


def _in_range(idx: np.ndarray, n: int, op: str, axis: int) -> np.ndarray:
    """``idx`` with negative indices counted from the end; IndexError outside [-n, n)."""
    bad = (idx < -n) | (idx >= n)
    if bad.any():
        raise ArrayIndexError(
            f"{op}: index {int(idx[bad].flat[0])} is out of bounds for axis {axis} with size {n}"
        )
    return np.where(idx < 0, idx + n, idx)


# ----------------------------------------------------------------------- softmax family


@_op("softmax")
def softmax(o: Any, x: Any, axis: Any = -1) -> Any:
    """exp(x) / sum(exp(x)) over ``axis`` (an int, a tuple of ints or None), computed stably."""
    top = o.backend.ops
    (x,) = _floats(o, x)
    axes = _axes(axis, len(_shape(o, x)), "softmax")
    e = top.exp(x - _shift(o, x, axes))
    return e / top.sum(e, axis=axes, keepdims=True)


@_op("log_softmax")
def log_softmax(o: Any, x: Any, axis: Any = -1) -> Any:
    """x - logsumexp(x) over ``axis``, computed stably."""
    top = o.backend.ops
    (x,) = _floats(o, x)
    axes = _axes(axis, len(_shape(o, x)), "log_softmax")
    s = x - _shift(o, x, axes)
    return s - top.log(top.sum(top.exp(s), axis=axes, keepdims=True))


@_op("softmax_cross_entropy")
def softmax_cross_entropy(o: Any, logits: Any, labels: Any, axis: int = -1) -> Any:
    """-sum(labels * log_softmax(logits)) over ``axis``, one loss per example (no mean).

    ``labels`` are probabilities with the shape of ``logits`` (one-hot rows included). A class
    whose logit is -inf (masked) adds 0 where its label is 0 and +inf where it is not.
    """
    b = o.backend
    top = b.ops
    logits, labels = _arr(o, logits), _arr(o, labels)
    gs, ls = _shape(o, logits), _shape(o, labels)
    axis_ = _axes(axis, len(gs), "softmax_cross_entropy") if _is_int(axis) else None
    if axis_ is None:
        raise OpArgumentError(f"softmax_cross_entropy: axis must be an int, not {axis!r}")
    if gs != ls:
        hint = ""
        if ls == gs[: axis_[0]] + gs[axis_[0] + 1 :]:
            hint = (
                f"; for class indices use unigrad.nn.one_hot(labels, {gs[axis_[0]]}) "
                "(or sparse labels with take_along_axis of log_softmax)"
            )
        raise OpArgumentError(
            "softmax_cross_entropy: labels must be probabilities (or one-hot rows) with the "
            f"shape of the logits {gs}, not {ls}{hint}"
        )
    logits, labels = _floats(o, logits, labels)
    logp = log_softmax(o, logits, axis)
    w = top.own("where")
    slogp = b.stop_gradient(logp)
    masked = top.isinf(slogp)  # log_softmax is -inf exactly where a logit is -inf
    terms = labels * w(masked, top.zeros_like(slogp), logp)
    # a masked class with a nonzero label makes the loss +inf (its slogp is -inf)
    terms = w(w(masked, b.stop_gradient(labels) != 0, masked), slogp, terms)
    return -top.sum(terms, axis=axis_[0])


@_op("sigmoid_cross_entropy")
def sigmoid_cross_entropy(o: Any, logits: Any, labels: Any) -> Any:
    """The binary cross-entropy of sigmoid(logits) against ``labels`` in [0, 1], elementwise.

    max(x, 0) - x * z + log1p(exp(-|x|)), with one branch choice for both kinks: exact for
    large |x| (no log of a rounded 1 - sigmoid) and smooth at 0 (derivative sigmoid(x) - z).
    """
    b = o.backend
    top = b.ops
    logits, labels = _arr(o, logits), _arr(o, labels)
    if _shape(o, logits) != _shape(o, labels):
        raise OpArgumentError(
            f"sigmoid_cross_entropy: labels must have the shape of the logits "
            f"{_shape(o, logits)}, not {_shape(o, labels)} (no broadcasting: an (N, 1) logit "
            "column against (N,) labels would silently give an (N, N) loss)"
        )
    x, z = _floats(o, logits, labels)
    w = top.own("where")
    sx = b.stop_gradient(x)
    pos = sx >= 0
    return w(pos, x, top.zeros_like(sx)) - x * z + top.log1p(top.exp(w(pos, -x, x)))


# ---------------------------------------------------------------------- indices, gathers


@_op("one_hot")
def one_hot(o: Any, indices: Any, n: int, dtype: Any = float) -> Any:
    """An array of shape ``indices.shape + (n,)`` with 1 at each index and 0 elsewhere."""
    if not _is_int(n) or n < 0:
        raise OpArgumentError(f"one_hot: n (the number of classes) must be an int >= 0, not {n!r}")
    idx = _indices(o, indices, "one_hot")
    bad = (idx < 0) | (idx >= n)
    if bad.any():
        raise ArrayIndexError(
            f"one_hot: index {int(idx[bad].flat[0])} is out of range for {n} classes (0 to "
            f"{int(n) - 1}); unigrad gives no all-zero row for it (jax.nn.one_hot and tf.one_hot "
            "do): drop or mask such entries first"
        )
    out = np.equal(idx[..., None], np.arange(int(n))).astype(np.dtype(dtype))
    return o.backend.asarray(out)


@_op("gather", NN_FALLBACKS)
def gather(o: Any, x: Any, positions: np.ndarray) -> Any:
    """``x.ravel()[positions]`` for a 1-D NumPy array of positions already in range."""
    top = o.backend.ops
    return top.getitem(top.reshape(x, (-1,)), positions)


@_op("take")
def take(o: Any, a: Any, indices: Any, axis: int | None = None) -> Any:
    """NumPy's take: the entries of ``a`` at ``indices`` along ``axis`` (of the flattened array
    when None), shape ``a.shape[:axis] + indices.shape + a.shape[axis + 1:]``."""
    a, shape, ax = _along(o, a, axis, "take")
    idx = _indices(o, indices, "take")
    n = shape[ax]
    idx = _in_range(idx, n, "take", ax)
    pre, post = shape[:ax], shape[ax + 1 :]
    inner = _size(post)
    positions = (
        np.arange(_size(pre))[:, None, None] * (n * inner)
        + idx.reshape(1, -1, 1) * inner
        + np.arange(inner)[None, None, :]
    )
    out = o.gather(a, positions.reshape(-1))
    return o.backend.ops.reshape(out, (*pre, *idx.shape, *post))


def _along(o: Any, a: Any, axis: Any, name: str) -> tuple[Any, tuple[int, ...], int]:
    """``a`` as an array (flattened when axis is None), its shape, and the checked axis."""
    a = _arr(o, a)
    shape = _shape(o, a)
    if axis is None:
        return o.backend.ops.reshape(a, (_size(shape),)), (_size(shape),), 0
    if not _is_int(axis):
        raise OpArgumentError(f"{name}: axis must be an int or None, not {axis!r}")
    (ax,) = _axes(axis, len(shape), name)
    return a, shape, ax


@_op("take_along_axis")
def take_along_axis(o: Any, arr: Any, indices: Any, axis: int | None) -> Any:
    """NumPy's take_along_axis: ``indices`` has ``arr``'s number of dimensions and picks along
    ``axis`` (of the flattened array when None); the other axes broadcast."""
    a, shape, ax = _along(o, arr, axis, "take_along_axis")
    idx = _indices(o, indices, "take_along_axis")
    if idx.ndim != len(shape):
        raise OpArgumentError(
            f"take_along_axis: indices must have as many dimensions as arr ({len(shape)}), not "
            f"{idx.ndim} (shape {idx.shape}); add unit axes, e.g. indices[..., None]"
        )
    idx = _in_range(idx, shape[ax], "take_along_axis", ax)
    strides = [_size(shape[i + 1 :]) for i in range(len(shape))]
    positions = idx * strides[ax]
    for i, n in enumerate(shape):
        if i != ax:
            steps = (np.arange(n) * strides[i]).reshape(
                [n if j == i else 1 for j in range(len(shape))]
            )
            try:
                positions = positions + steps
            except ValueError:
                raise OpArgumentError(
                    f"take_along_axis: indices of shape {idx.shape} do not broadcast against "
                    f"arr of shape {shape} outside axis {ax}"
                ) from None
    out = o.gather(a, positions.reshape(-1))
    return o.backend.ops.reshape(out, positions.shape)


# --------------------------------------------------------------------------- layer norm


@_op("layer_norm")
def layer_norm(
    o: Any, x: Any, axis: Any = -1, eps: float = 1e-5, weight: Any = None, bias: Any = None
) -> Any:
    """(x - mean) / sqrt(var + eps) over ``axis`` (biased variance), times ``weight`` plus
    ``bias``, both of the shape of the normalized axes."""
    b = o.backend
    top = b.ops
    (x,) = _floats(o, x)
    shape = _shape(o, x)
    axes = _axes(axis, len(shape), "layer_norm")
    if isinstance(eps, bool) or not isinstance(eps, int | float | np.number) or not eps >= 0:
        raise OpArgumentError(f"layer_norm: eps must be a number >= 0, not {eps!r}")
    d = x - top.mean(x, axis=axes, keepdims=True)
    y = d / top.sqrt(top.mean(d * d, axis=axes, keepdims=True) + float(eps))
    normalized = tuple(shape[a] for a in axes)
    spread = tuple(n if i in axes else 1 for i, n in enumerate(shape))
    for name, p in (("weight", weight), ("bias", bias)):
        if p is None:
            continue
        p = _arr(o, p)
        if _shape(o, p) != normalized:
            raise OpArgumentError(
                f"layer_norm: {name} must have the shape of the normalized axes {normalized}, "
                f"not {_shape(o, p)}"
            )
        p = top.reshape(p, spread)
        y = top.multiply(y, p) if name == "weight" else top.add(y, p)
    return y


# ------------------------------------------------------------------------------ activations


@_op("erf", NN_FALLBACKS)
def erf(o: Any, x: Any) -> Any:
    """The error function, elementwise: the framework's own (``torch.erf``, the engine's)."""
    return o.backend.ops.own("erf")(x)


@_op("gelu")
def gelu(o: Any, x: Any) -> Any:
    """x * Phi(x) = x / 2 * (1 + erf(x / sqrt(2))): the exact form (torch's and TF's default;
    jax.nn.gelu defaults to the tanh approximation)."""
    (x,) = _floats(o, x)
    return x * 0.5 * (1.0 + o.erf(x * (1.0 / np.sqrt(2.0))))


# --------------------------------------------------------------- convolutions and pools


def _ints(v: Any, nd: int, what: str, op: str) -> tuple[int, ...]:
    """An int, or ``nd`` ints, each >= 1."""
    if _is_int(v):
        vals = (int(v),) * nd
    elif isinstance(v, tuple | list) and len(v) == nd and all(_is_int(e) for e in v):
        vals = tuple(int(e) for e in v)
    else:
        raise OpArgumentError(f"{op}: {what} must be an int or {nd} ints, not {v!r}")
    if min(vals) < 1:
        raise OpArgumentError(f"{op}: {what} must be positive, not {v!r}")
    return vals


def _pads(
    padding: Any,
    sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    op: str,
) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial axis, from an int, one int or pair per axis, or a mode."""
    nd = len(sizes)
    if isinstance(padding, str) and padding.lower() in ("same", "valid"):
        if padding.lower() == "valid":
            return ((0, 0),) * nd
        pads = []
        for n, k, s, d in zip(sizes, kernel, stride, dilation):
            total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
            pads.append((total // 2, total - total // 2))  # the odd pixel at the end
        return tuple(pads)
    if _is_int(padding):
        pads = [(int(padding), int(padding))] * nd
    elif isinstance(padding, tuple | list) and len(padding) == nd:
        pads = []
        for p in padding:
            if _is_int(p):
                pads.append((int(p), int(p)))
            elif isinstance(p, tuple | list) and len(p) == 2 and all(_is_int(e) for e in p):
                pads.append((int(p[0]), int(p[1])))
            else:
                pads = None
                break
    else:
        pads = None
    if pads is None:
        raise OpArgumentError(
            f"{op}: padding must be an int, {nd} int(s) (one per spatial axis, both sides), "
            f"{nd} (before, after) pair(s), 'same' or 'valid'; not {padding!r}"
        )
    if min(min(p) for p in pads) < 0:
        raise OpArgumentError(f"{op}: padding must not be negative, not {padding!r}")
    return tuple(pads)


def _out_sizes(
    sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    pads: Sequence[tuple[int, int]],
    dilation: Sequence[int],
    op: str,
) -> tuple[int, ...]:
    out = tuple(
        (n + lo + hi - d * (k - 1) - 1) // s + 1
        for n, k, s, (lo, hi), d in zip(sizes, kernel, stride, pads, dilation)
    )
    if min(out) < 1:
        extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        raise OpArgumentError(
            f"{op}: the input's spatial size {tuple(sizes)} with padding {tuple(pads)} is "
            f"smaller than the kernel's extent {extent}; pad more or use a smaller kernel"
        )
    return out


def _pad(o: Any, x: Any, pads: Sequence[tuple[int, int]], value: float) -> Any:
    """``x`` with constant ``value`` added before and after each spatial axis (2, 3, ...)."""
    b = o.backend
    dtype = b.dtype_name(x)
    for i, (lo, hi) in enumerate(pads):
        if lo == hi == 0:
            continue
        shape = list(_shape(o, x))
        parts = []
        for n, where in ((lo, "before"), (hi, "after")):
            if where == "after":
                parts.append(x)
            if n:
                shape[2 + i] = n
                parts.append(b.asarray(np.full(shape, value, dtype=dtype)))
        x = b.ops.concatenate(parts, axis=2 + i)
    return x


def _windows(
    o: Any,
    x: Any,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    out: Sequence[int],
) -> Any:
    """The windows of ``x`` (N, C, *spatial) as (N, C, K, *out), K the kernel's positions: one
    strided slice per kernel position (no loop over pixels)."""
    top = o.backend.ops
    views = []
    for offsets in itertools.product(*(range(k) for k in kernel)):
        idx = tuple(
            slice(f * d, f * d + s * (m - 1) + 1, s)
            for f, d, s, m in zip(offsets, dilation, stride, out)
        )
        views.append(top.getitem(x, (slice(None), slice(None), *idx)))
    return top.stack(views, axis=2)


@_op("conv", NN_FALLBACKS)
def conv(
    o: Any,
    x: Any,
    w: Any,
    stride: tuple[int, ...],
    pads: tuple[tuple[int, int], ...],
    dilation: tuple[int, ...],
) -> Any:
    """Cross-correlation of ``x`` (N, C, *spatial) with ``w`` (O, C, *kernel), both one float
    dtype, arguments already checked: the windows of the padded input, then one matmul."""
    top = o.backend.ops
    n, c = _shape(o, x)[:2]
    ws = _shape(o, w)
    x = _pad(o, x, pads, 0.0)
    out = _out_sizes(_shape(o, x)[2:], ws[2:], stride, ((0, 0),) * len(pads), dilation, "conv")
    k = c * _size(ws[2:])
    cols = top.reshape(_windows(o, x, ws[2:], stride, dilation, out), (n, k, _size(out)))
    y = top.matmul(top.reshape(w, (ws[0], k)), cols)
    return top.reshape(y, (n, ws[0], *out))


def _conv(
    o: Any, nd: int, x: Any, w: Any, bias: Any, stride: Any, padding: Any, dilation: Any
) -> Any:
    op = f"conv{nd}d"
    x, w = _arr(o, x), _arr(o, w)
    xs, ws = _shape(o, x), _shape(o, w)
    spatial = "L" if nd == 1 else "H, W"
    if len(xs) != nd + 2:
        hint = "; one example needs a batch axis: x[None]" if len(xs) == nd + 1 else ""
        raise OpArgumentError(
            f"{op}: x must have shape (N, C, {spatial}) (batch, channels, {spatial}), "
            f"not {xs}{hint}"
        )
    kernel = "K" if nd == 1 else "KH, KW"
    if len(ws) != nd + 2:
        raise OpArgumentError(
            f"{op}: w must have shape (O, C, {kernel}) (out channels, in channels, {kernel}), "
            f"not {ws}"
        )
    if xs[1] != ws[1]:
        raise OpArgumentError(
            f"{op}: x has {xs[1]} channels (axis 1 of {xs}) but w expects {ws[1]} (axis 1 of "
            f"{ws}); the layout is NCHW / OIHW (torch's): from NHWC / HWIO use "
            "transpose(x, (0, 3, 1, 2)) and transpose(w, (3, 2, 0, 1))"
        )
    stride_ = _ints(stride, nd, "stride", op)
    dilation_ = _ints(dilation, nd, "dilation", op)
    pads = _pads(padding, xs[2:], ws[2:], stride_, dilation_, op)
    _out_sizes(xs[2:], ws[2:], stride_, pads, dilation_, op)
    x, w = _floats(o, x, w)
    y = o.conv(x, w, stride_, pads, dilation_)
    if bias is None:
        return y
    bias = _arr(o, bias)
    if _shape(o, bias) != (ws[0],):
        raise OpArgumentError(
            f"{op}: bias must have shape ({ws[0]},), one per output channel, not {_shape(o, bias)}"
        )
    return o.backend.ops.add(y, o.backend.ops.reshape(bias, (1, ws[0]) + (1,) * nd))


@_op("conv1d")
def conv1d(
    o: Any, x: Any, w: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> Any:
    """Cross-correlation of x (N, C, L) with w (O, C, K), plus bias (O,): (N, O, L_out)."""
    return _conv(o, 1, x, w, bias, stride, padding, dilation)


@_op("conv2d")
def conv2d(
    o: Any, x: Any, w: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1
) -> Any:
    """Cross-correlation of x (N, C, H, W) with w (O, C, KH, KW), plus bias (O,)."""
    return _conv(o, 2, x, w, bias, stride, padding, dilation)


def _pool_args(o: Any, x: Any, kernel_size: Any, stride: Any, padding: Any, op: str) -> tuple:
    (x,) = _floats(o, x)
    xs = _shape(o, x)
    if len(xs) != 4:
        hint = "; one example needs a batch axis: x[None]" if len(xs) == 3 else ""
        raise OpArgumentError(f"{op}: x must have shape (N, C, H, W), not {xs}{hint}")
    kernel = _ints(kernel_size, 2, "kernel_size", op)
    stride_ = kernel if stride is None else _ints(stride, 2, "stride", op)
    pads = _pads(padding, xs[2:], kernel, stride_, (1, 1), op)
    for (lo, hi), k in zip(pads, kernel):
        if max(lo, hi) > k - 1:
            raise OpArgumentError(
                f"{op}: padding {padding!r} is too large for kernel size {kernel}: at most "
                f"kernel_size - 1 per side, so that every window holds part of the input"
            )
    out = _out_sizes(xs[2:], kernel, stride_, pads, (1, 1), op)
    return x, kernel, stride_, pads, out


@_op("max_pool2d")
def max_pool2d(o: Any, x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Any:
    """The maximum of each window of x (N, C, H, W); padding is -inf, and tied maxima share the
    derivative evenly."""
    x, kernel, stride_, pads, out = _pool_args(o, x, kernel_size, stride, padding, "max_pool2d")
    x = _pad(o, x, pads, -np.inf)
    return o.backend.ops.max(_windows(o, x, kernel, stride_, (1, 1), out), axis=2)


@_op("avg_pool2d")
def avg_pool2d(
    o: Any,
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    count_include_pad: bool = True,
) -> Any:
    """The mean of each window of x (N, C, H, W); padding is 0 and counts in the divisor unless
    ``count_include_pad`` is False."""
    x, kernel, stride_, pads, out = _pool_args(o, x, kernel_size, stride, padding, "avg_pool2d")
    top = o.backend.ops
    sizes = _shape(o, x)[2:]
    total = top.sum(_windows(o, _pad(o, x, pads, 0.0), kernel, stride_, (1, 1), out), axis=2)
    if count_include_pad:
        return total / float(_size(kernel))
    counts = np.ones(())
    for n, k, s, (lo, _), m in zip(sizes, kernel, stride_, pads, out):
        start = np.arange(m) * s - lo
        counts = np.multiply.outer(counts, np.minimum(start + k, n) - np.maximum(start, 0))
    return total / o.backend.asarray(counts.astype(o.backend.dtype_name(x)))

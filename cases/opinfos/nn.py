"""The per-op table of ``unigrad.nn`` (see unigrad/compare/opinfo.py).

Each reference is written here in plain NumPy, independently of unigrad's implementation
(windows by ``sliding_window_view``, convolutions one output pixel at a time). The first sample
of each entry is the quick level's; edge samples (tied maxima) are ``kink`` samples, judged by
the pinned convention against the reference engine, not by finite differences.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from unigrad.compare.opinfo import Domain, OpInfo, Sample

G = np.random.Generator
#: the module of each framework's own pooling and layer norm behind unigrad.nn's arguments
ADAPTERS = "unigrad.nn.native"
MX2 = "MXNet 1.9 has no second-order gradient for the operators this needs"
MX_NO_2ND = {"mxnet": {"hvp": MX2}}


def _nn(name: str) -> Any:
    import unigrad.nn

    return getattr(unigrad.nn, name)


# ------------------------------------------------------------------- NumPy references


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


def ref_log_softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    ax = _axes(axis, np.ndim(x))
    m = np.max(x, axis=ax, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True))


def ref_softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    return np.exp(ref_log_softmax(x, axis))


def ref_softmax_ce(logits: np.ndarray, labels: np.ndarray, axis: int = -1) -> np.ndarray:
    return -np.sum(labels * ref_log_softmax(logits, axis), axis=axis)


def ref_sigmoid_ce(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    # -z log s(x) - (1 - z) log(1 - s(x)), with log s(x) = -log(1 + e^-x)
    return z * np.logaddexp(0.0, -x) + (1.0 - z) * np.logaddexp(0.0, x)


def ref_layer_norm(
    x: np.ndarray, axis: Any = -1, eps: float = 1e-5, weight: Any = None, bias: Any = None
) -> np.ndarray:
    ax = _axes(axis, x.ndim)
    y = (x - x.mean(axis=ax, keepdims=True)) / np.sqrt(x.var(axis=ax, keepdims=True) + eps)
    shape = [n if i in ax else 1 for i, n in enumerate(x.shape)]
    if weight is not None:
        y = y * np.reshape(weight, shape)
    if bias is not None:
        y = y + np.reshape(bias, shape)
    return y


def _explicit_pads(padding: Any, sizes: tuple, kernel: tuple, stride: tuple, dil: tuple) -> list:
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "same":
        out = []
        for n, k, s, d in zip(sizes, kernel, stride, dil):
            m = -(-n // s)
            total = max((m - 1) * s + d * (k - 1) + 1 - n, 0)
            out.append((total // 2, total - total // 2))
        return out
    if isinstance(padding, int):
        return [(padding, padding)] * len(sizes)
    return [(p, p) if isinstance(p, int) else tuple(p) for p in padding]


def _tup(v: Any, nd: int) -> tuple:
    return (v,) * nd if isinstance(v, int) else tuple(v)


def ref_conv(
    x: np.ndarray,
    w: np.ndarray,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> np.ndarray:
    """Cross-correlation, one output pixel at a time (N, C, *spatial) x (O, C, *kernel)."""
    nd = x.ndim - 2
    s, d, k = _tup(stride, nd), _tup(dilation, nd), w.shape[2:]
    pads = _explicit_pads(padding, x.shape[2:], k, s, d)
    xp = np.pad(x, [(0, 0), (0, 0), *pads])
    out_shape = [(n - di * (kk - 1) - 1) // si + 1 for n, kk, si, di in zip(xp.shape[2:], k, s, d)]
    y = np.zeros((x.shape[0], w.shape[0], *out_shape))
    for pos in np.ndindex(*out_shape):
        window = xp[
            (
                slice(None),
                slice(None),
                *(
                    slice(p * si, p * si + di * (kk - 1) + 1, di)
                    for p, si, di, kk in zip(pos, s, d, k)
                ),
            )
        ]
        y[(slice(None), slice(None), *pos)] = np.tensordot(
            window, w, axes=(tuple(range(1, nd + 2)),) * 2
        )
    if bias is not None:
        y = y + np.reshape(bias, (1, -1) + (1,) * nd)
    return y


def _pool_windows(x: np.ndarray, kernel: Any, stride: Any, padding: Any, fill: float) -> tuple:
    k = _tup(kernel, 2)
    s = k if stride is None else _tup(stride, 2)
    pads = _explicit_pads(padding, x.shape[2:], k, s, (1, 1))
    xp = np.pad(x, [(0, 0), (0, 0), *pads], constant_values=fill)
    win = sliding_window_view(xp, k, axis=(2, 3))[:, :, :: s[0], :: s[1]]
    ones = np.pad(np.ones(x.shape[2:]), pads)
    counts = sliding_window_view(ones, k)[:: s[0], :: s[1]].sum(axis=(-2, -1))
    return win, counts


def ref_max_pool2d(x: np.ndarray, kernel_size: Any, stride: Any = None, padding: Any = 0):
    return _pool_windows(x, kernel_size, stride, padding, -np.inf)[0].max(axis=(-2, -1))


def ref_avg_pool2d(
    x: np.ndarray,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    count_include_pad: bool = True,
) -> np.ndarray:
    win, counts = _pool_windows(x, kernel_size, stride, padding, 0.0)
    total = win.sum(axis=(-2, -1))
    return total / (win.shape[-1] * win.shape[-2] if count_include_pad else counts)


# ------------------------------------------------------------------------------ samples


def ref_gelu(x: np.ndarray) -> np.ndarray:
    """x * Phi(x), with Python's erf."""
    x = np.asarray(x, dtype=np.float64)
    erf = np.asarray(np.frompyfunc(math.erf, 1, 1)(x / math.sqrt(2.0)), dtype=np.float64)
    return 0.5 * x * (1.0 + erf)


def _probabilities(r: G, shape: tuple) -> np.ndarray:
    p = r.uniform(0.1, 1.0, shape)
    return p / p.sum(axis=-1, keepdims=True)


def _softmax_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((3, 4)),)),
        Sample((r.standard_normal((3, 4)),), {"axis": 0}, label="axis=0"),
        Sample((r.standard_normal((2, 3, 2)),), {"axis": (0, 2)}, label="axes (0, 2)"),
        Sample((r.standard_normal((2, 3)),), {"axis": None}, label="axis=None"),
        Sample((np.array([800.0, 0.0, -800.0]),), label="large logits"),
    ]


def _softmax_ce_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((3, 4)), _probabilities(r, (3, 4))), argnums=(0, 1)),
        Sample(
            (r.standard_normal((3, 4)), np.eye(4)[[0, 3, 1]]),
            label="one-hot labels",
        ),
        Sample(
            (r.standard_normal((4, 3)), _probabilities(r, (3, 4)).T),
            {"axis": 0},
            argnums=(0, 1),
            label="classes on axis 0",
        ),
    ]


def _sigmoid_ce_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((2, 3)), r.uniform(0, 1, (2, 3))), argnums=(0, 1)),
        Sample(
            (np.array([-30.0, -3.0, 0.0, 3.0, 30.0]), np.array([1.0, 0.0, 0.5, 1.0, 0.0])),
            argnums=(0, 1),
            label="large |logits| and 0",
        ),
    ]


def _layer_norm_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((3, 4)),)),
        Sample(
            (r.standard_normal((2, 3, 4)), r.standard_normal((3, 4)), r.standard_normal((3, 4))),
            {"axis": (1, 2)},
            argnums=(0, 1, 2),
            label="axes (1, 2), weight and bias",
        ),
        Sample((r.standard_normal((2, 3)) * 0.01,), {"eps": 1e-3}, label="eps 1e-3, small var"),
    ]


def _layer_norm(x: Any, weight: Any = None, bias: Any = None, **kw: Any) -> Any:
    return _nn("layer_norm")(x, weight=weight, bias=bias, **kw)


def _ref_layer_norm(x: Any, weight: Any = None, bias: Any = None, **kw: Any) -> Any:
    return ref_layer_norm(x, weight=weight, bias=bias, **kw)


def _conv2d_samples(r: G) -> list[Sample]:
    def xw(x_shape: tuple, w_shape: tuple) -> tuple:
        return (r.standard_normal(x_shape), r.standard_normal(w_shape))

    return [
        Sample(xw((2, 2, 5, 5), (3, 2, 3, 3)), {"padding": 1}, argnums=(0, 1)),
        Sample(
            xw((1, 2, 6, 5), (2, 2, 3, 2)),
            {"stride": 2, "padding": "same"},
            (0, 1),
            "same, stride 2",
        ),
        Sample(
            xw((1, 1, 7, 6), (2, 1, 2, 3)),
            {"dilation": (2, 1), "padding": ((1, 0), (2, 1)), "stride": (1, 2)},
            argnums=(0, 1),
            label="dilation, asymmetric padding",
        ),
        Sample(
            (*xw((2, 2, 4, 4), (3, 2, 2, 2)), r.standard_normal(3)),
            {"padding": "valid"},
            (0, 1, 2),
            "bias",
        ),
        Sample(
            xw((1, 2, 6, 6), (2, 2, 3, 3)),
            {"stride": 2, "dilation": 2, "padding": 2},
            (0, 1),
            "stride and dilation",
        ),
    ]


def _conv1d_samples(r: G) -> list[Sample]:
    def xw(x_shape: tuple, w_shape: tuple) -> tuple:
        return (r.standard_normal(x_shape), r.standard_normal(w_shape))

    return [
        Sample(xw((2, 2, 7), (3, 2, 3)), argnums=(0, 1)),
        Sample(
            xw((1, 2, 8), (2, 2, 4)), {"padding": "same", "stride": 3}, (0, 1), "same, stride 3"
        ),
        Sample(
            (*xw((2, 1, 9), (2, 1, 3)), r.standard_normal(2)),
            {"dilation": 3, "padding": ((2, 1),)},
            argnums=(0, 1, 2),
            label="dilation, bias, asymmetric padding",
        ),
    ]


def _ties() -> np.ndarray:
    """(1, 2, 4, 4) with ties in every 2x2 window: four equal maxima per window in channel 0,
    two in channel 1."""
    four = np.kron(np.array([[1.0, -2.0], [3.0, 0.5]]), np.ones((2, 2)))
    two = np.kron(np.array([[2.0, 1.0], [-1.0, 4.0]]), np.ones((2, 2))) - np.tile(
        np.array([[0.0, 0.0], [1.0, 1.0]]), (2, 2)
    )
    return np.stack([four, two])[None]


def _max_pool_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((2, 2, 4, 4)), 2)),
        Sample((_ties(), 2), label="edge: tied maxima", kink=True),
        Sample((r.standard_normal((1, 2, 5, 5)), 3), {"stride": 1, "padding": 1}, label="padding"),
        Sample(
            (r.standard_normal((1, 1, 5, 4)), (2, 3)),
            {"stride": 2, "padding": "same"},
            label="same",
        ),
    ]


def _avg_pool_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((2, 2, 4, 4)), 2)),
        Sample((r.standard_normal((1, 2, 5, 5)), 3), {"stride": 2, "padding": 1}, label="padding"),
        Sample(
            (r.standard_normal((1, 2, 5, 5)), 3),
            {"stride": 2, "padding": 1, "count_include_pad": False},
            label="padding not counted",
        ),
        Sample(
            (r.standard_normal((1, 1, 5, 4)), (2, 3)),
            {"stride": 2, "padding": "same"},
            label="same",
        ),
    ]


def _take_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((5, 3)), np.array([[0, 4], [-1, 2]])), {"axis": 0}),
        Sample((r.standard_normal((2, 3)), np.array([5, 0, 0])), label="flattened, repeated"),
        Sample((r.standard_normal((2, 3, 2)), np.array([2, 2, 0])), {"axis": 1}, label="axis 1"),
    ]


def _take_along_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((3, 4)), np.array([[0, 3], [1, 1], [-1, 2]])), {"axis": 1}),
        Sample(
            (r.standard_normal((3, 4)), np.array([[2, 0, 1, 2]])), {"axis": 0}, label="broadcast"
        ),
        Sample((r.standard_normal((2, 3)), np.array([5, 0, 5])), {"axis": None}, label="flattened"),
    ]


def _one_hot_samples(r: G) -> list[Sample]:
    return [
        Sample((np.array([[0, 2], [1, 3]]), 4), argnums=()),
        Sample((np.array(1), 3), {"dtype": "float32"}, argnums=(), label="0-d, float32"),
    ]


OPINFOS: list[OpInfo] = [
    OpInfo("nn.softmax", _softmax_samples, reference=ref_softmax, gaps=MX_NO_2ND),
    OpInfo("nn.log_softmax", _softmax_samples, reference=ref_log_softmax, gaps=MX_NO_2ND),
    OpInfo(
        "nn.softmax_cross_entropy", _softmax_ce_samples, reference=ref_softmax_ce, gaps=MX_NO_2ND
    ),
    OpInfo(
        "nn.sigmoid_cross_entropy", _sigmoid_ce_samples, reference=ref_sigmoid_ce, gaps=MX_NO_2ND
    ),
    OpInfo(
        "nn.one_hot",
        _one_hot_samples,
        reference=lambda idx, n, dtype=float: np.eye(n, dtype=dtype)[idx],
        orders=0,
    ),
    OpInfo("nn.take", _take_samples, reference=np.take, gaps=MX_NO_2ND),
    OpInfo("nn.take_along_axis", _take_along_samples, reference=np.take_along_axis, gaps=MX_NO_2ND),
    OpInfo(
        "nn.gelu",
        lambda r: [Sample((r.uniform(-3, 3, (2, 3)),)), Sample((float(r.uniform(-3, 3)),))],
        reference=ref_gelu,
        gaps=MX_NO_2ND,
        shapes="elementwise",
        domains=(Domain(ordinary=(-3.0, 3.0)),),
        # each framework's default gelu (MXNet's is npx.leaky_relu(x, act_type="gelu"))
        native={
            "torch": "torch.nn.functional.gelu",
            "jax": "jax.nn.gelu",
            "tensorflow": "tensorflow.nn.gelu",
        },
    ),
    OpInfo(
        "nn.layer_norm",
        _layer_norm_samples,
        reference=_ref_layer_norm,
        function=_layer_norm,
        gaps=MX_NO_2ND,
        # each framework's own, with its own default epsilon (Keras's is 1e-3)
        native={
            "torch": f"{ADAPTERS}.torch_layer_norm",
            "jax": f"{ADAPTERS}.jax_layer_norm",
            "tensorflow": f"{ADAPTERS}.keras_layer_norm",
            "mxnet": f"{ADAPTERS}.mxnet_layer_norm",
        },
    ),
    OpInfo("nn.conv1d", _conv1d_samples, reference=ref_conv, gaps=MX_NO_2ND),
    OpInfo("nn.conv2d", _conv2d_samples, reference=ref_conv, gaps=MX_NO_2ND),
    OpInfo(
        "nn.max_pool2d",
        _max_pool_samples,
        reference=ref_max_pool2d,
        gaps=MX_NO_2ND,
        native={b: f"{ADAPTERS}.{b}_max_pool2d" for b in ("torch", "jax", "tensorflow", "mxnet")},
    ),
    OpInfo("nn.avg_pool2d", _avg_pool_samples, reference=ref_avg_pool2d, gaps=MX_NO_2ND),
]

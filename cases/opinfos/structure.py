"""The per-op table of issue 16's structure family (see unigrad/compare/opinfo.py).

The first sample of each entry is the one the quick level runs; sort's tie sample is an edge
(``kink``): its derivative is unigrad's pinned convention (the permutation of a stable sort),
checked against the reference engine, not against finite differences. cumprod's first sample
holds zeros, where its derivative must stay exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import unigrad.numpy as unp
from unigrad.compare.opinfo import OpInfo, Sample

G = np.random.Generator
MX2 = "MXNet 1.9 has no second-order gradient for the operators this needs"
MX_NO_2ND = {"mxnet": {"hvp": MX2}}


def _n(r: G, *shape: int) -> np.ndarray:
    return r.standard_normal(shape)


def _entry(name: str, samples: Callable[[G], list[Sample]], **kw: Any) -> OpInfo:
    kw.setdefault("gaps", MX_NO_2ND)
    return OpInfo(name, samples, **kw)


def _one(name: str, args: Callable[[G], tuple], **kwargs: Any) -> OpInfo:
    """An op of one differentiated array (its first argument) and constant others."""
    return _entry(name, lambda r: [Sample(args(r), kwargs)])


def _stack(name: str) -> OpInfo:
    """hstack, vstack and relatives: a list of two arrays in, one array out."""
    shapes = {
        "hstack": ((2, 3), (2, 1)),
        "vstack": ((3,), (2, 3)),
        "row_stack": ((3,), (2, 3)),
        "column_stack": ((3,), (3, 2)),
    }[name]
    fn = np.vstack if name == "row_stack" else getattr(np, name)
    return _entry(
        name,
        lambda r: [Sample((_n(r, *shapes[0]), _n(r, *shapes[1])), argnums=(0, 1))],
        function=lambda a, b: getattr(unp, name)([a, b]),
        reference=lambda a, b: fn([a, b]),
    )


def _sorting(name: str, reference: Callable[..., Any] | None = None) -> OpInfo:
    def samples(r: G) -> list[Sample]:
        extra = {"kth": 2} if name == "partition" else {}
        ties = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [0.5, 0.5, 0.5, -1.0, 2.0]])
        return [
            Sample((_n(r, 3, 5),), extra),
            Sample((ties,), extra, label="edge: ties", kink=True),
            Sample((_n(r, 4, 3),), {**extra, "axis": 0}, label="axis=0"),
        ]

    return _entry(name, samples, reference=reference)


def _split(name: str, shape: tuple[int, ...], sections: Any, **kw: Any) -> OpInfo:
    return _entry(name, lambda r: [Sample((_n(r, *shape), sections), kw)])


def _pad_samples(r: G) -> list[Sample]:
    x = _n(r, 2, 3)
    return [
        Sample((x, ((1, 2), (0, 1)))),
        Sample((x, 2), {"mode": "edge"}, label="edge mode"),
        Sample((x, ((1, 1), (2, 2))), {"mode": "reflect"}, label="reflect mode"),
        Sample((x, 1), {"mode": "symmetric"}, label="symmetric mode"),
        Sample((x, ((0, 2), (3, 1))), {"mode": "wrap"}, label="wrap mode"),
        Sample(
            (x, 1),
            {"constant_values": ((1.5, -2.0), (0.5, 3.0))},
            label="constant values per axis",
        ),
    ]


def _cumprod_samples(r: G) -> list[Sample]:
    x = r.uniform(0.5, 1.5, (3, 4))
    x[0, 1] = x[1, 2] = x[1, 3] = x[2, 0] = 0.0  # the derivative stays exact at zeros
    return [Sample((x,), {"axis": 1}), Sample((x,), label="axis=None")]


def _linspace_samples(r: G) -> list[Sample]:
    return [
        Sample((_n(r, 2), _n(r, 2)), {"num": 5}, argnums=(0, 1)),
        Sample((0.5, 2.0), {"num": 4, "endpoint": False}, argnums=(0, 1), label="no endpoint"),
        Sample((_n(r, 2), 1.0), {"num": 3, "axis": 1}, label="axis=1"),
        Sample((-1.0, 1.5), {"num": 4, "retstep": True}, argnums=(0, 1), label="retstep"),
    ]


OPINFOS: list[OpInfo] = [
    _entry(
        "tensordot",
        lambda r: [
            Sample((_n(r, 2, 3, 4), _n(r, 3, 4, 2)), argnums=(0, 1)),
            Sample(
                (_n(r, 3, 2, 4), _n(r, 4, 3)),
                {"axes": ([2, 0], [0, 1])},
                argnums=(0, 1),
                label="axis lists",
            ),
            Sample((_n(r, 2), _n(r, 3)), {"axes": 0}, argnums=(0, 1), label="axes=0"),
        ],
    ),
    _entry(
        "repeat",
        lambda r: [
            Sample((_n(r, 2, 3), 2)),
            Sample((_n(r, 2, 3), [1, 0, 2]), {"axis": 1}, label="per-element repeats"),
        ],
    ),
    _one("tile", lambda r: (_n(r, 2, 3), (2, 1, 2))),
    _entry(
        "tril",
        lambda r: [Sample((_n(r, 3, 4),)), Sample((_n(r, 2, 3, 3),), {"k": 1}, label="k=1")],
    ),
    _entry(
        "triu",
        lambda r: [Sample((_n(r, 3, 4),)), Sample((_n(r, 2, 3, 3),), {"k": -1}, label="k=-1")],
    ),
    _entry(
        "diag",
        lambda r: [Sample((_n(r, 3),), {"k": 1}), Sample((_n(r, 3, 4),), {"k": -1}, label="2-D")],
    ),
    _entry(
        "diagonal",
        lambda r: [
            Sample((_n(r, 3, 4, 2),)),
            Sample((_n(r, 2, 3, 4),), {"offset": -1, "axis1": 2, "axis2": 0}, label="offset, axes"),
        ],
    ),
    _entry(
        "trace",
        lambda r: [
            Sample((_n(r, 3, 4, 2),)),
            Sample((_n(r, 2, 3, 4),), {"offset": 1, "axis1": 1, "axis2": 2}, label="offset"),
        ],
    ),
    _entry(
        "roll",
        lambda r: [
            Sample((_n(r, 3, 4), 2)),
            Sample((_n(r, 3, 4), (1, -1), (0, 1)), label="per axis"),
        ],
    ),
    _entry(
        "flip",
        lambda r: [Sample((_n(r, 2, 3, 4),)), Sample((_n(r, 2, 3, 4), (0, 2)), label="axes")],
    ),
    _one("fliplr", lambda r: (_n(r, 3, 4),)),
    _one("flipud", lambda r: (_n(r, 3, 4),)),
    _entry(
        "rot90",
        lambda r: [
            Sample((_n(r, 3, 4, 2),)),
            Sample((_n(r, 3, 4, 2), 3, (2, 0)), label="k=3, axes"),
        ],
    ),
    _entry("pad", _pad_samples),
    _entry(
        "append",
        lambda r: [
            Sample((_n(r, 2, 3), _n(r, 1, 3)), {"axis": 0}, argnums=(0, 1)),
            Sample((_n(r, 2, 2), _n(r, 3)), argnums=(0, 1), label="flattened"),
        ],
    ),
    _entry(
        "split",
        lambda r: [
            Sample((_n(r, 6, 2), 3)),
            Sample((_n(r, 2, 5), [1, 4]), {"axis": 1}, label="indices"),
        ],
    ),
    _split("array_split", (7,), 3),
    _split("hsplit", (2, 4), 2),
    _split("vsplit", (4, 2), [1, 3]),
    _split("dsplit", (2, 2, 4), [1, 3]),
    *(_stack(name) for name in ("hstack", "vstack", "row_stack", "column_stack")),
    _entry(
        "atleast_1d",
        lambda r: [
            Sample((float(_n(r, 1)[0]),)),
            Sample((float(_n(r, 1)[0]), _n(r, 3)), argnums=(0, 1), label="two arrays"),
        ],
    ),
    _one("atleast_2d", lambda r: (_n(r, 3),)),
    _entry(
        "atleast_3d",
        lambda r: [Sample((_n(r, 2, 3),)), Sample((_n(r, 3),), label="1-D")],
    ),
    _entry(
        "rollaxis",
        lambda r: [Sample((_n(r, 2, 3, 4), 2)), Sample((_n(r, 2, 3, 4), 0, 3), label="start")],
    ),
    _entry(
        "kron",
        lambda r: [
            Sample((_n(r, 2, 2), _n(r, 2, 3)), argnums=(0, 1)),
            Sample((_n(r, 3), _n(r, 2, 2)), argnums=(0, 1), label="ranks differ"),
        ],
    ),
    _entry(
        "cross",
        lambda r: [
            Sample((_n(r, 4, 3), _n(r, 4, 3)), argnums=(0, 1)),
            Sample(
                (_n(r, 3, 2), _n(r, 2, 3)),
                {"axisa": 0, "axisc": 0},
                argnums=(0, 1),
                label="axes",
            ),
        ],
    ),
    _entry(
        "diff",
        lambda r: [
            Sample((_n(r, 3, 5),)),
            Sample((_n(r, 4, 3),), {"n": 2, "axis": 0, "prepend": 0.5}, label="n=2, prepend"),
        ],
    ),
    _entry(
        "cumsum",
        lambda r: [Sample((_n(r, 3, 4),)), Sample((_n(r, 3, 4),), {"axis": 1}, label="axis=1")],
    ),
    _entry("cumprod", _cumprod_samples),
    _sorting("sort"),
    _sorting("partition", reference=lambda x, kth, axis=-1: np.sort(x, axis=axis)),
    OpInfo(
        "argsort",
        lambda r: [
            Sample((np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [np.nan, 0.5, np.inf, 0.5, -1.0]]),)),
        ],
        reference=lambda x, axis=-1: np.argsort(x, axis=axis, kind="stable"),
        orders=0,
    ),
    _entry("linspace", _linspace_samples),
    OpInfo(
        "nonzero",
        lambda r: [Sample((np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]),), argnums=())],
        orders=0,
    ),
    _entry(
        "array",
        lambda r: [Sample((_n(r, 2), _n(r, 2)), argnums=(0, 1))],
        function=lambda a, b: unp.array([[a, b], [b, a]]),
        reference=lambda a, b: np.array([[a, b], [b, a]]),
    ),
]
